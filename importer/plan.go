package importer

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"afimport/importer/window"
	"afimport/readers"
)

// plan counts the sendable rows per acceptance deadline. It drives the
// "this run will outlast a deadline" warning and --order-by-deadline.
type plan struct {
	deadlines []time.Time     // distinct, ascending once sorted
	counts    map[int64]int64 // deadline (Unix ms) -> sendable rows
	index     map[int64]int   // deadline (Unix ms) -> pass, after order()
	untimed   int64           // sendable rows without a timestamp
	sendable  int64
	// estimate: the counts come from the timestamps alone (rows invalid
	// for another reason are counted), so they are upper bounds.
	estimate bool
}

func newPlan() *plan { return &plan{counts: map[int64]int64{}} }

func (p *plan) add(d time.Time, n int64) {
	k := d.UnixMilli()
	if _, ok := p.counts[k]; !ok {
		p.deadlines = append(p.deadlines, d)
	}
	p.counts[k] += n
	p.sendable += n
}

func (p *plan) merge(q *plan) {
	for _, d := range q.deadlines {
		p.add(d, q.counts[d.UnixMilli()])
	}
	p.untimed += q.untimed
	p.sendable += q.untimed
}

// order sorts the deadlines and numbers the passes: pass i sends the rows
// of deadlines[i]; the last pass, len(deadlines), the rows without one.
func (p *plan) order() *plan {
	slices.SortFunc(p.deadlines, func(a, b time.Time) int { return a.Compare(b) })
	p.index = make(map[int64]int, len(p.deadlines))
	for i, d := range p.deadlines {
		p.index[d.UnixMilli()] = i
	}
	return p
}

// belongs reports whether a mapped row is handled in pass. Rows whose fate
// does not depend on time (invalid, skipped) go in pass 0; timestamped
// rows (sendable, late or future) in their deadline's pass; sendable rows
// without a timestamp, and any deadline the preflight did not see, in the
// last pass. Every row thus gets exactly one line.
func (p *plan) belongs(pass int, finalDeadline, sendDeadline time.Time, send bool) bool {
	d := finalDeadline
	if send {
		d = sendDeadline
	}
	last := len(p.deadlines)
	switch {
	case d.IsZero() && !send:
		return pass == 0
	case d.IsZero():
		return pass == last
	}
	i, ok := p.index[d.UnixMilli()]
	if !ok {
		i = last
	}
	return pass == i
}

func (r *run) canPreflight() bool {
	if r.opts.DryRun || !(r.opts.Preflight || r.opts.Order == OrderByDeadline) {
		return false
	}
	for _, in := range r.opts.Inputs {
		if in == "-" {
			return false // standard input can be read only once
		}
	}
	return true
}

// preflight reads and maps every input once without sending, and counts
// the rows that would be sent per deadline. A resumed input that changed
// is refused here, before any request.
func (r *run) preflight(ctx context.Context) *plan {
	saved := r.stats
	r.stats = new(Stats) // keep the progress display for the real pass
	defer func() { r.stats = saved }()
	base := r.bytesBase
	defer func() { r.bytesBase = base }()

	rowsCh := make(chan []readers.Row, 4)
	go func() {
		defer close(rowsCh)
		r.produce(ctx, rowsCh)
	}()
	total := newPlan()
	// Without a report to compare against, shards to pick, or passes to
	// plan, the warning needs only when rows expire: evaluating just the
	// timestamp costs a tenth of mapping the whole row.
	estimate := r.opts.Checkpoint == nil && r.opts.Shard.Count <= 1 && r.opts.Order != OrderByDeadline
	total.estimate = estimate
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range r.opts.MapWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := newPlan()
			for rows := range rowsCh {
				if estimate {
					r.estimateRows(rows, local)
					continue
				}
				for i := range rows {
					_, job, send := r.mapRow(&rows[i], false)
					switch {
					case !send:
					case job.deadline.IsZero():
						local.untimed++
					default:
						local.add(job.deadline, 1)
					}
				}
			}
			mu.Lock()
			total.merge(local)
			mu.Unlock()
		}()
	}
	wg.Wait()
	total.sendable = total.untimed
	for _, n := range total.counts {
		total.sendable += n
	}
	return total
}

// estimateRows counts into p the rows that, by their timestamp alone,
// would be sent.
func (r *run) estimateRows(rows []readers.Row, p *plan) {
	now := r.clock.Now()
	for i := range rows {
		if rows[i].Err != nil {
			continue
		}
		ms, timed, err := r.opts.Mapping.Timestamp(rows[i].Values)
		switch {
		case err != nil:
		case !timed:
			p.untimed++
		default:
			if v, d := window.Check(time.UnixMilli(ms), now, r.loc, r.opts.Skew); v == window.InWindow {
				p.add(d, 1)
			}
		}
	}
}

// warnDeadlines warns when, at the configured rate, rows would reach the
// API after their deadline.
func (r *run) warnDeadlines(p *plan) {
	if r.opts.Rate <= 0 || p.sendable == 0 || len(p.deadlines) == 0 {
		return
	}
	p.order()
	now := r.clock.Now()
	at := func(rows int64) time.Time {
		return now.Add(time.Duration(float64(rows) / r.opts.Rate * float64(time.Second)))
	}
	first := p.deadlines[0]
	var w string
	if r.passes != nil && !r.opts.DryRun {
		var cum int64
		for _, d := range p.deadlines {
			n := p.counts[d.UnixMilli()]
			cum += n
			if at(cum).After(d) {
				w = fmt.Sprintf("even sending the nearest deadlines first, at --rate %g/s some of the %d rows with the deadline %s would be sent after it: raise --rate or split the input",
					r.opts.Rate, n, d.In(r.loc).Format("2006-01-02 15:04 MST"))
				break
			}
		}
	} else if end := at(p.sendable); end.After(first) {
		upTo := ""
		if p.estimate {
			upTo = "up to "
		}
		w = fmt.Sprintf("at --rate %g/s the %s%d sendable rows take about %s, past the earliest deadline %s %s (%d rows), which is %s away: rows late in the input may expire before they are sent; use --order-by-deadline or a higher --rate",
			r.opts.Rate, upTo, p.sendable, end.Sub(now).Round(time.Second), first.In(r.loc).Format("2006-01-02 15:04 MST"), r.loc,
			p.counts[first.UnixMilli()], first.Sub(now).Round(time.Second))
	}
	if w != "" {
		r.summary.Warnings = append(r.summary.Warnings, w)
		r.log.Warn(w)
	}
}

// orderSaves reports whether sending the nearest deadline first would save
// rows that input order loses, assuming the run reaches only half of
// --rate (the rate is a ceiling: the API or the network may allow less,
// and the forecast during the run cannot reorder a pass already under way).
func (r *run) orderSaves(p *plan) bool {
	if len(p.deadlines) < 2 || r.opts.DryRun {
		return false
	}
	rate := r.opts.Rate / 2
	if rate <= 0 {
		return false
	}
	p.order()
	now := r.clock.Now()
	sum := func(byDeadline bool) (n int64) {
		for _, k := range atRisk(now, rate, p.deadlines, p.counts, byDeadline) {
			n += k.RowsAtRisk
		}
		return n
	}
	if mixed, ordered := sum(false), sum(true); ordered < mixed {
		r.log.Info("sending the nearest deadline first: in input order rows would miss their deadline",
			"deadlines", len(p.deadlines), "rows_at_risk_in_input_order", mixed, "rows_at_risk_by_deadline", ordered)
		return true
	}
	return false
}
