package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		Concurrency: 4,
		Sleep:       func(context.Context, time.Duration) error { return nil },
	}
}

func accept(_ context.Context, _ []byte) Response {
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
	return SenderFunc(func(_ context.Context, body []byte) Response {
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
			var slept []time.Duration
			var mu sync.Mutex
			o := baseOpts(ids(5), s, res)
			o.MaxRetries = tt.retries
			o.Sleep = func(_ context.Context, d time.Duration) error {
				mu.Lock()
				slept = append(slept, d)
				mu.Unlock()
				return nil
			}
			_, err := Run(context.Background(), o)
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
	s := SenderFunc(func(context.Context, []byte) Response {
		sent.Add(1)
		return Response{Status: 401, Message: "unauthorized"}
	})
	res := &memResults{}
	o := baseOpts(ids(2000), s, res)
	o.Concurrency = 8
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.LessOrEqual(t, int(sent.Load()), o.Concurrency, "stops within one request per worker")
	assert.NotEmpty(t, sum.Aborted)
	assert.Len(t, res.byRow(), 2000, "every row still has its line")
	assert.EqualValues(t, 2000-int(sent.Load()), sum.Counts[StatusNotSent])
	assert.Contains(t, res.byRow()[2000].Reason, "401")
}

func TestRunInterruptReportsReadRows(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	s := SenderFunc(func(context.Context, []byte) Response {
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
	require.NotNil(t, sum.StoppedReading, "the summary says where reading stopped")
	assert.Equal(t, "in.csv", sum.StoppedReading.File)
	assert.Positive(t, sum.StoppedReading.Row)
	assert.Less(t, sum.StoppedReading.Row, int64(100000))
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
	s := SenderFunc(func(_ context.Context, b []byte) Response {
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
	o.Now = func() time.Time { return now }
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
	s := SenderFunc(func(context.Context, []byte) Response { n.Add(1); return Response{Status: 202} })
	res := &memResults{}
	o := baseOpts(ids(60), s, res)
	o.Rate, o.Burst, o.Concurrency = 50, 1, 4
	start := time.Now()
	_, err := Run(context.Background(), o)
	require.NoError(t, err)
	el := time.Since(start)
	assert.GreaterOrEqual(t, el, 1100*time.Millisecond, "limiter is shared across workers")
	assert.Less(t, el, 5*time.Second)
}

func TestPacerSlowsOnA429StormAndRecovers(t *testing.T) {
	now := time.Unix(0, 0)
	p := newPacer(1000, 10, func() time.Time { return now })
	window := func(answers, throttled int) {
		for i := range answers {
			p.Answered(i < throttled)
		}
		now = now.Add(pacerWindow)
		p.Answered(false) // closes the window
	}
	window(100, 50) // a storm: half the answers are 429
	assert.InDelta(t, 750, p.Limit(), 1, "slowed down")
	window(100, 60)
	assert.InDelta(t, 562.5, p.Limit(), 1, "slowed down again")
	for range 20 {
		window(100, 5) // 5%: scattered 429s are not a storm
	}
	assert.InDelta(t, 1000, p.Limit(), 1, "back to the ceiling, and not above")
	for range 10 {
		window(100, 5)
	}
	assert.InDelta(t, 1000, p.Limit(), 1, "steady 5% 429s keep the rate")
	for range 40 {
		window(100, 100)
	}
	assert.InDelta(t, 1000.0/64, p.Limit(), 1, "never below the floor")
}

func TestClassify(t *testing.T) {
	for st, want := range map[int]verdict{202: vAccepted, 200: vAccepted, 400: vRejected, 415: vRejected,
		404: vRejected, 401: vAbort, 403: vAbort, 429: vRetry, 408: vRetry, 500: vRetry, 503: vRetry} {
		assert.Equal(t, want, classify(Response{Status: st}), st)
	}
	assert.Equal(t, vRetry, classify(Response{Err: io.EOF}))
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	d, ok := parseRetryAfter("2", now)
	assert.True(t, ok)
	assert.Equal(t, 2*time.Second, d)
	d, ok = parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now)
	assert.True(t, ok)
	assert.Equal(t, 90*time.Second, d)
	_, ok = parseRetryAfter("soon", now)
	assert.False(t, ok)
	_, ok = parseRetryAfter("-1", now)
	assert.False(t, ok)
}
