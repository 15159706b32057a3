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
// Rows are matched by file id (the file_id column, see FileID) and row
// number, so a resume finds its rows however the input is spelled. A legacy
// report (without file_id) is matched by the file name as written.
//
// It is compact: per file, one status byte and one uint64 hash per row,
// indexed by row, so a report of millions of rows costs about 9 bytes a row.
// Rows far beyond the dense range go to a small map, so a hostile row
// number cannot make it allocate gigabytes.
//
// A Checkpoint is read-only after ReadCheckpoint and safe for concurrent
// Lookup.
type Checkpoint struct {
	byID     map[uint64]*fileRows
	byName   map[string]*fileRows // legacy lines
	ids      *idCache
	rows     int
	counts   [16]int // by status code
	torn     bool
	tornLine int
	legacy   bool

	// mapping is the mapping_id of the last line (hasMapping false when
	// there is no line, or it has none).
	mapping    uint64
	hasMapping bool
	// trustStatus: Lookup returns no row hash, so the importer does not
	// compare it (a resume under a deliberately changed mapping).
	trustStatus bool
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
// CSV otherwise). It returns a checkpoint or an error, never both. It takes
// no lock: Open is what a run uses.
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
	c, _, err := readCheckpoint(f, path, isNDJSON(path), nil)
	return c, err
}

// readCheckpoint reads a report; ids names the files for Lookup (nil:
// FileID).
func readCheckpoint(r io.Reader, path string, ndjson bool, ids func(string) string) (*Checkpoint, scanResult, error) {
	c := &Checkpoint{byID: make(map[uint64]*fileRows), ids: newIDCache(ids)}
	var (
		lastName []byte
		lastID   uint64
		last     *fileRows
	)
	res, err := scanReport(r, path, ndjson, func(e entry) {
		switch {
		case e.hasFileID:
			if last == nil || lastID != e.fileID {
				if last = c.byID[e.fileID]; last == nil {
					last = &fileRows{}
					c.byID[e.fileID] = last
				}
				lastID = e.fileID
			}
		case last == nil || string(lastName) != string(e.file):
			name := string(e.file)
			if c.byName == nil {
				c.byName = make(map[string]*fileRows)
			}
			if last = c.byName[name]; last == nil {
				last = &fileRows{}
				c.byName[name] = last
			}
			lastName = append(lastName[:0], e.file...)
		}
		c.set(last, &e)
		c.mapping, c.hasMapping = e.mapping, e.hasMapping
	})
	if err != nil {
		return nil, res, err
	}
	c.torn, c.tornLine, c.legacy = res.torn, res.tornLine, res.legacy
	return c, res, nil
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
// whether there is a line that vouches for the row. A line without a row
// hash cannot tell whether the input changed since: Lookup treats the row
// as having no line (not settled), so it is processed again. Under a
// deliberately changed mapping (OpenOptions.MappingChanged) rowHash is "":
// the statuses are trusted.
// StatusSkipped means the row was accepted in an earlier run: treat it as
// StatusAccepted.
func (c *Checkpoint) Lookup(pos readers.Pos) (status importer.Status, rowHash string, ok bool) {
	if pos.Row < 1 {
		return "", "", false
	}
	f := c.files(pos.File)
	if f == nil {
		return "", "", false
	}
	s := f.get(pos.Row)
	if s.status&hashBit == 0 {
		return "", "", false
	}
	if c.trustStatus {
		return statusOf(s.status &^ hashBit), "", true
	}
	return statusOf(s.status &^ hashBit), hex16(s.hash), true
}

// files returns the rows of the file named name, or nil.
func (c *Checkpoint) files(name string) *fileRows {
	if len(c.byID) > 0 {
		if id, ok := parseID(c.ids.id(name)); ok {
			if f := c.byID[id]; f != nil {
				return f
			}
		}
	}
	if c.byName == nil {
		return nil
	}
	if f := c.byName[name]; f != nil || utf8.ValidString(name) {
		return f
	}
	// NDJSON reports hold invalid UTF-8 as U+FFFD.
	return c.byName[validUTF8PerByte(name)]
}

func parseID(s string) (uint64, bool) {
	h, has, ok := parseHash([]byte(s))
	return h, has && ok
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
// skipped): a resume skips them when their row hash still matches (a line
// without a row hash counts here, but is processed again).
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
