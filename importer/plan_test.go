package importer

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/readers"
)

func TestOrderByDeadline(t *testing.T) {
	// now is 00:10 UTC: yesterday's rows expire at 00:30 today, today's
	// tomorrow at 00:30, and rows without a timestamp never.
	now := time.Date(2026, 11, 27, 0, 10, 0, 0, time.UTC)
	yesterday := fmt.Sprint(now.Add(-2 * time.Hour).UnixMilli())
	today := fmt.Sprint(now.Add(-5 * time.Minute).UnixMilli())
	old := fmt.Sprint(now.Add(-72 * time.Hour).UnixMilli())
	var rows [][]string
	for i := range 60 {
		ts := []string{today, yesterday, "", old}[i%4]
		id := fmt.Sprintf("u%d", i+1)
		if i%10 == 9 {
			id = "bad"
		}
		rows = append(rows, []string{id, ts})
	}
	var mu sync.Mutex
	var order []string
	s := SenderFunc(func(_ context.Context, _ string, b []byte) Response {
		mu.Lock()
		order = append(order, string(b))
		mu.Unlock()
		return Response{Status: 202}
	})
	res := &memResults{}
	o := baseOpts(rows, s, res)
	o.Clock = &fakeClock{now: func() time.Time { return now }}
	o.Order = OrderByDeadline
	o.MaxInFlight = 1
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Len(t, res.byRow(), 60, "every row exactly once across passes")
	assert.Len(t, res.all, 60)
	// Sent order: every yesterday row before any today row before any
	// untimed row.
	tsOf := map[string]string{}
	for _, r := range rows {
		tsOf[`{"id":"`+r[0]+`"}`] = r[1]
	}
	rank := map[string]int{yesterday: 0, today: 1, "": 2}
	last := 0
	for _, b := range order {
		k := rank[tsOf[b]]
		assert.GreaterOrEqual(t, k, last, "sent out of deadline order")
		last = k
	}
	assert.EqualValues(t, 12, sum.Counts[StatusLate]) // 15 old rows, 3 of them also invalid
	assert.EqualValues(t, 6, sum.Counts[StatusInvalid])
	assert.EqualValues(t, 42, sum.Counts[StatusAccepted])
}

func TestPreflightWarnsWhenRunOutlastsDeadline(t *testing.T) {
	now := time.Now()
	// Rows stamped yesterday 23:59 UTC expire today 00:30 UTC; make "now"
	// 00:29:50 so only 10 s remain for 200 rows at 10/s.
	now = time.Date(now.Year(), now.Month(), now.Day(), 0, 29, 50, 0, time.UTC)
	ts := fmt.Sprint(now.Add(-31 * time.Minute).UnixMilli())
	rows := make([][]string, 200)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("u%d", i), ts}
	}
	res := &memResults{}
	o := baseOpts(rows, SenderFunc(accept), res)
	o.Clock = &fakeClock{now: func() time.Time { return now }}
	// A dry run computes the warning from its own counts.
	o.DryRun, o.Rate = true, 10
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	require.NotEmpty(t, sum.Warnings)
	assert.Contains(t, sum.Warnings[0], "--order-by-deadline")
	assert.Contains(t, sum.Warnings[0], "200 sendable rows")

	// A live run warns before sending: the warning exists even though
	// the sender fails the run at once.
	res = &memResults{}
	o = baseOpts(rows, SenderFunc(func(context.Context, string, []byte) Response { return Response{Status: 401} }), res)
	o.Clock = &fakeClock{now: func() time.Time { return now }}
	o.Preflight, o.Rate, o.Burst = true, 10, 10
	sum, err = Run(context.Background(), o)
	require.NoError(t, err)
	require.NotEmpty(t, sum.Warnings)
}

func TestPreflightRefusesChangedInputBeforeSending(t *testing.T) {
	var sent int
	s := SenderFunc(func(context.Context, string, []byte) Response { sent++; return Response{Status: 202} })
	res := &memResults{}
	rows := ids(50)
	o := baseOpts(rows, s, res)
	h := rowHash([]readers.Value{readers.String("u1"), readers.String("")})
	// Row 1 matches; row 40 was different when the report was written.
	o.Checkpoint = mapCheckpoint{1: {"failed", h}, 40: {"accepted", "0123456789abcdef"}}
	o.Preflight = true
	_, err := Run(context.Background(), o)
	require.ErrorIs(t, err, ErrInputChanged)
	assert.Zero(t, sent, "nothing sent")
}

// timedMapper is fakeMapper that can evaluate a row's timestamp alone, as
// *mappings.Mapping can.
type timedMapper struct{ fakeMapper }

func (timedMapper) Timestamp(v []readers.Value) (int64, bool, error) {
	if v[1].Kind != readers.KindString || v[1].S == "" {
		return 0, false, nil
	}
	var ms int64
	_, err := fmt.Sscan(v[1].S, &ms)
	return ms, err == nil, err
}

// TestPreflightEstimate: without resume, shards or passes, the preflight
// reads timestamps only, so rows invalid for another reason are counted
// (the warning says "up to"); with --resume it maps rows exactly.
func TestPreflightEstimate(t *testing.T) {
	now := time.Now()
	now = time.Date(now.Year(), now.Month(), now.Day(), 0, 29, 50, 0, time.UTC)
	ts := fmt.Sprint(now.Add(-31 * time.Minute).UnixMilli())
	rows := make([][]string, 200)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("u%d", i), ts}
		if i%4 == 0 {
			rows[i][0] = "bad" // invalid, but its timestamp is fine
		}
	}
	rows = append(rows, []string{"u-untimed", ""})
	var sent atomic.Int64
	fail := SenderFunc(func(context.Context, string, []byte) Response { sent.Add(1); return Response{Status: 401} })

	for _, tt := range []struct {
		name   string
		mapper Mapper
		resume bool
		want   string
	}{
		{"timestamps only", timedMapper{}, false, "up to 201 sendable rows"},
		{"whole rows on resume", timedMapper{}, true, "the 151 sendable rows"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := baseOpts(rows, fail, &memResults{})
			o.Mapping = tt.mapper
			if tt.resume {
				o.Checkpoint = mapCheckpoint{}
			}
			o.Clock = &fakeClock{now: func() time.Time { return now }}
			o.Preflight, o.Rate, o.Burst = true, 10, 10
			sum, err := Run(context.Background(), o)
			require.NoError(t, err)
			require.NotEmpty(t, sum.Warnings)
			assert.Contains(t, sum.Warnings[0], tt.want)
			assert.EqualValues(t, 201, sum.Rows, "every row still gets its line")
		})
	}
}
