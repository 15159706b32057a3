package importer

import (
	"context"
	"time"
)

// Clock is the time the run lives by: the acceptance window, the rate
// limiter, retry backoff and the deadline forecast all read it, so a test
// can move a run to a minute before midnight or make every wait instant.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx is done (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits on a timer, or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error { return sleepCtx(ctx, d) }

// OffsetClock is the wall clock moved by a fixed offset: time passes at the
// real pace, so rates and timeouts stay real, while the acceptance window
// sees another hour of the day. For tests and --now-style rehearsals.
type OffsetClock time.Duration

// Now is time.Now() plus the offset.
func (c OffsetClock) Now() time.Time { return time.Now().Add(time.Duration(c)) }

// Sleep waits on a timer, or until ctx is done.
func (OffsetClock) Sleep(ctx context.Context, d time.Duration) error { return sleepCtx(ctx, d) }

// FixedClock always reads the same instant (dry runs with --now); its
// Sleep waits for real.
type FixedClock time.Time

// Now is the fixed instant.
func (c FixedClock) Now() time.Time { return time.Time(c) }

// Sleep waits on a timer, or until ctx is done.
func (FixedClock) Sleep(ctx context.Context, d time.Duration) error { return sleepCtx(ctx, d) }

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
