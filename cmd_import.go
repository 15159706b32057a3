package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"afimport/importer"
	"afimport/importer/s2s"
	"afimport/importer/s2stest"
	"afimport/mappings"
	"afimport/readers"
	"afimport/reports"
)

// startCPUProfile writes a pprof CPU profile to path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// tokenEnv is the environment variable that holds the S2S API token.
const tokenEnv = "AF_S2S_TOKEN"

// importOptions are import's flags and arguments.
type importOptions struct {
	Mapping, Report, Endpoint, TokenFile string
	Inputs                               []string // the arguments
	DryRun                               bool
	MaxInvalid, Shard                    string
	MaxInFlight, Burst, MaxRetries       int
	Rate                                 float64
	MaxRetryAfter, MaxThrottleWait       time.Duration
	OutageAfter, Timeout, Grace          time.Duration
	Resume, Overwrite, MappingChanged    bool
	Input                                inputOptions
	Window                               windowOptions
	Preflight                            bool
	Order                                importer.Order
	MetricsFile, Summary                 string
	Quiet                                bool
	LogFormat                            string
	ProgressInterval                     time.Duration
	HTTP                                 string
	MaxMemoryMB                          int
	CPUProfile                           string
}

// importOptionsFrom reads import's flags.
func importOptionsFrom(c *cli.Context) (importOptions, error) {
	o := importOptions{
		Mapping: c.String("mapping"), Report: c.String("report"), Endpoint: c.String("endpoint"),
		TokenFile: c.String("token-file"), Inputs: c.Args().Slice(), DryRun: c.Bool("dry-run"),
		MaxInvalid: c.String("max-invalid"), Shard: c.String("shard"),
		MaxInFlight: c.Int("max-in-flight"), Burst: c.Int("burst"), MaxRetries: c.Int("max-retries"),
		Rate: c.Float64("rate"), MaxRetryAfter: c.Duration("max-retry-after"),
		MaxThrottleWait: c.Duration("max-throttle-wait"), OutageAfter: c.Duration("outage-after"),
		Timeout: c.Duration("timeout"), Grace: c.Duration("grace"),
		Resume: c.Bool("resume"), Overwrite: c.Bool("overwrite"), MappingChanged: c.Bool("mapping-changed"),
		Input: inputOptionsFrom(c), Window: windowOptionsFrom(c), Preflight: c.Bool("preflight"),
		Order:       importer.OrderAuto,
		MetricsFile: c.String("metrics-file"), Summary: c.String("summary"), Quiet: c.Bool("quiet"),
		LogFormat: c.String("log-format"), ProgressInterval: c.Duration("progress-interval"),
		HTTP: c.String("http"), MaxMemoryMB: c.Int("max-memory"), CPUProfile: c.String("cpuprofile"),
	}
	if c.IsSet("order-by-deadline") {
		o.Order = importer.OrderInput
		if c.Bool("order-by-deadline") {
			o.Order = importer.OrderByDeadline
		}
	}
	if _, err := newLogger(o.LogFormat, io.Discard); err != nil {
		return o, usageErr("%v", err)
	}
	// Flags after the inputs are not parsed as flags (urfave/cli stops at
	// the first argument): say so rather than "--mapping is required".
	return o, flagsAfterArgs(c)
}

// importRun is one import: its options, what they parse into, and the
// process it runs in.
type importRun struct {
	opts       importOptions
	p          process
	logger     *slog.Logger
	m          *mappings.Mapping
	ck         clock
	clock      importer.Clock
	ropts      readers.Options
	budget     importer.Budget
	shard      importer.Shard
	inputs     []string
	reportPath string
}

// runImport imports opts.Inputs in p and returns the exit code and the
// error to print.
func runImport(ctx context.Context, opts importOptions, p process) (int, error) {
	logger, err := newLogger(opts.LogFormat, p.Err)
	if err != nil {
		return exitUsage, err
	}
	r := &importRun{opts: opts, p: p, logger: logger}
	if err := r.parse(); err != nil {
		return exitOf(err)
	}
	inputs, err := readers.Expand(opts.Inputs)
	var missing *readers.MissingInputError
	if errors.As(err, &missing) {
		// The export did not arrive: not a mistake in the command, and
		// monitoring must see it (summary and metrics, exit 1).
		return r.finish(r.missingSummary(missing), nil, "")
	}
	if r.inputs, err = validInputs(opts.Inputs, inputs, err); err != nil {
		return exitOf(err)
	}
	warnReadMemory(ctx, logger, r.inputs, r.m.Columns(), r.ropts, opts.MaxMemoryMB, p)
	if err := r.reportMode(); err != nil {
		return exitOf(err)
	}
	sender, closeSender, err := r.sender()
	if err != nil {
		return exitOf(err)
	}
	defer closeSender()
	if path := opts.CPUProfile; path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			return exitUsage, fmt.Errorf("--cpuprofile: %v", err)
		}
		defer stopProfile()
	}
	return r.run(ctx, sender)
}

// parse loads the mapping and parses the flags, in the order their
// mistakes are reported.
func (r *importRun) parse() error {
	o := r.opts
	if o.Mapping == "" {
		_, err := loadMapping("")
		return err
	}
	if len(o.Inputs) == 0 {
		return usageErr("no INPUT given (a file, folder, glob, or - for standard input)")
	}
	var err error
	if r.m, err = loadMapping(o.Mapping); err != nil {
		return err
	}
	if err := r.refusePlaceholders(); err != nil {
		return err
	}
	// --now, --app-timezone and --skew are read as preview and explain
	// read them; a live run keeps the real clock.
	if r.ck, err = o.Window.clock(r.m); err != nil {
		return err
	}
	r.clock = importer.RealClock{}
	if o.Window.Now != "" {
		if !o.DryRun {
			return usageErr("--now only works with --dry-run: a live run uses the real clock")
		}
		r.clock = importer.FixedClock(r.ck.now)
	}
	if r.ropts, err = o.Input.readers(r.p.In); err != nil {
		return usageErr("%v", err)
	}
	if r.budget, err = importer.ParseBudget(o.MaxInvalid); err != nil {
		return usageErr("--max-invalid %v", err)
	}
	if o.Shard != "" {
		if r.shard, err = importer.ParseShard(o.Shard); err != nil {
			return usageErr("--shard: %v", err)
		}
	}
	return nil
}

// refusePlaceholders refuses to send with a starter mapping from afimport
// init that nobody finished: it would send events named TODO_event_name
// to the real app.
func (r *importRun) refusePlaceholders() error {
	o := r.opts
	ph := r.m.Placeholders()
	if o.Window.AppTimezone != "" {
		ph = slices.DeleteFunc(ph, func(p string) bool { return strings.HasPrefix(p, "timezone ") })
	}
	if len(ph) > 0 && !o.DryRun && o.Endpoint != "mock" {
		return usageErr("mapping %s still has placeholders from afimport init: %s (a dry run or --endpoint mock works meanwhile)",
			o.Mapping, strings.Join(ph, "; "))
	}
	return nil
}

// missingSummary is the summary of a run whose inputs are not there.
func (r *importRun) missingSummary(missing *readers.MissingInputError) *importer.Summary {
	now := time.Now()
	sum := &importer.Summary{DryRun: r.opts.DryRun, Started: now, Finished: now, AppTimezone: r.ck.loc.String(),
		Counts: map[importer.Status]int64{}, MaxInvalid: r.budget}
	for _, mi := range missing.Missing {
		sum.MissingInputs = append(sum.MissingInputs, importer.FileError{File: mi.Input, Err: mi.Reason})
	}
	return sum
}

// reportMode names the report and checks the flags that say what to do
// with an existing one.
func (r *importRun) reportMode() error {
	o := r.opts
	r.reportPath = o.Report
	if r.reportPath == "" {
		if o.Inputs[0] == readers.StdinPath {
			return usageErr("reading standard input: name the report with --report FILE")
		}
		r.reportPath = reports.DefaultPath(o.Inputs[0], o.DryRun, r.shard)
	}
	switch {
	case o.Resume && o.DryRun:
		return usageErr("--resume and --dry-run do not go together")
	case o.Resume && o.Overwrite:
		return usageErr("--resume and --overwrite do not go together")
	case o.MappingChanged && !o.Resume:
		return usageErr("--mapping-changed goes with --resume")
	}
	return nil
}

// sender is the S2S client of a live run (against the built-in mock with
// --endpoint mock), and what closes it; none for a dry run.
func (r *importRun) sender() (importer.Sender, func(), error) {
	o := r.opts
	if o.DryRun {
		return nil, func() {}, nil
	}
	endpoint := o.Endpoint
	token, err := loadToken(o.TokenFile, r.p.getenv(tokenEnv), r.logger)
	if err != nil {
		return nil, nil, usageErr("%v", err)
	}
	closeMock := func() {}
	if endpoint == "mock" {
		if token == "" {
			token = "mock-token"
		}
		srv := s2stest.NewServer(s2stest.Config{Token: token, AppTimezone: r.ck.loc})
		endpoint, closeMock = srv.URL(), srv.Close
		r.logger.Info("using the built-in mock S2S server", "url", endpoint)
	} else if token == "" {
		return nil, nil, usageErr("no API token: set %s or use --token-file FILE (or --dry-run, or --endpoint mock)", tokenEnv)
	}
	client, err := s2s.NewClient(s2s.Options{
		Endpoint: endpoint, AppID: r.m.AppID, Kind: r.m.Endpoint, Token: token,
		Timeout: o.Timeout, MaxInFlight: o.MaxInFlight,
		UserAgent: "afimport/" + version(), HTTP: o.HTTP,
	})
	if err != nil {
		closeMock()
		return nil, nil, usageErr("%v", err)
	}
	return client, func() { client.CloseIdleConnections(); closeMock() }, nil
}

// importerOptions are the importer's options for this run.
func (r *importRun) importerOptions(sender importer.Sender, stats *importer.Stats) importer.Options {
	o := r.opts
	return importer.Options{
		Mapping: r.m, Inputs: r.inputs, ReaderOptions: r.ropts, Sender: sender, DryRun: o.DryRun,
		Clock: r.clock, AppTimezone: r.ck.loc, Skew: r.ck.skew,
		Rate: o.Rate, Burst: o.Burst, MaxInFlight: o.MaxInFlight, MaxRetries: maxRetries(o.MaxRetries),
		MaxRetryAfter: o.MaxRetryAfter, MaxThrottleWait: o.MaxThrottleWait, OutageAfter: o.OutageAfter,
		Grace: o.Grace, Preflight: o.Preflight, Order: o.Order, Shard: r.shard, MaxInvalid: r.budget,
		Logger: r.logger, Stats: stats,
	}
}

// run prepares the run, refuses it when its first rows are over the error
// budget, then opens the report and sends.
func (r *importRun) run(ctx context.Context, sender importer.Sender) (int, error) {
	stats := new(importer.Stats)
	prep, err := importer.Prepare(r.importerOptions(sender, stats))
	if err != nil {
		return exitOf(runFailed(err))
	}
	defer prep.Close()
	// A run over its error budget from the first rows is refused before
	// its report exists. (On a resume, rows accepted earlier count here as
	// valid rows, which they were; Run's own check skips them.)
	o := r.opts
	refused, err := importer.CheckBudget(ctx, importer.Options{
		Mapping: r.m, Inputs: r.inputs, ReaderOptions: r.ropts, DryRun: o.DryRun, Clock: r.clock,
		AppTimezone: r.ck.loc, Skew: r.ck.skew, Shard: r.shard, MaxInvalid: r.budget, Logger: r.logger,
	})
	if err != nil {
		return exitOf(runFailed(err))
	}
	if refused != nil {
		return r.finish(refused, nil, "")
	}
	// Every check that can refuse the run has passed: only now is the
	// report created or opened, locked, and its header synced.
	report, checkpoint, err := reports.Open(r.reportPath, r.reportOpenOptions())
	if err != nil {
		return exitUsage, err
	}
	defer report.Close()
	if checkpoint != nil {
		r.logger.Info(checkpoint.String(), "report", r.reportPath)
	}
	ctx, stop := signalContext(ctx, r.p, r.logger, report)
	defer stop()
	prog := startProgress(o.Quiet, o.ProgressInterval, r.p.streams, stats, r.logger)
	sum, runErr := prep.Run(ctx, report, checkpointOrNil(checkpoint))
	prog.stop()
	if err := report.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("report %s: %w", r.reportPath, err)
	}
	if sum == nil {
		return exitOf(runFailed(runErr))
	}
	return r.finish(sum, runErr, r.reportPath)
}

// finish writes what a finished (or refused) import leaves for people and
// monitoring: the summary on stderr (text, or one JSON object with
// --log-format json), --summary, --metrics-file, and the next step. It
// returns the exit code, and the run's error. reportPath is "" when no
// report was written.
func (r *importRun) finish(sum *importer.Summary, runErr error, reportPath string) (int, error) {
	o, logger, stderr := r.opts, r.logger, r.p.Err
	sum.PeakRSS = peakRSS()
	code := importer.ExitCode(sum, runErr)
	jsonLogs := o.LogFormat == "json"
	if jsonLogs {
		if reportPath != "" {
			logger.Info("report", "file", reportPath)
		}
		if err := reports.WriteSummaryJSONLine(stderr, sum); err != nil {
			logger.Error("summary", "err", err)
		}
	} else {
		if reportPath != "" {
			fmt.Fprintf(stderr, "\nreport: %s\n", reportPath)
		}
		if err := reports.WriteSummaryText(stderr, sum); err != nil {
			logger.Error("summary", "err", err)
		}
	}
	if o.Summary != "" {
		if err := reports.WriteSummaryJSON(o.Summary, sum); err != nil {
			logger.Error("summary file", "file", o.Summary, "err", err)
		}
	}
	if o.MetricsFile != "" {
		l := reports.MetricLabels{AppID: r.m.AppID, PerRowApp: r.m.PerRowAppID(), Shard: r.shard}
		if err := reports.WriteMetrics(o.MetricsFile, sum, l, code); err != nil {
			logger.Error("metrics file", "file", o.MetricsFile, "err", err)
		}
	}
	if advice := nextStep(sum, code, r.p.Args); advice != "" && !sum.DryRun {
		if jsonLogs {
			logger.Info("next step", "advice", advice)
		} else {
			fmt.Fprintln(stderr, advice)
		}
	}
	return code, runErr
}

func runFailed(err error) error {
	var mc *readers.MissingColumnError
	if errors.As(err, &mc) {
		return usageErr("the mapping reads column(s) the input lacks: %v", err)
	}
	var he *readers.HeaderError
	if errors.As(err, &he) {
		return usageErr("%v", err)
	}
	return &exitError{code: exitRowsFailed, err: err}
}

// reportOpenOptions maps the flags to what reports.Open does with an
// existing report.
func (r *importRun) reportOpenOptions() reports.OpenOptions {
	o := reports.OpenOptions{Mode: reports.New, MappingName: r.opts.Mapping, MappingChanged: r.opts.MappingChanged,
		Options: reports.Options{MappingID: r.m.Fingerprint()}}
	switch {
	case r.opts.Resume:
		o.Mode = reports.Resume
	case r.opts.Overwrite || r.opts.DryRun:
		o.Mode = reports.Overwrite
	}
	return o
}

// checkpointOrNil avoids a typed-nil interface.
func checkpointOrNil(c *reports.Checkpoint) importer.Checkpoint {
	if c == nil {
		return nil
	}
	return c
}

func maxRetries(n int) int {
	if n == 0 {
		return -1 // importer: <0 means no retries; 0 means its default
	}
	return n
}

// loadToken reads the token from a file, else from envToken (the value
// of $AF_S2S_TOKEN). It never appears in argv, logs or errors.
func loadToken(path, envToken string, logger *slog.Logger) (string, error) {
	if path == "" {
		return strings.TrimSpace(envToken), nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	// Others' bits, and group write: a group-readable file (0440 for a
	// Kubernetes fsGroup, a service group on a host) is a deliberate
	// choice, and a nightly warning about it would teach people to
	// ignore warnings.
	if fi.Mode().Perm()&0o027 != 0 {
		logger.Warn("the token file is readable or writable by other users; chmod 600 (or 640) it", "file", path, "mode", fi.Mode().Perm().String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("--token-file %s is empty", path)
	}
	return tok, nil
}

// signalContext cancels ctx on the first SIGINT/SIGTERM (drain and
// stop); a second one syncs the report and exits at once.
func signalContext(ctx context.Context, p process, logger *slog.Logger, report *reports.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	if p.Notify == nil {
		return ctx, cancel
	}
	ch := make(chan os.Signal, 2)
	done := make(chan struct{}) // the run is over: stop listening
	stopNotify := p.Notify(ch)
	go func() {
		select {
		case s := <-ch:
			logger.Warn("stopping: finishing requests in flight, then writing the report (signal again to quit now)", "signal", s.String())
			cancel()
		case <-done:
			return
		}
		// Not ctx.Done(): the first signal cancelled it.
		select {
		case <-ch:
			_ = report.Sync()
			fmt.Fprintln(p.Err, "afimport: quit; the report is resumable with --resume")
			p.Exit(exitInterrupted)
		case <-done:
		}
	}()
	return ctx, func() { stopNotify(); close(done); cancel() }
}

// nextStep tells a person what to do about rows not accepted: a resume
// retries rows that were not delivered; it cannot fix rows refused for
// their content, nor an input that is missing, empty or unreadable. ""
// when there is nothing to say.
func nextStep(sum *importer.Summary, code int, args []string) string {
	if code == exitOK || code == exitUsage {
		return ""
	}
	var b strings.Builder
	undelivered := sum.Counts[importer.StatusFailed] + sum.Counts[importer.StatusNotSent]
	if sum.Unreachable != "" {
		b.WriteString("the endpoint did not answer: check the network, DNS, proxy and --endpoint, then resume\n")
	}
	if undelivered > 0 || sum.Interrupted || sum.Aborted != "" {
		fmt.Fprintf(&b, "to send the rows not delivered (accepted rows are skipped), run:\n  %s\n", resumeCommand(args))
	}
	if n := len(sum.FailedFiles) + len(sum.MissingInputs); n > 0 {
		fmt.Fprintf(&b, "%d input(s) missing or unreadable (listed above): running again changes nothing until they are there and readable\n", n)
	}
	if sum.Refused != "" {
		b.WriteString("nothing was sent: check the export (the reasons above), or raise --max-invalid if these rows are expected\n")
		return strings.TrimSuffix(b.String(), "\n")
	}
	var refused int64
	for _, st := range []importer.Status{importer.StatusInvalid, importer.StatusLate, importer.StatusFuture, importer.StatusRejected} {
		refused += sum.Counts[st]
	}
	if refused > 0 && (sum.OverBudget() || refused > sum.Counts[importer.StatusInvalid]) {
		fmt.Fprintf(&b, "%d rows were not sent or were refused because of their content (see the reason column); a retry alone will not change that\n", refused)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// resumeCommand is the command line to run again with --resume.
func resumeCommand(args []string) string {
	var b strings.Builder
	hasResume := contains(args, "--resume") || contains(args, "-resume")
	for i, a := range args {
		if a == "--overwrite" || a == "-overwrite" {
			continue
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		if i == 0 && strings.Contains(a, string(filepath.Separator)+"go-build") {
			// Under "go run" the binary is a temporary file.
			b.WriteString("go run .")
			continue
		}
		b.WriteString(shellQuote(a))
		if i == 1 && !hasResume {
			b.WriteString(" --resume")
			hasResume = true
		}
	}
	return b.String()
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '=' || r == ':' || r == ',' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
