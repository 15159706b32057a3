package importer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"afimport/importer/s2s"
	"afimport/mappings"
)

// throttlingAPI answers 202 up to limit requests/s (burst limit/10) and 429
// with Retry-After: 1 beyond it, as the mock's --rate-limit does, and
// counts what it saw.
type throttlingAPI struct {
	lim       *rate.Limiter
	requests  atomic.Int64
	throttled atomic.Int64
	mu        sync.Mutex
	accepted  map[string]int
}

func newThrottlingAPI(limit float64) *throttlingAPI {
	return &throttlingAPI{lim: rate.NewLimiter(rate.Limit(limit), max(1, int(limit/10))), accepted: map[string]int{}}
}

func (a *throttlingAPI) Send(_ context.Context, _ string, body []byte) Response {
	a.requests.Add(1)
	if !a.lim.Allow() {
		a.throttled.Add(1)
		return Response{Status: 429, RetryAfter: time.Second, HasRetryAfter: true, Reached: true}
	}
	a.mu.Lock()
	a.accepted[string(body)]++
	a.mu.Unlock()
	return Response{Status: 202, Reached: true}
}

func TestThrottledRowsWaitAndNeverFail(t *testing.T) {
	api := newThrottlingAPI(200)
	res := &memResults{}
	o := baseOpts(ids(800), api, res)
	o.Clock = RealClock{}
	o.Rate, o.Burst, o.MaxInFlight = 1000, 20, 64
	o.MaxRetries = 1 // 429s must not count against it
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.EqualValues(t, 800, sum.Counts[StatusAccepted], "%v", sum.Reasons)
	assert.Zero(t, sum.Counts[StatusFailed])
	assert.Len(t, api.accepted, 800)
	for body, n := range api.accepted {
		assert.Equal(t, 1, n, "accepted once: %s", body)
	}
	share := float64(api.throttled.Load()) / float64(api.requests.Load())
	t.Logf("%d requests, %.1f%% 429s, %s", api.requests.Load(), 100*share, sum.Elapsed())
	assert.Less(t, share, 0.35, "the pacer finds the limit instead of hammering it")
}

func TestOutageStopsTheRun(t *testing.T) {
	// A port nobody listens on: connection refused, at once, every time.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	client, err := s2s.NewClient(s2s.Options{Endpoint: "http://" + addr, AppID: "a", Kind: mappings.EndpointEvent, Token: "tok-0123456789"})
	require.NoError(t, err)
	var attempts atomic.Int64
	counting := SenderFunc(func(ctx context.Context, app string, body []byte) Response {
		attempts.Add(1)
		return client.Send(ctx, app, body)
	})
	res := &memResults{}
	o := baseOpts(ids(5000), counting, res)
	o.Clock = RealClock{}
	o.Backoff = Backoff{Base: time.Millisecond, Max: 20 * time.Millisecond}
	o.OutageAfter = 500 * time.Millisecond
	start := time.Now()
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Contains(t, sum.Unreachable, "connection refused")
	assert.NotContains(t, sum.Unreachable, addr, "no address in the reason")
	assert.EqualValues(t, 5000, sum.Counts[StatusNotSent], "%v", sum.Counts)
	assert.Less(t, attempts.Load(), int64(200), "the breaker holds the rows back")
	for _, r := range res.all {
		assert.Equal(t, StatusNotSent, r.Status)
	}
}

func TestRetryAfterIsCappedAndNeverPastTheDeadline(t *testing.T) {
	now := time.Date(2026, 11, 28, 0, 29, 0, 0, time.UTC) // deadline of the 27th's rows: 00:30
	ts := fmt.Sprint(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).UnixMilli())
	var n atomic.Int64
	s := SenderFunc(func(context.Context, string, []byte) Response {
		if n.Add(1) <= 2 {
			return Response{Status: 429, RetryAfter: time.Hour, HasRetryAfter: true, Reached: true}
		}
		return Response{Status: 202}
	})
	res := &memResults{}
	clock := &fakeClock{now: func() time.Time { return now }}
	o := baseOpts([][]string{{"u1", ""}, {"u2", ts}}, s, res)
	o.MaxInFlight = 1
	o.Clock = clock
	o.MaxRetryAfter = 2 * time.Second
	o.Order = OrderInput
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	got := res.byRow()
	assert.Equal(t, StatusAccepted, got[1].Status, "a row without a timestamp waits the capped time")
	for _, d := range clock.sleeps() {
		assert.LessOrEqual(t, d, 2200*time.Millisecond, "Retry-After: 3600 is capped")
	}
	// The second row's deadline is a minute away: with the cap raised to an
	// hour, it cannot be retried in time.
	n.Store(0)
	res = &memResults{}
	o.Results = res
	o.MaxRetryAfter = time.Hour
	sum, err = Run(context.Background(), o)
	require.NoError(t, err)
	got = res.byRow()
	assert.Equal(t, StatusLate, got[2].Status)
	assert.Contains(t, got[2].Reason, "throttled")
	assert.NotContains(t, got[2].Reason, "past the acceptance window", "not worded as a row late in the input")
	_ = sum
}

// logRecorder keeps every log record with the time it was logged.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) first(msg string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if strings.Contains(r.Message, msg) {
			return r.Time, true
		}
	}
	return time.Time{}, false
}

// timedResults notes when the first row of a status was written.
type timedResults struct {
	memResults
	firstLate time.Time
}

func (t *timedResults) Write(r *Result) error {
	if r.Status == StatusLate && t.firstLate.IsZero() {
		t.firstLate = time.Now()
	}
	return t.memResults.Write(r)
}

func TestForecastWarnsBeforeRowsGoLate(t *testing.T) {
	// The API takes 20 rows/s; 200 rows are due by a deadline 4 s away
	// (the clock is moved to 00:29:56): the run cannot make it, and must
	// say so before the first row goes late.
	deadline := time.Date(2026, 11, 28, 0, 30, 0, 0, time.UTC)
	ts := fmt.Sprint(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).UnixMilli())
	rows := ids(200)
	for i := range rows {
		rows[i][1] = ts
	}
	api := newThrottlingAPI(20)
	res := &timedResults{}
	logs := &logRecorder{}
	o := baseOpts(rows, api, nil)
	o.Results = res
	o.Clock = OffsetClock(time.Until(deadline.Add(-4 * time.Second)))
	o.Rate, o.Burst, o.MaxInFlight = 1000, 10, 16
	o.Preflight = true
	o.Order = OrderInput
	o.ForecastEvery = 300 * time.Millisecond
	o.Logger = slog.New(logs)
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	require.NotZero(t, sum.Counts[StatusLate], "the deadline passed with rows left")
	warned, ok := logs.first("deadline forecast")
	require.True(t, ok, "a forecast warning was logged")
	assert.True(t, warned.Before(res.firstLate), "warned at %s, first late row at %s", warned, res.firstLate)
	require.NotEmpty(t, sum.DeadlineRisks)
	assert.Equal(t, deadline, sum.DeadlineRisks[0].Deadline.UTC())
	assert.Positive(t, sum.DeadlineRisks[0].RowsAtRisk)
	assert.Less(t, sum.DeadlineRisks[0].Rate, 40.0, "the measured rate, not --rate")
}

func TestAtRiskByOrder(t *testing.T) {
	now := time.Unix(0, 0)
	d1, d2 := now.Add(10*time.Second), now.Add(100*time.Second)
	left := map[int64]int64{d1.UnixMilli(): 100, d2.UnixMilli(): 1000}
	order := []time.Time{d1, d2}
	mixed := atRisk(now, 20, order, left, false)
	require.Len(t, mixed, 2)
	// In input order the near deadline gets 100/1100 of 20 rows/s for 10 s.
	assert.EqualValues(t, 82, mixed[0].RowsAtRisk)
	assert.EqualValues(t, 0, mixed[1].RowsAtRisk)
	ordered := atRisk(now, 20, order, left, true)
	assert.EqualValues(t, 0, ordered[0].RowsAtRisk)
	assert.EqualValues(t, 0, ordered[1].RowsAtRisk)
	// Too slow for either order: deadline order still loses fewer.
	slow := atRisk(now, 5, order, left, true)
	assert.EqualValues(t, 50, slow[0].RowsAtRisk, "10 s × 5/s = 50 of 100 sent in time")
	assert.EqualValues(t, 550, slow[1].RowsAtRisk, "500 rows in 100 s, 50 of them the near deadline's; its late rows are not sent")

	r := &run{opts: Options{Rate: 40}, clock: &fakeClock{now: func() time.Time { return now }},
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	p := newPlan()
	p.add(d2, 1000)
	p.add(d1, 100)
	assert.True(t, r.orderSaves(p), "input order would lose rows of the near deadline")
	r.opts.Rate = 100000
	assert.False(t, r.orderSaves(p), "at this rate every row makes it in any order")
}
