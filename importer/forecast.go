package importer

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// DeadlineRisk is a forecast for one acceptance deadline: how many rows
// due by it were still to send, and how many of those the run, at the
// rate it measured, would send after it.
type DeadlineRisk struct {
	Deadline   time.Time `json:"deadline"`
	RowsLeft   int64     `json:"rows_left"`
	RowsAtRisk int64     `json:"rows_at_risk"`
	// Rate is the delivery rate measured (rows settled per second over
	// the last forecastSpan), LatencyMS the mean round trip.
	Rate      float64   `json:"measured_rows_per_second"`
	LatencyMS float64   `json:"latency_ms"`
	At        time.Time `json:"forecast_at"`
}

// forecaster compares, while the run goes, the rows left per deadline
// (counted by the preflight) with the rate the run actually delivers, and
// warns before rows go late rather than after. Without a preflight
// (standard input) it knows no rows left and stays silent.
type forecaster struct {
	r          *run
	byDeadline bool
	every      time.Duration

	mu      sync.Mutex
	left    map[int64]int64 // deadline (Unix ms) -> rows still to settle
	order   []time.Time     // deadlines, ascending
	settled [forecastSpan]int64
	secs    [forecastSpan]int64 // which second each slot counts
	first   time.Time           // first settled row
	worst   map[int64]DeadlineRisk
	warned  map[int64]int64 // rows at risk when last warned
}

// forecastSpan is how many seconds of deliveries the rate is measured over.
const forecastSpan = 30

func newForecaster(r *run, p *plan) *forecaster {
	f := &forecaster{r: r, byDeadline: r.passes != nil, every: r.opts.ForecastEvery,
		left: map[int64]int64{}, worst: map[int64]DeadlineRisk{}, warned: map[int64]int64{}}
	if p != nil {
		for _, d := range p.deadlines {
			f.left[d.UnixMilli()] = p.counts[d.UnixMilli()]
			f.order = append(f.order, d)
		}
		slices.SortFunc(f.order, func(a, b time.Time) int { return a.Compare(b) })
	}
	return f
}

// start runs the forecast every f.every until the returned stop is called.
func (f *forecaster) start() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// The first forecast comes after a couple of seconds of answers.
		t := time.NewTimer(min(2*time.Second, f.every))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f.check()
				t.Reset(f.every)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// settle counts one row that left the queue (sent or given up on).
func (f *forecaster) settle(o *outcome) {
	now := f.r.clock.Now()
	sec := now.Unix()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.first.IsZero() {
		f.first = now
	}
	i := sec % forecastSpan
	if f.secs[i] != sec {
		f.secs[i], f.settled[i] = sec, 0
	}
	f.settled[i]++
	if !o.deadline.IsZero() {
		if n, ok := f.left[o.deadline.UnixMilli()]; ok && n > 0 {
			f.left[o.deadline.UnixMilli()] = n - 1
		}
	}
}

// rate is the rows settled per second over the last forecastSpan seconds
// (or since the first, if sooner); ok false before there is enough to say.
func (f *forecaster) rate(now time.Time) (float64, bool) {
	if f.first.IsZero() {
		return 0, false
	}
	span := min(now.Sub(f.first).Seconds(), forecastSpan)
	if span < 1 {
		return 0, false
	}
	var n int64
	sec := now.Unix()
	for i := range forecastSpan {
		if s := f.secs[i]; s > sec-forecastSpan && s <= sec {
			n += f.settled[i]
		}
	}
	return float64(n) / span, true
}

// check recomputes the forecast, logs a warning for a deadline newly at
// risk (or at twice the risk last warned of), and publishes the nearest
// deadline and the rows at risk for the progress display.
func (f *forecaster) check() {
	now := f.r.clock.Now()
	f.mu.Lock()
	rate, ok := f.rate(now)
	if !ok {
		f.mu.Unlock()
		return
	}
	risks := atRisk(now, rate, f.order, f.left, f.byDeadline)
	lat := f.r.stats.meanLatency()
	var warn []DeadlineRisk
	var total int64
	nearest := int64(0)
	for _, k := range risks {
		k.LatencyMS = float64(lat.Microseconds()) / 1000
		ms := k.Deadline.UnixMilli()
		if nearest == 0 && k.RowsLeft > 0 {
			nearest = ms
		}
		total += k.RowsAtRisk
		if k.RowsAtRisk > f.worst[ms].RowsAtRisk {
			f.worst[ms] = k
		}
		if k.RowsAtRisk > 0 && k.RowsAtRisk >= 2*f.warned[ms] {
			f.warned[ms] = k.RowsAtRisk
			warn = append(warn, k)
		}
	}
	f.mu.Unlock()
	f.r.stats.nearestDeadline.Store(nearest)
	f.r.stats.rowsAtRisk.Store(total)
	for _, k := range warn {
		f.r.log.Warn(fmt.Sprintf("deadline forecast: %d of the %d rows left for the deadline %s will miss it at the rate this run measures; raise --rate if the API allows it, or start earlier",
			k.RowsAtRisk, k.RowsLeft, k.Deadline.In(f.r.loc).Format("2006-01-02 15:04 MST")),
			"deadline", k.Deadline.In(f.r.loc).Format(time.RFC3339), "time_left", k.Deadline.Sub(now).Round(time.Second).String(),
			"rows_at_risk", k.RowsAtRisk, "rows_left", k.RowsLeft,
			"measured_rows_per_second", math.Round(k.Rate*10)/10, "latency_ms", math.Round(k.LatencyMS),
			"in_flight", f.r.stats.inFlight.Load())
	}
}

// atRisk forecasts, for each deadline with rows left, how many would be
// sent after it at rate rows/s. In deadline order the rows of nearer
// deadlines go first; in input order the deadlines' rows are mixed, so each
// deadline gets its share of the rate.
func atRisk(now time.Time, rate float64, order []time.Time, left map[int64]int64, byDeadline bool) []DeadlineRisk {
	var total int64
	for _, d := range order {
		total += left[d.UnixMilli()]
	}
	var out []DeadlineRisk
	var before int64 // rows sent ahead of this deadline's (deadline order)
	for _, d := range order {
		n := left[d.UnixMilli()]
		if n == 0 {
			continue
		}
		canSend := math.Max(0, d.Sub(now).Seconds()) * rate // rows the run sends before d
		var risk int64
		if byDeadline {
			risk = n - clamp(int64(canSend)-before, 0, n)
			before += n - risk // rows that miss their deadline are never sent
		} else {
			risk = n - clamp(int64(float64(n)*math.Min(1, canSend/float64(total))), 0, n)
		}
		out = append(out, DeadlineRisk{Deadline: d, RowsLeft: n, RowsAtRisk: risk, Rate: rate, At: now})
	}
	return out
}

func clamp(v, lo, hi int64) int64 { return max(lo, min(v, hi)) }

// final puts the forecasts that showed a risk into the summary: the worst
// seen for each deadline.
func (f *forecaster) final(s *Summary) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.worst {
		if k.RowsAtRisk > 0 {
			s.DeadlineRisks = append(s.DeadlineRisks, k)
		}
	}
	slices.SortFunc(s.DeadlineRisks, func(a, b DeadlineRisk) int { return a.Deadline.Compare(b.Deadline) })
	for _, k := range s.DeadlineRisks {
		s.Warnings = append(s.Warnings, fmt.Sprintf("deadline forecast: %d of %d rows due by %s were forecast to miss it at the %.1f rows/s measured (round trip %.0f ms)",
			k.RowsAtRisk, k.RowsLeft, k.Deadline.In(f.r.loc).Format("2006-01-02 15:04 MST"), k.Rate, k.LatencyMS))
	}
}
