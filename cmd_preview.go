package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"afimport/importer"
	"afimport/mappings"
	"afimport/readers"
)

// defaultPreviewRows is how many rows preview shows.
const defaultPreviewRows = 5

func previewCommand() *cli.Command {
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
		Action: previewAction,
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

// clock is where the window is judged from.
type clock struct {
	now  time.Time
	loc  *time.Location
	skew time.Duration
}

func windowClock(c *cli.Context, m *mappings.Mapping) (clock, error) {
	ck := clock{now: time.Now(), loc: m.Timezone, skew: c.Duration("skew")}
	if s := c.String("now"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return ck, usageErr("--now %q: want RFC 3339, e.g. 2026-11-28T00:20:00-05:00", s)
		}
		ck.now = t
	}
	if name := c.String("app-timezone"); name != "" {
		loc, err := time.LoadLocation(name)
		if err != nil {
			return ck, usageErr("--app-timezone %q: unknown IANA timezone", name)
		}
		ck.loc = loc
	}
	if ck.loc == nil {
		ck.loc = time.UTC
	}
	return ck, nil
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

// stdoutIsTerminal reports whether standard output is a terminal; a
// variable so tests can take either path.
var stdoutIsTerminal = func() bool { return term.IsTerminal(int(os.Stdout.Fd())) }

func previewAction(c *cli.Context) error {
	if err := flagsAfterArgs(c); err != nil {
		return err
	}
	m, err := loadMapping(c)
	if err != nil {
		return err
	}
	if c.NArg() == 0 {
		return usageErr("no INPUT given (a file, folder, glob, or - for standard input)")
	}
	n := c.Int("rows")
	if n < 1 {
		return usageErr("--rows %d: want 1 or more", n)
	}
	ck, err := windowClock(c, m)
	if err != nil {
		return err
	}
	asJSON := !stdoutIsTerminal()
	if c.IsSet("json") {
		asJSON = c.Bool("json")
	}
	inputs, err := expandInputs(c.Args().Slice())
	if err != nil {
		return err
	}
	ropts, err := mappedReaderOptions(c, m)
	if err != nil {
		return err
	}

	out := c.App.Writer
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false) // URLs keep their & as sent
	if !asJSON {
		fmt.Fprintf(out, "mapping %s: app %s, endpoint %s; window in %s at %s\n\n",
			c.String("mapping"), appLabel(m), m.Endpoint, ck.loc, ck.now.In(ck.loc).Format(time.RFC3339))
	}
	shown, notSent := 0, 0
	var readErr error
	for _, in := range inputs {
		if shown == n {
			break
		}
		_, err := readers.Each(in, ropts, func(row readers.Row) bool {
			var ex *mappings.Explanation
			if row.Err == nil {
				e := m.Explain(row.Values)
				ex = &e
			}
			o := judge(m, row, ex, ck)
			if !sentOrFiltered(o.Status) {
				notSent++
			}
			if asJSON {
				_ = enc.Encode(o.line())
			} else {
				o.writeText(out)
			}
			shown++
			return shown < n
		})
		if err != nil {
			var mc *readers.MissingColumnError
			if errors.As(err, &mc) {
				return usageErr("the mapping reads column(s) the input lacks: %v", err)
			}
			fmt.Fprintf(os.Stderr, "afimport: %v\n", err)
			readErr = err
		}
	}
	switch {
	case readErr != nil:
		return &exitError{code: exitRowsFailed, err: errors.New("preview: an input could not be read")}
	case notSent > 0:
		return &exitError{code: exitRowsFailed, err: fmt.Errorf("%d of the %d rows shown would not be sent", notSent, shown)}
	}
	return nil
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
