package s2stest

import (
	"errors"
	"fmt"
	"time"
)

// DefaultMaxBodyBytes is the body size above which the mock answers 413.
const DefaultMaxBodyBytes = 1 << 20

// Config shapes a mock. The zero Config is a strict, fault-free server that
// accepts any non-empty bearer token for any app.
type Config struct {
	// Token is the expected bearer token; "" accepts any non-empty token.
	Token string
	// BlockedApps are app ids answered 403.
	BlockedApps []string
	// KnownApps, if non-empty, lists the only app ids that exist; others get
	// 401 ("app does not exist"), as the real API does.
	KnownApps []string

	// Latency plus a uniform random [0, Jitter) is the service time of every
	// API request. A request cancelled meanwhile gets no answer and is counted
	// in Stats.Canceled.
	Latency, Jitter time.Duration
	// Faults are random failures, drawn per request.
	Faults Faults
	// RateLimit is the server-side rate in requests/s (0 = unlimited); a
	// token bucket with burst max(1, RateLimit/10). Requests beyond it get
	// 429 with Retry-After: 1.
	RateLimit float64
	// Script scripts the answers per distinct customer_dedup_id (or, when a
	// body has none, per body hash): the n-th request of that key gets
	// Script[n] while n < len(Script), then normal behaviour. Script steps
	// take precedence over Faults.
	Script []Step

	// Seed makes Jitter and Faults reproducible for a sequential client: the
	// n-th request gets the same draws for the same Seed.
	Seed int64
	// Now is the clock for the late-window accounting (default time.Now).
	Now func() time.Time
	// AppTimezone is the app's timezone for the late-window accounting
	// (default UTC).
	AppTimezone *time.Location

	// MaxBodyBytes is the body size limit (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// KeepBodies is how many of the last accepted bodies Stats.Bodies holds
	// (default 0: none).
	KeepBodies int
}

// Faults are random failures. Each request draws once: with probability
// PDrop the connection is closed without an answer, with P429 it gets 429,
// with P5xx one of 500, 502, 503, 504. The outcomes are exclusive, so the
// probabilities must sum to at most 1.
type Faults struct {
	P429, P5xx, PDrop float64
	// RetryAfter, if not empty, is sent as Retry-After with fault 429s and
	// 503s (seconds or an HTTP date).
	RetryAfter string
}

// Step is the scripted answer to one request of a key (see Config.Script).
// Delay is served first (honouring cancellation); then Drop closes the
// connection without an answer; else a Status other than 0 and 202 is
// answered without accepting the body, with RetryAfter as Retry-After if set;
// Status 0 or 202 means normal handling.
type Step struct {
	Status     int
	RetryAfter string
	Drop       bool
	Delay      time.Duration
}

// Validate reports whether c is usable.
func (c Config) Validate() error {
	var errs []error
	f := c.Faults
	for _, p := range []struct {
		name string
		v    float64
	}{{"P429", f.P429}, {"P5xx", f.P5xx}, {"PDrop", f.PDrop}} {
		if p.v < 0 || p.v > 1 || p.v != p.v {
			errs = append(errs, fmt.Errorf("faults: %s = %v, want a probability in [0, 1]", p.name, p.v))
		}
	}
	if sum := f.P429 + f.P5xx + f.PDrop; sum > 1 {
		errs = append(errs, fmt.Errorf("faults: P429+P5xx+PDrop = %v, want at most 1", sum))
	}
	if c.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("rate limit %v, want >= 0", c.RateLimit))
	}
	if c.Latency < 0 || c.Jitter < 0 {
		errs = append(errs, errors.New("latency and jitter must not be negative"))
	}
	if c.MaxBodyBytes < 0 || c.KeepBodies < 0 {
		errs = append(errs, errors.New("MaxBodyBytes and KeepBodies must not be negative"))
	}
	for i, s := range c.Script {
		if s.Status != 0 && (s.Status < 100 || s.Status > 599) {
			errs = append(errs, fmt.Errorf("script step %d: status %d out of range", i, s.Status))
		}
		if s.Delay < 0 {
			errs = append(errs, fmt.Errorf("script step %d: negative delay", i))
		}
	}
	return errors.Join(errs...)
}
