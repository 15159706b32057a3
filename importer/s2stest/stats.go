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
}
