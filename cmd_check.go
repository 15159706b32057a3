package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"afimport/importer"
	"afimport/mappings"
	"afimport/readers"
)

// defaultCheckRows is how many rows of each input check reads.
const defaultCheckRows = 1000

func checkCommand(p process) *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "check a mapping: load it, run its tests: fixtures, and try it on the inputs' first rows",
		Description: `check loads the mapping (every mistake is printed with its line:column), runs
the cases of its tests: section (PASS/FAIL with the difference), warns about
placeholders left by "afimport init" and about revenue that can be sent
without a currency, and, given inputs, checks that each has every column the
mapping reads and counts how many of its first --rows rows would be
filtered (skip:) or invalid, with the most frequent reasons. Nothing is sent.

Exit codes: 0 the mapping loads, its tests pass and the inputs have its
columns (invalid sample rows are reported, not an error); 1 an input could
not be read; 2 the mapping does not load, a test fails, an input lacks a
column, or --strict and a placeholder remains or revenue can be sent without
a currency.`,
		ArgsUsage: "[INPUT...]",
		UsageText: `afimport check --mapping renewals.yaml
   afimport check --mapping renewals.yaml exports/2026-11-27/renewals.csv.gz
   afimport check --mapping renewals.yaml --rows 50000 exports/2026-11-27/
   afimport check --strict --mapping renewals.yaml   # in CI: placeholders fail too`,
		Flags: append([]cli.Flag{
			mappingFlag(),
			&cli.IntFlag{Name: "rows", Value: defaultCheckRows, Usage: "read at most `N` rows of each input (0: all)", EnvVars: env("check-rows")},
			&cli.BoolFlag{Name: "strict", Usage: "exit 2 when a placeholder of afimport init (TODO_...) remains, or revenue can be sent without a currency", EnvVars: env("check-strict")},
			maxMemoryFlag(),
		}, readerFlags()...),
		Action: func(c *cli.Context) error {
			if err := flagsAfterArgs(c); err != nil {
				return err
			}
			return exitWith(runCheck(c.Context, checkOptionsFrom(c), p))
		},
	}
}

// mappingFlag is --mapping, shared by every command that reads a mapping.
func mappingFlag() cli.Flag {
	return &cli.StringFlag{Name: "mapping", Aliases: []string{"m"}, Usage: "YAML mapping `FILE` (required)", EnvVars: env("mapping")}
}

// readerFlags are the input flags of import, with the same names and
// AFIMPORT_* variables, so readerOptions reads them alike everywhere.
func readerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Usage: "input format: csv, ndjson or parquet (default: by extension; for -, ndjson when the content starts with {, else csv)", EnvVars: env("format")},
		&cli.StringFlag{Name: "delimiter", Usage: "CSV delimiter: , ; | or \\t (default , and \\t for .tsv)", EnvVars: env("delimiter")},
		&cli.StringFlag{Name: "quote", Usage: "CSV quote character (default \")", EnvVars: env("quote")},
		&cli.StringSliceFlag{Name: "null-value", Usage: "CSV field value read as null (repeatable), e.g. NULL or \\N", EnvVars: env("null-value")},
		&cli.StringFlag{Name: "encoding", Usage: "CSV text encoding: utf-8 or latin-1", EnvVars: env("encoding")},
		&cli.IntFlag{Name: "max-row-bytes", Value: 1 << 20, Usage: "a longer CSV record or NDJSON line is an invalid row", EnvVars: env("max-row-bytes")},
	}
}

// checkOptions are check's flags and arguments.
type checkOptions struct {
	Mapping     string
	Inputs      []string
	Rows        int
	Strict      bool
	MaxMemoryMB int
	Input       inputOptions
}

func checkOptionsFrom(c *cli.Context) checkOptions {
	return checkOptions{Mapping: c.String("mapping"), Inputs: c.Args().Slice(), Rows: c.Int("rows"),
		Strict: c.Bool("strict"), MaxMemoryMB: c.Int("max-memory"), Input: inputOptionsFrom(c)}
}

// runCheck checks the mapping, and its inputs if any, writing what it
// finds to p.Out.
func runCheck(_ context.Context, o checkOptions, p process) (int, error) {
	out := p.Out
	m, err := loadMapping(o.Mapping)
	if err != nil {
		return exitOf(err)
	}
	if o.Rows < 0 {
		return exitUsage, fmt.Errorf("--rows %d: want 0 (all) or more", o.Rows)
	}
	fmt.Fprintf(out, "mapping %s: loads (app %s, endpoint %s, %d columns: %s)\n",
		o.Mapping, appLabel(m), m.Endpoint, len(m.Columns()), strings.Join(m.Columns(), ", "))
	problems := checkTests(out, m)
	warnings, more := checkWarnings(out, m, o.Strict)
	problems = append(problems, more...)
	code := exitOK
	if len(o.Inputs) > 0 {
		if code, more, err = checkInputs(out, m, o, p.In); err != nil {
			return exitOf(err)
		}
		problems = append(problems, more...)
	}
	if len(problems) > 0 {
		return exitUsage, errors.New("check failed: " + strings.Join(problems, "; "))
	}
	if code != exitOK {
		return code, errors.New("check: an input could not be read")
	}
	if warnings > 0 {
		fmt.Fprintf(out, "ok, with %d warning(s)\n", warnings)
		return exitOK, nil
	}
	fmt.Fprintln(out, "ok")
	return exitOK, nil
}

// checkTests runs the mapping's tests: section, prints PASS or FAIL for
// each, and returns the problem if some failed.
func checkTests(out io.Writer, m *mappings.Mapping) (problems []string) {
	results := m.RunTests()
	if len(results) == 0 {
		fmt.Fprintln(out, "tests: none (add a tests: section, see docs/mapping.md#tests-mapping-fixtures)")
		return nil
	}
	failed := 0
	for _, r := range results {
		if r.Pass {
			fmt.Fprintf(out, "PASS %s (line %d)\n", r.Name, r.Line)
			continue
		}
		failed++
		fmt.Fprintf(out, "FAIL %s (line %d)\n", r.Name, r.Line)
		for _, d := range strings.Split(r.Diff, "; ") {
			fmt.Fprintf(out, "     %s\n", d)
		}
	}
	fmt.Fprintf(out, "tests: %d passed, %d failed\n", len(results)-failed, failed)
	if failed > 0 {
		return []string{fmt.Sprintf("%d of %d tests failed", failed, len(results))}
	}
	return nil
}

// checkWarnings prints the placeholders left and revenue that can be sent
// without a currency; with strict, each is also a problem.
func checkWarnings(out io.Writer, m *mappings.Mapping, strict bool) (warnings int, problems []string) {
	placeholders := m.Placeholders()
	for _, p := range placeholders {
		fmt.Fprintf(out, "warning: %s\n", p)
	}
	if len(placeholders) > 0 && strict {
		problems = append(problems, fmt.Sprintf("%d placeholder(s) of afimport init remain (--strict)", len(placeholders)))
	}
	warnings = len(placeholders)
	if m.RevenueWithoutCurrency() {
		warnings++
		fmt.Fprintln(out, "warning: event_revenue can be sent without event_revenue_currency (the currency is unmapped, optional without a default, or on_invalid: omit): map it, or give it a default")
		if strict {
			problems = append(problems, "revenue can be sent without a currency (--strict)")
		}
	}
	return warnings, problems
}

// checkInputs samples each input: a missing column is a problem, an input
// that cannot be read makes the code exitRowsFailed. err is a usage error.
func checkInputs(out io.Writer, m *mappings.Mapping, o checkOptions, stdin io.Reader) (code int, problems []string, err error) {
	inputs, err := expandInputs(o.Inputs)
	if err != nil {
		return 0, nil, err
	}
	ropts, err := o.Input.mapped(m, stdin)
	if err != nil {
		return 0, nil, err
	}
	warnings, _ := parquetMemoryWarnings(inputs, ropts.Columns, ropts, o.MaxMemoryMB)
	for _, w := range warnings {
		fmt.Fprintf(out, "warning: %s\n", w)
	}
	code = exitOK
	for _, in := range inputs {
		st, err := sampleInput(m, in, ropts, o.Rows)
		var mc *readers.MissingColumnError
		switch {
		case errors.As(err, &mc):
			fmt.Fprintf(out, "%s: missing column(s) %s (the file has: %s)\n", in, quoteAll(mc.Columns), strings.Join(st.header, ", "))
			if h := mc.Hint(); h != "" {
				fmt.Fprintf(out, "  %s\n", h)
			}
			problems = append(problems, fmt.Sprintf("%s lacks column(s) %s", in, quoteAll(mc.Columns)))
			continue
		case err != nil && st.rows == 0:
			fmt.Fprintf(out, "%s: cannot read: %v\n", in, err)
			code = exitRowsFailed
			continue
		}
		st.print(out, in)
		if err != nil {
			fmt.Fprintf(out, "  stopped reading: %v\n", err)
			code = exitRowsFailed
		}
	}
	return code, problems, nil
}

// sampleStats is what check learned from the first rows of one input.
type sampleStats struct {
	header   []string
	rows     int
	invalid  int
	filtered int // rows a skip: entry leaves out
	reasons  map[string]int
	limited  bool // stopped at --rows
}

// sampleInput maps up to limit rows of one input (0: all). The error is
// Open's (a *readers.MissingColumnError among them) or the one that
// stopped the reading; rows read before it are counted.
func sampleInput(m *mappings.Mapping, path string, ropts readers.Options, limit int) (sampleStats, error) {
	st := sampleStats{reasons: map[string]int{}}
	// The import's own decision; check counts what the mapping refuses
	// (the window depends on when the import runs, so it is not judged).
	j := importer.Judge{Mapping: m, Now: time.Now(), Loc: m.Timezone}
	_, err := readers.Each(path, ropts, func(row readers.Row) bool {
		if limit > 0 && st.rows == limit {
			st.limited = true
			return false
		}
		st.rows++
		switch d := j.Decide(&row, false); d.Status {
		case importer.StatusFiltered:
			st.filtered++
		case importer.StatusInvalid:
			st.invalid++
			st.reasons[d.Reason]++
		}
		return true
	})
	var mc *readers.MissingColumnError
	if errors.As(err, &mc) {
		st.header = fileHeader(path, ropts)
	}
	return st, err
}

// fileHeader is every column of an input, to name what it has when a
// column is missing; nil when it cannot be read.
func fileHeader(path string, ropts readers.Options) []string {
	ropts.Columns = nil
	r, err := readers.Open(path, ropts)
	if err != nil {
		return nil
	}
	defer r.Close()
	return r.Header()
}

func (st sampleStats) print(w io.Writer, name string) {
	scope := fmt.Sprintf("all %d rows", st.rows)
	if st.limited {
		scope = fmt.Sprintf("the first %d rows", st.rows)
	}
	fmt.Fprintf(w, "%s: has every column; %s: %d valid, ", name, scope, st.rows-st.invalid-st.filtered)
	if st.filtered > 0 {
		fmt.Fprintf(w, "%d filtered, ", st.filtered)
	}
	fmt.Fprintf(w, "%d invalid\n", st.invalid)
	type rc struct {
		reason string
		n      int
	}
	var top []rc
	for r, n := range st.reasons {
		top = append(top, rc{r, n})
	}
	sort.Slice(top, func(i, j int) bool {
		if top[i].n != top[j].n {
			return top[i].n > top[j].n
		}
		return top[i].reason < top[j].reason
	})
	const shown = 5
	for i, t := range top {
		if i == shown {
			fmt.Fprintf(w, "  and %d more reason(s)\n", len(top)-shown)
			break
		}
		fmt.Fprintf(w, "  %6d  %s\n", t.n, t.reason)
	}
}

// appLabel names the mapping's app: its app id, or the column each row's
// comes from.
func appLabel(m *mappings.Mapping) string {
	if m.PerRowAppID() {
		return "from column " + strconv.Quote(m.AppIDColumn)
	}
	return m.AppID
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
