package readers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCSVReader checks that any input in any dialect gives rows numbered
// 1, 2, 3... each with values or an error, ending in io.EOF, without a
// panic. Without quote characters, the records are the lines, so the rows
// are checked against a plain split of the input.
func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n",
		"a,b\r\n\"x\"\"y\",\"1\n2\"\r\n",
		"\xef\xbb\xbfa;b\n1;2\n\n\n",
		"a,b\n\"open\n",
		"a,b\n\"x\"y,2\n",
		"a\n\n\nx\n",
		"a,b,c\n1\n1,2,3,4\n\xff,\x00,\n",
		"a|b\n'x|y'|''''\n",
	} {
		f.Add([]byte(s), uint8(0), false, uint16(0))
	}
	f.Add([]byte("a,b\n123456789,2\n1,2\n"), uint8(0), false, uint16(8))
	f.Add([]byte("a\tb\n'x\ty'\t2\n"), uint8(2), true, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, delimSel uint8, singleQuote bool, maxRow uint16) {
		delims := []rune{',', ';', '\t', '|'}
		opts := Options{CSV: CSVOptions{Delimiter: delims[int(delimSel)%len(delims)], NullValues: []string{"NULL"}}, MaxRowBytes: int(maxRow)}
		quote := byte('"')
		if singleQuote {
			opts.CSV.Quote, quote = '\'', '\''
		}
		r, err := textOpenBytes(t, "f.csv", FormatCSV, data, opts)
		if err != nil {
			return // header problems are Open errors
		}
		width := len(r.Header())
		var rows []Row
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("fatal error from an in-memory input: %v", err)
			}
			if row.Pos.Row != int64(len(rows)+1) || row.Pos.File != "f.csv" {
				t.Fatalf("row %d has position %v", len(rows)+1, row.Pos)
			}
			if (row.Err == nil) == (row.Values == nil) {
				t.Fatalf("row %d: want values or an error, got %v and %v", row.Pos.Row, row.Values, row.Err)
			}
			if row.Err != nil {
				var re *RowError
				if !errors.As(row.Err, &re) {
					t.Fatalf("row error is %T", row.Err)
				}
			} else {
				if len(row.Values) != width {
					t.Fatalf("row %d: %d values for %d columns", row.Pos.Row, len(row.Values), width)
				}
				for _, v := range row.Values {
					if v.Kind != KindString && v.Kind != KindNull || !utf8.ValidString(v.S) {
						t.Fatalf("row %d: bad value %#v", row.Pos.Row, v)
					}
				}
			}
			rows = append(rows, row)
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("after EOF: %v", err)
		}

		if bytes.IndexByte(data, quote) >= 0 {
			return
		}
		// No quotes: one record per line; trailing empty lines are not rows.
		text := strings.TrimPrefix(string(data), "\xef\xbb\xbf")
		lines := strings.Split(text, "\n")[1:]
		for len(lines) > 0 && strings.TrimSuffix(lines[len(lines)-1], "\r") == "" {
			lines = lines[:len(lines)-1]
		}
		if len(rows) != len(lines) {
			t.Fatalf("%d rows for %d lines", len(rows), len(lines))
		}
		for i, row := range rows {
			if row.Err != nil {
				continue
			}
			parts := make([]string, len(row.Values))
			for j, v := range row.Values {
				parts[j] = v.S
				if v.Kind == KindNull {
					parts[j] = "NULL"
				}
			}
			if got, want := strings.Join(parts, string(opts.CSV.Delimiter)), strings.TrimSuffix(lines[i], "\r"); got != want {
				t.Fatalf("row %d: got %q, want %q", i+1, got, want)
			}
		}
	})
}

// FuzzNDJSONReader checks that every non-blank line gives exactly one row
// numbered by its line, and that the reader agrees with encoding/json on
// what is a valid object and on every projected value.
func FuzzNDJSONReader(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":"x"}` + "\n" + `{"b":"y","a":2.5e-3}`,
		"\n  \n" + `{"a":[1, {"c": null}],"b":true}` + "\r\n",
		`[1]` + "\n" + `{"a":}` + "\n" + `{"a":1}x`,
		`{"a":"\u00e9\ud83d\ude00\ud800","b":"\"\\\/"}`,
		"{\"a\":\"\xff\"}\n{\"a\":1,\"a\":2}\n",
		`{"a":12345678901234567890123,"b":-0.1000000000000000055511151231257827}`,
	} {
		f.Add([]byte(s), uint16(0))
	}
	f.Add([]byte(`{"a":"0123456789012345678901234567890123456789"}`+"\n"+`{"a":1}`), uint16(20))
	f.Fuzz(func(t *testing.T, data []byte, maxRow uint16) {
		r, err := textOpenBytes(t, "f.ndjson", FormatNDJSON, data, Options{MaxRowBytes: int(maxRow)})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		cols := r.Header()
		text := strings.TrimPrefix(string(data), "\xef\xbb\xbf")
		lines := strings.Split(text, "\n")
		var want []int64
		for i, l := range lines {
			if strings.Trim(l, " \t\r") != "" {
				want = append(want, int64(i+1))
			}
		}
		limit := int(maxRow)
		if limit == 0 {
			limit = DefaultMaxRowBytes
		}
		n := 0
		for ; ; n++ {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("fatal error from an in-memory input: %v", err)
			}
			if n >= len(want) || row.Pos.Row != want[n] {
				t.Fatalf("row %d is line %d, want lines %v", n+1, row.Pos.Row, want)
			}
			if row.Err != nil && row.Values != nil || row.Err == nil && len(row.Values) != len(cols) {
				t.Fatalf("line %d: values %v and error %v", row.Pos.Row, row.Values, row.Err)
			}
			line := []byte(lines[row.Pos.Row-1])
			if len(line) > limit {
				if !errors.Is(row.Err, ErrRowTooLarge) {
					t.Fatalf("line %d of %d bytes: %v", row.Pos.Row, len(line), row.Err)
				}
				continue
			}
			valid := json.Valid(line)
			switch {
			case errors.Is(row.Err, ErrJSONSyntax):
				if valid {
					t.Fatalf("line %d: encoding/json accepts %q: %v", row.Pos.Row, line, row.Err)
				}
			case errors.Is(row.Err, ErrNotObject), errors.Is(row.Err, ErrDuplicateKey):
				if !valid {
					t.Fatalf("line %d: encoding/json rejects %q: %v", row.Pos.Row, line, row.Err)
				}
			case errors.Is(row.Err, ErrInvalidUTF8):
				if utf8.Valid(line) {
					t.Fatalf("line %d is valid UTF-8: %v", row.Pos.Row, row.Err)
				}
			case row.Err != nil:
				t.Fatalf("line %d: unexpected error %v", row.Pos.Row, row.Err)
			default:
				compareWithEncodingJSON(t, row, cols, line)
			}
		}
		if n != len(want) {
			t.Fatalf("%d rows for %d non-blank lines", n, len(want))
		}
	})
}

func compareWithEncodingJSON(t *testing.T, row Row, cols []string, line []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		t.Fatalf("line %d: we accept %q, encoding/json says %v", row.Pos.Row, line, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		t.Fatalf("line %d: we accept %q, encoding/json says %v", row.Pos.Row, line, err)
	}
	for i, c := range cols {
		v, ok := m[c]
		got := row.Values[i]
		switch x := v.(type) {
		case nil:
			if got.Kind != KindNull {
				t.Fatalf("line %d key %q: got %v, want null (present %v)", row.Pos.Row, c, got, ok)
			}
		case string:
			if got.Kind != KindString || got.S != x {
				t.Fatalf("line %d key %q: got %#v, want %q", row.Pos.Row, c, got, x)
			}
		case json.Number:
			if got.Kind != KindNumber || got.S != string(x) {
				t.Fatalf("line %d key %q: got %#v, want number %s", row.Pos.Row, c, got, x)
			}
		case bool:
			if got.Kind != KindBool || got.B != x {
				t.Fatalf("line %d key %q: got %#v, want %v", row.Pos.Row, c, got, x)
			}
		default:
			var a, b any
			if got.Kind != KindJSON || json.Unmarshal([]byte(got.S), &a) != nil {
				t.Fatalf("line %d key %q: got %#v, want nested JSON", row.Pos.Row, c, got)
			}
			b = x
			aj, _ := json.Marshal(a)
			bj, _ := json.Marshal(normalizeNumbers(b))
			if !bytes.Equal(aj, bj) {
				t.Fatalf("line %d key %q: got %s, want %s", row.Pos.Row, c, aj, bj)
			}
			// The text is the value as written, compacted: white space
			// survives only inside strings (a key " " stays " ").
			var want bytes.Buffer
			if err := json.Compact(&want, raw[c]); err != nil || got.S != want.String() {
				t.Fatalf("line %d key %q: got %s, want compact %s (%v)", row.Pos.Row, c, got.S, want.String(), err)
			}
		}
	}
}

// normalizeNumbers turns json.Number into float64 so that a nested value
// decoded with and without UseNumber marshals alike.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalizeNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalizeNumbers(x[k])
		}
	}
	return v
}

// FuzzStdinSniff checks that standard input opened without a format reads
// exactly as with the format its content names: the bytes the sniff reads
// are all put back, in order, whatever their length, and nothing panics.
func FuzzStdinSniff(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n"), uint16(0))
	f.Add([]byte("\xef\xbb\xbf \n{\"a\":1}\n"), uint16(0))
	f.Add([]byte("PAR1"), uint16(0))
	f.Add([]byte("id\n"), uint16(5000)) // repeated past the sniffed 4 KiB
	f.Fuzz(func(t *testing.T, data []byte, repeat uint16) {
		if repeat > 0 && len(data) > 0 {
			data = bytes.Repeat(data, int(repeat)%8192/len(data)+1)
		}
		rows := func(format Format) ([]string, string) {
			r, err := Open(StdinPath, Options{Format: format, Stdin: bytes.NewReader(data)})
			if err != nil {
				return nil, "open: " + err.Error()
			}
			defer r.Close()
			var out []string
			for {
				row, err := r.Next()
				if err != nil {
					if err == io.EOF {
						return out, ""
					}
					return out, err.Error()
				}
				s := ""
				if row.Err != nil {
					s = "error: " + row.Err.Error()
				}
				for _, v := range row.Values {
					s += "|" + v.S
				}
				out = append(out, s)
			}
		}
		want := FormatCSV
		if b := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n"); len(b) > 0 && b[0] == '{' {
			want = FormatNDJSON
		}
		got, gotErr := rows(FormatAuto)
		if bytes.HasPrefix(data, []byte("PAR1")) {
			if !strings.Contains(gotErr, "seekable") {
				t.Fatalf("parquet on standard input: %q", gotErr)
			}
			return
		}
		exp, expErr := rows(want)
		if gotErr != expErr || strings.Join(got, "\n") != strings.Join(exp, "\n") {
			t.Fatalf("sniffed read differs from %s:\n got %q, %q\nwant %q, %q", want, got, gotErr, exp, expErr)
		}
	})
}
