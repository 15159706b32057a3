package readers

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNDJSONReader(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		cols   []string
		header []string
		want   []string // rowStrings; "ERR:" entries match by prefix
		rows   []int64  // expected row numbers (physical lines)
		errs   []error
	}{
		{
			name:   "kinds",
			input:  `{"s":"x","n":-1.5e3,"t":true,"f":false,"z":null}` + "\n",
			header: []string{"s", "n", "t", "f", "z"},
			want:   []string{"x|#-1.5e3|<true>|<false>|<nil>"},
		},
		{
			name:  "exact numbers",
			input: `{"id":12345678901234567890123,"p":0.1000000000000000055511151231257827,"z":0,"neg":-0.0}` + "\n",
			want:  []string{"#12345678901234567890123|#0.1000000000000000055511151231257827|#0|#-0.0"},
		},
		{
			name:  "nested values compact",
			input: `{"a": [1, 2, {"b" : "c d"}], "o":{ }, "e":[]}` + "\n",
			want:  []string{`json:[1,2,{"b":"c d"}]|json:{}|json:[]`},
		},
		{
			// Fuzz regression (testdata/fuzz/FuzzNDJSONReader/02578c1c46207ebd):
			// compacting keeps the white space inside keys and strings, so a
			// compact value may hold spaces that are not a substring of the line.
			name:  "nested value compacted around a blank key",
			input: "\n  \n" + `{"a":[1, {" ": null}],"000000":true}  `,
			want:  []string{`json:[1,{" ":null}]|<true>`},
			rows:  []int64{3},
		},
		{
			name:  "escapes",
			input: `{"k\u0065y":"a\"b\\c\/\n\u00e9\ud83d\ude00\ud800x"}` + "\n",
			cols:  []string{"key"},
			want:  []string{"a\"b\\c/\né😀\uFFFDx"},
		},
		{
			name:  "projection, absent keys are null, key order may change",
			input: `{"a":1,"b":"x"}` + "\n" + `{"b":"y","c":3}` + "\n" + `{"c":4,"a":2}` + "\n",
			cols:  []string{"b", "a", "missing", "b"},
			want:  []string{"x|#1|<nil>|x", "y|<nil>|<nil>|y", "<nil>|#2|<nil>|<nil>"},
		},
		{
			name:   "header is the first object's keys",
			input:  `{"a":1,"b":2}` + "\n" + `{"a":3,"c":4}` + "\n",
			header: []string{"a", "b"},
			want:   []string{"#1|#2", "#3|<nil>"},
		},
		{
			name:   "blank lines are not rows; numbers are physical lines",
			input:  "\n   \n" + `{"a":1}` + "\r\n\t\n" + `{"a":2}` + "\n\n",
			header: []string{"a"},
			want:   []string{"#1", "#2"},
			rows:   []int64{3, 5},
		},
		{
			name:  "array, string and bad JSON lines are errors; the stream continues",
			input: `[1,2]` + "\n" + `"s"` + "\n" + `{"a":1,}` + "\n" + `{"a" 1}` + "\n" + `{"a":01}` + "\n" + `{"a":1} x` + "\n" + `{"a":2}`,
			cols:  []string{"a"},
			want: []string{
				"ERR:x.ndjson row 1: line is not a JSON object: got an array",
				"ERR:x.ndjson row 2: line is not a JSON object: got a string",
				"ERR:x.ndjson row 3: invalid JSON at byte offset 7: expected a key",
				`ERR:x.ndjson row 4, column "a": invalid JSON at byte offset 5: expected ':'`,
				"ERR:x.ndjson row 5: invalid JSON at byte offset 6: expected ','",
				"ERR:x.ndjson row 6: invalid JSON at byte offset 8: unexpected data after the object",
				"#2",
			},
			errs: []error{ErrNotObject, ErrNotObject, ErrJSONSyntax, ErrJSONSyntax, ErrJSONSyntax, ErrJSONSyntax, nil},
		},
		{
			name:  "bad nested value gives its offset",
			input: `{"a":[1,2,}]}` + "\n",
			cols:  []string{"a"},
			want:  []string{`ERR:x.ndjson row 1, column "a": invalid JSON at byte offset 10`},
			errs:  []error{ErrJSONSyntax},
		},
		{
			name:  "unterminated nested value",
			input: `{"a":[[1]}` + "\n",
			cols:  []string{"a"},
			want:  []string{`ERR:x.ndjson row 1, column "a": invalid JSON`},
			errs:  []error{ErrJSONSyntax},
		},
		{
			name:  "invalid UTF-8 names the key",
			input: "{\"id\":1,\"email\":\"a\xffb\"}\n{\"id\":2,\"email\":\"ok\"}\n",
			want:  []string{`ERR:x.ndjson row 1, column "email": invalid UTF-8 at byte offset 18`, "#2|ok"},
			errs:  []error{ErrInvalidUTF8, nil},
		},
		{
			name:  "duplicate projected key is an error",
			input: `{"a":1,"a":2}` + "\n" + `{"b":1,"b":2,"a":3}` + "\n",
			cols:  []string{"a"},
			want:  []string{`ERR:x.ndjson row 1, column "a": duplicate key`, "#3"},
			errs:  []error{ErrDuplicateKey, nil},
		},
		{
			// Fuzz regression (testdata/fuzz/FuzzNDJSONReader/5fc70cd24d9c1998):
			// a line that repeats a key and then breaks is not JSON at all, so
			// it is a syntax error, not a duplicate key; the first duplicate
			// is named when the rest of the line is valid.
			name:  "duplicate key on a broken line is a syntax error",
			input: `{"b":""}` + "\n" + `{"b":0,"b":` + "\n" + `{"b":1,"b":[}` + "\n" + `{"b":1,"b":2,"b":3}` + "\n",
			want: []string{
				"",
				`ERR:x.ndjson row 2, column "b": invalid JSON at byte offset 11: expected a value`,
				`ERR:x.ndjson row 3, column "b": invalid JSON`,
				`ERR:x.ndjson row 4, column "b": duplicate key`,
			},
			errs: []error{nil, ErrJSONSyntax, ErrJSONSyntax, ErrDuplicateKey},
		},
		{
			name:   "header found after bad first lines",
			input:  "nope\n[]\n{\"a\":1}\n{\"a\":2}\n",
			header: []string{"a"},
			want:   []string{"ERR:x.ndjson row 1: invalid JSON", "ERR:x.ndjson row 2: line is not a JSON object", "#1", "#2"},
		},
		{
			name:   "BOM and no final line break",
			input:  "\xef\xbb\xbf{\"a\":\"x\"}",
			header: []string{"a"},
			want:   []string{"x"},
		},
		{
			name:  "control character in a string",
			input: "{\"a\":\"x\ty\"}\n",
			want:  []string{"ERR:x.ndjson row 1, column \"a\": invalid JSON at byte offset 7: control character"},
		},
		{
			name:  "bad literal and number",
			input: `{"a":tru}` + "\n" + `{"a":-}` + "\n" + `{"a":1.}` + "\n" + `{"a":1e}` + "\n",
			cols:  []string{"a"},
			want:  []string{"ERR:x.ndjson row 1", "ERR:x.ndjson row 2", "ERR:x.ndjson row 3", "ERR:x.ndjson row 4"},
			errs:  []error{ErrJSONSyntax, ErrJSONSyntax, ErrJSONSyntax, ErrJSONSyntax},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := textOpenBytes(t, "x.ndjson", FormatNDJSON, []byte(tt.input), Options{Columns: tt.cols})
			require.NoError(t, err)
			if tt.header != nil {
				assert.Equal(t, tt.header, r.Header())
			}
			rows, err := textReadAll(t, r)
			require.ErrorIs(t, err, io.EOF)
			got := rowStrings(rows)
			require.Len(t, got, len(tt.want), "rows: %q", got)
			for i, w := range tt.want {
				if strings.HasPrefix(w, "ERR:") {
					assert.True(t, strings.HasPrefix(got[i], w), "row %d: got %q, want prefix %q", i+1, got[i], w)
					var re *RowError
					assert.True(t, errors.As(rows[i].Err, &re))
				} else {
					assert.Equal(t, w, got[i], "row %d", i+1)
				}
			}
			for i, n := range tt.rows {
				assert.Equal(t, n, rows[i].Pos.Row)
			}
			for i, e := range tt.errs {
				if e == nil {
					assert.NoError(t, rows[i].Err)
				} else {
					assert.ErrorIs(t, rows[i].Err, e, "row %d", i+1)
				}
			}
		})
	}
}

func TestNDJSONRowTooLarge(t *testing.T) {
	input := `{"a":"1"}` + "\n" + `{"a":"` + strings.Repeat("y", 200) + `"}` + "\n" + `{"a":"3"}` + "\n"
	r, err := textOpenBytes(t, "x.ndjson", FormatNDJSON, []byte(input), Options{MaxRowBytes: 64})
	require.NoError(t, err)
	rows, err := textReadAll(t, r)
	require.ErrorIs(t, err, io.EOF)
	require.Len(t, rows, 3)
	assert.Equal(t, "1", rows[0].Values[0].S)
	assert.ErrorIs(t, rows[1].Err, ErrRowTooLarge)
	assert.Equal(t, int64(2), rows[1].Pos.Row)
	assert.Equal(t, "3", rows[2].Values[0].S)
}

func TestNDJSONTruncatedGzip(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		b.WriteString(`{"id":12345,"payload":"` + strings.Repeat(string(rune('a'+i%26)), 20) + "\"}\n")
	}
	gz := gzipBytes(t, []byte(b.String()))
	r, err := Open(textWriteFile(t, "cut.ndjson.gz", gz[:len(gz)/2]), Options{})
	require.NoError(t, err)
	defer r.Close()
	rows, err := textReadAll(t, r)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "cut.ndjson.gz")
	require.NotEmpty(t, rows)
	for i, row := range rows {
		require.NoError(t, row.Err)
		require.Equal(t, int64(i+1), row.Pos.Row)
	}
}
