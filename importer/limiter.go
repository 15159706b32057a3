package importer

import (
	"context"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer is the one rate limiter every request shares: a token bucket
// (x/time/rate) whose rate follows the server, in the manner of TCP's
// congestion control.
//
// Answers are judged in windows (at least pacerWindow and pacerSamples
// answers, or 4·pacerWindow with any). Only answers to requests sent after
// the last cut count: the requests already in flight when the rate was cut
// were sent at the old rate, and their 429s say nothing of the new one.
//
//   - More than 5% of a window's answers 429, over and above the share that
//     stays after a cut (a scattering the server answers whatever the rate;
//     measured in the first window after each cut): the rate is cut to what the server accepted in the
//     window (its capacity, when it throttles), less 3%, but never by more
//     than half at once. A window where most answers are 429 is cut as soon
//     as pacerStormSamples of them are in, so that discovering a limit far
//     below --rate takes a few round trips, not seconds.
//   - Otherwise, if the window used the rate it had, the rate climbs: by a
//     quarter up to 90% of the rate last cut from, then by 5%, back up to the
//     ceiling (--rate). Against a limit it thus probes a
//     little above it every few windows and settles back, delivering ~97-100%
//     of the limit with a few percent of 429s; a server that answers 429 to a
//     random 5% of requests does not slow the run at all.
//
// Retry-After is honoured per request by the retry schedule, on top of this.
type pacer struct {
	lim     *rate.Limiter
	ceiling rate.Limit
	floor   rate.Limit
	clock   Clock

	mu        sync.Mutex
	start     time.Time // of the current window (first counted answer)
	lastCut   time.Time
	threshold rate.Limit // below it the rate climbs fast after a cut (TCP's ssthresh)
	// noise is the share of 429s in the first window after a cut: what
	// the server answers 429 to whatever the rate (random throttling), on
	// top of which a cut is needed.
	noise     float64
	afterCut  bool
	answers   int
	throttled int
	accepted  int
	sent      int // requests started in the window (demand)
}

const (
	pacerWindow       = 500 * time.Millisecond
	pacerSamples      = 20
	pacerStormSamples = 5
	pacerStormShare   = 0.05
	pacerClimb        = 1.03
	pacerMargin       = 0.97
)

func newPacer(rps float64, burst int, clock Clock) *pacer {
	if burst < 1 {
		burst = 1
	}
	lim := rate.Limit(rps)
	if rps <= 0 {
		lim = rate.Inf
	}
	return &pacer{lim: rate.NewLimiter(lim, burst), ceiling: lim, floor: min(lim, 1), clock: clock}
}

// Wait blocks until a request may start.
func (p *pacer) Wait(ctx context.Context) error {
	now := p.clock.Now()
	r := p.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		if err := p.clock.Sleep(ctx, d); err != nil {
			r.CancelAt(p.clock.Now())
			return err
		}
	}
	p.mu.Lock()
	p.sent++
	p.mu.Unlock()
	return nil
}

// Limit is the current rate (+Inf when unlimited).
func (p *pacer) Limit() float64 { return float64(p.lim.Limit()) }

// Answered records the answer to a request sent at sentAt.
func (p *pacer) Answered(sentAt time.Time, status int) {
	if p.ceiling == rate.Inf {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if sentAt.Before(p.lastCut) {
		return
	}
	now := p.clock.Now()
	if p.start.IsZero() {
		p.start = now
	}
	p.answers++
	switch {
	case status == http.StatusTooManyRequests:
		p.throttled++
	case status >= 200 && status < 300:
		p.accepted++
	}
	age := now.Sub(p.start)
	storm := p.throttled >= pacerStormSamples && 2*p.throttled > p.answers
	if !storm && (age < pacerWindow || (p.answers < pacerSamples && age < 4*pacerWindow)) {
		return
	}
	cur := p.lim.Limit()
	next := cur
	share := float64(p.throttled) / float64(p.answers)
	if p.afterCut && !storm {
		p.noise, p.afterCut = share, false
	}
	switch {
	case storm || share > pacerStormShare+p.noise:
		// What the server accepted is its capacity, as far as this window
		// can tell; a short window can tell little, so never cut by more
		// than half at once.
		capacity := cur
		if secs := age.Seconds(); secs > 0 {
			capacity = rate.Limit(float64(p.accepted) / secs)
		}
		next = max(min(capacity*pacerMargin, cur*pacerMargin), cur/2, p.floor)
		p.threshold = cur * 0.9
		p.lastCut, p.afterCut = now, true
	case float64(p.sent) >= 0.5*float64(cur)*age.Seconds():
		if cur < p.threshold {
			// Well below where the trouble began: a server whose bucket is
			// small loses more than the overshoot when pushed past its
			// limit, so the estimate of its capacity came out low.
			next = min(cur*1.25, p.threshold)
		} else {
			next = min(cur*pacerClimb, p.ceiling)
		}
	}
	if next != cur {
		p.lim.SetLimitAt(now, next)
	}
	p.start, p.answers, p.throttled, p.accepted, p.sent = time.Time{}, 0, 0, 0, 0
}
