package s2stest

import (
	"encoding/json"
	"hash/maphash"
	"sort"
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of what a mock has seen. Control requests (/_mock/...)
// are not counted.
type Stats struct {
	// Requests counts API requests, whatever their outcome.
	Requests int64 `json:"requests"`
	// ByStatus counts answers by HTTP status.
	ByStatus map[int]int64 `json:"by_status"`
	// Dropped counts connections closed without an answer (Faults.PDrop,
	// Step.Drop).
	Dropped int64 `json:"dropped"`
	// Canceled counts requests whose client went away during Latency or a
	// Step.Delay; they got no answer.
	Canceled int64 `json:"canceled"`
	// Accepted counts 202s.
	Accepted int64 `json:"accepted"`
	// DedupAccepted counts 202s per customer_dedup_id.
	DedupAccepted map[string]int `json:"dedup_accepted"`
	// Late counts accepted bodies whose timestamp was past the late
	// acceptance window (00:30 on the next calendar day in
	// Config.AppTimezone); the real API silently re-dates them.
	Late int64 `json:"late"`
	// Bodies are the last Config.KeepBodies accepted bodies, oldest first.
	Bodies []json.RawMessage `json:"bodies,omitempty"`
	// PerSecond counts API requests by the wall-clock second they
	// arrived in (the last hour), oldest first: what a rate limit on the
	// client must keep under rate + burst, without the jitter of a
	// sampler polling a counter.
	PerSecond []SecondCount `json:"per_second"`
}

// SecondCount is how many requests arrived in one second.
type SecondCount struct {
	Unix     int64 `json:"unix"`
	Requests int64 `json:"requests"`
}

// Duplicates returns, sorted, the customer_dedup_ids accepted more than once.
func (s Stats) Duplicates() []string {
	var ids []string
	for id, n := range s.DedupAccepted {
		if n > 1 {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

const dedupShards = 32

// counters is the live, concurrency-safe form of Stats: atomics for the
// counts, sharded maps for the dedup ids, a ring for bodies.
type counters struct {
	requests, dropped, canceled, accepted, late atomic.Int64
	byStatus                                    [600]atomic.Int64

	seed  maphash.Seed
	dedup [dedupShards]struct {
		sync.Mutex
		m map[string]int
		_ [40]byte // keep shards on separate cache lines
	}

	ringMu sync.Mutex
	ring   [][]byte
	next   int
	full   bool

	// seconds is a ring of per-second arrival counts, indexed by Unix
	// second; rollMu serializes a bucket's move to a new second.
	seconds [secondsKept]struct{ unix, n atomic.Int64 }
	rollMu  sync.Mutex
}

const secondsKept = 3600

// arrived counts a request in the second of now (Unix seconds).
func (c *counters) arrived(now int64) {
	c.requests.Add(1)
	b := &c.seconds[now%secondsKept]
	if b.unix.Load() != now {
		c.rollMu.Lock()
		if b.unix.Load() != now {
			b.n.Store(0)
			b.unix.Store(now) // after the reset: who sees now sees n from 0
		}
		c.rollMu.Unlock()
	}
	b.n.Add(1)
}

func newCounters(keep int) *counters {
	c := &counters{seed: maphash.MakeSeed()}
	for i := range c.dedup {
		c.dedup[i].m = make(map[string]int)
	}
	if keep > 0 {
		c.ring = make([][]byte, keep)
	}
	return c
}

func (c *counters) status(code int) {
	if code >= 0 && code < len(c.byStatus) {
		c.byStatus[code].Add(1)
	}
}

func (c *counters) accept(dedupID string, hasDedupID, late bool, body []byte) {
	c.accepted.Add(1)
	if late {
		c.late.Add(1)
	}
	if hasDedupID {
		sh := &c.dedup[maphash.String(c.seed, dedupID)%dedupShards]
		sh.Lock()
		sh.m[dedupID]++
		sh.Unlock()
	}
	if c.ring != nil {
		b := append([]byte(nil), body...)
		c.ringMu.Lock()
		c.ring[c.next] = b
		c.next++
		if c.next == len(c.ring) {
			c.next, c.full = 0, true
		}
		c.ringMu.Unlock()
	}
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Requests:      c.requests.Load(),
		ByStatus:      make(map[int]int64),
		Dropped:       c.dropped.Load(),
		Canceled:      c.canceled.Load(),
		Accepted:      c.accepted.Load(),
		DedupAccepted: make(map[string]int),
		Late:          c.late.Load(),
	}
	for code := range c.byStatus {
		if n := c.byStatus[code].Load(); n != 0 {
			s.ByStatus[code] = n
		}
	}
	for i := range c.dedup {
		sh := &c.dedup[i]
		sh.Lock()
		for id, n := range sh.m {
			s.DedupAccepted[id] = n
		}
		sh.Unlock()
	}
	c.ringMu.Lock()
	if c.ring != nil {
		order := append(append([][]byte(nil), c.ring[c.next:]...), c.ring[:c.next]...)
		if !c.full {
			order = c.ring[:c.next]
		}
		for _, b := range order {
			s.Bodies = append(s.Bodies, json.RawMessage(b))
		}
	}
	c.ringMu.Unlock()
	s.PerSecond = []SecondCount{}
	for i := range c.seconds {
		b := &c.seconds[i]
		if n, u := b.n.Load(), b.unix.Load(); n > 0 && u > 0 {
			s.PerSecond = append(s.PerSecond, SecondCount{Unix: u, Requests: n})
		}
	}
	sort.Slice(s.PerSecond, func(i, j int) bool { return s.PerSecond[i].Unix < s.PerSecond[j].Unix })
	if len(s.PerSecond) > 0 { // the ring may hold seconds from over an hour ago
		last := s.PerSecond[len(s.PerSecond)-1].Unix
		for len(s.PerSecond) > 0 && s.PerSecond[0].Unix <= last-secondsKept {
			s.PerSecond = s.PerSecond[1:]
		}
	}
	return s
}

func (c *counters) reset() {
	c.requests.Store(0)
	c.dropped.Store(0)
	c.canceled.Store(0)
	c.accepted.Store(0)
	c.late.Store(0)
	for i := range c.byStatus {
		c.byStatus[i].Store(0)
	}
	for i := range c.dedup {
		sh := &c.dedup[i]
		sh.Lock()
		sh.m = make(map[string]int)
		sh.Unlock()
	}
	c.ringMu.Lock()
	if c.ring != nil {
		c.ring = make([][]byte, len(c.ring))
	}
	c.next, c.full = 0, false
	c.ringMu.Unlock()
	c.rollMu.Lock()
	for i := range c.seconds {
		c.seconds[i].unix.Store(0)
		c.seconds[i].n.Store(0)
	}
	c.rollMu.Unlock()
}
