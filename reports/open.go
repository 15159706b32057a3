package reports

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"afimport/mappings"
)

// Mode says what Open does with a report that exists already.
type Mode int

const (
	// New refuses an existing report (ErrExists).
	New Mode = iota
	// Resume continues an existing report (--resume): it reads it back as
	// a Checkpoint, refuses one written under another mapping
	// (*MappingError) unless MappingChanged, cuts off a torn last line and
	// appends. A report that does not exist yet is created.
	Resume
	// Overwrite truncates an existing report (--overwrite, a dry run).
	Overwrite
)

// OpenOptions configure Open.
type OpenOptions struct {
	Mode Mode
	// MappingName is the mapping as the user named it, for messages.
	MappingName string
	// MappingChanged resumes a report written under another mapping (a
	// deliberate fix): rows it shows accepted stay settled, and the new
	// lines carry the new mapping id. The changed-input check is off for
	// that run: the row hash covers the columns the mapping reads.
	MappingChanged bool
	// Options.Append is ignored: Mode says it.
	Options
}

// Sentinel errors of Open, wrapped in messages that name the report and
// say what to do.
var (
	// ErrExists: mode New, and the report exists.
	ErrExists = errors.New("already exists")
	// ErrOldReport: a resume of a report written before file_id and
	// mapping_id: it cannot say which mapping its rows were sent under.
	ErrOldReport = errors.New("was written by an earlier afimport, without the file_id and mapping_id columns")
)

// errBusy: another open file holds the report's lock.
var errBusy = errors.New("report is locked")

// LockedError means another process holds the report's lock: another
// afimport is writing it. Nothing was sent.
type LockedError struct {
	Path string
	PID  int // 0 when unknown
}

func (e *LockedError) Error() string {
	who := "another afimport"
	if e.PID > 0 {
		who += " (pid " + strconv.Itoa(e.PID) + ")"
	}
	return fmt.Sprintf("report %s is in use by %s: two runs on one report would send rows twice, so nothing was sent; wait for that run to end (it releases the report when it exits, even when killed)", e.Path, who)
}

// MappingError means a resume found a report written under another mapping
// than the one given. Nothing was sent.
type MappingError struct {
	Path, Mapping string
	// AppOnly: the mappings differ in their app id alone.
	AppOnly bool
}

func (e *MappingError) Error() string {
	what := "under another mapping than " + e.Mapping
	if e.AppOnly {
		what = "for another app than the one in " + e.Mapping + " (only the app id differs)"
	}
	return fmt.Sprintf("report %s was written %s, so its rows say nothing about what this mapping would send: "+
		"to send the same input with this mapping, name its own report with --report FILE; to start over, --overwrite; "+
		"to resume after a deliberate fix of the mapping, add --mapping-changed (rows the report shows accepted stay settled, the rest are sent under the new mapping)",
		e.Path, what)
}

// Open opens the report at path for a run and returns its Writer, and when
// resuming an existing report, what it holds. It is the one place that
// decides what happens to an existing report, in this order:
//
//  1. open (creating it if missing) and take an exclusive flock on the
//     report, without waiting: another process holding it is a
//     *LockedError naming its pid when known. The Writer keeps the lock
//     until Close; the kernel drops it when the process dies.
//  2. by Mode: New refuses an existing report (ErrExists); Overwrite
//     truncates it; Resume reads it back (refusing a legacy report,
//     ErrOldReport, and one written under another mapping, *MappingError,
//     unless MappingChanged) and cuts off a torn last line.
//  3. write the CSV header of a new report, or on resume a probe (its last
//     line, or header, written over itself: a real write that changes
//     nothing), fsync, and reserve disk for the first 64 KiB of lines
//     (Linux), so a report that cannot be written fails here, before
//     anything is sent.
//
// The file is opened with O_APPEND: every write lands at its end. A report
// Open created is removed again when Open fails. Writes must not be
// shared with other programs while the Writer is open.
func Open(path string, o OpenOptions) (w *Writer, cp *Checkpoint, err error) {
	if o.MappingID != "" {
		if _, ok := parseID(o.MappingID); !ok {
			return nil, nil, fmt.Errorf("report %s: mapping id %q is not 16 hex digits", path, o.MappingID)
		}
	}
	f, created, err := openFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("report %s: %w", path, unwrapPath(err))
	}
	defer func() {
		if err != nil {
			if created {
				os.Remove(path)
			}
			f.Close()
		}
	}()
	if err := lockFile(f); err != nil {
		if errors.Is(err, errBusy) {
			return nil, nil, &LockedError{Path: path, PID: lockHolder(f)}
		}
		return nil, nil, fmt.Errorf("lock report %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("report %s: %w", path, err)
	}
	w = newWriter(f, path, fi.Mode().IsRegular(), o.Options)
	switch {
	case created:
		w.startFresh()
	case o.Mode == New:
		return nil, nil, fmt.Errorf("report %s %w: add --resume to continue that run (rows it shows accepted are skipped), or --overwrite to start over", path, ErrExists)
	case o.Mode == Overwrite:
		if w.regular {
			if err := f.Truncate(0); err != nil {
				return nil, nil, fmt.Errorf("report %s: %w", path, err)
			}
		}
		w.startFresh()
	default:
		if cp, err = w.resume(o); err != nil {
			return nil, nil, err
		}
	}
	if err := w.syncLocked(); err != nil {
		return nil, nil, err
	}
	if w.regular {
		if err := reserve(f, flushSize); err != nil {
			return nil, nil, fmt.Errorf("report %s: no room for its lines: %w", path, err)
		}
	}
	w.start(o.FlushInterval)
	return w, cp, nil
}

// openFile opens path for reading and appending, creating it when missing.
func openFile(path string) (f *os.File, created bool, err error) {
	for range 3 {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
		if !errors.Is(err, fs.ErrNotExist) {
			return f, false, err
		}
		f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err == nil, err
		}
		// Created by someone else meanwhile: open theirs.
	}
	return nil, false, err
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// startFresh queues the header of an empty report.
func (w *Writer) startFresh() {
	if !w.ndjson {
		w.buf = append(w.buf, Header+"\n"...)
	}
}

// resume reads the report back, checks it may be continued, cuts off a
// torn last line and queues the probe.
func (w *Writer) resume(o OpenOptions) (*Checkpoint, error) {
	cp, res, err := readCheckpoint(w.f, w.path, w.ndjson, o.FileID)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	if res.legacy {
		return nil, fmt.Errorf("report %s %w: a resume could not tell which mapping its rows were sent under; start over with --overwrite, or name a new report with --report FILE", w.path, ErrOldReport)
	}
	if was := hex16(cp.mapping); cp.hasMapping && o.MappingID != "" && was != o.MappingID {
		if !o.MappingChanged {
			return nil, &MappingError{Path: w.path, Mapping: o.MappingName, AppOnly: mappings.FingerprintAppOnly(was, o.MappingID)}
		}
		// The row hash covers the columns the mapping reads, which the
		// fix may have changed: trust the statuses instead.
		cp.trustStatus = true
	}
	if !w.regular {
		return cp, nil
	}
	if err := w.f.Truncate(res.keep); err != nil {
		return nil, fmt.Errorf("report %s: %w", w.path, err)
	}
	if res.keep == 0 {
		w.startFresh()
		return cp, nil
	}
	if err := w.probe(max(res.lastOff, 0), res.keep); err != nil {
		return nil, fmt.Errorf("report %s: probe write: %w", w.path, err)
	}
	return cp, nil
}

// probe writes the bytes [from, to) of the report (its last line, or its
// header) over themselves and fsyncs: a real write that changes nothing,
// even if the process dies halfway, to prove the report can be written
// before anything is sent. It goes through a second descriptor without
// O_APPEND (which would append); the lock stays with the first.
func (w *Writer) probe(from, to int64) error {
	b := make([]byte, to-from)
	if _, err := w.f.ReadAt(b, from); err != nil {
		return err
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	a, err1 := f.Stat()
	b2, err2 := w.f.Stat()
	if err1 != nil || err2 != nil || !os.SameFile(a, b2) {
		return errors.New("the report was replaced while opening it")
	}
	if _, err := f.WriteAt(b, from); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// hex16 is fmt.Sprintf("%016x", h).
func hex16(h uint64) string {
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = "0123456789abcdef"[h&0xf]
		h >>= 4
	}
	return string(b[:])
}
