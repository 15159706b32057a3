package importer

import "sync/atomic"

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
}

const numStatuses = 9

var statusIndex = map[Status]int{
	StatusAccepted: 0, StatusValid: 1, StatusSkipped: 2, StatusInvalid: 3, StatusLate: 4,
	StatusFuture: 5, StatusRejected: 6, StatusFailed: 7, StatusNotSent: 8,
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
}

// Snapshot reads the counters.
func (s *Stats) Snapshot() Snapshot {
	out := Snapshot{
		RowsRead: s.rowsRead.Load(), Done: s.done.Load(),
		Retries: s.retries.Load(), Seen429: s.seen429.Load(),
		BytesDone: s.bytesDone.Load(), BytesTotal: s.bytesTotal.Load(),
		ByStatus: make(map[Status]int64, len(statusIndex)),
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
