package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

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

func importAction(c *cli.Context) error {
	logger, err := newLogger(c.String("log-format"), os.Stderr)
	if err != nil {
		return usageErr("%v", err)
	}
	// Flags after the inputs are not parsed as flags (urfave/cli stops at
	// the first argument): say so rather than "--mapping is required".
	if err := flagsAfterArgs(c); err != nil {
		return err
	}
	if c.String("mapping") == "" {
		return usageErr("--mapping FILE is required")
	}
	if c.NArg() == 0 {
		return usageErr("no INPUT given (a file, folder, glob, or - for standard input)")
	}
	m, err := mappings.Load(c.String("mapping"))
	if err != nil {
		return usageErr("mapping:\n%v", err)
	}
	dry := c.Bool("dry-run")
	ph := m.Placeholders()
	if c.String("app-timezone") != "" {
		ph = slices.DeleteFunc(ph, func(p string) bool { return strings.HasPrefix(p, "timezone ") })
	}
	if len(ph) > 0 && !dry && c.String("endpoint") != "mock" {
		// A starter mapping from afimport init that nobody finished would
		// send events named TODO_event_name to the real app.
		return usageErr("mapping %s still has placeholders from afimport init: %s (a dry run or --endpoint mock works meanwhile)",
			c.String("mapping"), strings.Join(ph, "; "))
	}

	// --now, --app-timezone and --skew are read as preview and explain
	// read them; a live run keeps the real clock.
	ck, err := windowClock(c, m)
	if err != nil {
		return err
	}
	var clock importer.Clock = importer.RealClock{}
	if c.String("now") != "" {
		if !dry {
			return usageErr("--now only works with --dry-run: a live run uses the real clock")
		}
		clock = importer.FixedClock(ck.now)
	}
	loc := ck.loc
	order := importer.OrderAuto
	if c.IsSet("order-by-deadline") {
		order = importer.OrderInput
		if c.Bool("order-by-deadline") {
			order = importer.OrderByDeadline
		}
	}
	ropts, err := readerOptions(c)
	if err != nil {
		return usageErr("%v", err)
	}
	budget, err := importer.ParseBudget(c.String("max-invalid"))
	if err != nil {
		return usageErr("--max-invalid %v", err)
	}
	var shard importer.Shard
	if s := c.String("shard"); s != "" {
		if shard, err = importer.ParseShard(s); err != nil {
			return usageErr("--shard: %v", err)
		}
	}
	out := runOutput{c: c, logger: logger, appID: m.AppID, perRowApp: m.PerRowAppID(), shard: shard}
	inputs, err := readers.Expand(c.Args().Slice())
	var missing *readers.MissingInputError
	if errors.As(err, &missing) {
		// The export did not arrive: not a mistake in the command, and
		// monitoring must see it (summary and metrics, exit 1).
		now := time.Now()
		sum := &importer.Summary{DryRun: dry, Started: now, Finished: now, AppTimezone: loc.String(),
			Counts: map[importer.Status]int64{}, MaxInvalid: budget}
		for _, mi := range missing.Missing {
			sum.MissingInputs = append(sum.MissingInputs, importer.FileError{File: mi.Input, Err: mi.Reason})
		}
		return out.finish(sum, nil, "")
	}
	if err != nil {
		return usageErr("%v", err)
	}
	if len(inputs) == 0 {
		return usageErr("no input files found in %q", c.Args().Slice())
	}
	if len(inputs) > 1 && contains(inputs, "-") {
		return usageErr("standard input (-) cannot be combined with other inputs")
	}
	warnReadMemory(logger, inputs, m.Columns(), ropts, c.Int("max-memory"))

	reportPath := c.String("report")
	if reportPath == "" {
		if c.Args().First() == "-" {
			return usageErr("reading standard input: name the report with --report FILE")
		}
		reportPath = defaultReportPath(c.Args().First(), dry, shard)
	}
	resume := c.Bool("resume")
	if resume && dry {
		return usageErr("--resume and --dry-run do not go together")
	}
	if resume && c.Bool("overwrite") {
		return usageErr("--resume and --overwrite do not go together")
	}
	if c.Bool("mapping-changed") && !resume {
		return usageErr("--mapping-changed goes with --resume")
	}

	var sender importer.Sender
	var closeSender func()
	if !dry {
		endpoint := c.String("endpoint")
		token, err := loadToken(c.String("token-file"), logger)
		if err != nil {
			return usageErr("%v", err)
		}
		if endpoint == "mock" {
			if token == "" {
				token = "mock-token"
			}
			srv := s2stest.NewServer(s2stest.Config{Token: token, AppTimezone: loc})
			endpoint = srv.URL()
			logger.Info("using the built-in mock S2S server", "url", endpoint)
			defer srv.Close()
		} else if token == "" {
			return usageErr("no API token: set %s or use --token-file FILE (or --dry-run, or --endpoint mock)", tokenEnv)
		}
		client, err := s2s.NewClient(s2s.Options{
			Endpoint: endpoint, AppID: m.AppID, Kind: m.Endpoint, Token: token,
			Timeout: c.Duration("timeout"), MaxInFlight: c.Int("max-in-flight"),
			UserAgent: "afimport/" + version(), HTTP: c.String("http"),
		})
		if err != nil {
			return usageErr("%v", err)
		}
		sender, closeSender = client, client.CloseIdleConnections
		defer closeSender()
	}

	if path := c.String("cpuprofile"); path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			return usageErr("--cpuprofile: %v", err)
		}
		defer stopProfile()
	}

	stats := new(importer.Stats)
	prep, err := importer.Prepare(importer.Options{
		Mapping:         m,
		Inputs:          inputs,
		ReaderOptions:   ropts,
		Sender:          sender,
		DryRun:          dry,
		Clock:           clock,
		AppTimezone:     loc,
		Skew:            ck.skew,
		Rate:            c.Float64("rate"),
		Burst:           c.Int("burst"),
		MaxInFlight:     c.Int("max-in-flight"),
		MaxRetries:      maxRetries(c.Int("max-retries")),
		MaxRetryAfter:   c.Duration("max-retry-after"),
		MaxThrottleWait: c.Duration("max-throttle-wait"),
		OutageAfter:     c.Duration("outage-after"),
		Grace:           c.Duration("grace"),
		Preflight:       c.Bool("preflight"),
		Order:           order,
		Shard:           shard,
		MaxInvalid:      budget,
		Logger:          logger,
		Stats:           stats,
	})
	if err != nil {
		return runFailed(err)
	}
	defer prep.Close()
	// A run over its error budget from the first rows is refused before
	// its report exists. (On a resume, rows accepted earlier count here as
	// valid rows, which they were; Run's own check skips them.)
	refused, err := importer.CheckBudget(context.Background(), importer.Options{
		Mapping: m, Inputs: inputs, ReaderOptions: ropts, DryRun: dry, Clock: clock, AppTimezone: loc,
		Skew: ck.skew, Shard: shard, MaxInvalid: budget, Logger: logger,
	})
	if err != nil {
		return runFailed(err)
	}
	if refused != nil {
		return out.finish(refused, nil, "")
	}
	// Every check that can refuse the run has passed: only now is the
	// report created or opened, locked, and its header synced.
	report, checkpoint, err := reports.Open(reportPath, reportOpenOptions(c, m, dry))
	if err != nil {
		return usageErr("%v", err)
	}
	defer report.Close()
	if checkpoint != nil {
		logger.Info(checkpoint.String(), "report", reportPath)
	}

	ctx, stop := signalContext(logger, report)
	defer stop()

	prog := startProgress(c, stats, logger)
	sum, runErr := prep.Run(ctx, report, checkpointOrNil(checkpoint))
	prog.stop()
	if err := report.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("report %s: %w", reportPath, err)
	}
	if sum == nil {
		return runFailed(runErr)
	}
	return out.finish(sum, runErr, reportPath)
}

// runOutput writes what a finished (or refused) import leaves for people
// and monitoring: the summary on stderr (text, or one JSON object with
// --log-format json), --summary, --metrics-file, and the next step.
type runOutput struct {
	c      *cli.Context
	logger *slog.Logger
	appID  string
	// perRowApp: the mapping takes the app id from a column; the metrics
	// then count per app instead of labelling them with one.
	perRowApp bool
	shard     importer.Shard
}

// finish writes the run's outputs and returns its exit code as an error
// (nil for exit 0). reportPath is "" when no report was written.
func (o runOutput) finish(sum *importer.Summary, runErr error, reportPath string) error {
	c, logger := o.c, o.logger
	sum.PeakRSS = peakRSS()
	code := importer.ExitCode(sum, runErr)
	jsonLogs := c.String("log-format") == "json"
	if jsonLogs {
		if reportPath != "" {
			logger.Info("report", "file", reportPath)
		}
		if err := reports.WriteSummaryJSONLine(os.Stderr, sum); err != nil {
			logger.Error("summary", "err", err)
		}
	} else {
		if reportPath != "" {
			fmt.Fprintf(os.Stderr, "\nreport: %s\n", reportPath)
		}
		if err := reports.WriteSummaryText(os.Stderr, sum); err != nil {
			logger.Error("summary", "err", err)
		}
	}
	if p := c.String("summary"); p != "" {
		if err := reports.WriteSummaryJSON(p, sum); err != nil {
			logger.Error("summary file", "file", p, "err", err)
		}
	}
	if p := c.String("metrics-file"); p != "" {
		l := reports.MetricLabels{AppID: o.appID, PerRowApp: o.perRowApp, Shard: o.shard}
		if err := reports.WriteMetrics(p, sum, l, code); err != nil {
			logger.Error("metrics file", "file", p, "err", err)
		}
	}
	if advice := nextStep(sum, code); advice != "" && !sum.DryRun {
		if jsonLogs {
			logger.Info("next step", "advice", advice)
		} else {
			fmt.Fprintln(os.Stderr, advice)
		}
	}
	if runErr != nil {
		return &exitError{code: code, err: runErr}
	}
	if code != exitOK {
		return &exitError{code: code}
	}
	return nil
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
func reportOpenOptions(c *cli.Context, m *mappings.Mapping, dry bool) reports.OpenOptions {
	o := reports.OpenOptions{Mode: reports.New, MappingName: c.String("mapping"), MappingChanged: c.Bool("mapping-changed"),
		Options: reports.Options{MappingID: m.Fingerprint()}}
	switch {
	case c.Bool("resume"):
		o.Mode = reports.Resume
	case c.Bool("overwrite") || dry:
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

// mappedReaderOptions is readerOptions projected on the mapping's columns,
// with a flag mistake as a usage error: what check, preview and explain
// open their inputs with.
func mappedReaderOptions(c *cli.Context, m *mappings.Mapping) (readers.Options, error) {
	o, err := readerOptions(c)
	if err != nil {
		return o, usageErr("%v", err)
	}
	o.Columns = m.Columns()
	return o, nil
}

func readerOptions(c *cli.Context) (readers.Options, error) {
	o := readers.Options{
		Format:      readers.Format(strings.ToLower(c.String("format"))),
		MaxRowBytes: c.Int("max-row-bytes"),
	}
	switch o.Format {
	case readers.FormatAuto, readers.FormatCSV, readers.FormatNDJSON, readers.FormatParquet:
	case "jsonl":
		o.Format = readers.FormatNDJSON
	default:
		return o, fmt.Errorf("--format %q: want csv, ndjson or parquet", c.String("format"))
	}
	if d := c.String("delimiter"); d != "" {
		if d == `\t` || d == "tab" {
			d = "\t"
		}
		r, n := utf8.DecodeRuneInString(d)
		if n != len(d) || r == '\n' || r == '\r' || r == '"' {
			return o, fmt.Errorf("--delimiter %q: want one character such as , ; | or \\t", d)
		}
		o.CSV.Delimiter = r
	}
	if q := c.String("quote"); q != "" {
		r, n := utf8.DecodeRuneInString(q)
		if n != len(q) {
			return o, fmt.Errorf("--quote %q: want one character", q)
		}
		o.CSV.Quote = r
	}
	o.CSV.NullValues = c.StringSlice("null-value")
	o.CSV.Encoding = c.String("encoding")
	return o, nil
}

// loadToken reads the token from a file or the environment. It never
// appears in argv, logs or errors.
func loadToken(path string, logger *slog.Logger) (string, error) {
	if path == "" {
		return strings.TrimSpace(os.Getenv(tokenEnv)), nil
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

// defaultReportPath puts the report next to the first input:
// renewals.csv.gz -> renewals.report.csv; a folder exports/day/ ->
// exports/day.report.csv; a glob -> afimport.report.csv in its folder;
// with --shard 1/4, renewals.shard-1-of-4.report.csv.
func defaultReportPath(first string, dry bool, shard importer.Shard) string {
	suffix := ".report.csv"
	if dry {
		suffix = ".dry-run.report.csv"
	}
	if shard.Count > 1 {
		// Each shard keeps its own report: hosts may share a filesystem.
		suffix = fmt.Sprintf(".shard-%d-of-%d%s", shard.Index, shard.Count, suffix)
	}
	if strings.ContainsAny(first, "*?[") {
		return filepath.Join(filepath.Dir(first), "afimport"+suffix)
	}
	if fi, err := os.Stat(first); err == nil && fi.IsDir() {
		return filepath.Clean(first) + suffix
	}
	base := first
	for _, ext := range []string{".gz", ".zst", ".zstd"} {
		base = strings.TrimSuffix(base, ext)
	}
	for _, ext := range []string{".csv", ".tsv", ".ndjson", ".jsonl", ".parquet", ".pq"} {
		if strings.HasSuffix(strings.ToLower(base), ext) {
			base = base[:len(base)-len(ext)]
			break
		}
	}
	return base + suffix
}

// signalContext cancels on the first SIGINT/SIGTERM (drain and stop); a
// second one syncs the report and exits at once.
func signalContext(logger *slog.Logger, report *reports.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	done := make(chan struct{}) // the run is over: stop listening
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
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
			fmt.Fprintln(os.Stderr, "afimport: quit; the report is resumable with --resume")
			os.Exit(exitInterrupted)
		case <-done:
		}
	}()
	return ctx, func() { signal.Stop(ch); close(done); cancel() }
}

// nextStep tells a person what to do about rows not accepted: a resume
// retries rows that were not delivered; it cannot fix rows refused for
// their content, nor an input that is missing, empty or unreadable. ""
// when there is nothing to say.
func nextStep(sum *importer.Summary, code int) string {
	if code == exitOK || code == exitUsage {
		return ""
	}
	var b strings.Builder
	undelivered := sum.Counts[importer.StatusFailed] + sum.Counts[importer.StatusNotSent]
	if sum.Unreachable != "" {
		b.WriteString("the endpoint did not answer: check the network, DNS, proxy and --endpoint, then resume\n")
	}
	if undelivered > 0 || sum.Interrupted || sum.Aborted != "" {
		fmt.Fprintf(&b, "to send the rows not delivered (accepted rows are skipped), run:\n  %s\n", resumeCommand(os.Args))
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
