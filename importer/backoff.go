package importer

import (
	"math/rand/v2"
	"time"
)

// Backoff is exponential backoff with full jitter: the n-th retry waits a
// uniformly random time in [0, min(Max, Base·2ⁿ)], so rows that failed
// together do not retry together. A Retry-After from the server overrides
// it (see run.retryWait).
type Backoff struct {
	Base time.Duration // default 200ms
	Max  time.Duration // default 30s
}

func (b Backoff) delay(retry int, rnd *rand.Rand) time.Duration {
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
