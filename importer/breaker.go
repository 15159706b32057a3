package importer

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// breaker stops a run whose endpoint is down, instead of spending every
// row's retries on it (a circuit breaker).
//
// Closed, every request goes out. After outageAttempts attempts in a row,
// across rows, got no HTTP answer at all (refused, DNS, TLS, timeout,
// dropped), it opens: new attempts wait, and one probe goes out per
// outageProbe. Any HTTP answer, whatever its status, closes it. Once it has
// been failing for OutageAfter (and is still open), the run stops sending:
// the rows left are not_sent, resumable, and the summary says the endpoint
// was unreachable. A few dropped connections among answers never open it.
type breaker struct {
	clock Clock
	after time.Duration

	mu        sync.Mutex
	streak    int       // attempts in a row without an answer
	since     time.Time // first of them
	nextProbe time.Time
	reason    string // the last failure's normalized reason
}

const (
	outageAttempts = 20
	outageProbe    = time.Second
)

func newBreaker(clock Clock, after time.Duration) *breaker {
	return &breaker{clock: clock, after: after}
}

// record notes one attempt's outcome; tripped is non-empty when the
// endpoint has now been unreachable for long enough to stop the run.
func (b *breaker) record(answered bool, reason string) (tripped string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if answered {
		b.streak = 0
		return ""
	}
	now := b.clock.Now()
	if b.streak == 0 {
		b.since = now
	}
	b.streak++
	b.reason = reason
	if b.streak >= outageAttempts && now.Sub(b.since) >= b.after {
		return fmt.Sprintf("the endpoint is unreachable: %s (no answer to %d attempts in a row over %s)",
			reason, b.streak, now.Sub(b.since).Round(time.Second))
	}
	return ""
}

// wait returns when an attempt may go out: at once while closed; while
// open, when it is this attempt's turn to probe.
func (b *breaker) wait(ctx context.Context) error {
	for {
		b.mu.Lock()
		if b.streak < outageAttempts {
			b.mu.Unlock()
			return nil
		}
		now := b.clock.Now()
		if !now.Before(b.nextProbe) {
			b.nextProbe = now.Add(outageProbe)
			b.mu.Unlock()
			return nil
		}
		d := min(b.nextProbe.Sub(now), 100*time.Millisecond)
		b.mu.Unlock()
		if err := b.clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// open reports whether the breaker is holding attempts back.
func (b *breaker) open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.streak >= outageAttempts
}
