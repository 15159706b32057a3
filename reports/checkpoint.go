package reports

import (
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"afimport/importer"
	"afimport/readers"
)

// Checkpoint is what an earlier report says about each row: the status and
// row hash of the last line written for each (file, row). A report may hold
// several runs appended one after the other; the last line wins.
//
// It is compact: per file, one status byte and one uint64 hash per row,
// indexed by row, so a report of millions of rows costs about 9 bytes a row.
// Rows far beyond the dense range go to a small map, so a hostile row
// number cannot make it allocate gigabytes.
//
// A Checkpoint is read-only after ReadCheckpoint and safe for concurrent
// Lookup.
type Checkpoint struct {
	files    map[string]*fileRows
	rows     int
	counts   [16]int // by status code
	torn     bool
	tornLine int
}

// fileRows holds one file's rows. status[i] and hash[i] describe row i+1;
// status 0 means "no line for this row". hashBit marks a row with a hash.
type fileRows struct {
	status []uint8
	hash   []uint64
	sparse map[int64]slot
}

type slot struct {
	status uint8
	hash   uint64
}

const hashBit = 0x80

// denseSlack is how far past the dense range a row may land and still
// extend it (rows arrive nearly in order: workers finish out of order).
const denseSlack = 1 << 16

// ReadCheckpoint reads the report at path (NDJSON for .ndjson or .jsonl,
// CSV otherwise). It returns a checkpoint or an error, never both.
//
// A torn or unparsable last line (a crash mid-write) is ignored and
// reported by Torn; an unparsable line elsewhere is a *LineError
// wrapping ErrBadLine; a first line that is not ours wraps ErrNotReport.
// A missing file is an error wrapping fs.ErrNotExist; an empty file is an
// empty checkpoint.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	defer f.Close()
	return readCheckpoint(f, path, isNDJSON(path))
}

func readCheckpoint(r io.Reader, path string, ndjson bool) (*Checkpoint, error) {
	c := &Checkpoint{files: make(map[string]*fileRows)}
	var (
		lastName []byte
		last     *fileRows
	)
	res, err := scanReport(r, path, ndjson, func(e entry) {
		if last == nil || string(lastName) != string(e.file) {
			name := string(e.file)
			if last = c.files[name]; last == nil {
				last = &fileRows{}
				c.files[name] = last
			}
			lastName = append(lastName[:0], e.file...)
		}
		c.set(last, &e)
	})
	if err != nil {
		return nil, err
	}
	c.torn, c.tornLine = res.torn, res.tornLine
	return c, nil
}

func (c *Checkpoint) set(f *fileRows, e *entry) {
	code := e.status
	if e.hasHash {
		code |= hashBit
	}
	old := f.get(e.row).status
	i := e.row - 1
	inSparse := f.sparse != nil && f.sparse[e.row].status != 0
	switch {
	case inSparse:
		f.sparse[e.row] = slot{code, e.hash}
	case i < int64(len(f.status)):
		f.status[i], f.hash[i] = code, e.hash
	case i < int64(len(f.status))*2+denseSlack:
		n := int(i) + 1
		f.status = append(f.status, make([]uint8, n-len(f.status))...)
		f.hash = append(f.hash, make([]uint64, n-len(f.hash))...)
		f.status[i], f.hash[i] = code, e.hash
	default:
		if f.sparse == nil {
			f.sparse = make(map[int64]slot)
		}
		f.sparse[e.row] = slot{code, e.hash}
	}
	if old == 0 {
		c.rows++
	} else {
		c.counts[old&^hashBit]--
	}
	c.counts[e.status]++
}

// get returns row's slot; a row outside the dense range, or one that went
// to the sparse map before the dense range grew over it, is in sparse.
func (f *fileRows) get(row int64) slot {
	if i := row - 1; i >= 0 && i < int64(len(f.status)) && f.status[i] != 0 {
		return slot{f.status[i], f.hash[i]}
	}
	return f.sparse[row]
}

// Lookup returns the status and row hash of the last line for pos, and
// whether there was one. rowHash is "" when that line had none.
// StatusSkipped means the row was accepted in an earlier run: treat it as
// StatusAccepted.
func (c *Checkpoint) Lookup(pos readers.Pos) (status importer.Status, rowHash string, ok bool) {
	f := c.files[pos.File]
	if f == nil && !utf8.ValidString(pos.File) {
		// NDJSON reports hold invalid UTF-8 as U+FFFD.
		f = c.files[validUTF8PerByte(pos.File)]
	}
	if f == nil || pos.Row < 1 {
		return "", "", false
	}
	s := f.get(pos.Row)
	if s.status == 0 {
		return "", "", false
	}
	if s.status&hashBit != 0 {
		var b [16]byte
		for i := 15; i >= 0; i-- {
			b[i] = "0123456789abcdef"[s.hash&0xf]
			s.hash >>= 4
		}
		rowHash = string(b[:])
	}
	return statusOf(s.status &^ hashBit), rowHash, true
}

// Rows is the number of distinct (file, row) pairs in the report.
func (c *Checkpoint) Rows() int { return c.rows }

// Count is the number of rows whose last line has status s.
func (c *Checkpoint) Count(s importer.Status) int {
	if code := statusCode([]byte(s)); code != 0 {
		return c.counts[code]
	}
	return 0
}

// Done is the number of rows accepted in an earlier run (accepted or
// skipped): a resume skips them when their row hash still matches.
func (c *Checkpoint) Done() int {
	return c.Count(importer.StatusAccepted) + c.Count(importer.StatusSkipped)
}

// Torn reports whether a torn or unparsable last line was ignored.
func (c *Checkpoint) Torn() bool { return c.torn }

// String is the one-line resume message, e.g.
// "resuming: 120 accepted earlier, 30 to retry".
func (c *Checkpoint) String() string {
	s := fmt.Sprintf("resuming: %d accepted earlier, %d to retry", c.Done(), c.rows-c.Done())
	if c.torn {
		s += fmt.Sprintf(" (ignored a torn last line %d)", c.tornLine)
	}
	return s
}

// validUTF8PerByte replaces each invalid byte with U+FFFD, as the NDJSON
// encoder (and encoding/json) does; strings.ToValidUTF8 would replace a
// whole run of invalid bytes with one, and the names would not match.
func validUTF8PerByte(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}
