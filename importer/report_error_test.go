package importer

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failingResults accepts ok lines, then fails every Write, as a report on
// a full disk does.
type failingResults struct {
	memResults
	ok     int
	failed atomic.Bool
}

var errDiskFull = errors.New("no space left on device")

func (f *failingResults) Write(r *Result) error {
	f.mu.Lock()
	n := len(f.all)
	f.mu.Unlock()
	if n >= f.ok {
		f.failed.Store(true)
		return errDiskFull
	}
	return f.memResults.Write(r)
}

// A report write error stops sending at once: after it, only the requests
// already in flight complete; the run fails with the error.
func TestRunStopsSendingOnReportWriteError(t *testing.T) {
	const concurrency, ok = 4, 50 // requests in flight at most; lines written
	res := &failingResults{ok: ok}
	var sent, sentAfter atomic.Int64
	send := SenderFunc(func(ctx context.Context, app string, body []byte) Response {
		sent.Add(1)
		if res.failed.Load() {
			sentAfter.Add(1)
		}
		// A request takes time, as a real one does: with instant answers the
		// few microseconds between the failed write and the stop that
		// follows it were enough, under -race, for new requests to start.
		time.Sleep(2 * time.Millisecond)
		return accept(ctx, app, body)
	})
	o := baseOpts(ids(2000), send, &res.memResults)
	o.Results = res
	o.MaxInFlight = concurrency
	sum, err := Run(context.Background(), o)
	require.ErrorIs(t, err, errDiskFull)
	require.NotNil(t, sum)
	assert.Len(t, res.all, ok, "the lines written before the error")
	// Sent without a line: the requests that were in flight when the write
	// failed, and those that started before the collector saw it.
	assert.LessOrEqual(t, sent.Load()-ok, int64(2*concurrency), "sent %d rows for %d lines", sent.Load(), ok)
	assert.LessOrEqual(t, sentAfter.Load(), int64(concurrency), "requests started after the failure")
}

// Prepare needs no report: the caller creates it once the checks passed,
// and hands it to Run.
func TestPrepareThenRun(t *testing.T) {
	res := &memResults{}
	o := baseOpts(ids(10), SenderFunc(accept), nil)
	o.Results = nil
	p, err := Prepare(o)
	require.NoError(t, err)
	_, err = p.Run(context.Background(), nil, nil)
	require.Error(t, err, "a run needs its report")
	sum, err := p.Run(context.Background(), res, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 10, sum.Counts[StatusAccepted])
}
