package importer

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

// stopKind is why sending stopped before the inputs ran out.
type stopKind uint8

const (
	stopNone        stopKind = iota
	stopAborted              // the API refused the token or app (401/403)
	stopUnreachable          // the endpoint gave no answer for OutageAfter
	stopFatal                // the run itself failed (the report could not be written)
)

type stopInfo struct {
	kind  stopKind
	cause string
}

// stopper is a run's one way to stop sending before the inputs run out:
// the first halt wins, and its kind and cause are what the summary and the
// rows not sent report. Its context (stopCtx) is cancelled then, and when
// the run's own context is.
type stopper struct {
	once    sync.Once
	info    atomic.Pointer[stopInfo] // set once, before cancel
	stopCtx context.Context
	cancel  context.CancelFunc
	log     *slog.Logger

	mu    sync.Mutex
	fatal error // the first error that failed the run itself
}

func (s *stopper) start(ctx context.Context, log *slog.Logger) {
	s.stopCtx, s.cancel = context.WithCancel(ctx)
	s.log = log
}

// halt stops all sending; cause is reported on the rows not sent.
func (s *stopper) halt(kind stopKind, cause string) {
	s.once.Do(func() {
		s.info.Store(&stopInfo{kind, cause})
		if kind == stopUnreachable {
			s.log.Error("stopping: " + cause)
		}
		s.cancel()
	})
}

// stopped is why sending stopped, or nil while it goes on.
func (s *stopper) stopped() *stopInfo { return s.info.Load() }

// setFatal fails the run with err (the first one is kept) and stops it.
func (s *stopper) setFatal(err error) {
	s.mu.Lock()
	if s.fatal == nil {
		s.fatal = err
	}
	s.mu.Unlock()
	s.halt(stopFatal, err.Error())
}

func (s *stopper) fatalErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatal
}
