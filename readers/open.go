package readers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// errParquetStdin: Parquet's footer is at the end of the file.
var errParquetStdin = errors.New("parquet cannot be read from standard input: it needs a seekable file")

// StdinPath is the path that names standard input.
const StdinPath = "-"

// readBufferSize is the read-ahead on every input. Large enough that the
// per-read overhead vanishes, small enough to stay far below MaxRowBytes.
const readBufferSize = 64 << 10

// Open opens one input and returns a Reader positioned on its first row.
//
// The format is opts.Format or, when that is FormatAuto, the extension
// once a compression extension is stripped: .csv, .tsv (tab-delimited
// unless opts.CSV.Delimiter says otherwise), .ndjson, .jsonl, .parquet,
// .pq. Path "-" is standard input: without opts.Format, NDJSON when its
// content starts with '{', else CSV (Parquet needs a seekable file).
// Compression is gzip or zstd, chosen by the magic bytes of the content,
// else by the extension (.gz, .zst, .zstd); plain input is not copied.
//
// Errors name the input ("open renewals.csv: ..."). A projected column that
// a CSV header lacks is a *MissingColumnError (returned as is: it names the
// file); a bad CSV header is a *HeaderError. CSV and NDJSON readers
// implement Progresser.
func Open(path string, opts Options) (Reader, error) {
	r, err := open(path, opts)
	if err != nil {
		var missing *MissingColumnError
		if errors.As(err, &missing) {
			return nil, err
		}
		name := path
		if path == StdinPath {
			name = "standard input"
		}
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return r, nil
}

func open(path string, opts Options) (Reader, error) {
	if opts.MaxRowBytes <= 0 {
		opts.MaxRowBytes = DefaultMaxRowBytes
	}
	extComp, base := splitCompressionExt(path)
	format, tsv := formatByExt(base)
	if path == StdinPath {
		extComp, tsv = compressNone, false
	}
	switch opts.Format {
	case FormatAuto:
		if format == FormatAuto && path != StdinPath {
			return nil, fmt.Errorf("cannot tell the format from the name %q: want .csv, .tsv, .ndjson, .jsonl, .parquet or .pq, optionally with .gz, .zst or .zstd, or set the format", filepath.Base(path))
		}
	case FormatCSV, FormatNDJSON, FormatParquet:
		format = opts.Format
	default:
		return nil, fmt.Errorf("unknown format %q (want csv, ndjson or parquet)", opts.Format)
	}
	if tsv && opts.CSV.Delimiter == 0 {
		opts.CSV.Delimiter = '\t'
	}

	if format == FormatParquet {
		if path == StdinPath {
			return nil, errParquetStdin
		}
		if extComp != compressNone {
			return nil, fmt.Errorf("a %s-compressed parquet file is not supported: parquet compresses its pages itself", extComp)
		}
		return openParquet(path, opts)
	}

	src, err := openSource(path, extComp, opts.Stdin)
	if err != nil {
		return nil, err
	}
	if format == FormatAuto { // standard input, no format given
		if format, err = src.sniffFormat(); err != nil {
			src.Close()
			return nil, err
		}
	}
	var dialect csvDialect
	if format == FormatCSV {
		if dialect, err = newCSVDialect(opts.CSV); err != nil {
			src.Close()
			return nil, err
		}
	}
	var r Reader
	if format == FormatCSV {
		r, err = newCSVReader(src, path, dialect, opts)
	} else {
		r, err = newNDJSONReader(src, path, opts)
	}
	if err != nil {
		src.Close()
		return nil, err
	}
	return r, nil
}

// FormatOf is the format Open reads path in: opts.Format when set, else
// the one its extension names (FormatAuto when none does).
func FormatOf(path string, opts Options) Format {
	if opts.Format != FormatAuto {
		return opts.Format
	}
	_, base := splitCompressionExt(path)
	f, _ := formatByExt(base)
	return f
}

// formatByExt maps a (decompressed) file name to its format.
func formatByExt(name string) (f Format, tsv bool) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return FormatCSV, false
	case ".tsv", ".tab":
		return FormatCSV, true
	case ".ndjson", ".jsonl":
		return FormatNDJSON, false
	case ".parquet", ".pq":
		return FormatParquet, false
	}
	return FormatAuto, false
}

// source is the byte stream under a CSV or NDJSON reader: the file (or
// standard input), the count of its bytes read, and the decompressor.
type source struct {
	r       io.Reader // decompressed content
	counted *countingReader
	size    int64 // -1 for standard input
	closers []func() error
	closed  bool
}

func openSource(path string, extComp compression, stdin io.Reader) (*source, error) {
	src := &source{size: -1}
	var raw io.Reader
	if path == StdinPath {
		raw = stdin
		if raw == nil {
			raw = os.Stdin
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, unwrapPathError(err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, unwrapPathError(err)
		}
		if st.IsDir() {
			f.Close()
			return nil, errors.New("is a directory (use Expand to list its files)")
		}
		src.size = st.Size()
		src.closers = append(src.closers, f.Close)
		raw = f
	}
	src.counted = &countingReader{r: raw}
	br := bufio.NewReaderSize(src.counted, readBufferSize)
	comp := sniffCompression(br)
	if comp == compressNone {
		// The extension promised compression the content does not have:
		// let the decompressor report the bad header.
		comp = extComp
	}
	dr, closeDecomp, err := decompress(comp, br)
	if err != nil {
		src.Close()
		return nil, err
	}
	// The decompressor must be released before the file is closed.
	src.closers = append([]func() error{closeDecomp}, src.closers...)
	src.r = dr
	return src, nil
}

// sniffFormat tells NDJSON from CSV by the content's first character
// other than a byte order mark or white space ('{' starts an NDJSON row; a
// CSV header cannot sensibly), for standard input given without a format.
// The bytes it reads are put back in front of the stream.
func (s *source) sniffFormat() (Format, error) {
	head := make([]byte, 4<<10)
	n, err := io.ReadFull(s.r, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return FormatAuto, err
	}
	head = head[:n]
	s.r = io.MultiReader(bytes.NewReader(head), s.r)
	if bytes.HasPrefix(head, []byte("PAR1")) {
		return FormatAuto, errParquetStdin
	}
	b := bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	if len(b) > 0 && b[0] == '{' {
		return FormatNDJSON, nil
	}
	return FormatCSV, nil
}

// unwrapPathError drops the "open <path>:" that *fs.PathError adds, since
// Open already names the file.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Progress reports the bytes of the file on disk read so far (compressed
// bytes for a compressed file) and the file size; total is -1 for
// standard input. It is safe to call from another goroutine.
func (s *source) Progress() (done, total int64) {
	return s.counted.n.Load(), s.size
}

// Close releases the decompressor and the file. Standard input is left
// open. Close is idempotent.
func (s *source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, c := range s.closers {
		if err := c(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Each opens path and calls f on each row, in order, until f returns false
// or the input ends: the read loop of every command that looks at rows
// without importing them (check, init, preview, explain). It returns the
// header, and Open's error or the one that stopped the reading (the rows
// before it were passed to f).
func Each(path string, opts Options, f func(Row) bool) (header []string, err error) {
	r, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	header = r.Header()
	for {
		row, err := r.Next()
		if err == io.EOF {
			return header, nil
		}
		if err != nil {
			return header, err
		}
		if !f(row) {
			return header, nil
		}
	}
}
