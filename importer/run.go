package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"afimport/mappings"
	"afimport/readers"
)

// Checkpoint tells what an earlier run reported for a row (for --resume).
type Checkpoint interface {
	Lookup(pos readers.Pos) (status Status, rowHash string, ok bool)
}

// Mapper turns one row's projected values into a payload; *mappings.Mapping
// is the real one. Its methods must be safe for concurrent use.
type Mapper interface {
	// Columns are the source columns, in the order of values.
	Columns() []string
	// Apply maps and validates a row and builds its body.
	Apply(values []readers.Value) (*mappings.Payload, error)
	// Check is Apply without building the body (dry runs, the preflight):
	// the same verdict, the same error.
	Check(values []readers.Value) (*mappings.Payload, error)
	// Timestamp evaluates the row's timestamp alone (the preflight's cheap
	// estimate); timed is false when the mapping maps none.
	Timestamp(values []readers.Value) (ms int64, timed bool, err error)
}

var _ Mapper = (*mappings.Mapping)(nil)

// Options configure Run. Mapping, Inputs and Results are required; Sender
// is required unless DryRun.
type Options struct {
	Mapping Mapper
	// Inputs are file paths ("-" for standard input), already expanded.
	Inputs []string
	// ReaderOptions are passed to readers.Open; Columns is set from the
	// mapping.
	ReaderOptions readers.Options
	// Open opens one input; nil means readers.Open. Tests inject here.
	Open func(path string, opts readers.Options) (readers.Reader, error)

	Sender  Sender
	Results ResultWriter
	DryRun  bool

	// Clock is the run's time: the acceptance window, the rate limiter,
	// retry waits and the deadline forecast (default RealClock).
	Clock Clock
	// AppTimezone is the app's timezone for the acceptance window
	// (default UTC).
	AppTimezone *time.Location
	// Skew is how far in the future a timestamp may be (default 5m).
	Skew time.Duration

	// Rate is the requests/s shared by every request, retries included
	// (0 = unlimited); Burst the token bucket's size (default 1). Sending
	// is open-loop: requests start at Rate whatever the round trip, and as
	// many are in flight as the latency needs (Little's law), up to
	// MaxInFlight (default 1000).
	Rate        float64
	Burst       int
	MaxInFlight int
	// MaxRetries bounds the retries of a row after 5xx, 408 and answers
	// that never came (default 5; <0 = none). 429s are not counted: a
	// throttled row waits for capacity until its deadline, or for at most
	// MaxThrottleWait (default 10m) when it has no timestamp.
	MaxRetries      int
	MaxThrottleWait time.Duration
	Backoff         Backoff
	// MaxRetryAfter caps the wait a Retry-After header asks for
	// (default 60s); a row whose deadline comes first is reported late.
	MaxRetryAfter time.Duration
	// OutageAfter is how long the endpoint may give no answer at all (at
	// least 20 attempts in a row, across rows) before the run stops
	// sending and reports the rest not_sent (default 30s).
	OutageAfter time.Duration
	// Grace bounds how long in-flight requests may finish after ctx is
	// cancelled (default 10s).
	Grace time.Duration
	// MapWorkers maps rows in parallel (default GOMAXPROCS).
	MapWorkers int

	// Shard, when Count > 1, processes only the rows of shard Index
	// (0-based): those whose customer_dedup_id (or, without one, row
	// number) hashes to it. See ShardOf.
	Shard Shard

	// Preflight reads the inputs once before sending (files only, not
	// standard input) to count the sendable rows per deadline, refuse a
	// changed input before anything is sent, and forecast the deadlines.
	Preflight bool
	// Order says in which order rows are sent: OrderAuto (the default)
	// sends the nearest deadline first when the preflight forecasts that
	// input order would miss a deadline that ordering can save.
	Order Order
	// ForecastEvery is how often the deadline forecast is recomputed from
	// the measured rate (default 5s).
	ForecastEvery time.Duration

	// MaxInvalid is the error budget for invalid rows. When set, Run first
	// maps the first BudgetSampleRows rows and, if they are already over
	// it, sends nothing (Summary.Refused says why).
	MaxInvalid Budget

	Checkpoint Checkpoint
	Logger     *slog.Logger
	Stats      *Stats
}

// Order is the order rows are sent in.
type Order uint8

const (
	OrderAuto       Order = iota // by deadline when that saves rows, else input order
	OrderInput                   // input order, one pass
	OrderByDeadline              // nearest deadline first (one pass over the inputs per deadline)
)

// ErrInputChanged means --resume found a row whose content differs from the
// row the report describes at the same position.
var ErrInputChanged = errors.New("input changed since the report was written")

// Run imports every row of opts.Inputs and writes one Result per row read.
//
// It returns a Summary whenever it ran (also when it stopped early) and an
// error only for failures of the run itself: the report could not be
// written, the first input lacks a mapped column, or a resumed input
// changed. A row's failure is a Result, never an error.
//
// When ctx is cancelled, Run stops reading, lets requests in flight finish
// (bounded by Grace), reports the rows it had read but not sent as
// not_sent, and returns with Summary.Interrupted (and StoppedReading) set.
//
// With opts.MaxInvalid set, a run whose first rows are already over the
// budget returns at once with Summary.Refused set, a nil error, and no
// Result written.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	p, err := Prepare(opts)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx, opts.Results, opts.Checkpoint)
}

// Prepared is a run whose start-up checks passed (see Prepare); nothing
// has been written or sent yet.
type Prepared struct{ r *run }

// Prepare runs the checks that can refuse a run before anything is written
// or sent: the options, and the first input's header against the mapping
// (the first input is opened here, and read from when the run starts).
// opts.Results and opts.Checkpoint are ignored: Run takes them, so that a
// caller can create its report only once these checks passed.
func Prepare(opts Options) (*Prepared, error) {
	r, err := newRun(opts)
	if err != nil {
		return nil, err
	}
	return &Prepared{r: r}, nil
}

// Run runs a prepared import once, writing one Result per row read to
// results; cp, when not nil, is what a resumed report holds. See Run.
func (p *Prepared) Run(ctx context.Context, results ResultWriter, cp Checkpoint) (*Summary, error) {
	if results == nil {
		return nil, errors.New("importer: Results is required")
	}
	p.r.opts.Results, p.r.opts.Checkpoint = results, cp
	return p.r.run(ctx)
}

// Close releases the first input of a prepared run that will not run.
func (p *Prepared) Close() {
	if p.r.first != nil {
		p.r.first.Close()
		p.r.first = nil
	}
}

type run struct {
	opts    Options
	loc     *time.Location
	clock   Clock
	stats   *Stats
	log     *slog.Logger
	pacer   *pacer
	breaker *breaker
	fc      *forecaster
	summary Summary

	first    readers.Reader // opened eagerly so a config mistake sends nothing
	firstErr error

	stopper            // sending stops once: halt, setFatal, stopCtx
	filesMu sync.Mutex // guards summary.StoppedReading and FailedFiles

	// passes orders sending by deadline (nil: one pass in input order).
	passes *plan
	pass   int

	col       collector // the collector's state, kept across passes
	bytesBase int64     // progress bytes of earlier passes

	inflight *tally        // jobs handed to the sender and not final yet (this pass)
	tickets  chan struct{} // bounds those jobs: in flight plus waiting to retry
	dryPlan  *plan         // a dry run's sendable rows per deadline, for the warning
	seed     uint64        // of the retry jitter
}

func newRun(o Options) (*run, error) {
	if o.Mapping == nil || len(o.Inputs) == 0 {
		return nil, errors.New("importer: Mapping and Inputs are required")
	}
	if !o.DryRun && o.Sender == nil {
		return nil, errors.New("importer: Sender is required unless DryRun")
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Open == nil {
		o.Open = readers.Open
	}
	if o.Skew == 0 {
		o.Skew = 5 * time.Minute
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 1000
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 5
	} else if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.MaxThrottleWait <= 0 {
		o.MaxThrottleWait = 10 * time.Minute
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 60 * time.Second
	}
	if o.OutageAfter <= 0 {
		o.OutageAfter = 30 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	if o.ForecastEvery <= 0 {
		o.ForecastEvery = 5 * time.Second
	}
	if o.MapWorkers <= 0 {
		o.MapWorkers = runtime.GOMAXPROCS(0)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Stats == nil {
		o.Stats = new(Stats)
	}
	loc := o.AppTimezone
	if loc == nil {
		loc = time.UTC
	}
	o.ReaderOptions.Columns = o.Mapping.Columns()
	r := &run{opts: o, loc: loc, clock: o.Clock, stats: o.Stats, log: o.Logger,
		pacer: newPacer(o.Rate, o.Burst, o.Clock), breaker: newBreaker(o.Clock, o.OutageAfter)}
	r.summary = Summary{DryRun: o.DryRun, AppTimezone: loc.String(), Counts: map[Status]int64{}, MaxInvalid: o.MaxInvalid,
		ByApp: map[string]map[Status]int64{}}
	r.col.reasons = map[string]int64{}
	r.dryPlan = newPlan()
	r.seed = rand.Uint64()
	// Jobs not final are bounded so that memory stays flat when the API
	// makes rows wait (429s with Retry-After, an outage): then reading
	// waits too.
	r.tickets = make(chan struct{}, 2*o.MaxInFlight)
	r.stats.bytesTotal.Store(inputBytes(o.Inputs))
	first, err := o.Open(o.Inputs[0], o.ReaderOptions)
	if err != nil {
		// The first input's header does not fit the mapping, or cannot be
		// a header at all: a setup mistake to fix before anything is sent.
		var mc *readers.MissingColumnError
		var he *readers.HeaderError
		if errors.As(err, &mc) || errors.As(err, &he) {
			return nil, err
		}
		// Any other failure of the first file is that file's failure;
		// the run goes on with the others.
	}
	r.first, r.firstErr = first, err
	return r, nil
}

// inputBytes is the inputs' total size, -1 when unknown (standard input).
func inputBytes(inputs []string) int64 {
	var total int64
	for _, in := range inputs {
		fi, err := os.Stat(in)
		if in == "-" || err != nil {
			return -1
		}
		total += fi.Size()
	}
	return total
}

// batch sizes trade channel overhead against latency.
const rowBatch = 64

// outcome is a Result plus what the collector needs to summarise it.
type outcome struct {
	Result
	deadline time.Time // zero when the row has no timestamp
	queued   bool      // it went through the send queue (the forecast counts it)
}

func (r *run) run(ctx context.Context) (*Summary, error) {
	r.summary.Started = time.Now()
	r.summary.Now = r.clock.Now()
	r.stopper.start(ctx, r.log)
	defer r.stopper.cancel()
	// In-flight requests outlive ctx by at most Grace, so that a signal
	// does not turn an answered request into an unknown one.
	sendCtx, sendCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer sendCancel()
	go func() {
		select {
		case <-ctx.Done():
			t := time.NewTimer(r.opts.Grace)
			defer t.Stop()
			select {
			case <-t.C:
				sendCancel()
			case <-sendCtx.Done():
			}
		case <-sendCtx.Done():
		}
	}()

	if r.budgetPrecheck(ctx) {
		r.summary.Finished = time.Now()
		return &r.summary, nil
	}
	var p *plan
	if r.canPreflight() {
		p = r.preflight(ctx)
		r.warnDeadlines(p)
		if r.opts.Order == OrderByDeadline || (r.opts.Order == OrderAuto && r.orderSaves(p)) {
			r.passes = p.order()
		}
	}
	if !r.opts.DryRun {
		r.fc = newForecaster(r, p)
		stopFc := r.fc.start()
		defer stopFc()
	}
	npass := 1
	if r.passes != nil {
		// One pass per deadline, nearest first, then the rows without a
		// timestamp (always in the window). Each pass re-reads the inputs,
		// which keeps memory flat; reading is cheap next to sending.
		npass = len(r.passes.deadlines) + 1
		if total := r.stats.bytesTotal.Load(); total > 0 {
			r.stats.bytesTotal.Store(total * int64(npass))
		}
	}
	for pass := range npass {
		if ctx.Err() != nil || r.fatalErr() != nil {
			break
		}
		r.pass = pass
		r.pipeline(ctx, sendCtx)
	}
	if ctx.Err() != nil {
		r.summary.Interrupted = true
	}
	if r.opts.DryRun {
		r.warnDeadlines(r.dryPlan)
	}
	if r.fc != nil {
		r.fc.final(&r.summary)
	}
	r.summary.Reasons = topReasons(r.col.reasons, 10)
	r.summary.Finished = time.Now()
	r.summary.Retries = r.stats.retries.Load()
	r.summary.Seen429 = r.stats.seen429.Load()
	if st := r.stopped(); st != nil {
		switch st.kind {
		case stopAborted:
			r.summary.Aborted = st.cause
		case stopUnreachable:
			r.summary.Unreachable = st.cause
		}
	}
	return &r.summary, r.fatalErr()
}

// pipeline reads every input once: producer -> mappers -> dispatcher ->
// one goroutine per attempt -> collector, with bounded channels and a
// bounded number of jobs not final, so a slow API slows the reader.
func (r *run) pipeline(ctx, sendCtx context.Context) {
	rowsCh := make(chan []readers.Row, 4)
	// Every job in the queue holds a ticket, so the queue never blocks a
	// job coming back from a retry wait.
	sendCh := make(chan *sendJob, cap(r.tickets))
	r.inflight = newTally()
	outCh := make(chan []outcome, 64)

	var producers sync.WaitGroup
	producers.Add(1)
	go func() {
		defer producers.Done()
		defer close(rowsCh)
		r.produce(ctx, rowsCh)
	}()

	var mappers sync.WaitGroup
	for range r.opts.MapWorkers {
		mappers.Add(1)
		go func() {
			defer mappers.Done()
			r.mapRows(rowsCh, sendCh, outCh)
		}()
	}
	var sender sync.WaitGroup
	if !r.opts.DryRun {
		sender.Add(1)
		go func() {
			defer sender.Done()
			r.dispatch(sendCtx, sendCh, outCh)
		}()
	}
	go func() {
		mappers.Wait()
		// Jobs waiting to retry come back on sendCh: close it only when
		// no job is in flight or waiting.
		r.inflight.close()
		<-r.inflight.zero
		close(sendCh)
		sender.Wait()
		close(outCh)
	}()

	r.collect(outCh)
	producers.Wait()
}

// produce reads every input in order and sends rows in batches. On ctx
// cancellation it stops reading; after an abort it keeps reading so that
// every row still gets its line (not_sent).
func (r *run) produce(ctx context.Context, out chan<- []readers.Row) {
	doneBefore := r.bytesBase // bytes of the files (and passes) already finished
	defer func() { r.bytesBase = doneBefore }()
	for i, path := range r.opts.Inputs {
		if ctx.Err() != nil || r.fatalErr() != nil {
			r.stoppedReading(ctx, path, 0)
			return
		}
		var rd readers.Reader
		var err error
		if i == 0 && (r.first != nil || r.firstErr != nil) {
			rd, err = r.first, r.firstErr
			r.first, r.firstErr = nil, nil
		} else {
			rd, err = r.opts.Open(path, r.opts.ReaderOptions)
		}
		if err != nil {
			r.fileFailed(path, err)
			continue
		}
		prog, _ := rd.(readers.Progresser)
		next := rd.Next
		if path == "-" {
			next = cancelableNext(ctx, rd)
		}
		batch := make([]readers.Row, 0, rowBatch)
		var last int64
		for {
			if ctx.Err() != nil || r.fatalErr() != nil {
				r.stoppedReading(ctx, path, last)
				break
			}
			row, err := next()
			if err == io.EOF {
				break
			}
			if err != nil && ctx.Err() != nil {
				r.stoppedReading(ctx, path, last)
				break
			}
			if err != nil {
				r.fileFailed(path, err)
				break
			}
			last = row.Pos.Row
			r.stats.rowsRead.Add(1)
			batch = append(batch, row)
			if len(batch) == rowBatch {
				if prog != nil {
					d, _ := prog.Progress()
					r.stats.bytesDone.Store(doneBefore + d)
				}
				// Never dropped, even when cancelled: these rows were read
				// and counted, so each gets its line (the mappers keep
				// consuming until the channel closes).
				out <- batch
				batch = make([]readers.Row, 0, rowBatch)
			}
		}
		if len(batch) > 0 {
			out <- batch
		}
		if prog != nil {
			_, t := prog.Progress()
			doneBefore += t
			r.stats.bytesDone.Store(doneBefore)
		}
		rd.Close()
	}
}

// cancelableNext reads rd on its own goroutine, so that waiting for a row
// stops when ctx is cancelled. Standard input needs it: a pipe may stay
// idle indefinitely (zcat stalled upstream), and a signal must still stop
// the run. A row read after the cancellation is dropped unreported; it
// was not read as far as the report is concerned, and a resume, which
// re-reads the input, processes it.
func cancelableNext(ctx context.Context, rd readers.Reader) func() (readers.Row, error) {
	type item struct {
		row readers.Row
		err error
	}
	ch := make(chan item, rowBatch)
	go func() {
		defer close(ch)
		for {
			row, err := rd.Next()
			select {
			case ch <- item{row, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return func() (readers.Row, error) {
		select {
		case it, ok := <-ch:
			if !ok {
				return readers.Row{}, ctx.Err()
			}
			return it.row, it.err
		case <-ctx.Done():
			return readers.Row{}, ctx.Err()
		}
	}
}

// stoppedReading records, on an interrupt, where reading stopped: after
// row of path (0: before its first row).
func (r *run) stoppedReading(ctx context.Context, path string, row int64) {
	if ctx.Err() == nil {
		return
	}
	r.filesMu.Lock()
	defer r.filesMu.Unlock()
	if r.summary.StoppedReading == nil {
		r.summary.StoppedReading = &readers.Pos{File: path, Row: row}
	}
}

func (r *run) fileFailed(path string, err error) {
	r.filesMu.Lock()
	defer r.filesMu.Unlock()
	for _, f := range r.summary.FailedFiles {
		if f.File == path {
			return // seen in an earlier pass
		}
	}
	r.log.Error("input failed", "file", path, "err", err)
	r.summary.FailedFiles = append(r.summary.FailedFiles, FileError{File: path, Err: err.Error()})
}

// mapRows turns rows into final outcomes or send jobs.
func (r *run) mapRows(in <-chan []readers.Row, sendCh chan<- *sendJob, outCh chan<- []outcome) {
	for rows := range in {
		outs := make([]outcome, 0, len(rows))
		for i := range rows {
			o, job, send := r.mapRow(&rows[i], !r.opts.DryRun)
			if !send && o.Status == "" {
				continue // another shard's row
			}
			if r.passes != nil && !r.passes.belongs(r.pass, o.deadline, job.deadline, send) {
				continue
			}
			if !send {
				outs = append(outs, o)
				continue
			}
			if !r.admit() {
				outs = append(outs, r.notSent(job))
				continue
			}
			sendCh <- ptr(job)
		}
		if len(outs) > 0 {
			outCh <- outs
		}
	}
}

// ptr moves job to the heap. Taking &job in mapRows instead would move
// every row's job there, dry runs included (escape analysis goes by
// variable, not by path): ~370 bytes a row for nothing.
func ptr(job sendJob) *sendJob { return &job }

// admit takes a ticket for a new job; false when sending has stopped.
func (r *run) admit() bool {
	select {
	case r.tickets <- struct{}{}:
	case <-r.stopCtx.Done():
		return false
	}
	if r.stopCtx.Err() != nil {
		<-r.tickets
		return false
	}
	r.inflight.add()
	return true
}

// mapRow decides one row (Judge.Decide, the decision every command
// shares): a final outcome, or a job to send. A row of another shard comes
// back with an empty Status and send false. Without body (dry run,
// preflight) the job carries no body.
func (r *run) mapRow(row *readers.Row, body bool) (outcome, sendJob, bool) {
	if row.Err != nil && !r.opts.Shard.owns("", row.Pos.Row) {
		return outcome{}, sendJob{}, false
	}
	j := Judge{Mapping: r.opts.Mapping, Now: r.clock.Now(), Loc: r.loc, Skew: r.opts.Skew, Checkpoint: r.opts.Checkpoint}
	d := j.Decide(row, body)
	if d.Changed {
		r.setFatal(fmt.Errorf("%s: %w (the report's row_hash differs from %s now); refusing to resume", row.Pos, ErrInputChanged, d.RowHash))
	}
	if r.opts.Shard.Count > 1 && row.Err == nil && !d.Changed {
		id := ""
		if d.Payload != nil {
			id = d.Payload.DedupID
		}
		if !r.opts.Shard.owns(id, row.Pos.Row) {
			return outcome{}, sendJob{}, false
		}
	}
	res := Result{Pos: row.Pos, Status: d.Status, Reason: d.Reason, RowHash: d.RowHash}
	if d.Payload != nil {
		res.DedupID, res.AppID = d.Payload.DedupID, d.Payload.AppID
	}
	if d.Status != StatusValid || r.opts.DryRun {
		return outcome{Result: res, deadline: d.Deadline}, sendJob{}, false
	}
	res.Status = ""
	return outcome{}, sendJob{res: res, appID: res.AppID, body: d.Payload.Body, deadline: d.Deadline}, true
}

func topReasons(m map[string]int64, n int) []ReasonCount {
	out := make([]ReasonCount, 0, len(m))
	for k, v := range m {
		out = append(out, ReasonCount{Reason: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func answerReason(r Response) string {
	if r.Status == 0 {
		if r.Err != nil {
			return r.Err.Error()
		}
		return "no answer"
	}
	s := "HTTP " + strconv.Itoa(r.Status)
	if r.Status/100 == 3 {
		// Never followed: say where the server wanted the row to go.
		loc := r.Location
		if loc == "" {
			loc = "none"
		}
		s += " (redirect not followed; Location: " + loc + ")"
	}
	if r.Message != "" {
		s += ": " + r.Message
	}
	return s
}

func statusText(r Response) string {
	if r.Message != "" {
		return r.Message
	}
	switch r.Status {
	case 401:
		return "app does not exist or authentication failed"
	case 403:
		return "app traffic is blocked"
	}
	return "HTTP " + strconv.Itoa(r.Status)
}

// rowHash fingerprints projected values (FNV-64a over kind and text), as
// 16 hex digits. It is hash/fnv's New64a written inline, so that hashing a
// row allocates only its result.
func rowHash(vals []readers.Value) string {
	h := fnvOffset
	for _, v := range vals {
		h = fnvByte(h, byte(v.Kind))
		switch v.Kind {
		case readers.KindBool:
			if v.B {
				h = fnvByte(h, 1)
			} else {
				h = fnvByte(h, 0)
			}
		case readers.KindTime:
			var buf [20]byte
			for _, c := range strconv.AppendInt(buf[:0], v.T.UnixNano(), 10) {
				h = fnvByte(h, c)
			}
		default:
			h = fnvString(h, v.S)
		}
		h = fnvByte(h, 0xff)
	}
	return hex16(h)
}

func hashString(s string) string {
	return hex16(fnvString(fnvOffset, s))
}

const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnvByte(h uint64, c byte) uint64 { return (h ^ uint64(c)) * fnvPrime }

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// hex16 is fmt.Sprintf("%016x", h).
func hex16(h uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[h&0xf]
		h >>= 4
	}
	return string(b[:])
}
