package readers

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCSVRecords(t *testing.T) {
	t.Parallel()
	type rec struct {
		fields     []string
		start, end int64
		terminated bool
		lines      int
		err        error
	}
	tests := []struct {
		name  string
		input string
		max   int
		want  []rec
	}{
		{"plain", "a,b\n1,2\n", 100, []rec{
			{[]string{"a", "b"}, 0, 4, true, 1, nil},
			{[]string{"1", "2"}, 4, 8, true, 1, nil},
		}},
		{"quoted line break spans lines", "x,\"multi\nline, \"\"q\"\"\"\ny,z\n", 100, []rec{
			{[]string{"x", "multi\nline, \"q\""}, 0, 22, true, 2, nil},
			{[]string{"y", "z"}, 22, 26, true, 1, nil},
		}},
		{"CRLF", "a,b\r\n\"c\",d\r\n", 100, []rec{
			{[]string{"a", "b"}, 0, 5, true, 1, nil},
			{[]string{"c", "d"}, 5, 12, true, 1, nil},
		}},
		{"last record without line break", "a,b\nc,d", 100, []rec{
			{[]string{"a", "b"}, 0, 4, true, 1, nil},
			{[]string{"c", "d"}, 4, 7, false, 1, nil},
		}},
		{"torn inside quotes", "a,b\nc,\"d\n", 100, []rec{
			{[]string{"a", "b"}, 0, 4, true, 1, nil},
			{[]string{"c", "d\n"}, 4, 9, false, 2, ErrUnterminatedQuote},
		}},
		{"stray quote is strict", "a\"b,c\n", 100, []rec{{[]string{"a\"b", "c"}, 0, 6, true, 1, ErrQuote}}},
		{"stray quote beside a quoted field", "\"a\",b\"c\n", 100, []rec{{[]string{"a", "b\"c"}, 0, 8, true, 1, ErrQuote}}},
		{"text after closing quote", "\"a\"b,c\n", 100, []rec{{[]string{"ab", "c"}, 0, 7, true, 1, ErrQuote}}},
		{"too large, then the next", "aaaaaaaaaa,b\nc\n", 5, []rec{
			{nil, 0, 13, true, 1, ErrRowTooLarge},
			{[]string{"c"}, 13, 15, true, 1, nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs := NewCSVRecords(strings.NewReader(tt.input), tt.max)
			for i, want := range tt.want {
				got, err := rs.Next()
				require.NoError(t, err, "record %d", i)
				var fields []string
				for _, f := range got.Fields {
					fields = append(fields, string(f))
				}
				assert.Equal(t, want.fields, fields, "record %d", i)
				assert.Equal(t, [2]int64{want.start, want.end}, [2]int64{got.Start, got.End}, "record %d offsets", i)
				assert.Equal(t, want.terminated, got.Terminated, "record %d", i)
				assert.Equal(t, want.lines, got.Lines, "record %d", i)
				if want.err == nil {
					assert.NoError(t, got.Err, "record %d", i)
				} else {
					assert.True(t, errors.Is(got.Err, want.err), "record %d: %v", i, got.Err)
				}
			}
			_, err := rs.Next()
			assert.ErrorIs(t, err, io.EOF)
		})
	}
}
