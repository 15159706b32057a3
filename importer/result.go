package importer

import "afimport/readers"

// Status is the final state of one input row.
type Status string

const (
	StatusAccepted Status = "accepted" // the API answered 202
	StatusInvalid  Status = "invalid"  // the row could not be read or mapped
	StatusLate     Status = "late"     // past the acceptance window: never sent
	StatusFuture   Status = "future"   // timestamp ahead of now + skew: never sent
	StatusRejected Status = "rejected" // the API answered 400 or 415: not retried
	StatusFailed   Status = "failed"   // retries ran out
	StatusNotSent  Status = "not_sent" // the run stopped before sending it
	StatusSkipped  Status = "skipped"  // accepted in an earlier run (--resume)
	StatusFiltered Status = "filtered" // left out by the mapping's skip: rules; never sent
	StatusValid    Status = "valid"    // dry run: would be sent
)

// Statuses lists every status in report order.
var Statuses = []Status{StatusAccepted, StatusValid, StatusSkipped, StatusFiltered, StatusInvalid,
	StatusLate, StatusFuture, StatusRejected, StatusFailed, StatusNotSent}

// Result is the outcome of one input row. It never holds raw PII.
type Result struct {
	Pos        readers.Pos
	Status     Status
	Reason     string
	HTTPStatus int
	Attempts   int
	LatencyMS  int64
	DedupID    string
	MessageID  string
	// RowHash fingerprints the row's projected source values, so that a
	// resume can tell a changed input from the one that was reported.
	RowHash string
	// AppID is the app the row went (or would go) to; "" when the row
	// was not mapped. It is not written to the report.
	AppID string
}

// ResultWriter receives every Result, one per input row, from a single
// goroutine.
type ResultWriter interface {
	Write(*Result) error
	// Flush hands what Write buffered to the OS; Run calls it whenever no
	// more results are queued, so a killed process loses only the answers
	// still in flight.
	Flush() error
}
