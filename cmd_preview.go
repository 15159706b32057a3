package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"afimport/importer"
	"afimport/mappings"
	"afimport/readers"
)

// defaultPreviewRows is how many rows preview shows.
const defaultPreviewRows = 5

func previewCommand(p process) *cli.Command {
	return &cli.Command{
		Name:  "preview",
		Usage: "show the first rows' request bodies exactly as they would be sent, or why not",
		Description: `preview maps the first --rows rows of the inputs and shows, for each, its file and
row, the JSON body as it would be sent (personal data already hashed; the token
never appears), or why the row is invalid, and where its timestamp stands
against the acceptance window (the mapping's timezone or --app-timezone, at
--now or the real clock). Nothing is sent.

Output: JSON lines with --json or when standard output is not a terminal,
readable blocks otherwise (--json=false forces them).

Exit codes: 0 every row shown would be sent; 1 some would not (invalid, late,
future) or an input could not be read; 2 usage or mapping error.`,
		ArgsUsage: "INPUT...",
		UsageText: `afimport preview --mapping renewals.yaml renewals.csv
   afimport preview --mapping renewals.yaml --rows 20 --now 2026-11-28T00:20:00-05:00 renewals.csv
   afimport preview --mapping renewals.yaml --json renewals.csv | jq .body
   zcat big.csv.gz | afimport preview --mapping renewals.yaml --format csv -`,
		Flags: append(append([]cli.Flag{
			mappingFlag(),
			&cli.IntFlag{Name: "rows", Value: defaultPreviewRows, Usage: "show the first `N` rows", EnvVars: env("preview-rows")},
			&cli.BoolFlag{Name: "json", Usage: "JSON lines (the default when standard output is not a terminal)", EnvVars: env("preview-json")},
		}, windowFlags()...), readerFlags()...),
		Action: func(c *cli.Context) error {
			if err := flagsAfterArgs(c); err != nil {
				return err
			}
			return exitWith(runPreview(c.Context, previewOptionsFrom(c), p))
		},
	}
}

// windowFlags place rows against the acceptance window; the names and
// variables are import's.
func windowFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "app-timezone", Usage: "override the mapping's timezone (IANA name) for the acceptance window", EnvVars: env("app-timezone")},
		&cli.StringFlag{Name: "now", Usage: "pretend the clock reads this RFC 3339 `TIME`", EnvVars: env("now")},
		&cli.DurationFlag{Name: "skew", Value: 5 * time.Minute, Usage: "how far in the future a timestamp may be", EnvVars: env("skew")},
	}
}

// rowOutcome is what afimport would do with one row: the same decision as
// the importer's (reader error, then the mapping, then the window).
type rowOutcome struct {
	Pos      readers.Pos
	Status   string // valid, filtered, invalid, late or future, as in a dry-run report
	Reason   string // why not valid; never a value
	Window   string // window.Reason, or why there is no deadline; "" when invalid
	Verdict  string // in_window, late, future, no_timestamp; "" when invalid
	Deadline time.Time
	DedupID  string
	Body     []byte   // the body as sent, with Redacted fields replaced
	Redacted []string // targets whose unhashed personal data was hidden from Body
}

// sentOrFiltered: a row that would be sent, or that the mapping's skip:
// leaves out on purpose; neither makes a command's exit code non-zero.
func sentOrFiltered(status string) bool {
	return status == string(importer.StatusValid) || status == string(importer.StatusFiltered)
}

// judge decides one row with importer.Judge, the decision import makes,
// and adds what preview and explain show: the body with unhashed personal
// data hidden. ex is m.Explain of the row (nil for a row the reader could
// not read).
func judge(m *mappings.Mapping, row readers.Row, ex *mappings.Explanation, ck clock) rowOutcome {
	j := importer.Judge{Mapping: m, Now: ck.now, Loc: ck.loc, Skew: ck.skew}
	d := j.Decide(&row, true)
	o := rowOutcome{Pos: row.Pos, Status: string(d.Status), Reason: d.Reason}
	if d.Payload == nil {
		return o
	}
	p := d.Payload
	o.DedupID = p.DedupID
	o.Body, o.Redacted = ex.SafeBody(p.Body)
	o.Window, o.Deadline, o.Verdict = d.Window, d.Deadline, "no_timestamp"
	if p.HasTimestamp {
		o.Verdict = d.Verdict.String()
	}
	return o
}

// previewLine is one row of preview's JSON lines.
type previewLine struct {
	File     string          `json:"file"`
	Row      int64           `json:"row"`
	Status   string          `json:"status"`
	Reason   string          `json:"reason,omitempty"`
	Window   string          `json:"window,omitempty"`
	Deadline string          `json:"deadline,omitempty"`
	DedupID  string          `json:"dedup_id,omitempty"`
	Redacted []string        `json:"redacted,omitempty"`
	Body     json.RawMessage `json:"body,omitempty"`
}

func (o rowOutcome) line() previewLine {
	l := previewLine{File: o.Pos.File, Row: o.Pos.Row, Status: o.Status, Reason: o.Reason,
		Window: o.Window, DedupID: o.DedupID, Redacted: o.Redacted, Body: o.Body}
	if o.Status == "late" || o.Status == "future" {
		l.Window = "" // the reason says it
	}
	if !o.Deadline.IsZero() {
		l.Deadline = o.Deadline.Format(time.RFC3339)
	}
	return l
}

// previewOptions are preview's flags and arguments.
type previewOptions struct {
	Mapping string
	Inputs  []string
	Rows    int
	JSON    *bool // nil: JSON lines unless standard output is a terminal
	Window  windowOptions
	Input   inputOptions
}

func previewOptionsFrom(c *cli.Context) previewOptions {
	o := previewOptions{Mapping: c.String("mapping"), Inputs: c.Args().Slice(), Rows: c.Int("rows"),
		Window: windowOptionsFrom(c), Input: inputOptionsFrom(c)}
	if c.IsSet("json") {
		asJSON := c.Bool("json")
		o.JSON = &asJSON
	}
	return o
}

// runPreview writes the first o.Rows rows of the inputs to p.Out, as JSON
// lines or readable blocks.
func runPreview(_ context.Context, o previewOptions, p process) (int, error) {
	m, err := loadMapping(o.Mapping)
	if err != nil {
		return exitOf(err)
	}
	if len(o.Inputs) == 0 {
		return exitUsage, errors.New("no INPUT given (a file, folder, glob, or - for standard input)")
	}
	if o.Rows < 1 {
		return exitUsage, fmt.Errorf("--rows %d: want 1 or more", o.Rows)
	}
	ck, err := o.Window.clock(m)
	if err != nil {
		return exitOf(err)
	}
	asJSON := !p.OutIsTerminal
	if o.JSON != nil {
		asJSON = *o.JSON
	}
	inputs, err := expandInputs(o.Inputs)
	if err != nil {
		return exitOf(err)
	}
	ropts, err := o.Input.mapped(m, p.In)
	if err != nil {
		return exitOf(err)
	}
	if !asJSON {
		fmt.Fprintf(p.Out, "mapping %s: app %s, endpoint %s; window in %s at %s\n\n",
			o.Mapping, appLabel(m), m.Endpoint, ck.loc, ck.now.In(ck.loc).Format(time.RFC3339))
	}
	pv := previewer{m: m, ck: ck, asJSON: asJSON, out: p.Out, enc: json.NewEncoder(p.Out), limit: o.Rows}
	pv.enc.SetEscapeHTML(false) // URLs keep their & as sent
	var readErr error
	for _, in := range inputs {
		if pv.shown == pv.limit {
			break
		}
		if _, err := readers.Each(in, ropts, pv.show); err != nil {
			var mc *readers.MissingColumnError
			if errors.As(err, &mc) {
				return exitUsage, fmt.Errorf("the mapping reads column(s) the input lacks: %v", err)
			}
			fmt.Fprintf(p.Err, "afimport: %v\n", err)
			readErr = err
		}
	}
	switch {
	case readErr != nil:
		return exitRowsFailed, errors.New("preview: an input could not be read")
	case pv.notSent > 0:
		return exitRowsFailed, fmt.Errorf("%d of the %d rows shown would not be sent", pv.notSent, pv.shown)
	}
	return exitOK, nil
}

// previewer shows rows until it has shown limit of them.
type previewer struct {
	m              *mappings.Mapping
	ck             clock
	asJSON         bool
	out            io.Writer
	enc            *json.Encoder
	limit          int
	shown, notSent int
}

// show writes one row; false once limit rows are shown.
func (pv *previewer) show(row readers.Row) bool {
	var ex *mappings.Explanation
	if row.Err == nil {
		e := pv.m.Explain(row.Values)
		ex = &e
	}
	o := judge(pv.m, row, ex, pv.ck)
	if !sentOrFiltered(o.Status) {
		pv.notSent++
	}
	if pv.asJSON {
		_ = pv.enc.Encode(o.line())
	} else {
		o.writeText(pv.out)
	}
	pv.shown++
	return pv.shown < pv.limit
}

// writeText writes one row as a readable block.
func (o rowOutcome) writeText(w io.Writer) {
	fmt.Fprintf(w, "%s  %s\n", o.Pos, strings.ToUpper(o.Status))
	if o.Reason != "" {
		fmt.Fprintf(w, "  reason:   %s\n", o.Reason)
	}
	if o.Window != "" && o.Status == "valid" {
		fmt.Fprintf(w, "  window:   %s\n", o.Window)
	}
	if o.Body != nil {
		if len(o.Redacted) > 0 {
			fmt.Fprintf(w, "  redacted: %s (sent unhashed; hidden here)\n", strings.Join(o.Redacted, ", "))
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, o.Body, "  ", "  "); err != nil {
			pretty.Write(o.Body)
		}
		fmt.Fprintf(w, "  body:     %s\n", pretty.String())
	}
	fmt.Fprintln(w)
}
