package reports

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"afimport/importer"
	"afimport/readers"
)

// Sentinel errors callers may test with errors.Is.
var (
	// ErrNotReport: the file's first line is not that of a report of the
	// expected format (a CSV without our header, a file that is not NDJSON).
	ErrNotReport = errors.New("not an afimport report")
	// ErrBadLine: a line of a report cannot be parsed.
	ErrBadLine = errors.New("unparsable report line")
	// ErrClosed: Write, Flush or Sync after Close.
	ErrClosed = errors.New("report writer is closed")
	// ErrInvalidResult: Write was given a Result that could not be read back
	// as a checkpoint (nil, a row below 1, an unknown status, a row hash
	// that is not 16 hex digits).
	ErrInvalidResult = errors.New("invalid result")
)

// LineError is a problem at one line of a report. Line is the 1-based
// physical line where the record starts (a CSV record may span lines when
// a quoted field holds a newline).
type LineError struct {
	Path string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// isNDJSON reports whether path names an NDJSON report (.ndjson or .jsonl,
// any case); anything else is CSV.
func isNDJSON(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ndjson", ".jsonl":
		return true
	}
	return false
}

// maxRecord bounds one report record, so that a foreign file with an
// unbalanced quote cannot make the scanner hold the whole file.
const maxRecord = 1 << 20

// record is one report record as found in the file.
type record struct {
	data       []byte   // NDJSON: the line, without the terminating '\n'
	fields     [][]byte // CSV: the fields
	err        error    // CSV: why the record is malformed (readers.CSVRecord.Err)
	line       int      // 1-based physical line of its start
	off, end   int64    // byte offsets of its start and just past its '\n'
	terminated bool     // it ends in '\n' (outside quotes, for CSV)
}

// recordReader reads a report's records: CSV with the readers' CSV
// scanner (a '\n' inside a quoted field does not end a record; only a
// quote at the start of a field opens a quoted field, so one corrupt line
// cannot swallow the rest of the file), NDJSON line by line.
type recordReader struct {
	csv  *readers.CSVRecords
	br   *bufio.Reader // NDJSON
	line int
	off  int64
	buf  []byte
}

func newRecordReader(r io.Reader, csv bool) *recordReader {
	if csv {
		return &recordReader{csv: readers.NewCSVRecords(r, maxRecord), line: 1}
	}
	return &recordReader{br: bufio.NewReaderSize(r, 64<<10), line: 1}
}

// next returns the next record, or io.EOF when the input is exhausted. The
// record's data and fields are valid until the following call.
func (s *recordReader) next() (record, error) {
	if s.csv == nil {
		return s.nextLine()
	}
	r, err := s.csv.Next()
	if err != nil {
		return record{}, err
	}
	rec := record{fields: r.Fields, err: r.Err, line: s.line, off: r.Start, end: r.End, terminated: r.Terminated}
	if errors.Is(r.Err, readers.ErrRowTooLarge) {
		return rec, &LineError{Line: rec.line, Err: fmt.Errorf("%w: record longer than %d bytes", ErrBadLine, maxRecord)}
	}
	s.line += r.Lines
	return rec, nil
}

// nextLine is next for NDJSON.
func (s *recordReader) nextLine() (record, error) {
	rec := record{line: s.line, off: s.off}
	s.buf = s.buf[:0]
	for {
		chunk, err := s.br.ReadSlice('\n')
		if len(s.buf)+len(chunk) > maxRecord {
			return rec, &LineError{Line: rec.line, Err: fmt.Errorf("%w: record longer than %d bytes", ErrBadLine, maxRecord)}
		}
		s.buf = append(s.buf, chunk...)
		s.off += int64(len(chunk))
		switch {
		case err == nil: // chunk ends in '\n'
			s.line++
			rec.data, rec.end, rec.terminated = s.buf[:len(s.buf)-1], s.off, true
			return rec, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(s.buf) == 0 {
				return rec, io.EOF
			}
			rec.data, rec.end = s.buf, s.off
			return rec, nil
		default:
			return rec, err
		}
	}
}

// entry is the part of a report line a checkpoint keeps.
type entry struct {
	file    []byte // valid until the next parse
	row     int64
	status  uint8 // statusCode
	hash    uint64
	hasHash bool
	// fileID and mapping are the file_id and mapping_id columns, absent
	// (has* false) in a legacy report; mapping may also be blank.
	fileID, mapping       uint64
	hasFileID, hasMapping bool
}

// statusCode maps a status to 1 + its index in importer.Statuses; 0 is
// "unknown".
func statusCode(s []byte) uint8 {
	for i, st := range importer.Statuses {
		if string(s) == string(st) {
			return uint8(i + 1)
		}
	}
	return 0
}

func statusOf(code uint8) importer.Status { return importer.Statuses[code-1] }

// parseInt parses an optionally negative decimal integer without
// allocating. Every int64 the writer can write reads back, 19 digits
// included (row 9223372036854775807); anything beyond int64 is refused.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	// 19 digits always fit in a uint64 (10^19-1 < 2^64), so the loop
	// cannot overflow; the int64 range is checked after it.
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return int64(-n), true // -(1<<63) wraps to math.MinInt64, as it should
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

// parseHash parses a row hash: "" (none) or exactly 16 hex digits.
func parseHash(b []byte) (h uint64, has, ok bool) {
	if len(b) == 0 {
		return 0, false, true
	}
	if len(b) != 16 {
		return 0, false, false
	}
	for _, c := range b {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false, false
		}
		h = h<<4 | uint64(v)
	}
	return h, true, true
}

func validHash(s string) bool {
	_, _, ok := parseHash([]byte(s))
	return ok
}

// numFields is the number of fields of a report line; legacyFields that
// of a legacy report (without file_id and mapping_id).
const (
	numFields    = 12
	legacyFields = 10
)

// parseCSV checks the fields of a CSV report record and returns its entry.
func parseCSV(rec record, legacy bool) (entry, error) {
	if rec.err != nil {
		return entry{}, rec.err
	}
	f := rec.fields
	want := numFields
	if legacy {
		want = legacyFields
	}
	if len(f) != want {
		return entry{}, fmt.Errorf("%d fields, want %d", len(f), want)
	}
	e, err := checkFields(f[0], f[1], f[2], f[4], f[5], f[6], f[9])
	if err != nil || legacy {
		return e, err
	}
	return e, checkIDs(&e, f[10], f[11])
}

// checkIDs parses file_id (16 hex digits) and mapping_id (16 hex digits,
// or blank: unknown) into e.
func checkIDs(e *entry, fileID, mapping []byte) error {
	var ok bool
	if e.fileID, e.hasFileID, ok = parseHash(fileID); !ok || !e.hasFileID {
		return fmt.Errorf("file_id %q: not 16 hex digits", fileID)
	}
	if e.mapping, e.hasMapping, ok = parseHash(mapping); !ok {
		return fmt.Errorf("mapping_id %q: not 16 hex digits", mapping)
	}
	return nil
}

// checkFields validates the fields of one line and returns its entry.
// The checks are strict so that garbage (a half-written block) is not taken
// for a result.
func checkFields(file, row, status, httpStatus, attempts, latency, hash []byte) (entry, error) {
	e := entry{file: file}
	var ok bool
	if e.row, ok = parseInt(row); !ok || e.row < 1 {
		return entry{}, fmt.Errorf("row %q: not a positive integer", row)
	}
	if e.status = statusCode(status); e.status == 0 {
		return entry{}, fmt.Errorf("status %q: unknown", status)
	}
	if len(httpStatus) > 0 {
		if _, ok := parseInt(httpStatus); !ok {
			return entry{}, fmt.Errorf("http_status %q: not an integer", httpStatus)
		}
	}
	if _, ok := parseInt(attempts); !ok {
		return entry{}, fmt.Errorf("attempts %q: not an integer", attempts)
	}
	if _, ok := parseInt(latency); !ok {
		return entry{}, fmt.Errorf("latency_ms %q: not an integer", latency)
	}
	if e.hash, e.hasHash, ok = parseHash(hash); !ok {
		return entry{}, fmt.Errorf("row_hash %q: not 16 hex digits", hash)
	}
	return e, nil
}

// jsonLine is one NDJSON report line as read back. Pointers tell a
// missing key from a zero value.
type jsonLine struct {
	File      *string `json:"file"`
	Row       *int64  `json:"row"`
	Status    *string `json:"status"`
	HTTP      *int64  `json:"http_status"`
	Attempts  *int64  `json:"attempts"`
	LatencyMS *int64  `json:"latency_ms"`
	RowHash   string  `json:"row_hash"`
	FileID    *string `json:"file_id"`
	MappingID *string `json:"mapping_id"`
}

func parseNDJSON(rec []byte) (entry, error) {
	var l jsonLine
	if err := json.Unmarshal(rec, &l); err != nil {
		return entry{}, err
	}
	switch {
	case l.File == nil:
		return entry{}, errors.New(`missing "file"`)
	case l.Row == nil:
		return entry{}, errors.New(`missing "row"`)
	case l.Status == nil:
		return entry{}, errors.New(`missing "status"`)
	case l.Attempts == nil:
		return entry{}, errors.New(`missing "attempts"`)
	case l.LatencyMS == nil:
		return entry{}, errors.New(`missing "latency_ms"`)
	}
	if *l.Row < 1 {
		return entry{}, fmt.Errorf("row %d: not a positive integer", *l.Row)
	}
	e := entry{file: []byte(*l.File), row: *l.Row}
	if e.status = statusCode([]byte(*l.Status)); e.status == 0 {
		return entry{}, fmt.Errorf("status %q: unknown", *l.Status)
	}
	var ok bool
	if e.hash, e.hasHash, ok = parseHash([]byte(l.RowHash)); !ok {
		return entry{}, fmt.Errorf("row_hash %q: not 16 hex digits", l.RowHash)
	}
	switch {
	case l.FileID == nil && l.MappingID == nil: // legacy
	case l.FileID == nil || l.MappingID == nil:
		return entry{}, errors.New(`"file_id" and "mapping_id" go together`)
	default:
		if err := checkIDs(&e, []byte(*l.FileID), []byte(*l.MappingID)); err != nil {
			return entry{}, err
		}
	}
	return e, nil
}

// scanResult is what a walk over a report found.
type scanResult struct {
	keep     int64 // length of the prefix that holds only whole, valid lines
	torn     bool  // a torn or unparsable last line was ignored
	tornLine int   // its line number
	// lastOff is where the last valid data line starts (-1: there is
	// none); it ends at keep.
	lastOff int64
	// legacy: the report predates file_id and mapping_id.
	legacy bool
}

// scanReport walks a report and passes each valid data line to add (which
// may be nil) in file order. The rules, shared by ReadCheckpoint and
// append mode so that both see the same file:
//
//   - the first line must be ours: the CSV header, or an NDJSON report line;
//     if it is not, ErrNotReport, so a foreign file is never truncated. A
//     first line without '\n' that is a prefix of ours is a torn start.
//   - a last line without '\n', or a last line that does not parse, is torn:
//     ignored, and excluded from keep.
//   - any other line that does not parse is an ErrBadLine at its line.
func scanReport(r io.Reader, path string, ndjson bool, add func(entry)) (scanResult, error) {
	var (
		res = scanResult{lastOff: -1}
		sc  = newRecordReader(r, !ndjson)
	)
	tornAt := func(rec record) error {
		res.torn, res.tornLine, res.keep = true, rec.line, rec.off
		return nil
	}
	parse := func(rec record) (entry, error) {
		if !ndjson {
			return parseCSV(rec, res.legacy)
		}
		e, err := parseNDJSON(rec.data)
		if err == nil && e.hasFileID == res.legacy {
			err = errors.New("lines with and without file_id in one report")
		}
		return e, err
	}
	// A line that does not parse is torn if it is the last, an error
	// otherwise: the next read tells which.
	var bad *LineError
	var badAt record
	for {
		rec, err := sc.next()
		switch {
		case errors.Is(err, io.EOF) && bad != nil:
			return res, tornAt(badAt)
		case errors.Is(err, io.EOF):
			return res, nil
		case err != nil:
			var le *LineError
			if errors.As(err, &le) {
				le.Path = path
				return res, le
			}
			return res, fmt.Errorf("read %s: %w", path, err)
		case bad != nil:
			return res, bad
		case rec.off == 0:
			if err := visitFirst(rec, path, ndjson, &res, add, tornAt); err != nil {
				return res, err
			}
			continue
		case !rec.terminated: // the end of the input: the last record
			_ = tornAt(rec)
			continue
		}
		e, err := parse(rec)
		if err != nil {
			bad, badAt = &LineError{Path: path, Line: rec.line, Err: fmt.Errorf("%w: %v", ErrBadLine, err)}, rec
			continue
		}
		if add != nil {
			add(e)
		}
		res.keep, res.lastOff = rec.end, rec.off
	}
}

// visitFirst checks the first line of a report (see scanReport).
func visitFirst(rec record, path string, ndjson bool, res *scanResult, add func(entry), tornAt func(record) error) error {
	if !ndjson {
		switch {
		case rec.terminated && isHeader(rec, Header):
			res.keep = rec.end
			return nil
		case rec.terminated && isHeader(rec, legacyHeader):
			res.keep, res.legacy = rec.end, true
			return nil
		case !rec.terminated && isHeaderStart(rec):
			return tornAt(rec)
		}
		return &LineError{Path: path, Line: 1, Err: fmt.Errorf("%w: the first line is not the CSV header %q", ErrNotReport, Header)}
	}
	const start = `{"file":`
	e, err := parseNDJSON(rec.data)
	if err != nil {
		n := min(len(rec.data), len(start))
		if !rec.terminated && string(rec.data[:n]) == start[:n] {
			return tornAt(rec)
		}
		return &LineError{Path: path, Line: 1, Err: fmt.Errorf("%w: %v", ErrNotReport, err)}
	}
	if !rec.terminated {
		return tornAt(rec)
	}
	res.legacy = !e.hasFileID
	if add != nil {
		add(e)
	}
	res.keep, res.lastOff = rec.end, rec.off
	return nil
}

// isHeader reports whether a CSV record is the header h.
func isHeader(rec record, h string) bool {
	cols := strings.Split(h, ",")
	if rec.err != nil || len(rec.fields) != len(cols) {
		return false
	}
	for i, f := range rec.fields {
		if string(f) != cols[i] {
			return false
		}
	}
	return true
}

// isHeaderStart reports whether a CSV record is the start of Header cut
// short: a torn first line.
func isHeaderStart(rec record) bool {
	cols := strings.Split(Header, ",")
	n := len(rec.fields)
	if rec.err != nil || n == 0 || n > len(cols) {
		return false
	}
	for i, f := range rec.fields[:n-1] {
		if string(f) != cols[i] {
			return false
		}
	}
	return strings.HasPrefix(cols[n-1], string(rec.fields[n-1]))
}
