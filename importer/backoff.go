package importer

import (
	"math/rand/v2"
	"time"
)

// Backoff is exponential backoff with full jitter: the n-th retry waits a
// uniformly random time in [0, min(Max, Base·2ⁿ)], so a pool of workers
// that failed together does not retry together. A Retry-After from the
// server overrides it (with up to 10% jitter added on top).
type Backoff struct {
	Base time.Duration // default 200ms
	Max  time.Duration // default 30s
}

func (b Backoff) delay(retry int, r Response, rnd *rand.Rand) time.Duration {
	if r.HasRetryAfter {
		return r.RetryAfter + time.Duration(rnd.Int64N(int64(r.RetryAfter/10)+1))
	}
	base, maxd := b.Base, b.Max
	if base <= 0 {
		base = 200 * time.Millisecond
	}
	if maxd <= 0 {
		maxd = 30 * time.Second
	}
	ceil := maxd
	if retry < 30 {
		if c := base << retry; c > 0 && c < maxd {
			ceil = c
		}
	}
	return time.Duration(rnd.Int64N(int64(ceil) + 1))
}
