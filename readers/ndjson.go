package readers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Sentinel NDJSON row errors callers may test with errors.Is.
var (
	// ErrJSONSyntax is a line that is not valid JSON; the message gives the
	// byte offset within the line.
	ErrJSONSyntax = errors.New("invalid JSON")
	// ErrDuplicateKey is an object that names a projected key twice.
	ErrDuplicateKey = errors.New("duplicate key")
)

// headerLookahead bounds how many non-blank lines Open reads looking for
// the first object whose keys become Header().
const headerLookahead = 1024

// lineScanner splits a byte stream into lines, keeping at most max bytes
// of one line: a longer line is skipped to its end and flagged tooLarge.
type lineScanner struct {
	readBuf
	max      int
	acc      []byte // a line that crosses a buffer boundary
	line     []byte // the current line; may alias buf until the next call
	lineNo   int64
	tooLarge bool
	blank    bool // only JSON whitespace so far (an over-long blank line is still blank)
}

// next reads the next line. A whitespace-only line longer than the limit
// is reported as the blank line it is, not as a row that is too large.
func (s *lineScanner) next() error {
	err := s.scan()
	if err == nil && s.tooLarge && s.blank {
		s.tooLarge, s.line = false, nil
	}
	return err
}

func (s *lineScanner) scan() error {
	s.acc, s.line, s.tooLarge, s.blank = s.acc[:0], nil, false, true
	raw, started := 0, false
	for {
		if s.r >= s.w {
			if err := s.fill(); err != nil {
				if err != io.EOF || !started {
					return err
				}
				s.lineNo++
				s.line = s.acc
				return nil
			}
		}
		started = true
		b := s.buf[s.r:s.w]
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if s.blank {
				s.blank = blankLine(b)
			}
			raw += len(b)
			if raw > s.max {
				s.tooLarge = true
			} else {
				s.acc = append(s.acc, b...)
			}
			s.r = s.w
			continue
		}
		if s.blank {
			s.blank = blankLine(b[:i])
		}
		raw += i
		s.r += i + 1
		s.lineNo++
		switch {
		case raw > s.max:
			s.tooLarge = true
		case len(s.acc) == 0:
			s.line = b[:i]
		default:
			s.acc = append(s.acc, b[:i]...)
			s.line = s.acc
		}
		return nil
	}
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func blankLine(p []byte) bool {
	for _, c := range p {
		if !isJSONSpace(c) {
			return false
		}
	}
	return true
}

// ndjsonReader reads newline-delimited JSON objects. See newNDJSONReader.
type ndjsonReader struct {
	*source
	ls     *lineScanner
	file   string
	max    int
	header []string

	cols    []string       // projected keys
	index   map[string]int // projected key -> first slot
	aliases [][2]int       // {dst, src} slots for a key projected twice
	seen    []bool
	hintKey []string // key at each position of the previous object, to skip the map
	hintSlt []int

	pending []Row // error rows read while looking for the header
	held    bool  // ls holds the header line, not yet returned
	err     error // sticky
	compact bytes.Buffer
	arena   rowArena
}

var (
	_ Reader     = (*ndjsonReader)(nil)
	_ Progresser = (*ndjsonReader)(nil)
)

// newNDJSONReader returns a reader of one JSON object per line.
//
// Row numbers are physical line numbers (1-based), so a report points at
// the line in an editor. Lines holding only whitespace are not rows (their
// numbers are skipped). Values: a string is KindString, a number is
// KindNumber with its text exactly as written (never through float64),
// true/false is KindBool, null or an absent key is KindNull, an object or
// array is KindJSON as compact JSON text. Keys that are not projected are
// validated but not materialized.
//
// Row errors: ErrJSONSyntax (with the byte offset in the line),
// ErrNotObject, ErrInvalidUTF8 (Column set when inside a key's value),
// ErrRowTooLarge, and ErrDuplicateKey when an object names a projected
// key twice: a duplicate is an error, not "last wins", because two values
// for one field mean the export is wrong and guessing would send the wrong
// one. Duplicate keys that are not projected are not checked.
//
// Header() is the keys of the first object in the input (within the first
// 1024 non-blank lines), in order; with Options.Columns nil that is the
// projection, and keys that appear only in later objects are ignored.
// A projected key missing from an object is KindNull, never an error.
func newNDJSONReader(src *source, file string, opts Options) (*ndjsonReader, error) {
	r := &ndjsonReader{
		source: src,
		ls:     &lineScanner{readBuf: newReadBuf(src.r), max: opts.MaxRowBytes},
		file:   file,
		max:    opts.MaxRowBytes,
	}
	r.ls.skipBOM()
	r.findHeader()
	r.cols = opts.Columns
	if r.cols == nil {
		r.cols = r.header
	}
	r.index = make(map[string]int, len(r.cols))
	for i, c := range r.cols {
		if j, dup := r.index[c]; dup {
			r.aliases = append(r.aliases, [2]int{i, j})
			continue
		}
		r.index[c] = i
	}
	r.seen = make([]bool, len(r.cols))
	return r, nil
}

// findHeader reads lines up to the first object and takes its keys. Lines
// before it are error rows (they are not objects) and are queued; a read
// error is kept for Next to return after them.
func (r *ndjsonReader) findHeader() {
	for n := 0; n < headerLookahead; {
		if err := r.ls.next(); err != nil {
			r.setErr(err)
			return
		}
		line := r.ls.line
		if !r.ls.tooLarge && blankLine(line) {
			continue
		}
		n++
		pos := Pos{File: r.file, Row: r.ls.lineNo}
		if r.ls.tooLarge {
			r.pending = append(r.pending, r.errRow(pos, "", r.tooLargeErr()))
			continue
		}
		p := objParser{s: string(line), r: r}
		keys, col, err := p.collectKeys()
		if err != nil {
			r.pending = append(r.pending, r.errRow(pos, col, err))
			continue
		}
		r.header = keys
		r.held = true
		return
	}
}

func (r *ndjsonReader) setErr(err error) {
	if err == io.EOF {
		r.err = io.EOF
	} else {
		r.err = fmt.Errorf("read %s: %w", r.file, err)
	}
}

func (r *ndjsonReader) tooLargeErr() error {
	return fmt.Errorf("%w: longer than %d bytes", ErrRowTooLarge, r.max)
}

func (r *ndjsonReader) errRow(pos Pos, column string, err error) Row {
	return Row{Pos: pos, Err: &RowError{Pos: pos, Column: column, Err: err}}
}

// Header returns the keys of the first object. The caller must not modify
// the slice.
func (r *ndjsonReader) Header() []string { return r.header }

// Next returns the next row; see newNDJSONReader. At the end it returns
// io.EOF; a read error is fatal and names the file.
func (r *ndjsonReader) Next() (Row, error) {
	if len(r.pending) > 0 {
		row := r.pending[0]
		r.pending = r.pending[1:]
		return row, nil
	}
	if r.held {
		r.held = false
		return r.convert(), nil
	}
	if r.err != nil {
		return Row{}, r.err
	}
	for {
		if err := r.ls.next(); err != nil {
			r.setErr(err)
			return Row{}, r.err
		}
		if r.ls.tooLarge || !blankLine(r.ls.line) {
			return r.convert(), nil
		}
	}
}

// convert parses the scanner's current line into a row.
func (r *ndjsonReader) convert() Row {
	pos := Pos{File: r.file, Row: r.ls.lineNo}
	if r.ls.tooLarge {
		return r.errRow(pos, "", r.tooLargeErr())
	}
	vals := r.arena.values(len(r.cols))
	clear(r.seen)
	p := objParser{s: r.arena.string(r.ls.line), r: r, vals: vals}
	if col, err := p.object(); err != nil {
		return r.errRow(pos, col, err)
	}
	for _, a := range r.aliases {
		vals[a[0]] = vals[a[1]]
	}
	return Row{Pos: pos, Values: vals}
}

// slot returns the projection slot of the key at position k of an object,
// or -1. Objects of one export usually list their keys in the same order,
// so the previous object's layout is tried before the map.
func (r *ndjsonReader) slot(key string, k int) int {
	if k < len(r.hintKey) && r.hintKey[k] == key {
		return r.hintSlt[k]
	}
	slot, ok := r.index[key]
	if !ok {
		slot = -1
	}
	switch {
	case k < len(r.hintKey):
		r.hintKey[k], r.hintSlt[k] = key, slot
	case k == len(r.hintKey) && k < 256:
		r.hintKey, r.hintSlt = append(r.hintKey, key), append(r.hintSlt, slot)
	}
	return slot
}

// objParser walks one line holding a JSON object. It materializes only
// the values of projected keys (vals non-nil) or collects the keys
// (keys mode). Errors carry the byte offset in the line.
type objParser struct {
	s    string
	i    int
	r    *ndjsonReader
	vals []Value
	keys []string
	want bool // collect keys
}

func (p *objParser) syntax(msg string) error {
	return fmt.Errorf("%w at byte offset %d: %s", ErrJSONSyntax, p.i, msg)
}

func (p *objParser) ws() {
	for p.i < len(p.s) && isJSONSpace(p.s[p.i]) {
		p.i++
	}
}

// collectKeys parses the object and returns its distinct keys in order.
func (p *objParser) collectKeys() ([]string, string, error) {
	p.want = true
	col, err := p.object()
	return p.keys, col, err
}

// object parses the whole line. It returns the key being read when the
// error happened, if any, for RowError.Column. A duplicate projected key
// is reported only once the rest of the line has parsed: a line that is
// not valid JSON is a syntax error, whatever it repeats before breaking.
func (p *objParser) object() (string, error) {
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return "", p.notObject()
	}
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return "", p.end()
	}
	var seenKeys map[string]bool
	dup, hasDup := "", false
	done := func() (string, error) {
		if err := p.end(); err != nil {
			return "", err
		}
		if hasDup {
			return dup, ErrDuplicateKey
		}
		return "", nil
	}
	for k := 0; ; k++ {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return "", p.syntax("expected a key in double quotes")
		}
		key, err := p.str()
		if err != nil {
			return "", err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return key, p.syntax("expected ':' after the key")
		}
		p.i++
		p.ws()
		if p.want {
			if seenKeys == nil {
				seenKeys = make(map[string]bool)
			}
			if !seenKeys[key] {
				seenKeys[key] = true
				p.keys = append(p.keys, key)
			}
			if err := p.value(nil); err != nil {
				return key, err
			}
		} else if slot := p.r.slot(key, k); slot >= 0 && !p.r.seen[slot] {
			p.r.seen[slot] = true
			if err := p.value(&p.vals[slot]); err != nil {
				return key, err
			}
		} else if slot >= 0 {
			if !hasDup {
				dup, hasDup = key, true
			}
			if err := p.value(nil); err != nil {
				return key, err
			}
		} else if err := p.value(nil); err != nil {
			return key, err
		}
		p.ws()
		if p.i >= len(p.s) {
			return "", p.syntax("unexpected end of line in object")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.ws()
		case '}':
			p.i++
			return done()
		default:
			return "", p.syntax("expected ',' or '}' after a value")
		}
	}
}

func (p *objParser) end() error {
	p.ws()
	if p.i < len(p.s) {
		return p.syntax("unexpected data after the object")
	}
	return nil
}

// notObject tells a valid JSON value of another type from broken JSON.
func (p *objParser) notObject() error {
	if !utf8.ValidString(p.s) {
		return ErrInvalidUTF8
	}
	if json.Valid([]byte(p.s)) {
		what := "a value"
		switch p.s[p.i] {
		case '[':
			what = "an array"
		case '"':
			what = "a string"
		case 't', 'f':
			what = "a boolean"
		case 'n':
			what = "null"
		default:
			what = "a number"
		}
		return fmt.Errorf("%w: got %s", ErrNotObject, what)
	}
	return p.syntax("expected '{'")
}

// value parses one value at p.i; when dst is non-nil it stores it.
func (p *objParser) value(dst *Value) error {
	if p.i >= len(p.s) {
		return p.syntax("expected a value")
	}
	start := p.i
	switch c := p.s[p.i]; {
	case c == '"':
		v, err := p.str()
		if err != nil {
			return err
		}
		if dst != nil {
			*dst = Value{Kind: KindString, S: v}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		if err := p.number(); err != nil {
			return err
		}
		if dst != nil {
			*dst = Value{Kind: KindNumber, S: p.s[start:p.i]}
		}
	case c == 't':
		if err := p.literal("true"); err != nil {
			return err
		}
		if dst != nil {
			*dst = Value{Kind: KindBool, B: true}
		}
	case c == 'f':
		if err := p.literal("false"); err != nil {
			return err
		}
		if dst != nil {
			*dst = Value{Kind: KindBool}
		}
	case c == 'n':
		if err := p.literal("null"); err != nil {
			return err
		}
		if dst != nil {
			*dst = Value{}
		}
	case c == '{' || c == '[':
		return p.nested(dst)
	default:
		return p.syntax(fmt.Sprintf("unexpected %q", c))
	}
	return nil
}

func (p *objParser) literal(lit string) error {
	if len(p.s)-p.i < len(lit) || p.s[p.i:p.i+len(lit)] != lit {
		return p.syntax("invalid literal, want " + lit)
	}
	p.i += len(lit)
	return nil
}

// number checks the JSON number grammar; the text is kept as written.
func (p *objParser) number() error {
	s, i := p.s, p.i
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		p.i = i
		return p.syntax("invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			p.i = i
			return p.syntax("invalid number: digits expected after '.'")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			p.i = i
			return p.syntax("invalid number: digits expected in the exponent")
		}
	}
	p.i = i
	return nil
}

// str parses a string at p.i (on the opening quote) and returns its
// decoded value: a substring of the line when it has no escapes.
func (p *objParser) str() (string, error) {
	s := p.s
	i := p.i + 1
	start := i
	for {
		if i >= len(s) {
			p.i = i
			return "", p.syntax("unterminated string")
		}
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			return s[start:i], nil
		case c == '\\':
			p.i = start
			return p.unescape()
		case c < 0x20:
			p.i = i
			return "", p.syntax("control character in string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				p.i = i
				return "", fmt.Errorf("%w at byte offset %d", ErrInvalidUTF8, i)
			}
			i += size
		default:
			i++
		}
	}
}

// unescape decodes a string with escapes, p.i at its first content byte.
func (p *objParser) unescape() (string, error) {
	s := p.s
	var b []byte
	for i := p.i; ; {
		if i >= len(s) {
			p.i = i
			return "", p.syntax("unterminated string")
		}
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			return string(b), nil
		case c < 0x20:
			p.i = i
			return "", p.syntax("control character in string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				p.i = i
				return "", fmt.Errorf("%w at byte offset %d", ErrInvalidUTF8, i)
			}
			b = append(b, s[i:i+size]...)
			i += size
		case c != '\\':
			b = append(b, c)
			i++
		default:
			if i+1 >= len(s) {
				p.i = i
				return "", p.syntax("unterminated string")
			}
			e := s[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(s, i)
				if !ok {
					p.i = i
					return "", p.syntax(`invalid \u escape`)
				}
				i += 4
				if utf16.IsSurrogate(r) {
					// A lone surrogate becomes U+FFFD, as encoding/json does.
					if r2, ok := hex4(s, i+2); ok && s[i] == '\\' && s[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							r = dec
							i += 6
						} else {
							r = utf8.RuneError
						}
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				p.i = i - 1
				return "", p.syntax(fmt.Sprintf(`invalid escape \%c`, e))
			}
		}
	}
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s[i:i+4], 16, 16)
	return rune(n), err == nil
}

// nested finds the end of an object or array by bracket depth (strings
// skipped with str, which also checks their UTF-8), then lets
// encoding/json validate it and compact it. It is iterative, so a line of
// a million '[' cannot blow the stack.
func (p *objParser) nested(dst *Value) error {
	start := p.i
	depth := 0
	for {
		if p.i >= len(p.s) {
			return p.syntax("unexpected end of line in a nested value")
		}
		switch c := p.s[p.i]; c {
		case '"':
			if _, err := p.str(); err != nil {
				return err
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
		p.i++
		if depth == 0 {
			break
		}
	}
	raw := p.s[start:p.i]
	if dst == nil {
		if json.Valid([]byte(raw)) {
			return nil
		}
	}
	c := &p.r.compact
	c.Reset()
	if err := json.Compact(c, []byte(raw)); err != nil {
		// Compact leaves SyntaxError.Offset at 0; Unmarshal fills it in.
		var m json.RawMessage
		err = json.Unmarshal([]byte(raw), &m)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			p.i = start + int(se.Offset)
			if p.i > start {
				p.i-- // Offset counts the bad byte
			}
			return p.syntax("in a nested value: " + se.Error())
		}
		return p.syntax("invalid nested value")
	}
	if dst != nil {
		if c.Len() == len(raw) {
			*dst = Value{Kind: KindJSON, S: raw}
		} else {
			*dst = Value{Kind: KindJSON, S: c.String()}
		}
	}
	return nil
}
