package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"afimport/mappings/guess"
	"afimport/readers"
)

// defaultInitRows is how many sample rows init reads.
const defaultInitRows = 100

func initCommand(p process) *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "write a starter mapping guessed from a sample export",
		Description: `init reads the first --rows rows of SAMPLE, guesses which S2S field each column
feeds, and writes a commented YAML mapping: each guess says why in counts only,
and what cannot be guessed is a TODO_ placeholder ("afimport check" lists those
left). Sample values are personal data: they are read, never written.

Exit codes: 0 written; 2 the sample cannot be read or used, or --out exists.`,
		ArgsUsage: "SAMPLE",
		UsageText: `afimport init exports/renewals.csv > renewals.yaml
   afimport init --app-id website-www.example.com --out renewals.yaml exports/renewals.csv.gz
   afimport init --endpoint visit --rows 500 --out visits.yaml exports/visits.parquet
   head -n 200 export.csv | afimport init --format csv -`,
		Flags: append([]cli.Flag{
			// --endpoint means event|visit here, a URL in import: its own variable.
			&cli.StringFlag{Name: "endpoint", Value: "event", Usage: "S2S endpoint the mapping targets: event or visit", EnvVars: env("init-endpoint")},
			&cli.StringFlag{Name: "app-id", Usage: "the unified app `ID` in AppsFlyer (default: a TODO_app_id placeholder)", EnvVars: env("app-id")},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write the mapping to `FILE` (default: standard output)", EnvVars: env("init-out")},
			&cli.BoolFlag{Name: "force", Usage: "overwrite --out if it exists", EnvVars: env("init-force")},
			&cli.IntFlag{Name: "rows", Value: defaultInitRows, Usage: "read at most `N` sample rows", EnvVars: env("init-rows")},
		}, readerFlags()...),
		Action: func(c *cli.Context) error {
			if err := flagsAfterArgs(c); err != nil {
				return err
			}
			return exitWith(runInit(c.Context, initOptionsFrom(c), p))
		},
	}
}

// initOptions are init's flags and arguments.
type initOptions struct {
	Inputs   []string // the one SAMPLE
	Endpoint string
	AppID    string
	Out      string // "": standard output
	Force    bool
	Rows     int
	Input    inputOptions
}

func initOptionsFrom(c *cli.Context) initOptions {
	return initOptions{Inputs: c.Args().Slice(), Endpoint: c.String("endpoint"), AppID: c.String("app-id"),
		Out: c.String("out"), Force: c.Bool("force"), Rows: c.Int("rows"), Input: inputOptionsFrom(c)}
}

// runInit writes a starter mapping guessed from the sample to o.Out or
// p.Out; what it noticed goes to p.Err.
func runInit(_ context.Context, o initOptions, p process) (int, error) {
	if len(o.Inputs) != 1 {
		return exitUsage, fmt.Errorf("init takes one SAMPLE file (or - with --format), got %d arguments", len(o.Inputs))
	}
	sample := o.Inputs[0]
	if o.Rows < 1 {
		return exitUsage, fmt.Errorf("--rows %d: want 1 or more", o.Rows)
	}
	ropts, err := o.Input.readers(p.In)
	if err != nil {
		return exitUsage, err
	}
	if _, err := os.Stat(o.Out); o.Out != "" && err == nil && !o.Force {
		return exitUsage, fmt.Errorf("%s already exists: add --force to replace it", o.Out)
	}
	// Without --delimiter, read the sample with the delimiter it seems to
	// use, rather than guessing from one giant column.
	readFlags := ""
	if o.Input.Delimiter == "" {
		readFlags = sniffDelimiter(sample, &ropts, p.Err)
	}
	header, rows, skipped, err := readSample(sample, ropts, o.Rows)
	if err != nil {
		return exitUsage, err
	}
	source := filepath.Base(sample)
	if sample == readers.StdinPath {
		source = "standard input"
	}
	out, err := guess.Starter(header, rows, guess.Options{Source: source, Endpoint: o.Endpoint, AppID: o.AppID})
	if err != nil {
		return exitUsage, fmt.Errorf("%s: %v", sample, err)
	}
	if len(skipped) > 0 {
		fmt.Fprintf(p.Err, "afimport: %d sample row(s) could not be read and were skipped: %s\n", len(skipped), rowList(skipped, 10))
	}
	if o.Out == "" {
		_, err := p.Out.Write(out)
		return exitOf(err)
	}
	if err := writeNew(o.Out, out, o.Force); err != nil {
		return exitUsage, err
	}
	fmt.Fprintf(p.Err, "wrote %s from %d sample rows of %s\nnext: fix every TODO in it, then run\n  afimport check --mapping %s%s %s\n",
		o.Out, len(rows), sample, shellQuote(o.Out), readFlags, shellQuote(sample))
	return exitOK, nil
}

// sniffDelimiter sets ropts' delimiter to the one the sample seems to use,
// if not a comma, says so on w, and returns the flag that reads it so
// ("" for a comma).
func sniffDelimiter(sample string, ropts *readers.Options, w io.Writer) string {
	d := readers.SniffDelimiter(sample, *ropts)
	if d == 0 || d == ',' {
		return ""
	}
	ropts.CSV.Delimiter = d
	flag := string(d)
	if d == '\t' {
		flag = `\t`
	}
	readFlags := fmt.Sprintf(" --delimiter '%s'", flag)
	fmt.Fprintf(w, "afimport: %s looks %q-delimited: read it with%s (pass the same to check, preview and import)\n", sample, string(d), readFlags)
	return readFlags
}

// readSample reads up to n readable rows of every column of path. Rows the
// reader could not read are skipped and listed with their reason.
func readSample(path string, ropts readers.Options, n int) (header []string, rows [][]readers.Value, skipped []readers.Row, err error) {
	ropts.Columns = nil // every column, in file order
	header, err = readers.Each(path, ropts, func(row readers.Row) bool {
		if row.Err != nil {
			skipped = append(skipped, row)
		} else {
			rows = append(rows, row.Values)
		}
		return len(rows) < n
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return header, rows, skipped, nil
}

// rowList names rows by number with their reason, at most max of them:
// "row 3 (column "email": invalid UTF-8), row 7 (...) and 2 more".
func rowList(rows []readers.Row, max int) string {
	var parts []string
	for i, r := range rows {
		if i == max {
			return strings.Join(parts, ", ") + fmt.Sprintf(" and %d more", len(rows)-max)
		}
		parts = append(parts, fmt.Sprintf("row %d (%s)", r.Pos.Row, readers.RowReason(r.Err)))
	}
	return strings.Join(parts, ", ")
}

// writeNew writes data to path, refusing to replace an existing file
// unless force.
func writeNew(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists: add --force to replace it", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
