package readers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// textReadAll drains r and returns its rows and the error that ended it.
func textReadAll(t testing.TB, r Reader) ([]Row, error) {
	t.Helper()
	var rows []Row
	for {
		row, err := r.Next()
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
		if len(rows) > 1e7 {
			t.Fatal("reader does not end")
		}
	}
}

// textWriteFile writes data to name in a fresh temp folder and returns the path.
func textWriteFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

// textOpenBytes opens in-memory data as the named format without a file,
// so fuzz targets and benchmarks do not touch the disk or the stdin seam.
func textOpenBytes(t testing.TB, name string, format Format, data []byte, opts Options) (Reader, error) {
	t.Helper()
	if opts.MaxRowBytes <= 0 {
		opts.MaxRowBytes = DefaultMaxRowBytes
	}
	cr := &countingReader{r: bytes.NewReader(data)}
	src := &source{r: cr, counted: cr, size: int64(len(data))}
	if format == FormatNDJSON {
		return newNDJSONReader(src, name, opts)
	}
	d, err := newCSVDialect(opts.CSV)
	if err != nil {
		return nil, err
	}
	return newCSVReader(src, name, d, opts)
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := kgzip.NewWriter(&b)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func zstdBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

// rowStrings flattens rows for comparison: values joined by "|" with
// nulls as <nil>, or "ERR:<message>".
func rowStrings(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		if r.Err != nil {
			out[i] = "ERR:" + r.Err.Error()
			continue
		}
		parts := make([]string, len(r.Values))
		for j, v := range r.Values {
			switch v.Kind {
			case KindNull:
				parts[j] = "<nil>"
			case KindBool:
				if v.B {
					parts[j] = "<true>"
				} else {
					parts[j] = "<false>"
				}
			case KindNumber:
				parts[j] = "#" + v.S
			case KindJSON:
				parts[j] = "json:" + v.S
			default:
				parts[j] = v.S
			}
		}
		out[i] = strings.Join(parts, "|")
	}
	return out
}

func TestOpenCompression(t *testing.T) {
	const csvText = "id,name\n1,ann\n2,bob\n"
	plain := []byte(csvText)
	half := len(plain) / 2
	multi := append(gzipBytes(t, plain[:half]), gzipBytes(t, plain[half:])...)
	tests := []struct {
		name   string
		file   string
		data   []byte
		format Format
	}{
		{"plain", "r.csv", plain, ""},
		{"gzip by extension", "r.csv.gz", gzipBytes(t, plain), ""},
		{"gzip multi-member", "r.csv.gz", multi, ""},
		{"zstd .zst", "r.csv.zst", zstdBytes(t, plain), ""},
		{"zstd .zstd", "r.csv.zstd", zstdBytes(t, plain), ""},
		{"gzip by magic, no compression extension", "r.csv", gzipBytes(t, plain), ""},
		{"zstd by magic, no extension at all", "export", zstdBytes(t, plain), FormatCSV},
		{"gzip by magic, no extension at all", "export", gzipBytes(t, plain), FormatCSV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := textWriteFile(t, tt.file, tt.data)
			r, err := Open(p, Options{Format: tt.format})
			require.NoError(t, err)
			defer r.Close()
			rows, err := textReadAll(t, r)
			assert.ErrorIs(t, err, io.EOF)
			assert.Equal(t, []string{"1|ann", "2|bob"}, rowStrings(rows))
			assert.Equal(t, []string{"id", "name"}, r.Header())
			done, total := r.(Progresser).Progress()
			assert.Equal(t, int64(len(tt.data)), total)
			assert.Equal(t, total, done, "the whole file is consumed at EOF")
			require.NoError(t, r.Close())
		})
	}
}

func TestOpenTruncatedGzip(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,payload\n")
	for i := 0; i < 20000; i++ {
		b.WriteString("12345,")
		b.WriteString(strings.Repeat(string(rune('a'+i%26)), 20))
		b.WriteString("\n")
	}
	gz := gzipBytes(t, []byte(b.String()))
	p := textWriteFile(t, "cut.csv.gz", gz[:len(gz)/2])
	r, err := Open(p, Options{})
	require.NoError(t, err)
	defer r.Close()
	rows, err := textReadAll(t, r)
	require.Error(t, err)
	assert.NotErrorIs(t, err, io.EOF)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "cut.csv.gz")
	assert.Contains(t, err.Error(), "gzip")
	require.NotEmpty(t, rows, "rows before the cut are returned")
	assert.Less(t, len(rows), 20000)
	for i, row := range rows {
		require.NoError(t, row.Err)
		require.Equal(t, int64(i+1), row.Pos.Row)
	}
	_, again := r.Next()
	assert.Equal(t, err, again, "the fatal error is sticky")
}

func TestOpenStdin(t *testing.T) {
	t.Run("csv", func(t *testing.T) {
		r, err := Open("-", Options{Format: FormatCSV, CSV: CSVOptions{Delimiter: ';'}, Stdin: strings.NewReader("a;b\n1;2\n")})
		require.NoError(t, err)
		rows, err := textReadAll(t, r)
		assert.ErrorIs(t, err, io.EOF)
		assert.Equal(t, []string{"1|2"}, rowStrings(rows))
		assert.Equal(t, Pos{File: "-", Row: 1}, rows[0].Pos)
		done, total := r.(Progresser).Progress()
		assert.Equal(t, int64(8), done)
		assert.Equal(t, int64(-1), total)
		require.NoError(t, r.Close())
	})
	t.Run("gzip ndjson detected by magic", func(t *testing.T) {
		r, err := Open("-", Options{Format: FormatNDJSON, Stdin: bytes.NewReader(gzipBytes(t, []byte(`{"a":1}`+"\n")))})
		require.NoError(t, err)
		rows, err := textReadAll(t, r)
		assert.ErrorIs(t, err, io.EOF)
		assert.Equal(t, []string{"#1"}, rowStrings(rows))
	})
	// Without a format, the content says: '{' first is NDJSON, else CSV.
	var long strings.Builder
	long.WriteString("id,name\n")
	for i := range 2000 { // well past the bytes the sniff reads
		fmt.Fprintf(&long, "%d,n%d\n", i, i)
	}
	for _, tt := range []struct {
		name, in string
		gzip     bool
		rows     int
		first    string
	}{
		{"csv sniffed", "a,b\n1,2\n", false, 1, "1|2"},
		{"long csv sniffed, every byte kept", long.String(), false, 2000, "0|n0"},
		{"ndjson sniffed", `{"a":1}` + "\n" + `{"a":2}` + "\n", false, 2, "#1"},
		{"ndjson after a BOM and blank lines", "\ufeff\n  \n" + `{"a":1}` + "\n", false, 1, "#1"},
		{"gzip ndjson sniffed", `{"a":1}` + "\n", true, 1, "#1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			if tt.gzip {
				in = gzipBytes(t, in)
			}
			r, err := Open("-", Options{Stdin: bytes.NewReader(in)})
			require.NoError(t, err)
			rows, err := textReadAll(t, r)
			assert.ErrorIs(t, err, io.EOF)
			require.Len(t, rows, tt.rows)
			assert.Equal(t, tt.first, rowStrings(rows[:1])[0])
			done, _ := r.(Progresser).Progress()
			assert.Equal(t, int64(len(in)), done, "the sniffed bytes are counted once")
			require.NoError(t, r.Close())
		})
	}
	t.Run("parquet sniffed and refused", func(t *testing.T) {
		_, err := Open("-", Options{Stdin: strings.NewReader("PAR1\x15\x00")})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "open standard input: ")
		assert.Contains(t, err.Error(), "seekable")
	})
	t.Run("empty", func(t *testing.T) {
		_, err := Open("-", Options{Stdin: strings.NewReader("")})
		assert.ErrorIs(t, err, ErrNoHeader)
	})
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	csvPath := textWriteFile(t, "ok.csv", []byte("a,b\n"))
	tests := []struct {
		name string
		path string
		opts Options
		want []string
		is   error
	}{
		{"missing file", filepath.Join(dir, "renewals.csv"), Options{}, []string{"open " + filepath.Join(dir, "renewals.csv") + ": ", "no such file"}, os.ErrNotExist},
		{"unknown extension", textWriteFile(t, "r.txt", []byte("a\n")), Options{}, []string{"r.txt", "format"}, nil},
		{"json is not ndjson", textWriteFile(t, "r.json", []byte("{}\n")), Options{}, []string{"r.json", "format"}, nil},
		{"directory", dir, Options{Format: FormatCSV}, []string{"is a directory"}, nil},
		{"unknown format", csvPath, Options{Format: "xml"}, []string{`unknown format "xml"`}, nil},
		{"multi-byte delimiter", csvPath, Options{CSV: CSVOptions{Delimiter: '§'}}, []string{"delimiter"}, nil},
		{"delimiter equals quote", csvPath, Options{CSV: CSVOptions{Delimiter: '\'', Quote: '\''}}, []string{"delimiter and quote"}, nil},
		{"unknown encoding", csvPath, Options{CSV: CSVOptions{Encoding: "ebcdic"}}, []string{"ebcdic"}, nil},
		{"empty csv", textWriteFile(t, "empty.csv", nil), Options{}, []string{"empty.csv", "no header"}, ErrNoHeader},
		{"bad gzip header", textWriteFile(t, "bad.csv.gz", []byte("id\n1\n")), Options{}, []string{"bad.csv.gz", "gzip"}, nil},
		{"compressed parquet", textWriteFile(t, "r.parquet.gz", []byte("x")), Options{}, []string{"r.parquet.gz", "gzip-compressed parquet"}, nil},
		{"parquet from stdin", "-", Options{Format: FormatParquet}, []string{"standard input", "seekable"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(tt.path, tt.opts)
			require.Error(t, err)
			assert.Nil(t, r)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
		})
	}
}

func TestOpenFormatByExtension(t *testing.T) {
	tests := []struct {
		file string
		data string
		want []string
	}{
		{"a.tsv", "x\ty\n1,5\t2\n", []string{"1,5|2"}},
		{"a.TSV.gz", "x\ty\n1\t2\n", []string{"1|2"}},
		{"a.jsonl", `{"x":"1","y":2}` + "\n", []string{"1|#2"}},
		{"a.ndjson.zst", `{"x":"1","y":2}` + "\n", []string{"1|#2"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := []byte(tt.data)
			switch {
			case strings.HasSuffix(tt.file, ".gz"):
				data = gzipBytes(t, data)
			case strings.HasSuffix(tt.file, ".zst"):
				data = zstdBytes(t, data)
			}
			r, err := Open(textWriteFile(t, tt.file, data), Options{})
			require.NoError(t, err)
			defer r.Close()
			rows, err := textReadAll(t, r)
			assert.ErrorIs(t, err, io.EOF)
			assert.Equal(t, tt.want, rowStrings(rows))
		})
	}
}

func TestOpenMissingColumn(t *testing.T) {
	p := textWriteFile(t, "renewals.csv", []byte("user_id,email\n1,a@b.c\n"))
	_, err := Open(p, Options{Columns: []string{"email", "amount", "currency"}})
	var mce *MissingColumnError
	require.True(t, errors.As(err, &mce), "got %v", err)
	assert.Equal(t, []string{"amount", "currency"}, mce.Columns)
	assert.Equal(t, p, mce.File)
}

func TestEach(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "in.csv")
	require.NoError(t, os.WriteFile(path, []byte("id,name\n1,a\n2,b\n3,c\n"), 0o644))
	var rows []int64
	header, err := Each(path, Options{}, func(r Row) bool {
		rows = append(rows, r.Pos.Row)
		return r.Pos.Row < 2
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"id", "name"}, header)
	assert.Equal(t, []int64{1, 2}, rows, "stops when f says so")

	rows = nil
	_, err = Each(path, Options{}, func(r Row) bool { rows = append(rows, r.Pos.Row); return true })
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2, 3}, rows, "to the end")

	_, err = Each(path, Options{Columns: []string{"missing"}}, func(Row) bool { return true })
	var mc *MissingColumnError
	assert.ErrorAs(t, err, &mc, "Open's error, as is")
}
