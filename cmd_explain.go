package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"afimport/importer"
	"afimport/mappings"
	"afimport/readers"
)

func explainCommand(p process) *cli.Command {
	return &cli.Command{
		Name:  "explain",
		Usage: "show one row's journey: source values, each field's rules and result, the window, the body",
		Description: `explain maps row --row of INPUT and shows every target field: its source, the
input (personal data masked), the rules applied and the JSON value sent, or the
error, or why it is left out; then where the timestamp stands against the
acceptance window (deadline in the app's timezone) and the body as it would be
sent, or why the row would not be. Nothing is sent.

--row is the 1-based data row as the report numbers it (the CSV header is not
counted; NDJSON: the line number).

Exit codes: 0 the row would be sent; 1 it would not (invalid, late, future);
2 usage or mapping error, or no such row.`,
		ArgsUsage: "INPUT",
		UsageText: `afimport explain --mapping renewals.yaml --row 4 renewals.csv
   afimport explain --mapping renewals.yaml --row 1042 --now 2026-11-28T00:20:00-05:00 exports/2026-11-27/renewals.csv.gz
   afimport explain --mapping renewals.yaml --row 7 --app-timezone Europe/Paris renewals.ndjson`,
		Flags: append(append([]cli.Flag{
			mappingFlag(),
			&noDefaultInt64Flag{cli.Int64Flag{Name: "row", Usage: "the 1-based data row `N` to explain (required)", EnvVars: env("explain-row")}},
		}, windowFlags()...), readerFlags()...),
		Action: func(c *cli.Context) error {
			if err := flagsAfterArgs(c); err != nil {
				return err
			}
			return exitWith(runExplain(c.Context, explainOptionsFrom(c), p))
		},
	}
}

// explainOptions are explain's flags and arguments.
type explainOptions struct {
	Mapping string
	Inputs  []string
	Row     int64
	RowSet  bool // --row given
	Window  windowOptions
	Input   inputOptions
}

func explainOptionsFrom(c *cli.Context) explainOptions {
	o := explainOptions{Mapping: c.String("mapping"), Inputs: c.Args().Slice(),
		Window: windowOptionsFrom(c), Input: inputOptionsFrom(c)}
	o.Row, o.RowSet = c.Int64("row"), c.IsSet("row")
	return o
}

// runExplain writes the journey of row o.Row of o's one input to p.Out.
func runExplain(_ context.Context, o explainOptions, p process) (int, error) {
	m, err := loadMapping(o.Mapping)
	if err != nil {
		return exitOf(err)
	}
	if len(o.Inputs) != 1 {
		return exitUsage, fmt.Errorf("explain takes one INPUT file, got %d arguments", len(o.Inputs))
	}
	if !o.RowSet {
		return exitUsage, errors.New("--row N is required: the 1-based data row to explain")
	}
	if o.Row < 1 {
		return exitUsage, fmt.Errorf("--row %d: rows are numbered from 1", o.Row)
	}
	ck, err := o.Window.clock(m)
	if err != nil {
		return exitOf(err)
	}
	ropts, err := o.Input.mapped(m, p.In)
	if err != nil {
		return exitOf(err)
	}
	found, err := findRow(o.Inputs[0], ropts, o.Row)
	if err != nil {
		return exitOf(err)
	}
	var ex *mappings.Explanation
	if found.Err == nil {
		e := m.Explain(found.Values)
		ex = &e
	}
	out := judge(m, *found, ex, ck)
	writeExplanation(p.Out, o.Mapping, m, ex, out, ck)
	if !sentOrFiltered(out.Status) {
		return exitRowsFailed, nil
	}
	return exitOK, nil
}

// findRow reads in up to its data row want.
func findRow(in string, ropts readers.Options, want int64) (*readers.Row, error) {
	var found *readers.Row
	var last int64
	_, err := readers.Each(in, ropts, func(row readers.Row) bool {
		last = row.Pos.Row
		if row.Pos.Row == want {
			found = &row
			return false
		}
		return row.Pos.Row < want
	})
	if err != nil {
		var mc *readers.MissingColumnError
		if errors.As(err, &mc) {
			return nil, usageErr("the mapping reads column(s) the input lacks: %v", err)
		}
		if found == nil {
			return nil, &exitError{code: exitRowsFailed, err: err}
		}
	}
	if found == nil {
		return nil, usageErr("%s has no row %d (its last data row is %d)", in, want, last)
	}
	return found, nil
}

// writeExplanation prints a row's journey. Every value it shows comes from
// Explain (masked there) or from the body (hashed, and redacted by
// Explanation.SafeBody where a mapping sends personal data unhashed).
func writeExplanation(w io.Writer, mappingName string, m *mappings.Mapping, ex *mappings.Explanation, o rowOutcome, ck clock) {
	app := appLabel(m)
	if m.PerRowAppID() && ex != nil && ex.AppID != "" {
		app = ex.AppID + " (" + app + ")"
	}
	fmt.Fprintf(w, "%s through %s (app %s, endpoint %s)\n", o.Pos, mappingName, app, m.Endpoint)
	if ex == nil {
		fmt.Fprintf(w, "\nthe row could not be read\n\nverdict: INVALID, not sent\n  %s\n", o.Reason)
		return
	}
	if o.Status == string(importer.StatusFiltered) {
		fmt.Fprintf(w, "\nleft out by the mapping's skip: before any field is read\n\nverdict: FILTERED, not sent\n  %s\n", o.Reason)
		return
	}

	writeSources(w, ex)
	writeFields(w, ex)
	writeVerdict(w, o, ck)
}

// writeSources lists the source values as the fields read them, one per
// column, masked as Explain masks them.
func writeSources(w io.Writer, ex *mappings.Explanation) {
	fmt.Fprintln(w, "\nsource values (personal data masked):")
	seen := map[string]bool{}
	width := 0
	type kv struct{ k, v string }
	var src []kv
	for _, f := range ex.Fields {
		col, ok := plainColumn(f.Source)
		if !ok || seen[col] {
			continue
		}
		seen[col] = true
		src = append(src, kv{col, f.Input})
		width = max(width, len(col))
	}
	for _, s := range src {
		fmt.Fprintf(w, "  %-*s  %s\n", width, s.k, s.v)
	}
}

// writeFields shows each target field: source, input, rules, and the
// result, the error or why it is omitted.
func writeFields(w io.Writer, ex *mappings.Explanation) {
	fmt.Fprintln(w, "\nfields, in body order:")
	for _, f := range ex.Fields {
		fmt.Fprintf(w, "  %s\n", f.Field)
		fmt.Fprintf(w, "    source  %s\n", f.Source)
		in := f.Input
		if f.Default {
			in += " (missing: default used)"
		}
		fmt.Fprintf(w, "    input   %s\n", in)
		fmt.Fprintf(w, "    rules   %s\n", f.Rules)
		switch {
		case f.Omitted:
			fmt.Fprintf(w, "    omitted %s\n", f.Why)
			if f.Error != "" {
				fmt.Fprintf(w, "    because %s\n", f.Error)
			}
		case f.Error != "":
			fmt.Fprintf(w, "    ERROR   %s\n", f.Error)
		default:
			fmt.Fprintf(w, "    result  %s\n", f.Result)
		}
	}
}

// writeVerdict shows the window, the verdict and the body.
func writeVerdict(w io.Writer, o rowOutcome, ck clock) {
	fmt.Fprintf(w, "\nwindow (app timezone %s, now %s):\n", ck.loc, ck.now.In(ck.loc).Format(time.RFC3339))
	switch {
	case o.Status == "invalid":
		fmt.Fprintln(w, "  not checked: the row is invalid")
	default:
		fmt.Fprintf(w, "  %s\n", o.Window)
		if !o.Deadline.IsZero() {
			fmt.Fprintf(w, "  deadline %s\n", o.Deadline.Format(time.RFC3339))
		}
	}

	if o.Status == "valid" {
		fmt.Fprintln(w, "\nverdict: VALID, would be sent")
	} else {
		fmt.Fprintf(w, "\nverdict: %s, not sent\n  %s\n", strings.ToUpper(o.Status), o.Reason)
	}
	if o.Body != nil {
		label := "body"
		if o.Status != "valid" {
			label = "body (built, but not sent)"
		}
		if len(o.Redacted) > 0 {
			label += "; " + strings.Join(o.Redacted, ", ") + " sent unhashed, hidden here"
		}
		fmt.Fprintln(w, label+":")
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, o.Body, "  ", "  "); err != nil {
			pretty.Write(o.Body)
		}
		fmt.Fprintf(w, "  %s\n", pretty.String())
	}
}

// plainColumn is the column of a source `column "x"` read as is (no
// extract); false for constants, templates and extracts.
func plainColumn(source string) (string, bool) {
	rest, ok := strings.CutPrefix(source, "column ")
	if !ok || strings.Contains(source, ", extract ") {
		return "", false
	}
	col, err := strconv.Unquote(rest)
	return col, err == nil
}

// noDefaultInt64Flag is an Int64Flag whose help shows no default: a
// required flag has none ("(required) (default: 0)" misleads).
type noDefaultInt64Flag struct{ cli.Int64Flag }

// GetDefaultText is empty, so that help prints no "(default: ...)".
func (f *noDefaultInt64Flag) GetDefaultText() string { return "" }

// String is the help line, through this type's GetDefaultText.
func (f *noDefaultInt64Flag) String() string { return cli.FlagStringer(f) }
