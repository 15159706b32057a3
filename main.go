// Command afimport sends rows from CRM and backend exports (CSV, NDJSON,
// Parquet) to AppsFlyer's S2S API for Web Attribution, one request per
// row, and writes a per-row report.
//
// This file declares the commands and their flags. Each cmd_*.go file fills
// its command's options struct from the flags (importOptionsFrom...) and
// runs it with runImport(ctx, opts, p) (and so on), which calls the
// importer, readers, mappings and reports packages and returns the exit
// code. What a command takes from the process (standard streams, terminal
// or not, environment, memory limit, signals) is a process value (process.go),
// so tests run commands in parallel with their own.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"afimport/importer"

	_ "time/tzdata" // the same timezone answers on machines without zoneinfo
)

// Exit codes, the contract with cron and orchestrators; the policy that
// picks one for a run is importer.ExitCode.
const (
	exitOK          = importer.ExitOK
	exitRowsFailed  = importer.ExitRowsFailed
	exitUsage       = importer.ExitUsage
	exitAborted     = importer.ExitAborted
	exitInterrupted = importer.ExitInterrupted
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

// Error is the message to print; "" when the exit code says it all.
func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

func main() {
	os.Exit(run(osProcess(os.Args)))
}

// cliSetup serializes urfave/cli's parsing and setup, which write to its
// package-level HelpFlag, VersionFlag and help command: commands may run
// at once in one process (the tests), and only their actions, the work,
// run in parallel.
var cliSetup sync.Mutex

// run runs the command line p.Args in p and returns the exit code.
func run(p process) int {
	cliSetup.Lock()
	var once sync.Once
	setupDone := func() { once.Do(cliSetup.Unlock) }
	defer setupDone()
	app := newApp(p)
	for _, cmd := range app.Commands {
		action := cmd.Action
		cmd.Action = func(c *cli.Context) error {
			setupDone()
			return action(c)
		}
	}
	err := app.Run(p.Args)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if msg := ee.Error(); msg != "" {
			fmt.Fprintln(p.Err, "afimport:", msg)
		}
		return ee.code
	}
	// Errors from flag parsing and other usage mistakes.
	fmt.Fprintln(p.Err, "afimport:", err)
	return exitUsage
}

// exitWith is a command's exit code and error as the error run reads.
func exitWith(code int, err error) error {
	if code == exitOK && err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// exitOf splits an error into the exit code it carries (an *exitError's;
// a usage error otherwise, as run treats it) and its message.
func exitOf(err error) (int, error) {
	if err == nil {
		return exitOK, nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, ee.err
	}
	return exitUsage, err
}

// env names the AFIMPORT_* variable that may set a flag.
func env(flag string) []string {
	return []string{"AFIMPORT_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))}
}

func init() {
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintln(c.App.Writer, "afimport", version()) }
}

// newApp is the command line application; its commands run in p.
func newApp(p process) *cli.App {
	return &cli.App{
		Name:    "afimport",
		Usage:   "batch-import export rows into AppsFlyer's S2S API for Web Attribution",
		Version: version(),
		Description: `afimport reads CSV, NDJSON and Parquet exports (files, folders, globs, .gz/.zst,
or - for standard input), maps each row through a YAML mapping into an S2S event
or visit, and sends it, writing one report line per input row.

The API token is read from the AF_S2S_TOKEN environment variable or from
--token-file; it is never accepted as a flag value.

Exit codes: 0 all rows accepted; 1 some rows not accepted, or an input missing
or unreadable; 2 usage or mapping error (nothing sent); 3 the API refused the
token or app; 130 interrupted. "afimport help COMMAND" or "afimport COMMAND
--help" tells more about each.`,
		EnableBashCompletion: true,
		Suggest:              true,
		ExitErrHandler:       func(*cli.Context, error) {}, // run() decides exit codes
		Action:               unknownCommand,
		Reader:               p.In,
		Writer:               p.Out,
		ErrWriter:            p.Err,
		Commands: []*cli.Command{importCommand(p), initCommand(p), checkCommand(p), previewCommand(p),
			explainCommand(p), mockCommand(p)},
	}
}

// unknownCommand is the app's action: help without arguments, a
// suggestion for a mistyped command.
func unknownCommand(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.ShowAppHelp(c)
	}
	return usageErr("%q is not a command. %s (afimport --help lists them)",
		c.Args().First(), cli.SuggestCommand(c.App.VisibleCommands(), c.Args().First()))
}

func importCommand(p process) *cli.Command {
	return &cli.Command{
		Name:  "import",
		Usage: "send every row of the inputs to the S2S API and write a per-row report",
		Description: `import reads every row of the INPUTs (files, folders, globs, .gz/.zst, or - for
standard input), maps it through the mapping, checks it against the API's
acceptance window and sends it, through a rate-limited worker pool with retries.
Each input row gets one line in the report (see the README's report table); the
summary goes to stderr (one JSON object with --log-format json) and, with
--summary and --metrics-file, to files for monitoring.

--max-invalid N or N% is an error budget: invalid rows at or under it do not
fail the run. With a budget, a run whose first 1000 rows are already over it
sends nothing.

The API token comes from $AF_S2S_TOKEN or --token-file, never from a flag.

Exit codes: 0 every row accepted or skipped (dry run: valid), invalid rows
within --max-invalid; 1 rows not accepted (invalid over the budget, late,
future, rejected, failed, not sent), or an input missing, empty or unreadable;
2 usage or mapping error, nothing sent; 3 the API refused the token or app;
130 interrupted, the report is flushed (--resume).`,
		ArgsUsage: "INPUT...",
		UsageText: `afimport import --mapping renewals.yaml renewals.csv
   afimport import --mapping m.yaml --endpoint mock testdata/renewals.csv
   afimport import --mapping m.yaml --dry-run --now 2026-11-28T00:20:00-05:00 exports/2026-11-27/
   zcat big.csv.gz | afimport import --mapping m.yaml --format csv --report big.report.csv -
   afimport import --mapping m.yaml --resume renewals.csv   # after a crash or failure`,
		Flags: importFlags(),
		Action: func(c *cli.Context) error {
			o, err := importOptionsFrom(c)
			if err != nil {
				return err
			}
			return exitWith(runImport(c.Context, o, p))
		},
	}
}

// importFlags are import's flags, each with its AFIMPORT_* variable.
// The input flags are readerFlags, in the same place.
func importFlags() []cli.Flag {
	return append(append([]cli.Flag{
		&cli.StringFlag{Name: "mapping", Aliases: []string{"m"}, Usage: "YAML mapping `FILE` (required)", EnvVars: env("mapping")},
		&cli.StringFlag{Name: "report", Usage: "per-row report `FILE` (.csv, or .ndjson/.jsonl); default: next to the first input", EnvVars: env("report")},
		&cli.StringFlag{Name: "endpoint", Value: "https://events.appsflyer.com", Usage: "S2S base `URL`, or \"mock\" to run against the built-in mock", EnvVars: env("endpoint")},
		&cli.StringFlag{Name: "token-file", Usage: "read the S2S token from `FILE` (default: $AF_S2S_TOKEN)", EnvVars: env("token-file")},
		&cli.BoolFlag{Name: "dry-run", Usage: "read, map, validate and report; send nothing", EnvVars: env("dry-run")},
		&cli.StringFlag{Name: "max-invalid", DefaultText: "0", Usage: "error budget: exit 0 with up to `N` invalid rows, or N% of the rows read less those skipped", EnvVars: env("max-invalid")},
		&cli.IntFlag{Name: "max-in-flight", Aliases: []string{"c", "concurrency"}, Value: 1000, Usage: "at most this many requests in flight; sending is open-loop, so as many are in flight as --rate × round trip needs (--concurrency is the old name)", EnvVars: append(env("max-in-flight"), env("concurrency")...)},
		&cli.Float64Flag{Name: "rate", Value: 900, Usage: "requests per second, shared by all workers (AppsFlyer documents 60,000/minute)", EnvVars: env("rate")},
		&cli.IntFlag{Name: "burst", Value: 20, Usage: "requests allowed above --rate in a burst", EnvVars: env("burst")},
		&cli.IntFlag{Name: "max-retries", Value: 5, Usage: "retries per row after 5xx, 408, timeouts and dropped connections (429s do not count: a throttled row waits for capacity)", EnvVars: env("max-retries")},
		&cli.DurationFlag{Name: "max-retry-after", Value: 60 * time.Second, Usage: "cap on the wait a Retry-After header asks for (never past the row's deadline)", EnvVars: env("max-retry-after")},
		&cli.DurationFlag{Name: "max-throttle-wait", Value: 10 * time.Minute, Usage: "how long a row without a timestamp may wait out 429s before it is failed (rows with one wait until their deadline)", EnvVars: env("max-throttle-wait")},
		&cli.DurationFlag{Name: "outage-after", Value: 30 * time.Second, Usage: "stop sending when the endpoint has given no answer at all (20+ attempts in a row) for this long; the rest is not_sent and resumable", EnvVars: env("outage-after")},
		&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "per-request timeout", EnvVars: env("timeout")},
		&cli.DurationFlag{Name: "grace", Value: 10 * time.Second, Usage: "on SIGINT/SIGTERM, how long in-flight requests may finish", EnvVars: env("grace")},
		&cli.BoolFlag{Name: "resume", Usage: "append to an existing report: skip rows it shows accepted, retry the rest", EnvVars: env("resume")},
		&cli.BoolFlag{Name: "overwrite", Usage: "replace an existing report (rows it shows accepted are sent again)", EnvVars: env("overwrite")},
		&cli.BoolFlag{Name: "mapping-changed", Usage: "with --resume: the mapping was changed on purpose since the report was written; rows it shows accepted stay settled, the rest are sent under the new mapping", EnvVars: env("mapping-changed")},
	}, readerFlags()...), []cli.Flag{
		&cli.StringFlag{Name: "app-timezone", Usage: "override the mapping's timezone (IANA name) for the acceptance window", EnvVars: env("app-timezone")},
		&cli.StringFlag{Name: "now", Usage: "with --dry-run: pretend the clock reads this RFC 3339 `TIME`", EnvVars: env("now")},
		&cli.BoolFlag{Name: "preflight", Value: true, Usage: "read the inputs once before sending: refuse a changed input on --resume and warn if the run would outlast a deadline (not for -)", EnvVars: env("preflight")},
		&cli.BoolFlag{Name: "order-by-deadline", Usage: "send the rows with the nearest acceptance deadline first (one pass over the inputs per deadline day); default: when the preflight forecasts that input order would miss a deadline at half of --rate. =false: always input order", EnvVars: env("order-by-deadline")},
		&cli.DurationFlag{Name: "skew", Value: 5 * time.Minute, Usage: "how far in the future a timestamp may be", EnvVars: env("skew")},
		&cli.StringFlag{Name: "shard", Usage: "process only shard `I/N` of the rows (by dedup id; stable across runs and hosts); --rate is per shard", EnvVars: env("shard")},
		&cli.StringFlag{Name: "metrics-file", Usage: "write Prometheus metrics to `FILE` atomically (node_exporter textfile collector)", EnvVars: env("metrics-file")},
		&cli.StringFlag{Name: "summary", Usage: "also write the summary as JSON to `FILE` (atomically)", EnvVars: env("summary")},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bar and no periodic progress lines", EnvVars: env("quiet")},
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format on stderr: text or json", EnvVars: env("log-format")},
		&cli.DurationFlag{Name: "progress-interval", Value: 10 * time.Second, Usage: "when stderr is not a terminal, log progress this often", EnvVars: env("progress-interval")},
		&cli.StringFlag{Name: "http", Value: "auto", Usage: "HTTP version (Go's net/http always): auto (HTTP/2 when the server offers it), 1.1, or 2", EnvVars: env("http")},
		maxMemoryFlag(),
		&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a pprof CPU profile of the run to `FILE`"},
	}...)
}

func mockCommand(p process) *cli.Command {
	return &cli.Command{
		Name:  "mock",
		Usage: "run the built-in mock of the S2S API (strict validation, optional faults)",
		UsageText: `afimport mock --addr 127.0.0.1:8080
   afimport mock --p429 0.05 --p5xx 0.03 --pdrop 0.01 --latency 20ms`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", Usage: "listen `ADDRESS`", EnvVars: env("mock-addr")},
			&cli.StringFlag{Name: "token-file", Usage: "accept only the token in `FILE` (default: $AF_S2S_TOKEN, else any token)", EnvVars: env("mock-token-file")},
			&cli.DurationFlag{Name: "latency", Usage: "service time per request", EnvVars: env("mock-latency")},
			&cli.DurationFlag{Name: "jitter", Usage: "uniform random extra service time", EnvVars: env("mock-jitter")},
			&cli.Float64Flag{Name: "p429", Usage: "probability of a 429 answer", EnvVars: env("mock-p429")},
			&cli.Float64Flag{Name: "p5xx", Usage: "probability of a 5xx answer", EnvVars: env("mock-p5xx")},
			&cli.Float64Flag{Name: "pdrop", Usage: "probability of closing the connection without an answer", EnvVars: env("mock-pdrop")},
			&cli.StringFlag{Name: "retry-after", Usage: "Retry-After sent with fault 429s and 503s", EnvVars: env("mock-retry-after")},
			&cli.Float64Flag{Name: "rate-limit", Usage: "server-side requests/s; beyond it 429 with Retry-After: 1", EnvVars: env("mock-rate-limit")},
			&cli.StringFlag{Name: "app-timezone", Value: "UTC", Usage: "app timezone for counting late bodies", EnvVars: env("mock-app-timezone")},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed for faults and jitter", EnvVars: env("mock-seed")},
			&cli.StringFlag{Name: "tls-cert", Usage: "serve HTTPS (HTTP/2 and HTTP/1.1) with the PEM certificate in `FILE` (with --tls-key)", EnvVars: env("mock-tls-cert")},
			&cli.StringFlag{Name: "tls-key", Usage: "the PEM private key of --tls-cert, in `FILE`", EnvVars: env("mock-tls-key")},
		},
		Action: func(c *cli.Context) error {
			return exitWith(runMock(c.Context, mockOptionsFrom(c), p))
		},
	}
}

// version is the module version and VCS revision the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		return fmt.Sprintf("%s (%s%s, %s)", v, rev, dirty, bi.GoVersion)
	}
	return fmt.Sprintf("%s (%s)", v, bi.GoVersion)
}
