package importer

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer is the one rate limiter every worker shares. It wraps a token
// bucket (x/time/rate) and adapts its rate to the server: each 429 halves
// the rate (down to a floor), and every second without one raises it by a
// quarter back up to the configured ceiling. Because the bucket is shared,
// a 429 storm slows the whole pool, not only the worker that saw it.
type pacer struct {
	lim     *rate.Limiter
	ceiling rate.Limit
	floor   rate.Limit
	now     func() time.Time

	mu       sync.Mutex
	last429  time.Time
	lastRise time.Time
}

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
func (p *pacer) Wait(ctx context.Context) error {
	p.maybeRise()
	return p.lim.Wait(ctx)
}

// Limit is the current rate.
func (p *pacer) Limit() float64 { return float64(p.lim.Limit()) }

// Throttled records a 429.
func (p *pacer) Throttled() {
	if p.ceiling == rate.Inf {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	// One storm is one halving per 100ms, not one per 429 in flight.
	if now.Sub(p.last429) < 100*time.Millisecond {
		return
	}
	p.last429, p.lastRise = now, now
	next := max(p.lim.Limit()/2, p.floor)
	p.lim.SetLimitAt(now, next)
}

func (p *pacer) maybeRise() {
	if p.ceiling == rate.Inf || p.lim.Limit() >= p.ceiling {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.Sub(p.lastRise) < time.Second {
		return
	}
	p.lastRise = now
	p.lim.SetLimitAt(now, min(p.lim.Limit()*1.25, p.ceiling))
}
