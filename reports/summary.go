package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"afimport/importer"
)

// WriteSummaryText writes s for a person: a few lines with the counts per
// status (non-zero only, in importer.Statuses order; per app too when
// the rows went to more than one), throughput, wall
// time, retries and 429s, the top reasons, the earliest deadline in the
// app's timezone, failed files, why the run was aborted or interrupted, and
// warnings. Free text from the run (reasons, errors, warnings) is put on
// one line and stripped of control characters, so it cannot break the
// layout or drive the terminal. An unknown AppTimezone falls back to UTC.
func WriteSummaryText(w io.Writer, s *importer.Summary) error {
	var b bytes.Buffer
	if s.DryRun {
		b.WriteString("dry run: ")
	}
	fmt.Fprintf(&b, "%d rows in %s, %.1f rows/s\n", s.Rows, s.Elapsed().Round(100*time.Millisecond), s.RowsPerSecond())
	if line := countsLine(s.Counts); line != "" {
		fmt.Fprintf(&b, "%s\n", line)
	}
	if len(s.ByApp) > 1 {
		for _, app := range slices.Sorted(maps.Keys(s.ByApp)) {
			fmt.Fprintf(&b, "  app %s: %s\n", oneLine(app), countsLine(s.ByApp[app]))
		}
	}
	fmt.Fprintf(&b, "retries %d, 429s seen %d", s.Retries, s.Seen429)
	if s.PeakRSS > 0 {
		fmt.Fprintf(&b, ", peak memory %.1f MB", float64(s.PeakRSS)/1e6)
	}
	b.WriteByte('\n')
	if s.Refused != "" {
		fmt.Fprintf(&b, "refused: %s\n", oneLine(s.Refused))
	}
	if line := s.BudgetLine(); line != "" {
		fmt.Fprintf(&b, "%s\n", line)
	}
	if len(s.Reasons) > 0 {
		b.WriteString("top reasons:\n")
		for _, r := range s.Reasons {
			fmt.Fprintf(&b, "  %8d  %s\n", r.Count, oneLine(r.Reason))
		}
	}
	if line := deadlineLine(s); line != "" {
		fmt.Fprintf(&b, "%s\n", line)
	}
	if len(s.MissingInputs) > 0 {
		b.WriteString("inputs missing (nothing was read):\n")
		for _, f := range s.MissingInputs {
			fmt.Fprintf(&b, "  %s: %s\n", oneLine(f.File), oneLine(f.Err))
		}
	}
	if len(s.FailedFiles) > 0 {
		b.WriteString("failed files:\n")
		for _, f := range s.FailedFiles {
			fmt.Fprintf(&b, "  %s: %s\n", oneLine(f.File), oneLine(f.Err))
		}
	}
	if s.Aborted != "" {
		fmt.Fprintf(&b, "aborted: %s\n", oneLine(s.Aborted))
	}
	if s.Unreachable != "" {
		fmt.Fprintf(&b, "stopped: %s\n", oneLine(s.Unreachable))
	}
	if s.Interrupted {
		b.WriteString("interrupted: the report is flushed and the run can be resumed\n")
		if p := s.StoppedReading; p != nil {
			at := "before its first row"
			if p.Row > 0 {
				at = fmt.Sprintf("after row %d", p.Row)
			}
			fmt.Fprintf(&b, "  reading stopped in %s %s: the rest of the input was not read\n", oneLine(p.File), at)
		}
	}
	for _, msg := range s.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", oneLine(msg))
	}
	_, err := w.Write(b.Bytes())
	return err
}

type statusCount struct {
	status importer.Status
	n      int64
}

// countsLine is "accepted 1200, invalid 20": the non-zero counts.
func countsLine(counts map[importer.Status]int64) string {
	var parts []string
	for _, c := range statusCounts(counts) {
		parts = append(parts, fmt.Sprintf("%s %d", oneLine(string(c.status)), c.n))
	}
	return strings.Join(parts, ", ")
}

// statusCounts lists non-zero counts in importer.Statuses order, then any
// status the importer does not list, sorted, so none is hidden.
func statusCounts(counts map[importer.Status]int64) []statusCount {
	var out []statusCount
	for _, st := range importer.Statuses {
		if n := counts[st]; n != 0 {
			out = append(out, statusCount{st, n})
		}
	}
	var extra []statusCount
	for st, n := range counts {
		if n != 0 && !slices.Contains(importer.Statuses, st) {
			extra = append(extra, statusCount{st, n})
		}
	}
	slices.SortFunc(extra, func(a, b statusCount) int { return strings.Compare(string(a.status), string(b.status)) })
	return append(out, extra...)
}

// appZone loads the app's timezone, falling back to UTC.
func appZone(name string) (*time.Location, string) {
	if loc, err := time.LoadLocation(name); err == nil && name != "" {
		return loc, name
	}
	return time.UTC, "UTC"
}

// deadlineLine phrases s.EarliestDeadline in the app's zone, e.g.
// "the next rows expire at 2026-11-28 00:30 America/New_York, in 3h12m";
// "" when there is none.
func deadlineLine(s *importer.Summary) string {
	if s.EarliestDeadline.IsZero() {
		return ""
	}
	loc, name := appZone(s.AppTimezone)
	at := s.EarliestDeadline.In(loc).Format("2006-01-02 15:04")
	if s.Now.IsZero() {
		return fmt.Sprintf("the next rows expire at %s %s", at, name)
	}
	d := s.EarliestDeadline.Sub(s.Now)
	if d < 0 {
		return fmt.Sprintf("the next rows expired at %s %s, %s ago", at, name, humanDuration(-d))
	}
	return fmt.Sprintf("the next rows expire at %s %s, in %s", at, name, humanDuration(d))
}

// humanDuration renders d to the minute, rounded down: "3h12m", "45m",
// "under a minute".
func humanDuration(d time.Duration) string {
	m := int64(d / time.Minute)
	switch {
	case m == 0:
		return "under a minute"
	case m < 60:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%dm", m/60, m%60)
}

// oneLine makes free text safe for one terminal line: CR, LF and tab become
// spaces, other control characters (ESC, ...) become U+FFFD, as does
// invalid UTF-8.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// summaryJSON is the machine-readable summary. Every status has a count,
// zero included, so dashboards see a stable set of keys.
type summaryJSON struct {
	DryRun           bool                        `json:"dry_run"`
	Started          string                      `json:"started,omitempty"`
	Finished         string                      `json:"finished,omitempty"`
	ElapsedSeconds   float64                     `json:"elapsed_seconds"`
	Rows             int64                       `json:"rows"`
	RowsPerSecond    float64                     `json:"rows_per_second"`
	Counts           map[string]int64            `json:"counts"`
	ByApp            map[string]map[string]int64 `json:"by_app,omitempty"`
	Retries          int64                       `json:"retries"`
	Seen429          int64                       `json:"seen_429"`
	Reasons          []importer.ReasonCount      `json:"reasons"`
	AppTimezone      string                      `json:"app_timezone,omitempty"`
	EarliestDeadline string                      `json:"earliest_deadline,omitempty"`
	Now              string                      `json:"now,omitempty"`
	FailedFiles      []importer.FileError        `json:"failed_files"`
	MissingInputs    []importer.FileError        `json:"missing_inputs"`
	MaxInvalid       string                      `json:"max_invalid,omitempty"`
	OverBudget       bool                        `json:"over_budget"`
	Refused          string                      `json:"refused,omitempty"`
	StoppedReading   *stoppedJSON                `json:"stopped_reading,omitempty"`
	Aborted          string                      `json:"aborted,omitempty"`
	Unreachable      string                      `json:"endpoint_unreachable,omitempty"`
	DeadlineForecast []deadlineRiskJSON          `json:"deadline_forecast"`
	Interrupted      bool                        `json:"interrupted"`
	Warnings         []string                    `json:"warnings"`
	PeakRSSBytes     int64                       `json:"peak_rss_bytes,omitempty"`
}

// deadlineRiskJSON is one deadline forecast that saw rows missing it: the
// worst for that deadline during the run.
type deadlineRiskJSON struct {
	Deadline   string  `json:"deadline"`
	RowsLeft   int64   `json:"rows_left"`
	RowsAtRisk int64   `json:"rows_at_risk"`
	Rate       float64 `json:"measured_rows_per_second"`
	LatencyMS  float64 `json:"latency_ms"`
	At         string  `json:"forecast_at"`
}

// summaryDoc builds the machine-readable summary of s.
func summaryDoc(s *importer.Summary) summaryJSON {
	loc, _ := appZone(s.AppTimezone)
	j := summaryJSON{
		DryRun:           s.DryRun,
		Started:          rfc3339(s.Started, nil),
		Finished:         rfc3339(s.Finished, nil),
		ElapsedSeconds:   s.Elapsed().Seconds(),
		Rows:             s.Rows,
		RowsPerSecond:    s.RowsPerSecond(),
		Counts:           make(map[string]int64, len(importer.Statuses)),
		Retries:          s.Retries,
		Seen429:          s.Seen429,
		Reasons:          orEmpty(s.Reasons),
		AppTimezone:      s.AppTimezone,
		EarliestDeadline: rfc3339(s.EarliestDeadline, loc),
		Now:              rfc3339(s.Now, nil),
		FailedFiles:      orEmpty(s.FailedFiles),
		MissingInputs:    orEmpty(s.MissingInputs),
		OverBudget:       s.OverBudget(),
		Refused:          s.Refused,
		Aborted:          s.Aborted,
		Unreachable:      s.Unreachable,
		DeadlineForecast: []deadlineRiskJSON{},
		Interrupted:      s.Interrupted,
		Warnings:         orEmpty(s.Warnings),
		PeakRSSBytes:     s.PeakRSS,
	}
	if s.MaxInvalid.IsSet() {
		j.MaxInvalid = s.MaxInvalid.String()
	}
	if p := s.StoppedReading; p != nil {
		j.StoppedReading = &stoppedJSON{File: p.File, Row: p.Row}
	}
	for _, k := range s.DeadlineRisks {
		j.DeadlineForecast = append(j.DeadlineForecast, deadlineRiskJSON{
			Deadline: rfc3339(k.Deadline, loc), RowsLeft: k.RowsLeft, RowsAtRisk: k.RowsAtRisk,
			Rate: k.Rate, LatencyMS: k.LatencyMS, At: rfc3339(k.At, nil)})
	}
	for _, st := range importer.Statuses {
		j.Counts[string(st)] = 0
	}
	for st, n := range s.Counts {
		j.Counts[string(st)] += n
	}
	return j
}

// stoppedJSON is where an interrupted run stopped reading: after row Row
// of File (0: before its first row).
type stoppedJSON struct {
	File string `json:"file"`
	Row  int64  `json:"row"`
}

// MarshalSummaryJSON encodes s as the indented snake_case JSON that
// WriteSummaryJSON writes. Times are RFC 3339 (the earliest deadline in
// the app's zone) and omitted when zero; lists are [] rather than null.
func MarshalSummaryJSON(s *importer.Summary) ([]byte, error) {
	j := summaryDoc(s)
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode summary: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteSummaryJSONLine writes the same document as MarshalSummaryJSON on
// one line, under the key "summary" with "msg":"summary", so that a log
// collector reading --log-format json gets one object per line.
func WriteSummaryJSONLine(w io.Writer, s *importer.Summary) error {
	j := summaryDoc(s)
	b, err := json.Marshal(struct {
		Time    string      `json:"time"`
		Level   string      `json:"level"`
		Msg     string      `json:"msg"`
		Summary summaryJSON `json:"summary"`
	}{rfc3339(s.Finished, nil), "INFO", "summary", j})
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteSummaryJSON writes MarshalSummaryJSON(s) to path atomically (see
// WriteFileAtomic), with mode 0644.
func WriteSummaryJSON(path string, s *importer.Summary) error {
	b, err := MarshalSummaryJSON(s)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return WriteFileAtomic(path, b, 0o644)
}

func rfc3339(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format(time.RFC3339Nano)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
