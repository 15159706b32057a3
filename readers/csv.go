package readers

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/encoding/charmap"
)

// Sentinel CSV errors callers may test with errors.Is.
var (
	// ErrUnterminatedQuote is a row error: a quoted field is still open at
	// the end of the input, so the rest of the input is this one row.
	ErrUnterminatedQuote = errors.New("quoted field not terminated before the end of the input")
	// ErrQuote is a row error: a closing quote is followed by something
	// other than a delimiter or the end of the record (`"ab"c`).
	ErrQuote = errors.New("unexpected character after a closing quote")
	// ErrBlankColumn and ErrDuplicateColumn (and ErrInvalidUTF8) are
	// header problems, inside a *HeaderError.
	ErrBlankColumn     = errors.New("blank column name")
	ErrDuplicateColumn = errors.New("duplicate column name")
	// ErrNoHeader is returned by Open for a CSV input without a single
	// record.
	ErrNoHeader = errors.New("empty input: no header")
)

// HeaderProblem is one problem in a CSV header: the column name (empty
// for blank names), its 1-based positions and the sentinel error.
type HeaderProblem struct {
	Name      string
	Positions []int
	Err       error
}

// HeaderError is returned by Open when a CSV header has blank or
// duplicate column names, or names that are not UTF-8. It lists every
// problem, not just the first.
type HeaderError struct {
	Problems []HeaderProblem
}

func (e *HeaderError) Error() string {
	var b strings.Builder
	b.WriteString("header: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		switch p.Err {
		case ErrBlankColumn:
			fmt.Fprintf(&b, "%v at %s %s", p.Err, plural(len(p.Positions), "position"), joinPositions(p.Positions))
		case ErrInvalidUTF8:
			fmt.Fprintf(&b, "%v in %s %s (set the encoding, e.g. --encoding latin-1)", p.Err, plural(len(p.Positions), "column"), joinPositions(p.Positions))
		default:
			fmt.Fprintf(&b, "column %q at positions %s: %v", p.Name, joinPositions(p.Positions), p.Err)
		}
	}
	return b.String()
}

// Unwrap lets errors.Is find ErrBlankColumn and ErrDuplicateColumn.
func (e *HeaderError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p.Err
	}
	return errs
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func joinPositions(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprint(p)
	}
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// csvDialect is CSVOptions checked and resolved to bytes.
type csvDialect struct {
	delim, quote byte
	nulls        []string
	charmap      *charmap.Charmap // nil for UTF-8
}

func newCSVDialect(o CSVOptions) (csvDialect, error) {
	d := csvDialect{delim: ',', quote: '"', nulls: o.NullValues}
	for _, c := range []struct {
		name string
		r    rune
		dst  *byte
	}{{"delimiter", o.Delimiter, &d.delim}, {"quote", o.Quote, &d.quote}} {
		if c.r == 0 {
			continue
		}
		if c.r >= utf8.RuneSelf || c.r == '\n' || c.r == '\r' {
			return d, fmt.Errorf("csv: %s %q: want a single ASCII character other than a line break", c.name, c.r)
		}
		*c.dst = byte(c.r)
	}
	if d.delim == d.quote {
		return d, fmt.Errorf("csv: delimiter and quote are both %q", rune(d.delim))
	}
	switch strings.ToLower(strings.TrimSpace(o.Encoding)) {
	case "", "utf-8", "utf8":
	case "latin-1", "latin1", "iso-8859-1", "iso8859-1":
		d.charmap = charmap.ISO8859_1
	case "windows-1252", "cp1252":
		d.charmap = charmap.Windows1252
	default:
		return d, fmt.Errorf("csv: unknown encoding %q (want utf-8, latin-1 or windows-1252)", o.Encoding)
	}
	return d, nil
}

// csvScanner splits a byte stream into records. It keeps one record at a
// time: the unquoted, unescaped bytes of all its fields in rec and the end
// offset of each field in ends. A record longer than max raw bytes is
// scanned to its end but not kept (tooLarge), so memory stays bounded by
// max plus the read buffer whatever the input.
type csvScanner struct {
	readBuf
	nl           int // index of the next '\n' in buf[r:w], w if none; -1 when unknown
	delim, quote byte
	max          int

	rec          []byte
	ends         []int
	raw          int // raw bytes of the record so far, line break excluded
	tooLarge     bool
	unterminated bool
	quoted       bool  // some field was quoted
	quoteErr     int   // index of the first field with ErrQuote, -1 if none
	quotedFields []int // indexes of the fields that open with a quote

	start, end int64 // offsets in the input of the record and just past its line break
	eof        bool  // the end of the input ended the record, not a line break
}

type csvState uint8

const (
	stFieldStart csvState = iota
	stUnquoted
	stQuoted
	stQuoteInQuoted // saw a quote inside a quoted field: closing, or the first of a doubled quote
	stQuoteCR       // saw a closing quote then '\r'
)

func newCSVScanner(src io.Reader, d csvDialect, max int) *csvScanner {
	return &csvScanner{readBuf: newReadBuf(src), nl: -1, delim: d.delim, quote: d.quote, max: max}
}

func (s *csvScanner) fill() error {
	s.nl = -1
	return s.readBuf.fill()
}

// add appends field bytes, counting them against max.
func (s *csvScanner) add(p []byte) {
	s.raw += len(p)
	if s.tooLarge {
		return
	}
	if s.raw > s.max {
		s.tooLarge = true
		return
	}
	s.rec = append(s.rec, p...)
}

// count counts syntax bytes (quotes, delimiters) against max.
func (s *csvScanner) count(n int) {
	s.raw += n
	if s.raw > s.max {
		s.tooLarge = true
	}
}

func (s *csvScanner) endField() {
	if !s.tooLarge {
		s.ends = append(s.ends, len(s.rec))
	}
}

// trimCR drops the '\r' of a CRLF line break from an unquoted field.
func (s *csvScanner) trimCR() {
	start := 0
	if len(s.ends) > 0 {
		start = s.ends[len(s.ends)-1]
	}
	if !s.tooLarge && len(s.rec) > start && s.rec[len(s.rec)-1] == '\r' {
		s.rec = s.rec[:len(s.rec)-1]
	}
}

func (s *csvScanner) markQuoteErr() {
	if s.quoteErr < 0 {
		s.quoteErr = len(s.ends)
	}
}

// next reads one record. It returns io.EOF when the input holds no further
// byte, or a read error; a record cut by the end of the input is still a
// record (with unterminated set if a quote was open).
func (s *csvScanner) next() error {
	s.rec, s.ends, s.raw, s.quotedFields = s.rec[:0], s.ends[:0], 0, s.quotedFields[:0]
	s.tooLarge, s.unterminated, s.quoted, s.quoteErr, s.eof = false, false, false, -1, false
	s.start = s.base + int64(s.r)
	err := s.scan()
	s.end = s.base + int64(s.r)
	return err
}

// scan reads one record for next.
func (s *csvScanner) scan() error {
	state := stFieldStart
	started := false
	for {
		if s.r >= s.w {
			if err := s.fill(); err != nil {
				if err != io.EOF {
					return err
				}
				if !started {
					return io.EOF
				}
				switch state {
				case stQuoted:
					s.unterminated = true
				case stUnquoted:
					s.trimCR()
				}
				s.endField()
				s.eof = true
				return nil
			}
		}
		started = true
		switch state {
		case stFieldStart:
			if s.buf[s.r] == s.quote {
				s.r++
				s.count(1)
				s.quoted = true
				s.quotedFields = append(s.quotedFields, len(s.ends))
				state = stQuoted
			} else {
				state = stUnquoted
			}
		case stUnquoted:
			if s.nl < s.r {
				if i := bytes.IndexByte(s.buf[s.r:s.w], '\n'); i >= 0 {
					s.nl = s.r + i
				} else {
					s.nl = s.w
				}
			}
			seg := s.buf[s.r:s.nl]
			j := bytes.IndexByte(seg, s.delim)
			// The fields of the line that follow unquoted are taken here,
			// one after the other, without a round through stFieldStart.
			for j >= 0 {
				s.add(seg[:j])
				s.r += j + 1
				s.count(1)
				s.endField()
				if s.r == s.nl || s.buf[s.r] == s.quote {
					break
				}
				seg = s.buf[s.r:s.nl]
				j = bytes.IndexByte(seg, s.delim)
			}
			if j >= 0 {
				state = stFieldStart
				continue
			}
			s.add(seg)
			s.r = s.nl
			if s.nl == s.w {
				continue // the line goes on in the next buffer
			}
			s.r++
			s.trimCR()
			s.endField()
			return nil
		case stQuoted:
			b := s.buf[s.r:s.w]
			i := bytes.IndexByte(b, s.quote)
			if i < 0 {
				s.add(b)
				s.r = s.w
				continue
			}
			s.add(b[:i])
			s.r += i + 1
			s.count(1)
			state = stQuoteInQuoted
		case stQuoteInQuoted:
			switch c := s.buf[s.r]; c {
			case s.quote:
				s.r++
				s.add(s.buf[s.r-1 : s.r])
				state = stQuoted
			case s.delim:
				s.r++
				s.count(1)
				s.endField()
				state = stFieldStart
			case '\n':
				s.r++
				s.endField()
				return nil
			case '\r':
				s.r++
				s.count(1)
				state = stQuoteCR
			default:
				s.markQuoteErr()
				state = stUnquoted
			}
		case stQuoteCR:
			if s.buf[s.r] == '\n' {
				s.r++
				s.endField()
				return nil
			}
			s.markQuoteErr()
			s.raw-- // counted already; add counts it again
			s.add([]byte{'\r'})
			state = stUnquoted
		}
	}
}

// emptyLine reports whether the record was a line with nothing on it.
func (s *csvScanner) emptyLine() bool {
	return !s.quoted && !s.tooLarge && len(s.ends) == 1 && s.ends[0] == 0
}

// csvReader reads delimited text. See newCSVReader for the contract.
type csvReader struct {
	*source
	sc      *csvScanner
	file    string
	header  []string
	proj    []int // header index of each projected column
	dialect csvDialect
	max     int

	row          int64
	pendingEmpty int64 // empty lines not yet returned: dropped if only empty lines follow
	held         bool  // the scanner holds a record to return after the pending empty lines
	err          error // sticky: io.EOF or a read error

	dec     []byte // latin-1 decoding buffers, reused
	decEnds []int
	arena   rowArena
}

var (
	_ Reader     = (*csvReader)(nil)
	_ Progresser = (*csvReader)(nil)
)

// newCSVReader reads the header and checks it and the projection.
//
// The first record is the header; a UTF-8 byte order mark before it is
// dropped. Fields may be quoted with the dialect's quote character; inside
// quotes, delimiters and line breaks are data and a doubled quote is one
// quote; line breaks inside quotes are kept as written. A quote inside an
// unquoted field is data. Records end with LF or CRLF. Every later record is one row, numbered from 1, even when quoted
// line breaks make it span several lines. Rows come back as KindString
// values (KindNull when equal to one of CSVOptions.NullValues; quoted or
// not makes no difference), or with a *RowError: ErrFieldCount,
// ErrUnterminatedQuote, ErrQuote, ErrRowTooLarge, or ErrInvalidUTF8 for a
// projected column (columns that are not projected are not checked).
//
// An empty line is a row: an ErrFieldCount row error, or a "" value when
// the header has a single column. Empty lines at the very end of the input
// are not rows (a final line break, or several, ends the input).
func newCSVReader(src *source, file string, d csvDialect, opts Options) (*csvReader, error) {
	r := &csvReader{
		source:  src,
		sc:      newCSVScanner(src.r, d, opts.MaxRowBytes),
		file:    file,
		dialect: d,
		max:     opts.MaxRowBytes,
	}
	r.sc.skipBOM()
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	index := make(map[string]int, len(r.header))
	for i, name := range r.header {
		index[name] = i
	}
	if opts.Columns == nil {
		r.proj = make([]int, len(r.header))
		for i := range r.proj {
			r.proj[i] = i
		}
		return r, nil
	}
	r.proj = make([]int, len(opts.Columns))
	var missing []string
	for i, c := range opts.Columns {
		j, ok := index[c]
		if !ok {
			missing = append(missing, c)
		}
		r.proj[i] = j
	}
	if missing != nil {
		return nil, &MissingColumnError{File: file, Columns: missing, Delimiter: delimiterHint(r.header, missing)}
	}
	return r, nil
}

func (r *csvReader) readHeader() error {
	sc := r.sc
	switch err := sc.next(); {
	case err == io.EOF:
		return ErrNoHeader
	case err != nil:
		return fmt.Errorf("read header: %w", err)
	case sc.tooLarge:
		return fmt.Errorf("header: %w: longer than %d bytes", ErrRowTooLarge, r.max)
	case sc.unterminated:
		return fmt.Errorf("header: %w", ErrUnterminatedQuote)
	case sc.quoteErr >= 0:
		return fmt.Errorf("header: column %d: %w", sc.quoteErr+1, ErrQuote)
	}
	rec, ends := r.decode(sc.rec, sc.ends)
	r.header = make([]string, len(ends))
	var he HeaderError
	var invalid []int
	start := 0
	for i, end := range ends {
		f := rec[start:end]
		if !utf8.Valid(f) {
			invalid = append(invalid, i+1)
		}
		r.header[i] = string(f)
		start = end
	}
	if invalid != nil {
		// The encoding is a setting, like the column names: the same class
		// of mistake (exit 2 on the first input).
		he.Problems = append(he.Problems, HeaderProblem{Positions: invalid, Err: ErrInvalidUTF8})
		return &he
	}
	var blank []int
	seen := make(map[string]int, len(r.header))
	for i, name := range r.header {
		if strings.TrimSpace(name) == "" {
			blank = append(blank, i+1)
			continue
		}
		if first, dup := seen[name]; dup {
			if first >= 0 {
				he.Problems = append(he.Problems, HeaderProblem{Name: name, Positions: []int{first + 1}, Err: ErrDuplicateColumn})
				seen[name] = -len(he.Problems) // remember where the problem is
			}
			p := &he.Problems[-seen[name]-1]
			p.Positions = append(p.Positions, i+1)
			continue
		}
		seen[name] = i
	}
	if blank != nil {
		he.Problems = append(he.Problems, HeaderProblem{Positions: blank, Err: ErrBlankColumn})
	}
	if he.Problems != nil {
		return &he
	}
	return nil
}

// Header returns the column names of the header, in file order. The
// caller must not modify the slice.
func (r *csvReader) Header() []string { return r.header }

// Next returns the next row; see newCSVReader for what a row is. At the
// end it returns io.EOF; a read error (a truncated archive, a disk error)
// is returned as a fatal error naming the file, after every complete row
// before it.
func (r *csvReader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	if r.held {
		if r.pendingEmpty > 0 {
			r.pendingEmpty--
			return r.emptyRow(), nil
		}
		r.held = false
		return r.convert(), nil
	}
	for {
		err := r.sc.next()
		if err == io.EOF {
			r.err = io.EOF
			return Row{}, r.err
		}
		if err != nil {
			r.err = fmt.Errorf("read %s: %w", r.file, err)
			return Row{}, r.err
		}
		if r.sc.emptyLine() {
			r.pendingEmpty++
			continue
		}
		if r.pendingEmpty > 0 {
			r.held = true
			r.pendingEmpty--
			return r.emptyRow(), nil
		}
		return r.convert(), nil
	}
}

func (r *csvReader) errRow(column string, err error) Row {
	return Row{Pos: Pos{File: r.file, Row: r.row}, Err: &RowError{Pos: Pos{File: r.file, Row: r.row}, Column: column, Err: err}}
}

func (r *csvReader) emptyRow() Row {
	r.row++
	if len(r.header) != 1 {
		return r.errRow("", fmt.Errorf("%w: empty line, expected %d", ErrFieldCount, len(r.header)))
	}
	vals := make([]Value, len(r.proj))
	for i := range vals {
		vals[i] = r.value("")
	}
	return Row{Pos: Pos{File: r.file, Row: r.row}, Values: vals}
}

func (r *csvReader) value(f string) Value {
	for _, n := range r.dialect.nulls {
		if f == n {
			return Value{}
		}
	}
	return Value{Kind: KindString, S: f}
}

func (r *csvReader) column(i int) string {
	if i >= 0 && i < len(r.header) {
		return r.header[i]
	}
	return ""
}

// convert turns the scanner's record into a row.
func (r *csvReader) convert() Row {
	r.row++
	sc := r.sc
	switch {
	case sc.unterminated:
		return r.errRow("", ErrUnterminatedQuote)
	case sc.tooLarge:
		return r.errRow("", fmt.Errorf("%w: longer than %d bytes", ErrRowTooLarge, r.max))
	case sc.quoteErr >= 0:
		return r.errRow(r.column(sc.quoteErr), ErrQuote)
	case len(sc.ends) != len(r.header):
		return r.errRow("", fmt.Errorf("%w: expected %d, got %d", ErrFieldCount, len(r.header), len(sc.ends)))
	}
	rec, ends := r.decode(sc.rec, sc.ends)
	// Fields are stored back to back, so a whole-record check is not
	// enough: "\xdc" and "\x83" are each invalid but together spell
	// U+0703. An ASCII record (the usual case) needs no per-field check.
	if r.dialect.charmap == nil && !isASCII(rec) {
		// Only a projected column can spoil the row: the others are never read.
		for _, idx := range r.proj {
			start := 0
			if idx > 0 {
				start = ends[idx-1]
			}
			f := rec[start:ends[idx]]
			if !utf8.Valid(f) {
				return r.errRow(r.header[idx], fmt.Errorf("%w at byte %d of the field (set the encoding, e.g. latin-1)", ErrInvalidUTF8, invalidAt(f)+1))
			}
		}
	}
	// One string per record; the values slice it.
	s := r.arena.string(rec)
	vals := r.arena.values(len(r.proj))
	for i, idx := range r.proj {
		start := 0
		if idx > 0 {
			start = ends[idx-1]
		}
		vals[i] = r.value(s[start:ends[idx]])
	}
	return Row{Pos: Pos{File: r.file, Row: r.row}, Values: vals}
}

// invalidAt returns the offset of the first invalid UTF-8 sequence in p.
func invalidAt(p []byte) int {
	for i := 0; i < len(p); {
		c, size := utf8.DecodeRune(p[i:])
		if c == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(p)
}

// decode re-encodes a single-byte-charset record as UTF-8 and remaps the
// field ends. UTF-8 input and pure-ASCII records come back unchanged.
func (r *csvReader) decode(rec []byte, ends []int) ([]byte, []int) {
	cm := r.dialect.charmap
	if cm == nil {
		return rec, ends
	}
	ascii := true
	for _, c := range rec {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return rec, ends
	}
	r.dec, r.decEnds = r.dec[:0], r.decEnds[:0]
	start := 0
	for _, end := range ends {
		for _, c := range rec[start:end] {
			if c < utf8.RuneSelf {
				r.dec = append(r.dec, c)
			} else {
				r.dec = utf8.AppendRune(r.dec, cm.DecodeByte(c))
			}
		}
		r.decEnds = append(r.decEnds, len(r.dec))
		start = end
	}
	return r.dec, r.decEnds
}

// rowArena hands out the Values slices and record strings of rows from
// chunks shared by many rows, so that reading a row costs two small
// allocations per chunk rather than two per row. Every row still gets its
// own Values and text, never reused or written again: a chunk is only
// appended to, and it is freed once no row refers to it.
type rowArena struct {
	vals []Value
	text []byte
}

const (
	arenaRows = 64       // rows per Values chunk
	arenaText = 32 << 10 // bytes per text chunk
)

// values returns a zeroed slice of n Values that is the caller's alone.
func (a *rowArena) values(n int) []Value {
	if n == 0 {
		return []Value{}
	}
	if n > len(a.vals) {
		if n > arenaRows {
			return make([]Value, n)
		}
		a.vals = make([]Value, n*arenaRows)
	}
	v := a.vals[:n:n]
	a.vals = a.vals[n:]
	return v
}

// string returns b as an immutable string.
func (a *rowArena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaText/4 {
		return string(b)
	}
	if len(b) > cap(a.text)-len(a.text) {
		a.text = make([]byte, 0, arenaText)
	}
	start := len(a.text)
	a.text = append(a.text, b...)
	// The bytes at start..len are never written again (the chunk only
	// grows, and a new chunk replaces it when full), so they may back a
	// string.
	return unsafe.String(&a.text[start], len(b))
}

// isASCII reports whether b holds only bytes below 0x80, eight at a time.
func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
