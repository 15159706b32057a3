package importer

import "sync"

// tally counts jobs handed to the workers that are not final yet (sending,
// or parked for a retry). After close, zero is closed as soon as the count
// is zero: then no parked job can come back, and sendCh may be closed.
type tally struct {
	mu      sync.Mutex
	n       int
	closing bool
	zero    chan struct{}
}

func newTally() *tally { return &tally{zero: make(chan struct{})} }

func (t *tally) add() {
	t.mu.Lock()
	t.n++
	t.mu.Unlock()
}

func (t *tally) done() {
	t.mu.Lock()
	t.n--
	t.signal()
	t.mu.Unlock()
}

// close says no new job will be added.
func (t *tally) close() {
	t.mu.Lock()
	t.closing = true
	t.signal()
	t.mu.Unlock()
}

func (t *tally) signal() {
	if t.closing && t.n == 0 {
		select {
		case <-t.zero:
		default:
			close(t.zero)
		}
	}
}
