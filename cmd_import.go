package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	ph := findPlaceholders(m)
	if c.String("app-timezone") != "" {
		ph = slices.DeleteFunc(ph, func(p string) bool { return strings.HasPrefix(p, "timezone ") })
	}
	if len(ph) > 0 && !dry && c.String("endpoint") != "mock" {
		// A starter mapping from afimport init that nobody finished would
		// send events named TODO_event_name to the real app.
		return usageErr("mapping %s still has placeholders from afimport init: %s (a dry run or --endpoint mock works meanwhile)",
			c.String("mapping"), strings.Join(ph, "; "))
	}

	var clock importer.Clock = importer.RealClock{}
	if s := c.String("now"); s != "" {
		if !dry {
			return usageErr("--now only works with --dry-run: a live run uses the real clock")
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return usageErr("--now %q: want RFC 3339, e.g. 2026-11-28T00:20:00-05:00", s)
		}
		clock = importer.FixedClock(t)
	}
	order := importer.OrderAuto
	if c.IsSet("order-by-deadline") {
		order = importer.OrderInput
		if c.Bool("order-by-deadline") {
			order = importer.OrderByDeadline
		}
	}
	loc := m.Timezone
	if name := c.String("app-timezone"); name != "" {
		if loc, err = time.LoadLocation(name); err != nil {
			return usageErr("--app-timezone %q: unknown IANA timezone", name)
		}
	}
	if loc == nil {
		loc = time.UTC
	}

	ropts, err := readerOptions(c)
	if err != nil {
		return usageErr("%v", err)
	}
	inputs, err := readers.Expand(c.Args().Slice())
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

	var shard importer.Shard
	if s := c.String("shard"); s != "" {
		if shard, err = importer.ParseShard(s); err != nil {
			return usageErr("--shard: %v", err)
		}
	}
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
	var checkpoint *reports.Checkpoint
	if _, err := os.Stat(reportPath); err == nil {
		switch {
		case resume:
			checkpoint, err = reports.ReadCheckpoint(reportPath)
			if err != nil {
				return usageErr("--resume: %v", err)
			}
			logger.Info(checkpoint.String(), "report", reportPath)
		case c.Bool("overwrite") || dry:
		default:
			return usageErr("report %s already exists: add --resume to continue that run (rows it shows accepted are skipped), or --overwrite to start over", reportPath)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return usageErr("report %s: %v", reportPath, err)
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

	report, err := reports.Create(reportPath, reports.Options{Append: resume})
	if err != nil {
		return usageErr("report: %v", err)
	}
	defer report.Close()

	ctx, stop := signalContext(logger, report)
	defer stop()

	if path := c.String("cpuprofile"); path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			return usageErr("--cpuprofile: %v", err)
		}
		defer stopProfile()
	}

	stats := new(importer.Stats)
	prog := startProgress(c, stats, logger)
	sum, runErr := importer.Run(ctx, importer.Options{
		Mapping:         m,
		Inputs:          inputs,
		ReaderOptions:   ropts,
		Sender:          sender,
		Results:         report,
		DryRun:          dry,
		Clock:           clock,
		AppTimezone:     loc,
		Skew:            c.Duration("skew"),
		Rate:            c.Float64("rate"),
		Burst:           c.Int("burst"),
		MaxInFlight:     c.Int("max-in-flight"),
		MaxRetries:      maxRetries(c.Int("max-retries")),
		MaxRetryAfter:   c.Duration("max-retry-after"),
		MaxThrottleWait: c.Duration("max-throttle-wait"),
		OutageAfter:     c.Duration("outage-after"),
		Grace:           c.Duration("grace"),
		Checkpoint:      checkpointOrNil(checkpoint),
		Preflight:       c.Bool("preflight"),
		Order:           order,
		Shard:           shard,
		Logger:          logger,
		Stats:           stats,
	})
	prog.stop()
	if err := report.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("report %s: %w", reportPath, err)
	}
	if sum == nil {
		return runFailed(runErr)
	}
	sum.PeakRSS = peakRSS()
	fmt.Fprintf(os.Stderr, "\nreport: %s\n", reportPath)
	if err := reports.WriteSummaryText(os.Stderr, sum); err != nil {
		logger.Error("summary", "err", err)
	}
	if p := c.String("summary"); p != "" {
		if err := reports.WriteSummaryJSON(p, sum); err != nil {
			logger.Error("summary file", "file", p, "err", err)
		}
	}
	code := exitCode(sum, runErr)
	if p := c.String("metrics-file"); p != "" {
		labels := map[string]string{}
		if !m.PerRowAppID() {
			labels["app_id"] = m.AppID
		}
		if shard.Count > 1 {
			labels["shard"] = fmt.Sprintf("%d/%d", shard.Index, shard.Count)
		}
		if err := writeMetrics(p, sum, labels, code); err != nil {
			logger.Error("metrics file", "file", p, "err", err)
		}
	}
	if !dry {
		printNextStep(os.Stderr, sum, code)
	}
	if runErr != nil {
		return &exitError{code: code, err: runErr}
	}
	if code != exitOK {
		return &exitError{code: code}
	}
	return nil
}

// exitCode turns a run's outcome into the documented exit code.
func exitCode(sum *importer.Summary, runErr error) int {
	switch {
	case errors.Is(runErr, importer.ErrInputChanged):
		return exitUsage
	case sum.Interrupted:
		return exitInterrupted
	case sum.Aborted != "":
		return exitAborted
	case runErr != nil, len(sum.FailedFiles) > 0:
		return exitRowsFailed
	}
	for st, n := range sum.Counts {
		if n > 0 && st != importer.StatusAccepted && st != importer.StatusSkipped && st != importer.StatusValid && st != importer.StatusFiltered {
			return exitRowsFailed
		}
	}
	return exitOK
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

// printNextStep tells a person what to do about rows not accepted: a
// resume retries rows that were not delivered; it cannot fix rows refused
// for their content.
func printNextStep(w io.Writer, sum *importer.Summary, code int) {
	if code == exitOK || code == exitUsage {
		return
	}
	undelivered := sum.Counts[importer.StatusFailed] + sum.Counts[importer.StatusNotSent]
	if sum.Unreachable != "" {
		fmt.Fprintln(w, "the endpoint did not answer: check the network, DNS, proxy and --endpoint, then resume")
	}
	if undelivered > 0 || sum.Interrupted || sum.Aborted != "" || len(sum.FailedFiles) > 0 {
		fmt.Fprintf(w, "to send the rows not delivered (accepted rows are skipped), run:\n  %s\n", resumeCommand(os.Args))
		return
	}
	var refused int64
	for _, st := range []importer.Status{importer.StatusInvalid, importer.StatusLate, importer.StatusFuture, importer.StatusRejected} {
		refused += sum.Counts[st]
	}
	if refused > 0 {
		fmt.Fprintf(w, "%d rows were not sent or were refused because of their content (see the reason column); a retry alone will not change that\n", refused)
	}
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
