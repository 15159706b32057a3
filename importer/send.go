package importer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"afimport/importer/window"
)

// sendJob is one row on its way to the API, with what its attempts so far
// have taught.
type sendJob struct {
	res      Result
	appID    string // "" for the sender's default app
	body     []byte
	deadline time.Time // zero when the row has no timestamp

	firstSent time.Time // start of the first attempt
	retries   int       // attempts that count against MaxRetries (429s do not)
	throttled int       // 429 answers so far
	reached   bool      // some attempt may have reached a server
	last      Response
}

// dispatch is the open-loop sender: it takes jobs in order, waits for the
// pacer (the one rate every request shares) and for a free in-flight slot,
// and starts each attempt on a goroutine of its own. How many are in
// flight thus follows the latency (Little's law: rate × round trip), up to
// MaxInFlight; the rate does not drop when the round trip grows.
//
// Shutdown is in order: the queue closes (pipeline), dispatch waits for
// every attempt it started, then returns.
func (r *run) dispatch(sendCtx context.Context, queue chan *sendJob, outCh chan<- []outcome) {
	slots := make(chan struct{}, r.opts.MaxInFlight)
	var attempts sync.WaitGroup
	defer attempts.Wait()
	var seed uint64
	for job := range queue {
		if r.stopCtx.Err() != nil {
			r.finish(outCh, r.notSent(*job))
			continue
		}
		if late, ok := r.pastDeadline(job); ok {
			r.finish(outCh, late)
			continue
		}
		if r.breaker.wait(r.stopCtx) != nil {
			r.finish(outCh, r.notSent(*job))
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-r.stopCtx.Done():
			r.finish(outCh, r.notSent(*job))
			continue
		}
		if r.pacer.Wait(r.stopCtx) != nil || r.stopCtx.Err() != nil {
			<-slots
			r.finish(outCh, r.notSent(*job))
			continue
		}
		seed++
		attempts.Add(1)
		go func(job *sendJob, seed uint64) {
			defer attempts.Done()
			defer func() { <-slots }() // after settle: a 401 halts before another attempt starts
			resp := r.attempt(sendCtx, job)
			r.settle(sendCtx, job, resp, seed, queue, outCh)
		}(job, seed)
	}
}

// attempt sends job once. Every path through it ends in the one deferred
// block that records the attempt (vegeta's hit is the model): the job's
// result, the pacer, the breaker, the latency the forecast reads.
func (r *run) attempt(ctx context.Context, job *sendJob) (resp Response) {
	start := r.clock.Now()
	r.stats.inFlight.Add(1)
	defer func() {
		r.stats.inFlight.Add(-1)
		lat := r.clock.Now().Sub(start)
		if job.firstSent.IsZero() {
			job.firstSent = start
		}
		job.res.Attempts++
		job.res.LatencyMS = lat.Milliseconds()
		job.res.HTTPStatus = resp.Status
		job.reached = job.reached || resp.Reached || resp.Status != 0
		job.last = resp
		if resp.Status != 0 {
			r.pacer.Answered(start, resp.Status)
			r.stats.observeLatency(lat)
		}
		if ctx.Err() == nil {
			if cause := r.breaker.record(resp.Status != 0, answerReason(resp)); cause != "" {
				r.halt(stopUnreachable, cause)
			}
		}
	}()
	return r.opts.Sender.Send(ctx, job.appID, job.body)
}

// settle decides what an answer means for its row: final (the outcome
// goes to the collector) or another attempt after a wait.
func (r *run) settle(sendCtx context.Context, job *sendJob, resp Response, seed uint64, queue chan<- *sendJob, outCh chan<- []outcome) {
	o, wait, final := r.next(job, resp, seed)
	switch {
	case final:
		r.finish(outCh, o)
	case r.stopCtx.Err() != nil || sendCtx.Err() != nil:
		r.finish(outCh, r.notSent(*job))
	default:
		// Wait off the dispatcher, so that other rows go out meanwhile;
		// the job keeps its ticket, which bounds how many wait.
		go func() {
			_ = r.clock.Sleep(r.stopCtx, wait) // on a stop the job comes back as not_sent
			queue <- job
		}()
	}
}

// next is the decision after one answer: the row's final outcome, or how
// long to wait before the next attempt. classify is the table it follows.
func (r *run) next(job *sendJob, resp Response, seed uint64) (o outcome, wait time.Duration, final bool) {
	res := job.res
	done := func(st Status, reason string) (outcome, time.Duration, bool) {
		res.Status, res.Reason = st, reason
		return outcome{Result: res, deadline: job.deadline}, 0, true
	}
	switch classify(resp) {
	case vAccepted:
		res.MessageID = resp.MessageID
		return done(StatusAccepted, "")
	case vRejected:
		return done(StatusRejected, answerReason(resp))
	case vAbort:
		r.halt(stopAborted, fmt.Sprintf("the API answered %d (%s): the token or app id is wrong, or the app is blocked", resp.Status, statusText(resp)))
		return done(StatusFailed, answerReason(resp))
	case vThrottled:
		r.stats.seen429.Add(1)
		job.throttled++
		wait = r.retryWait(job.throttled-1, resp, seed)
		if !job.deadline.IsZero() {
			if now := r.clock.Now(); now.Add(wait).After(job.deadline) {
				return done(StatusLate, fmt.Sprintf("throttled: the API answered 429 %d times; the deadline %s passed before the row could be sent again",
					job.throttled, job.deadline.In(r.loc).Format("2006-01-02 15:04 MST")))
			}
		} else if waited := r.clock.Now().Add(wait).Sub(job.firstSent); waited > r.opts.MaxThrottleWait {
			return done(StatusFailed, fmt.Sprintf("throttled: the API answered 429 %d times over %s (a row without a timestamp waits at most %s)",
				job.throttled, waited.Round(time.Second), r.opts.MaxThrottleWait))
		}
	case vRetry:
		job.retries++
		if job.retries > r.opts.MaxRetries {
			if !job.reached {
				return done(StatusNotSent, fmt.Sprintf("not sent: no attempt reached the API (%d attempts): %s", res.Attempts, answerReason(resp)))
			}
			return done(StatusFailed, fmt.Sprintf("retries exhausted after %d attempts: %s", res.Attempts, answerReason(resp)))
		}
		wait = r.retryWait(job.retries-1, resp, seed)
		if !job.deadline.IsZero() {
			if now := r.clock.Now(); now.Add(wait).After(job.deadline) {
				return done(StatusLate, fmt.Sprintf("the deadline %s passed before a retry could go out (last: %s)",
					job.deadline.In(r.loc).Format("2006-01-02 15:04 MST"), answerReason(resp)))
			}
		}
	}
	r.stats.retries.Add(1)
	return outcome{}, wait, false
}

// retryWait is how long to wait before retry n (0-based): what Retry-After
// asks, capped at MaxRetryAfter, else exponential backoff with jitter.
func (r *run) retryWait(n int, resp Response, seed uint64) time.Duration {
	rnd := rand.New(rand.NewPCG(r.seed^seed, uint64(n)))
	if resp.HasRetryAfter {
		d := min(resp.RetryAfter, r.opts.MaxRetryAfter)
		return d + time.Duration(rnd.Int64N(int64(d/10)+1))
	}
	return r.opts.Backoff.delay(n, rnd)
}

// pastDeadline is the late outcome of a job whose deadline has passed
// while it waited to be sent.
func (r *run) pastDeadline(job *sendJob) (outcome, bool) {
	if job.deadline.IsZero() {
		return outcome{}, false
	}
	now := r.clock.Now()
	if !now.After(job.deadline) {
		return outcome{}, false
	}
	res := job.res
	res.Status = StatusLate
	res.Reason = window.Reason(window.Late, job.deadline, now, job.deadline, r.loc, r.opts.Skew)
	if res.Attempts > 0 {
		res.Reason += "; last: " + answerReason(job.last)
	}
	return outcome{Result: res, deadline: job.deadline}, true
}

// finish hands a job's final outcome to the collector and frees its ticket.
func (r *run) finish(outCh chan<- []outcome, o outcome) {
	o.queued = true
	outCh <- []outcome{o}
	<-r.tickets
	r.inflight.done()
}

// notSent is the outcome of a job that sending stopped before it was
// delivered.
func (r *run) notSent(job sendJob) outcome {
	cause := "interrupted"
	if st := r.stopped(); st != nil {
		cause = st.cause
	}
	res := job.res
	res.Status = StatusNotSent
	res.Reason = "not sent: " + cause
	if res.Attempts > 0 {
		res.Reason += " (after " + strconv.Itoa(res.Attempts) + " attempts; last: " + answerReason(job.last) + ")"
	}
	return outcome{Result: res, deadline: job.deadline}
}
