package importer

import "fmt"

// maxReasons bounds the distinct reasons the summary counts.
const maxReasons = 10000

// collector is the state the collector keeps across passes, besides the
// summary it fills.
type collector struct {
	reasons map[string]int64 // rows per reason, up to maxReasons distinct
	same400 runOf400
}

// runOf400 watches for the same 400 answer on many rows in a row: with one
// reason repeated, the mapping is likely wrong for every row.
type runOf400 struct {
	last   string
	n      int
	warned bool
}

// observe counts o and returns the warning, once, when 100 rows in a row
// were rejected with the same 400. Other rejections leave the run as is;
// any other status ends it.
func (t *runOf400) observe(o *outcome) string {
	switch {
	case o.Status == StatusRejected && o.HTTPStatus == 400:
		if o.Reason == t.last {
			t.n++
		} else {
			t.last, t.n = o.Reason, 1
		}
		if t.n >= 100 && !t.warned {
			t.warned = true
			return fmt.Sprintf("100 rows in a row were rejected with the same 400 (%q): likely a mapping bug", o.Reason)
		}
	case o.Status != StatusRejected:
		t.n = 0
	}
	return ""
}

// collect is the single writer of results and of the summary.
func (r *run) collect(in <-chan []outcome) {
	reasons := r.col.reasons
	for outs := range in {
		for i := range outs {
			o := &outs[i]
			r.summary.Rows++
			r.summary.Counts[o.Status]++
			if o.AppID != "" {
				byApp := r.summary.ByApp[o.AppID]
				if byApp == nil {
					byApp = map[Status]int64{}
					r.summary.ByApp[o.AppID] = byApp
				}
				byApp[o.Status]++
			}
			r.stats.count(o.Status)
			if o.Reason != "" && o.Status != StatusSkipped {
				if _, ok := reasons[o.Reason]; ok || len(reasons) < maxReasons {
					reasons[o.Reason]++
				}
			}
			if w := r.col.same400.observe(o); w != "" {
				r.summary.Warnings = append(r.summary.Warnings, w)
				r.log.Warn(w)
			}
			if o.queued && r.fc != nil {
				r.fc.settle(o)
			}
			if stillSendable(o) {
				if r.summary.EarliestDeadline.IsZero() || o.deadline.Before(r.summary.EarliestDeadline) {
					r.summary.EarliestDeadline = o.deadline
				}
				if r.opts.DryRun {
					r.dryPlan.add(o.deadline, 1)
				}
			} else if r.opts.DryRun && o.Status == StatusValid {
				r.dryPlan.untimed++
				r.dryPlan.sendable++
			}
			if err := r.opts.Results.Write(&o.Result); err != nil {
				r.setFatal(fmt.Errorf("write report: %w", err))
			}
		}
		// Hand the lines to the OS whenever nothing more is queued: a
		// killed process then loses only the answers still in flight, so
		// a resume re-sends no row the API had accepted before that. Under
		// load the queue is rarely empty and writes stay batched.
		if len(in) == 0 {
			if err := r.opts.Results.Flush(); err != nil {
				r.setFatal(fmt.Errorf("write report: %w", err))
			}
		}
	}
}

// stillSendable: a row that is (dry run) or could still be (not sent,
// failed) delivered, whose deadline therefore matters.
func stillSendable(o *outcome) bool {
	if o.deadline.IsZero() {
		return false
	}
	switch o.Status {
	case StatusValid, StatusFailed, StatusNotSent:
		return true
	}
	return false
}
