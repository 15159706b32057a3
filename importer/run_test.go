package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"afimport/mappings"
	"afimport/readers"
)

// fakeMapper maps column "id" to a body; a value "bad" is invalid; column
// "ts" (Unix ms text, optional) is the timestamp.
type fakeMapper struct{}

func (fakeMapper) Columns() []string { return []string{"id", "ts"} }

func (fakeMapper) Apply(v []readers.Value) (*mappings.Payload, error) {
	if v[0].S == "bad" {
		return nil, &mappings.FieldError{Field: "user_id.customer_user_id", Column: "id", Rule: "required", Err: errors.New("missing")}
	}
	p := &mappings.Payload{Body: []byte(`{"id":"` + v[0].S + `"}`), DedupID: "d-" + v[0].S}
	if v[1].Kind == readers.KindString && v[1].S != "" {
		var ms int64
		fmt.Sscan(v[1].S, &ms)
		p.Timestamp, p.HasTimestamp = ms, true
	}
	return p, nil
}

func (m fakeMapper) Check(v []readers.Value) (*mappings.Payload, error) { return m.Apply(v) }

func (m fakeMapper) Timestamp(v []readers.Value) (int64, bool, error) { return timestampOf(m, v) }

// timestampOf is Mapper.Timestamp for a test mapper: Apply's timestamp.
func timestampOf(m Mapper, v []readers.Value) (int64, bool, error) {
	p, err := m.Apply(v)
	if err != nil {
		return 0, false, err
	}
	return p.Timestamp, p.HasTimestamp, nil
}

// sliceReader yields fixed rows.
type sliceReader struct {
	file string
	rows [][]string
	i    int
	err  error // returned after the rows, instead of io.EOF
}

func (s *sliceReader) Header() []string { return []string{"id", "ts"} }
func (s *sliceReader) Close() error     { return nil }
func (s *sliceReader) Next() (readers.Row, error) {
	if s.i >= len(s.rows) {
		if s.err != nil {
			return readers.Row{}, s.err
		}
		return readers.Row{}, io.EOF
	}
	r := s.rows[s.i]
	s.i++
	pos := readers.Pos{File: s.file, Row: int64(s.i)}
	if r[0] == "ragged" {
		return readers.Row{Pos: pos, Err: &readers.RowError{Pos: pos, Err: readers.ErrFieldCount}}, nil
	}
	return readers.Row{Pos: pos, Values: []readers.Value{readers.String(r[0]), readers.String(r[1])}}, nil
}

func ids(n int) [][]string {
	out := make([][]string, n)
	for i := range out {
		out[i] = []string{fmt.Sprintf("u%d", i+1), ""}
	}
	return out
}

type memResults struct {
	mu  sync.Mutex
	all []Result
}

func (m *memResults) Write(r *Result) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.all = append(m.all, *r)
	return nil
}

func (m *memResults) Flush() error { return nil }

func (m *memResults) byRow() map[int64]Result {
	out := map[int64]Result{}
	for _, r := range m.all {
		out[r.Pos.Row] = r
	}
	return out
}

func baseOpts(rows [][]string, s Sender, res *memResults) Options {
	files := map[string]*sliceReader{"in.csv": {file: "in.csv", rows: rows}}
	return Options{
		Mapping: fakeMapper{},
		Inputs:  []string{"in.csv"},
		Open: func(path string, _ readers.Options) (readers.Reader, error) {
			if r, ok := files[path]; ok {
				fresh := *r // a new reader per Open, as readers.Open gives
				return &fresh, nil
			}
			return nil, fmt.Errorf("open %s: no such file", path)
		},
		Sender:      s,
		Results:     res,
		MaxInFlight: 4,
		Clock:       &fakeClock{},
	}
}

// fakeClock reads now (default: the wall clock) and records every wait,
// returning at once; with real set it waits for real.
type fakeClock struct {
	now   func() time.Time
	real  bool
	mu    sync.Mutex
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.real {
		return sleepCtx(ctx, d)
	}
	c.mu.Lock()
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

func accept(context.Context, string, []byte) Response {
	return Response{Status: 202, MessageID: "m"}
}

func TestRunEveryRowOnce(t *testing.T) {
	rows := ids(300)
	rows[10] = []string{"bad", ""}
	rows[20] = []string{"ragged", ""}
	res := &memResults{}
	sum, err := Run(context.Background(), baseOpts(rows, SenderFunc(accept), res))
	require.NoError(t, err)
	require.Len(t, res.all, 300)
	got := res.byRow()
	require.Len(t, got, 300, "one line per row")
	assert.Equal(t, StatusInvalid, got[11].Status)
	assert.Contains(t, got[11].Reason, `"id"`)
	assert.Equal(t, StatusInvalid, got[21].Status)
	assert.Equal(t, StatusAccepted, got[1].Status)
	assert.Equal(t, 1, got[1].Attempts)
	assert.Equal(t, "d-u1", got[1].DedupID)
	assert.Len(t, got[1].RowHash, 16)
	assert.EqualValues(t, 298, sum.Counts[StatusAccepted])
	assert.EqualValues(t, 2, sum.Counts[StatusInvalid])
	assert.EqualValues(t, 300, sum.Rows)
}

func TestRunDryRunSendsNothing(t *testing.T) {
	res := &memResults{}
	o := baseOpts(ids(50), nil, res)
	o.DryRun = true
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.EqualValues(t, 50, sum.Counts[StatusValid])
}

// scripted answers per body: the n-th attempt of a body gets script[n].
func scripted(script ...Response) (Sender, *sync.Map) {
	var attempts sync.Map
	return SenderFunc(func(_ context.Context, _ string, body []byte) Response {
		v, _ := attempts.LoadOrStore(string(body), new(atomic.Int32))
		n := int(v.(*atomic.Int32).Add(1)) - 1
		if n < len(script) {
			return script[n]
		}
		return Response{Status: 202, MessageID: "ok"}
	}), &attempts
}

func TestRunRetries(t *testing.T) {
	tests := []struct {
		name     string
		script   []Response
		retries  int
		status   Status
		attempts int
		http     int
	}{
		{"429 then 202", []Response{{Status: 429, RetryAfter: 2 * time.Second, HasRetryAfter: true}}, 5, StatusAccepted, 2, 202},
		{"500 x3 then 202", []Response{{Status: 500}, {Status: 500}, {Status: 500}}, 5, StatusAccepted, 4, 202},
		{"dropped then 202", []Response{{Err: io.ErrUnexpectedEOF}}, 5, StatusAccepted, 2, 202},
		{"400 is final", []Response{{Status: 400, Message: "event_name: required"}}, 5, StatusRejected, 1, 400},
		{"415 is final", []Response{{Status: 415}}, 5, StatusRejected, 1, 415},
		{"retries run out", []Response{{Status: 503}, {Status: 503}, {Status: 503}}, 2, StatusFailed, 3, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := scripted(tt.script...)
			res := &memResults{}
			clock := &fakeClock{}
			o := baseOpts(ids(5), s, res)
			o.MaxRetries = tt.retries
			o.Clock = clock
			_, err := Run(context.Background(), o)
			slept := clock.sleeps()
			require.NoError(t, err)
			for _, r := range res.all {
				assert.Equal(t, tt.status, r.Status, r.Reason)
				assert.Equal(t, tt.attempts, r.Attempts)
				assert.Equal(t, tt.http, r.HTTPStatus)
			}
			if tt.script[0].HasRetryAfter {
				require.Len(t, slept, 5)
				for _, d := range slept {
					assert.GreaterOrEqual(t, d, 2*time.Second, "Retry-After honoured")
				}
			}
		})
	}
}

func TestRunAbortsOn401WithinBound(t *testing.T) {
	var sent atomic.Int32
	s := SenderFunc(func(context.Context, string, []byte) Response {
		sent.Add(1)
		return Response{Status: 401, Message: "unauthorized"}
	})
	res := &memResults{}
	o := baseOpts(ids(2000), s, res)
	o.MaxInFlight = 8
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.LessOrEqual(t, int(sent.Load()), o.MaxInFlight, "stops within the requests in flight")
	assert.NotEmpty(t, sum.Aborted)
	assert.Len(t, res.byRow(), 2000, "every row still has its line")
	assert.EqualValues(t, 2000-int(sent.Load()), sum.Counts[StatusNotSent])
	assert.Contains(t, res.byRow()[2000].Reason, "401")
}

func TestRunInterruptReportsReadRows(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	s := SenderFunc(func(context.Context, string, []byte) Response {
		if n.Add(1) == 50 {
			cancel()
		}
		return Response{Status: 202}
	})
	res := &memResults{}
	o := baseOpts(ids(100000), s, res)
	sum, err := Run(ctx, o)
	require.NoError(t, err)
	assert.True(t, sum.Interrupted)
	assert.Less(t, sum.Rows, int64(100000), "stopped reading")
	got := res.byRow()
	assert.Len(t, got, int(sum.Rows), "each row read has exactly one line")
	assert.EqualValues(t, n.Load(), sum.Counts[StatusAccepted])
	assert.EqualValues(t, sum.Rows-int64(n.Load()), sum.Counts[StatusNotSent])
}

type mapCheckpoint map[int64][2]string

func (m mapCheckpoint) Lookup(p readers.Pos) (Status, string, bool) {
	v, ok := m[p.Row]
	return Status(v[0]), v[1], ok
}

func TestRunResume(t *testing.T) {
	rows := ids(10)
	hash := func(i int) string {
		return rowHash([]readers.Value{readers.String(rows[i][0]), readers.String(rows[i][1])})
	}
	var sent sync.Map
	s := SenderFunc(func(_ context.Context, _ string, b []byte) Response {
		sent.Store(string(b), true)
		return Response{Status: 202}
	})
	t.Run("skips accepted, retries the rest", func(t *testing.T) {
		res := &memResults{}
		o := baseOpts(rows, s, res)
		o.Checkpoint = mapCheckpoint{1: {"accepted", hash(0)}, 2: {"failed", hash(1)}}
		sum, err := Run(context.Background(), o)
		require.NoError(t, err)
		assert.Equal(t, StatusSkipped, res.byRow()[1].Status)
		assert.Equal(t, StatusAccepted, res.byRow()[2].Status)
		assert.EqualValues(t, 9, sum.Counts[StatusAccepted])
		_, resent := sent.Load(`{"id":"u1"}`)
		assert.False(t, resent)
	})
	t.Run("changed input is refused", func(t *testing.T) {
		res := &memResults{}
		o := baseOpts(rows, s, res)
		o.Checkpoint = mapCheckpoint{1: {"accepted", "0000000000000000"}}
		_, err := Run(context.Background(), o)
		require.ErrorIs(t, err, ErrInputChanged)
	})
}

func TestRunFileErrorsDoNotStopOthers(t *testing.T) {
	res := &memResults{}
	o := baseOpts(ids(3), SenderFunc(accept), res)
	open := o.Open
	o.Open = func(p string, ro readers.Options) (readers.Reader, error) {
		if p == "b.csv" {
			return &sliceReader{file: "b.csv", rows: ids(2), err: errors.New("unexpected EOF in gzip stream")}, nil
		}
		return open(p, ro)
	}
	o.Inputs = []string{"missing.csv", "b.csv", "in.csv"}
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	require.Len(t, sum.FailedFiles, 2)
	assert.Equal(t, "missing.csv", sum.FailedFiles[0].File)
	assert.Equal(t, "b.csv", sum.FailedFiles[1].File)
	assert.EqualValues(t, 5, sum.Counts[StatusAccepted])
}

func TestRunMissingColumnIsFatalUpFront(t *testing.T) {
	res := &memResults{}
	o := baseOpts(ids(3), SenderFunc(accept), res)
	o.Open = func(string, readers.Options) (readers.Reader, error) {
		return nil, &readers.MissingColumnError{File: "in.csv", Columns: []string{"ts"}}
	}
	_, err := Run(context.Background(), o)
	var mc *readers.MissingColumnError
	require.ErrorAs(t, err, &mc)
}

func TestRunWindow(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	ms := func(t time.Time) string { return fmt.Sprint(t.UnixMilli()) }
	rows := [][]string{
		{"a", ms(now.Add(-time.Hour))},                            // today: in window
		{"b", ms(now.Add(-48 * time.Hour))},                       // two days ago: late
		{"c", ms(now.Add(time.Hour))},                             // future beyond skew
		{"d", ""},                                                 // no timestamp: always in
		{"e", ms(time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC))}, // yesterday, deadline 00:30 today passed
	}
	res := &memResults{}
	o := baseOpts(rows, nil, res)
	o.DryRun = true
	o.Clock = &fakeClock{now: func() time.Time { return now }}
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	got := res.byRow()
	assert.Equal(t, StatusValid, got[1].Status)
	assert.Equal(t, StatusLate, got[2].Status)
	assert.Contains(t, got[2].Reason, "UTC")
	assert.Equal(t, StatusFuture, got[3].Status)
	assert.Equal(t, StatusValid, got[4].Status)
	assert.Equal(t, StatusLate, got[5].Status)
	assert.Equal(t, time.Date(2026, 11, 28, 0, 30, 0, 0, time.UTC), sum.EarliestDeadline.UTC())
}

func TestPacerShared(t *testing.T) {
	// 4 workers, rate 50/s, burst 1: 60 requests take about 1.2 s, not 0.3.
	var n atomic.Int32
	s := SenderFunc(func(context.Context, string, []byte) Response { n.Add(1); return Response{Status: 202} })
	res := &memResults{}
	o := baseOpts(ids(60), s, res)
	o.Rate, o.Burst, o.MaxInFlight = 50, 1, 4
	o.Clock = RealClock{}
	start := time.Now()
	_, err := Run(context.Background(), o)
	require.NoError(t, err)
	el := time.Since(start)
	assert.GreaterOrEqual(t, el, 1100*time.Millisecond, "limiter is shared across workers")
	assert.Less(t, el, 5*time.Second)
}

// simClock is virtual time: Sleep moves it on at once.
type simClock struct{ now time.Time }

func (c *simClock) Now() time.Time { return c.now }
func (c *simClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return nil
}

// simulate runs the pacer against a server that accepts limit requests/s
// (a token bucket, burst limit/10, as the mock has) and answers 429 to a
// random share p429 of the rest, for dur of virtual time. Answers arrive
// after rtt.
func simulate(t *testing.T, ceiling, limit, p429 float64, rtt, dur time.Duration) (delivered float64, share429 float64) {
	t.Helper()
	clock := &simClock{now: time.Unix(0, 0)}
	p := newPacer(ceiling, 10, clock)
	server := rate.NewLimiter(rate.Limit(limit), max(1, int(limit/10)))
	rnd := rand.New(rand.NewPCG(1, 2))
	type answer struct {
		at, sent time.Time
		status   int
	}
	var pending []answer
	var accepted, throttled, total int
	end := clock.now.Add(dur)
	for clock.now.Before(end) {
		require.NoError(t, p.Wait(context.Background()))
		for len(pending) > 0 && !pending[0].at.After(clock.now) {
			p.Answered(pending[0].sent, pending[0].status)
			pending = pending[1:]
		}
		st := 202
		if !server.AllowN(clock.now, 1) || rnd.Float64() < p429 {
			st = 429
			throttled++
		} else {
			accepted++
		}
		total++
		pending = append(pending, answer{clock.now.Add(rtt), clock.now, st})
	}
	return float64(accepted) / dur.Seconds(), float64(throttled) / float64(total)
}

func TestPacerFindsTheServersLimit(t *testing.T) {
	for _, tt := range []struct {
		limit float64
		rtt   time.Duration
		dur   time.Duration
		max   float64 // 429s of all requests, at most
	}{
		{200, time.Millisecond, 50 * time.Second, 0.10},
		{200, 120 * time.Millisecond, 50 * time.Second, 0.10},
		{20, time.Millisecond, 60 * time.Second, 0.25},
		// Over a real round trip, discovery costs ~3 round trips at the
		// full rate before the first 429s are back.
		// (the 25% is for loopback; here ~200 of the ~1,600
		// requests are that discovery).
		{20, 100 * time.Millisecond, 60 * time.Second, 0.30},
		{200, 300 * time.Millisecond, 50 * time.Second, 0.10},
	} {
		t.Run(fmt.Sprintf("%g/s rtt %s", tt.limit, tt.rtt), func(t *testing.T) {
			delivered, share := simulate(t, 1000, tt.limit, 0, tt.rtt, tt.dur)
			assert.GreaterOrEqual(t, delivered, 0.9*tt.limit, "delivers at least 90%% of the limit")
			assert.LessOrEqual(t, share, tt.max, "few 429s")
			t.Logf("delivered %.1f/s of %g, 429s %.1f%%", delivered, tt.limit, 100*share)
		})
	}
}

func TestPacerIgnoresScattered429s(t *testing.T) {
	// The server has room for all, but answers 429 to 5% at random: the
	// run must not slow down.
	delivered, share := simulate(t, 1000, 1e6, 0.05, 20*time.Millisecond, 20*time.Second)
	assert.InDelta(t, 0.05, share, 0.01)
	assert.GreaterOrEqual(t, delivered, 0.93*1000)
}

func TestPacerStormCutsAtOnce(t *testing.T) {
	clock := &simClock{now: time.Unix(0, 0)}
	p := newPacer(1000, 10, clock)
	for range pacerStormSamples {
		p.Answered(clock.now, 429)
	}
	assert.Less(t, p.Limit(), 1000.0, "cut before the window closes")
	assert.GreaterOrEqual(t, p.Limit(), 500.0, "by at most half")
	sentBefore := clock.now
	clock.now = clock.now.Add(time.Second)
	for range 100 {
		p.Answered(sentBefore, 429) // in flight before the cut: ignored
	}
	assert.GreaterOrEqual(t, p.Limit(), 500.0, "answers to requests sent before a cut do not cut again")
}

func TestClassify(t *testing.T) {
	for st, want := range map[int]verdict{202: vAccepted, 200: vAccepted, 400: vRejected, 415: vRejected,
		404: vRejected, 301: vRejected, 307: vRejected, 401: vAbort, 403: vAbort, 429: vThrottled, 408: vRetry, 500: vRetry, 503: vRetry} {
		assert.Equal(t, want, classify(Response{Status: st}), st)
	}
	assert.Equal(t, vRetry, classify(Response{Err: io.EOF}))
}
