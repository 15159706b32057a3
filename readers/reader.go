package readers

import "io"

// Reader streams the rows of one input.
type Reader interface {
	// Next returns the next row. At the end of the input it returns io.EOF.
	// Any other error is fatal for this input (the file cannot be read
	// further); problems confined to one row come back as Row.Err instead.
	Next() (Row, error)
	// Header lists every column the input has, in file order (for
	// NDJSON: the keys of the first object).
	Header() []string
	// Close releases the input.
	Close() error
}

// Format is an input format.
type Format string

const (
	FormatAuto    Format = ""
	FormatCSV     Format = "csv"
	FormatNDJSON  Format = "ndjson"
	FormatParquet Format = "parquet"
)

// DefaultMaxRowBytes bounds one CSV record or NDJSON line. A longer row is
// a row error (ErrRowTooLarge), never an out-of-memory.
const DefaultMaxRowBytes = 1 << 20

// Options control how inputs are opened.
type Options struct {
	// Format overrides detection by extension (standard input: by content,
	// NDJSON when it starts with '{', else CSV).
	Format Format
	// Columns projects each row onto these columns, in this order. Nil
	// means every column of Header(), in file order.
	Columns []string
	// MaxRowBytes bounds one row; 0 means DefaultMaxRowBytes.
	MaxRowBytes int
	// CSV dialect.
	CSV CSVOptions
	// Stdin is what the path "-" reads; nil means os.Stdin.
	Stdin io.Reader
}

// CSVOptions is the CSV dialect.
type CSVOptions struct {
	Delimiter  rune     // default ','
	Quote      rune     // default '"'
	NullValues []string // field values read as KindNull, e.g. "", "NULL", `\N`
	Encoding   string   // "" or "utf-8" (default), "latin-1"
}

// Progresser is implemented by readers that can tell how far into their
// input they are, in bytes of the file on disk (compressed bytes for a
// compressed file). total is -1 when unknown (standard input).
type Progresser interface {
	Progress() (done, total int64)
}
