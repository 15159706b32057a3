package importer

import (
	"sync/atomic"
	"time"
)

// Stats are live counters a progress display may read while Run works.
// The zero value is ready to use.
type Stats struct {
	rowsRead   atomic.Int64
	done       atomic.Int64
	byStatus   [numStatuses]atomic.Int64
	retries    atomic.Int64
	seen429    atomic.Int64
	bytesDone  atomic.Int64
	bytesTotal atomic.Int64

	inFlight        atomic.Int64
	latencyEWMA     atomic.Int64 // ns, exponentially weighted mean round trip
	nearestDeadline atomic.Int64 // Unix ms of the nearest deadline with rows left, 0 if none known
	rowsAtRisk      atomic.Int64 // rows the last forecast saw missing their deadline
}

const numStatuses = 10

var statusIndex = map[Status]int{
	StatusAccepted: 0, StatusValid: 1, StatusSkipped: 2, StatusInvalid: 3, StatusLate: 4,
	StatusFuture: 5, StatusRejected: 6, StatusFailed: 7, StatusNotSent: 8, StatusFiltered: 9,
}

// Snapshot is a copy of the counters.
type Snapshot struct {
	RowsRead   int64 // rows taken from the inputs
	Done       int64 // rows with a final result
	ByStatus   map[Status]int64
	Retries    int64
	Seen429    int64
	BytesDone  int64 // input bytes consumed, when the readers can tell
	BytesTotal int64 // total input bytes, -1 when unknown (stdin)
	InFlight   int64 // requests on the wire now
	// NearestDeadline is the nearest acceptance deadline that rows still
	// wait for (zero when none is known); RowsAtRisk how many rows the last
	// deadline forecast saw missing theirs.
	NearestDeadline time.Time
	RowsAtRisk      int64
}

// Snapshot reads the counters.
func (s *Stats) Snapshot() Snapshot {
	out := Snapshot{
		RowsRead: s.rowsRead.Load(), Done: s.done.Load(),
		Retries: s.retries.Load(), Seen429: s.seen429.Load(),
		BytesDone: s.bytesDone.Load(), BytesTotal: s.bytesTotal.Load(),
		InFlight: s.inFlight.Load(), RowsAtRisk: s.rowsAtRisk.Load(),
		ByStatus: make(map[Status]int64, len(statusIndex)),
	}
	if ms := s.nearestDeadline.Load(); ms != 0 {
		out.NearestDeadline = time.UnixMilli(ms)
	}
	for st, i := range statusIndex {
		if n := s.byStatus[i].Load(); n > 0 {
			out.ByStatus[st] = n
		}
	}
	return out
}

func (s *Stats) count(st Status) {
	s.done.Add(1)
	if i, ok := statusIndex[st]; ok {
		s.byStatus[i].Add(1)
	}
}

// observeLatency folds one round trip into the mean (weight 1/16). Races
// between two writers lose one sample, which a mean can afford.
func (s *Stats) observeLatency(d time.Duration) {
	old := s.latencyEWMA.Load()
	if old == 0 {
		s.latencyEWMA.Store(int64(d))
		return
	}
	s.latencyEWMA.Store(old + (int64(d)-old)/16)
}

func (s *Stats) meanLatency() time.Duration { return time.Duration(s.latencyEWMA.Load()) }
