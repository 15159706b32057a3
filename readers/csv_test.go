package readers

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCSVReader(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		opts   Options
		header []string
		want   []string // rowStrings; error rows are matched by prefix
		errs   []error  // per row: the sentinel of an error row, nil for a good row (optional)
	}{
		{
			name:   "LF",
			input:  "id,name\n1,ann\n2,bob\n",
			header: []string{"id", "name"},
			want:   []string{"1|ann", "2|bob"},
		},
		{
			name:  "CRLF",
			input: "id,name\r\n1,ann\r\n2,\r\n",
			want:  []string{"1|ann", "2|"},
		},
		{
			name:  "no final line break",
			input: "id,name\n1,ann\n2,bob",
			want:  []string{"1|ann", "2|bob"},
		},
		{
			name:   "BOM",
			input:  "\xef\xbb\xbfid,name\n1,ann\n",
			header: []string{"id", "name"},
			want:   []string{"1|ann"},
		},
		{
			name:  "quoted delimiters, quotes, line breaks",
			input: "id,note\n1,\"a,b\"\n2,\"say \"\"hi\"\"\"\n3,\"line1\nline2\r\nline3\"\n4,\"\"\n",
			want:  []string{"1|a,b", `2|say "hi"`, "3|line1\nline2\r\nline3", "4|"},
		},
		{
			name:  "quoted field then CRLF",
			input: "a,b\r\n\"x\",\"y\"\r\n",
			want:  []string{"x|y"},
		},
		{
			name:  "quote inside an unquoted field is data",
			input: "a,b\n5'10\",x\"y\n",
			want:  []string{`5'10"|x"y`},
		},
		{
			name:  "semicolon",
			input: "a;b\n\"1;2\";3\n",
			opts:  Options{CSV: CSVOptions{Delimiter: ';'}},
			want:  []string{"1;2|3"},
		},
		{
			name:  "tab",
			input: "a\tb\n1,5\t\"x\ty\"\n",
			opts:  Options{CSV: CSVOptions{Delimiter: '\t'}},
			want:  []string{"1,5|x\ty"},
		},
		{
			name:  "pipe",
			input: "a|b\n1|2\n",
			opts:  Options{CSV: CSVOptions{Delimiter: '|'}},
			want:  []string{"1|2"},
		},
		{
			name:  "custom quote",
			input: "a,b\n'x,y','it''s'\n\"q\",2\n",
			opts:  Options{CSV: CSVOptions{Quote: '\''}},
			want:  []string{"x,y|it's", `"q"|2`},
		},
		{
			name:  "null values",
			input: "a,b,c,d\n,NULL,\\N,null\n\"\",x,NULL ,\n",
			opts:  Options{CSV: CSVOptions{NullValues: []string{"", "NULL", `\N`}}},
			want:  []string{"<nil>|<nil>|<nil>|null", "<nil>|x|NULL |<nil>"},
		},
		{
			name:  "empty string stays a string without null values",
			input: "a,b\n,\n",
			want:  []string{"|"},
		},
		{
			name:   "latin-1",
			input:  "caf\xe9,b\n\xc0 la carte,\xff\n",
			opts:   Options{CSV: CSVOptions{Encoding: "latin-1"}},
			header: []string{"café", "b"},
			want:   []string{"À la carte|ÿ"},
		},
		{
			name:  "NUL bytes are data",
			input: "a,b\nx\x00y,\x00\n",
			want:  []string{"x\x00y|\x00"},
		},
		{
			name:  "ragged rows, both ways, stream continues",
			input: "a,b,c\n1,2\n1,2,3\n1,2,3,4\n4,5,6\n",
			want: []string{
				"ERR:x.csv row 1: wrong number of fields: expected 3, got 2",
				"1|2|3",
				"ERR:x.csv row 3: wrong number of fields: expected 3, got 4",
				"4|5|6",
			},
			errs: []error{ErrFieldCount, nil, ErrFieldCount, nil},
		},
		{
			name:  "unterminated quote at EOF",
			input: "a,b\n1,2\n3,\"open\n4,5\n",
			want:  []string{"1|2", "ERR:x.csv row 2: quoted field not terminated"},
			errs:  []error{nil, ErrUnterminatedQuote},
		},
		{
			name:  "character after closing quote",
			input: "a,b\n1,\"x\"y\n2,3\n",
			want:  []string{`ERR:x.csv row 1, column "b": unexpected character after a closing quote`, "2|3"},
			errs:  []error{ErrQuote, nil},
		},
		{
			name:  "invalid UTF-8 names the column",
			input: "id,email\n1,a\xffb@x\n2,ok\n",
			want:  []string{`ERR:x.csv row 1, column "email": invalid UTF-8 at byte 2`, "2|ok"},
			errs:  []error{ErrInvalidUTF8, nil},
		},
		{
			name:  "invalid UTF-8 in a column not projected is not read",
			input: "id,email,junk\n1,a@x,\xff\n",
			opts:  Options{Columns: []string{"email", "id"}},
			want:  []string{"a@x|1"},
		},
		{
			name:  "empty line in the middle is a ragged row; trailing ones are not rows",
			input: "a,b\n1,2\n\n\r\n3,4\n\n\n",
			want: []string{
				"1|2",
				"ERR:x.csv row 2: wrong number of fields: empty line, expected 2",
				"ERR:x.csv row 3: wrong number of fields: empty line, expected 2",
				"3|4",
			},
			errs: []error{nil, ErrFieldCount, ErrFieldCount, nil},
		},
		{
			name:  "empty line with a single-column header is an empty value",
			input: "email\na@x\n\nb@x\n\n",
			want:  []string{"a@x", "", "b@x"},
		},
		{
			name:  "quoted empty line is a value, not an empty line",
			input: "a,b\n\"\"\n",
			want:  []string{"ERR:x.csv row 1: wrong number of fields: expected 2, got 1"},
		},
		{
			name:   "projection picks and orders",
			input:  "a,b,c\n1,2,3\n",
			opts:   Options{Columns: []string{"c", "a", "c"}},
			header: []string{"a", "b", "c"},
			want:   []string{"3|1|3"},
		},
		{
			name:  "empty projection",
			input: "a,b\n1,2\n",
			opts:  Options{Columns: []string{}},
			want:  []string{""},
		},
		{
			name:  "header only",
			input: "a,b\n",
			want:  nil,
		},
		{
			name:  "row too large",
			input: "a,b\n1,2\n" + strings.Repeat("x", 100) + ",y\n\"" + strings.Repeat("q,\n", 40) + "\",z\n3,4\n",
			opts:  Options{MaxRowBytes: 50},
			want: []string{
				"1|2",
				"ERR:x.csv row 2: row exceeds the maximum row size: longer than 50 bytes",
				"ERR:x.csv row 3: row exceeds the maximum row size: longer than 50 bytes",
				"3|4",
			},
			errs: []error{nil, ErrRowTooLarge, ErrRowTooLarge, nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := textOpenBytes(t, "x.csv", FormatCSV, []byte(tt.input), tt.opts)
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
					assert.True(t, errors.As(rows[i].Err, &re), "row %d error is a *RowError", i+1)
					assert.Nil(t, rows[i].Values)
				} else {
					assert.Equal(t, w, got[i], "row %d", i+1)
				}
				assert.Equal(t, Pos{File: "x.csv", Row: int64(i + 1)}, rows[i].Pos)
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

func TestCSVHeaderErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
		is    []error
	}{
		{"duplicate", "id,email,x,email\n", `header: column "email" at positions 2 and 4: duplicate column name`, []error{ErrDuplicateColumn}},
		{"three times", "a,a,b,a\n", `column "a" at positions 1, 2 and 4`, []error{ErrDuplicateColumn}},
		{"blank", "id,, ,x\n", "header: blank column name at positions 2 and 3", []error{ErrBlankColumn}},
		{"both", "a,,a\n", `column "a" at positions 1 and 3: duplicate column name; blank column name at position 2`, []error{ErrDuplicateColumn, ErrBlankColumn}},
		{"invalid UTF-8", "id,caf\xe9,na\xefve\n", "header: invalid UTF-8 in columns 2 and 3 (set the encoding, e.g. --encoding latin-1)", []error{ErrInvalidUTF8}},
		{"unterminated", "id,\"x\n", "header: quoted field not terminated", []error{ErrUnterminatedQuote}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := textWriteFile(t, "h.csv", []byte(tt.input))
			_, err := Open(p, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "open "+p+": ")
			assert.Contains(t, err.Error(), tt.want)
			for _, e := range tt.is {
				assert.ErrorIs(t, err, e)
			}
			// Problems with the names themselves are one type: on the
			// first input the CLI exits 2 for any of them.
			var he *HeaderError
			assert.Equal(t, tt.name != "unterminated", errors.As(err, &he))
		})
	}
}

// TestCSVHugeLineBoundedMemory feeds a 50 MB single-line record through
// standard input and checks that it becomes one error row while the
// reader allocates a small fraction of it.
func TestCSVHugeLineBoundedMemory(t *testing.T) {
	const huge = 50 << 20
	for _, tt := range []struct {
		name   string
		format Format
		head   string
		open   string // starts the huge record
		tail   string
	}{
		{"csv unquoted", FormatCSV, "a,b\n1,2\n", "", ",x\n3,4\n"},
		{"csv quoted", FormatCSV, "a,b\n1,2\n", "\"", "\",x\n3,4\n"},
		{"ndjson", FormatNDJSON, "{\"a\":\"1\",\"b\":\"2\"}\n", "{\"a\":\"", "\"}\n{\"a\":\"3\",\"b\":\"4\"}\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := io.MultiReader(strings.NewReader(tt.head+tt.open), io.LimitReader(repeatByte('x'), huge), strings.NewReader(tt.tail))
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := Open("-", Options{Format: tt.format, Columns: []string{"a", "b"}, Stdin: in})
			require.NoError(t, err)
			rows, err := textReadAll(t, r)
			runtime.ReadMemStats(&after)
			require.ErrorIs(t, err, io.EOF)
			require.Len(t, rows, 3)
			assert.NoError(t, rows[0].Err)
			assert.ErrorIs(t, rows[1].Err, ErrRowTooLarge)
			assert.Equal(t, []string{"3|4"}, rowStrings(rows[2:]))
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d KiB reading a %d MiB line", allocated>>10, huge>>20)
			// One row is kept up to MaxRowBytes (1 MiB, grown by doubling) plus read buffers.
			assert.Less(t, allocated, uint64(6<<20), "memory must not grow with the line")
		})
	}
}

type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// TestCSVBufferBoundaries reads the same input through a reader that
// returns one byte at a time, so every state meets a buffer boundary.
func TestCSVBufferBoundaries(t *testing.T) {
	input := "\xef\xbb\xbfa,b\r\n\"x\"\"\",\"y\r\nz\"\r\n1,2\r\n\"q\"\r\n\n3,4"
	want := []string{`x"|y` + "\r\nz", "1|2", "ERR:x.csv row 3: wrong number of fields: expected 2, got 1",
		"ERR:x.csv row 4: wrong number of fields: empty line, expected 2", "3|4"}
	cr := &countingReader{r: &oneByteReader{s: input}}
	d, err := newCSVDialect(CSVOptions{})
	require.NoError(t, err)
	r, err := newCSVReader(&source{r: cr, counted: cr, size: -1}, "x.csv", d, Options{MaxRowBytes: DefaultMaxRowBytes})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, r.Header())
	rows, err := textReadAll(t, r)
	require.ErrorIs(t, err, io.EOF)
	assert.Equal(t, want, rowStrings(rows))
}

type oneByteReader struct{ s string }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if o.s == "" {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = o.s[0]
	o.s = o.s[1:]
	return 1, nil
}

// Found by FuzzCSVReader: two fields, each invalid UTF-8, whose bytes
// together are a valid sequence (U+0703).
func TestCSVInvalidUTF8AcrossFieldBoundary(t *testing.T) {
	r, err := textOpenBytes(t, "f.csv", FormatCSV, []byte("a,b\n\xdc,\x83\n"), Options{})
	require.NoError(t, err)
	row, err := r.Next()
	require.NoError(t, err)
	require.Error(t, row.Err)
	assert.ErrorIs(t, row.Err, ErrInvalidUTF8)
}
