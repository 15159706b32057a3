package reports

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"afimport/importer"
)

// Options configures Create.
type Options struct {
	// Append continues an existing report instead of truncating it, under
	// any mapping. See Create.
	Append bool
	// FlushInterval is the longest a written line stays in memory;
	// 0 means DefaultFlushInterval.
	FlushInterval time.Duration
	// MappingID is the fingerprint of the mapping (mappings.Fingerprint),
	// written on every line as mapping_id: 16 hex digits, or "" for none.
	MappingID string
	// FileID names each input file in the file_id column; nil means
	// FileID. It must return 16 hex digits.
	FileID func(name string) string
}

// DefaultFlushInterval bounds what a crash of the process can lose.
const DefaultFlushInterval = time.Second

// flushSize is the buffer size that triggers a flush between ticks.
const flushSize = 64 << 10

// Writer writes one report line per Result. It implements
// importer.ResultWriter.
//
// It holds an exclusive lock on the report until Close (see Open). Lines
// are buffered and handed to the operating system when 64 KiB accumulate
// and at least every FlushInterval even when no Write comes, by a goroutine
// the Writer owns and Close stops; so a crash of the process loses at most
// about a second of lines. Sync also fsyncs, for signal paths; Close
// flushes, fsyncs, closes and so releases the lock.
//
// A write error is sticky: every later Write, Flush, Sync and Close
// returns it. The methods are safe for concurrent use.
type Writer struct {
	path    string
	ndjson  bool
	regular bool // a regular file: truncated and fsynced (not a device or pipe)

	mu        sync.Mutex
	f         *os.File
	buf       []byte
	err       error // sticky write error
	closed    bool
	mappingID string
	ids       func(string) string
	lastName  string // the file of the last line, and its id
	lastID    string

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var _ importer.ResultWriter = (*Writer)(nil)

// Create opens the report at path for writing, with the lock Open takes:
// NDJSON when the extension is .ndjson or .jsonl (any case), CSV otherwise.
// It is Open without the policy: without opts.Append the report is created
// or truncated; with it, an existing report is continued whatever mapping
// wrote it (Open, mode Resume, with MappingChanged).
func Create(path string, opts Options) (*Writer, error) {
	mode := Overwrite
	if opts.Append {
		mode = Resume
	}
	w, _, err := Open(path, OpenOptions{Mode: mode, MappingChanged: true, Options: opts})
	return w, err
}

func newWriter(f *os.File, path string, regular bool, opts Options) *Writer {
	ids := opts.FileID
	if ids == nil {
		ids = FileID
	}
	return &Writer{path: path, ndjson: isNDJSON(path), regular: regular, f: f,
		buf: make([]byte, 0, flushSize+4096), mappingID: opts.MappingID, ids: ids}
}

// start starts the flush goroutine.
func (w *Writer) start(interval time.Duration) {
	if interval <= 0 {
		interval = DefaultFlushInterval
	}
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	go w.flushEvery(interval)
}

func (w *Writer) flushEvery(interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.mu.Lock()
			if !w.closed {
				w.flushLocked()
			}
			w.mu.Unlock()
		}
	}
}

// Write appends one line for r. It returns ErrInvalidResult (wrapped) for a
// Result that could not be read back as a checkpoint, and ErrClosed after
// Close.
func (w *Writer) Write(r *importer.Result) error {
	if err := checkResult(r); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("write %s: %w", w.path, ErrClosed)
	}
	if w.err != nil {
		return w.err
	}
	if r.Pos.File != w.lastName || w.lastID == "" {
		id := w.ids(r.Pos.File)
		if _, ok := parseID(id); !ok {
			return fmt.Errorf("write %s: %s: %w: file id %q is not 16 hex digits", w.path, r.Pos, ErrInvalidResult, id)
		}
		w.lastName, w.lastID = r.Pos.File, id
	}
	if w.ndjson {
		w.buf = appendNDJSON(w.buf, r, w.lastID, w.mappingID)
	} else {
		w.buf = appendCSV(w.buf, r, w.lastID, w.mappingID)
	}
	if len(w.buf) >= flushSize {
		return w.flushLocked()
	}
	return nil
}

func checkResult(r *importer.Result) error {
	switch {
	case r == nil:
		return fmt.Errorf("%w: nil", ErrInvalidResult)
	case r.Pos.Row < 1:
		return fmt.Errorf("%s: %w: row below 1", r.Pos, ErrInvalidResult)
	case statusCode([]byte(r.Status)) == 0:
		return fmt.Errorf("%s: %w: unknown status %q", r.Pos, ErrInvalidResult, r.Status)
	case !validHash(r.RowHash):
		return fmt.Errorf("%s: %w: row hash %q is not 16 hex digits", r.Pos, ErrInvalidResult, r.RowHash)
	}
	return nil
}

// flushLocked hands the buffer to the operating system. A failed write may
// leave a torn last line, which readers tolerate; the error is sticky.
func (w *Writer) flushLocked() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	_, err := w.f.Write(w.buf)
	w.buf = w.buf[:0]
	if err != nil {
		w.err = fmt.Errorf("write %s: %w", w.path, err)
	}
	return w.err
}

// Flush hands buffered lines to the operating system.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("flush %s: %w", w.path, ErrClosed)
	}
	return w.flushLocked()
}

// Sync flushes and fsyncs, so the lines survive a power loss. Call it on
// the signal path before exiting.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("sync %s: %w", w.path, ErrClosed)
	}
	return w.syncLocked()
}

func (w *Writer) syncLocked() error {
	if err := w.flushLocked(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil && (w.regular || !errors.Is(err, syscall.EINVAL)) {
		// A device or a pipe may not support fsync; a write error on it
		// has shown already.
		w.err = fmt.Errorf("sync %s: %w", w.path, err)
	}
	return w.err
}

// Close stops the flush goroutine, flushes, fsyncs and closes the file.
// It is idempotent: later calls return what the first returned.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		if w.stop != nil {
			close(w.stop)
			<-w.done
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.closed = true
		err := w.syncLocked()
		if cerr := w.f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", w.path, cerr)
		}
		w.closeErr = err
	})
	return w.closeErr
}
