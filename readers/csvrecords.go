package readers

import (
	"bytes"
	"fmt"
	"io"
)

// CSVRecords reads comma-separated, RFC 4180 quoted text record by record
// with the CSV reader's scanner, for CSV files that are not exports (the
// report read back by --resume). Each record comes with its place in the
// input, so a caller can keep a file up to its last good record.
type CSVRecords struct {
	sc     *csvScanner
	fields [][]byte
}

// CSVRecord is one record of CSVRecords. Fields and Raw are valid until
// the next call to Next.
type CSVRecord struct {
	// Fields are the unquoted, unescaped fields (nil when Err is
	// ErrRowTooLarge). Line breaks inside quotes are kept as written; a
	// CRLF line break is dropped like LF.
	Fields [][]byte
	// Start and End are the byte offsets of the record's first byte and
	// of the byte after its line break (after its last byte when
	// Terminated is false).
	Start, End int64
	// Terminated: a line break ends the record, not the end of the input.
	Terminated bool
	// Lines is how many lines the record starts: 1, plus the line breaks
	// inside its quoted fields.
	Lines int
	// Err is what makes the record malformed, nil if nothing:
	// ErrRowTooLarge, ErrUnterminatedQuote, or ErrQuote (text after a
	// closing quote, or a quote inside a field that does not open with
	// one: strict, unlike the CSV reader's rows).
	Err error
}

// NewCSVRecords reads r; a record of more than maxBytes is scanned to its
// end but not kept (its Err is ErrRowTooLarge).
func NewCSVRecords(r io.Reader, maxBytes int) *CSVRecords {
	return &CSVRecords{sc: newCSVScanner(r, csvDialect{delim: ',', quote: '"'}, maxBytes)}
}

// Next returns the next record, io.EOF after the last, or a read error.
func (c *CSVRecords) Next() (CSVRecord, error) {
	sc := c.sc
	if err := sc.next(); err != nil {
		return CSVRecord{}, err
	}
	rec := CSVRecord{Start: sc.start, End: sc.end, Terminated: !sc.eof, Lines: 1}
	switch {
	case sc.tooLarge:
		rec.Err = fmt.Errorf("%w: longer than %d bytes", ErrRowTooLarge, sc.max)
		return rec, nil
	case sc.unterminated:
		rec.Err = ErrUnterminatedQuote
	case sc.quoteErr >= 0:
		rec.Err = fmt.Errorf("field %d: %w", sc.quoteErr+1, ErrQuote)
	}
	n := len(sc.ends)
	if cap(c.fields) < n {
		c.fields = make([][]byte, n, 2*n)
	}
	c.fields = c.fields[:n]
	start := 0
	for i, end := range sc.ends {
		c.fields[i] = sc.rec[start:end:end]
		start = end
	}
	rec.Fields = c.fields
	// Only a quoted field holds a line break, and usually none is quoted:
	// then one look for a quote checks every field.
	if len(sc.quotedFields) == 0 {
		if rec.Err == nil && bytes.IndexByte(sc.rec, '"') >= 0 {
			rec.Err = c.strayQuote()
		}
		return rec, nil
	}
	for _, i := range sc.quotedFields {
		if i < len(c.fields) {
			rec.Lines += bytes.Count(c.fields[i], []byte{'\n'})
		}
	}
	if rec.Err == nil {
		rec.Err = c.strayQuote()
	}
	return rec, nil
}

// strayQuote is ErrQuote for the first field with a quote that does not
// open with one, nil if none.
func (c *CSVRecords) strayQuote() error {
	q := c.sc.quotedFields
	for i, f := range c.fields {
		if len(q) > 0 && q[0] == i {
			q = q[1:]
			continue
		}
		if bytes.IndexByte(f, '"') >= 0 {
			return fmt.Errorf("field %d: %w: a quote inside an unquoted field", i+1, ErrQuote)
		}
	}
	return nil
}
