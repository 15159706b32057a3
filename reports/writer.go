package reports

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"afimport/importer"
)

// Options configures Create.
type Options struct {
	// Append continues an existing report (for --resume) instead of
	// truncating it. See Create.
	Append bool
	// FlushInterval is the longest a written line stays in memory;
	// 0 means DefaultFlushInterval.
	FlushInterval time.Duration
}

// DefaultFlushInterval bounds what a crash of the process can lose.
const DefaultFlushInterval = time.Second

// flushSize is the buffer size that triggers a flush between ticks.
const flushSize = 64 << 10

// Writer writes one report line per Result. It implements
// importer.ResultWriter.
//
// Lines are buffered and handed to the operating system when 64 KiB
// accumulate and at least every FlushInterval even when no Write comes, by
// a goroutine the Writer owns and Close stops; so a crash of the process
// loses at most about a second of lines. Sync also fsyncs, for signal
// paths; Close flushes, fsyncs and closes.
//
// A write error is sticky: every later Write, Flush, Sync and Close
// returns it. The methods are safe for concurrent use.
type Writer struct {
	path   string
	ndjson bool

	mu     sync.Mutex
	f      *os.File
	buf    []byte
	err    error // sticky write error
	closed bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var _ importer.ResultWriter = (*Writer)(nil)

// Create opens the report at path: NDJSON when the extension is .ndjson or
// .jsonl (any case), CSV otherwise.
//
// Without opts.Append the file is created or truncated. With it, an
// existing report is continued: a torn or unparsable last line (from a
// crash) is cut off first, and the CSV header is written only when the file
// is new or empty. Appending to a file whose first line is not ours (not
// the CSV header; not an NDJSON report line) fails with ErrNotReport and
// leaves the file untouched; so does a corrupt line in the middle
// (ErrBadLine), which ReadCheckpoint would reject anyway.
func Create(path string, opts Options) (*Writer, error) {
	w := &Writer{path: path, ndjson: isNDJSON(path), buf: make([]byte, 0, flushSize+4096)}
	var err error
	if opts.Append {
		err = w.openAppend()
	} else {
		w.f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err == nil && !w.ndjson {
			w.buf = append(w.buf, Header+"\n"...)
		}
	}
	if err != nil {
		if w.f != nil {
			w.f.Close()
		}
		return nil, fmt.Errorf("create report: %w", err)
	}
	interval := opts.FlushInterval
	if interval <= 0 {
		interval = DefaultFlushInterval
	}
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	go w.flushEvery(interval)
	return w, nil
}

func (w *Writer) openAppend() error {
	f, err := os.OpenFile(w.path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	w.f = f
	res, err := scanReport(f, w.path, w.ndjson, nil)
	if err != nil {
		return err
	}
	if err := f.Truncate(res.keep); err != nil {
		return err
	}
	if _, err := f.Seek(res.keep, io.SeekStart); err != nil {
		return err
	}
	if res.keep == 0 && !w.ndjson {
		w.buf = append(w.buf, Header+"\n"...)
	}
	return nil
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
	if w.ndjson {
		w.buf = appendNDJSON(w.buf, r)
	} else {
		w.buf = appendCSV(w.buf, r)
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
	if err := w.f.Sync(); err != nil {
		w.err = fmt.Errorf("sync %s: %w", w.path, err)
	}
	return w.err
}

// Close stops the flush goroutine, flushes, fsyncs and closes the file.
// It is idempotent: later calls return what the first returned.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		close(w.stop)
		<-w.done
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
