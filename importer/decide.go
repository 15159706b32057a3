package importer

import (
	"errors"
	"time"

	"afimport/importer/window"
	"afimport/mappings"
	"afimport/readers"
)

// Judge decides, before any request, what afimport does with a row. It is
// the one decision every command makes: import and dry runs (Run),
// preview, explain and check all call Decide, so they cannot disagree.
type Judge struct {
	Mapping Mapper
	// Now is the instant the acceptance window is judged at.
	Now  time.Time
	Loc  *time.Location // the app's timezone (nil: UTC)
	Skew time.Duration  // how far in the future a timestamp may be
	// Checkpoint, when resuming, settles rows an earlier run delivered.
	Checkpoint Checkpoint
}

// Decision is a row's fate before sending.
//
// Status is StatusValid for a row that would be sent (Payload holds it),
// or the final status of one that will not: StatusFiltered (an entry of
// the mapping's skip: matched), StatusInvalid (the reader or the mapping
// refused it), StatusLate, StatusFuture, or, on resume, StatusSkipped (a
// filtered row is judged again). Changed is set when the checkpoint's row_hash differs:
// the input changed since the report was written.
type Decision struct {
	Status  Status
	Reason  string // why not valid; never a value
	Payload *mappings.Payload
	RowHash string
	// Verdict places the timestamp against the window (window.InWindow
	// too for a row without one); Deadline is zero without a timestamp.
	Verdict  window.Verdict
	Deadline time.Time
	// Window is window.Reason of the timestamp, or NoTimestamp.
	Window  string
	Changed bool
}

// NoTimestamp is Decision.Window for a row without a timestamp.
const NoTimestamp = "no timestamp: the API stamps the row when it receives it; no deadline"

// Decide judges row. With body false it checks the row without building
// the request body (Payload.Body is nil), as dry runs do.
func (j *Judge) Decide(row *readers.Row, body bool) Decision {
	if row.Err != nil {
		return Decision{Status: StatusInvalid, Reason: readers.RowReason(row.Err), RowHash: hashString(row.Err.Error())}
	}
	d := Decision{RowHash: rowHash(row.Values)}
	if j.Checkpoint != nil {
		if st, h, ok := j.Checkpoint.Lookup(row.Pos); ok {
			if h != "" && h != d.RowHash {
				d.Status, d.Reason, d.Changed = StatusNotSent, "not sent: input changed since the report was written", true
				return d
			}
			if st == StatusAccepted || st == StatusSkipped {
				d.Status, d.Reason = StatusSkipped, "accepted in an earlier run"
				return d
			}
		}
	}
	var err error
	if body {
		d.Payload, err = j.Mapping.Apply(row.Values)
	} else {
		d.Payload, err = j.Mapping.Check(row.Values)
	}
	var skip *mappings.SkipError
	if errors.As(err, &skip) {
		d.Status, d.Reason, d.Payload = StatusFiltered, skip.Reason, nil
		return d
	}
	if err != nil {
		d.Status, d.Reason, d.Payload = StatusInvalid, err.Error(), nil
		return d
	}
	d.Status, d.Verdict, d.Window = StatusValid, window.InWindow, NoTimestamp
	if d.Payload.HasTimestamp {
		loc := j.Loc
		if loc == nil {
			loc = time.UTC
		}
		t := time.UnixMilli(d.Payload.Timestamp)
		d.Verdict, d.Deadline = window.Check(t, j.Now, loc, j.Skew)
		d.Window = window.Reason(d.Verdict, t, j.Now, d.Deadline, loc, j.Skew)
		switch d.Verdict {
		case window.Late:
			d.Status, d.Reason = StatusLate, d.Window
		case window.Future:
			d.Status, d.Reason = StatusFuture, d.Window
		}
	}
	return d
}
