package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"afimport/importer"
)

// progress shows how a run is going: a bar on a terminal, a log line every
// --progress-interval otherwise (cron: no carriage returns), nothing with
// --quiet.
type progress struct {
	done chan struct{}
	exit chan struct{}
}

// startProgress starts showing stats on s.Err until stop: nothing when
// quiet, a bar on a terminal, else a log line every interval.
func startProgress(quiet bool, interval time.Duration, s streams, stats *importer.Stats, logger *slog.Logger) *progress {
	p := &progress{done: make(chan struct{}), exit: make(chan struct{})}
	if quiet {
		close(p.exit)
		return p
	}
	if s.ErrIsTerminal {
		go p.bar(stats, s.Err)
	} else {
		go p.logLines(stats, logger, interval)
	}
	return p
}

func (p *progress) stop() {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	<-p.exit
}

func (p *progress) bar(stats *importer.Stats, w io.Writer) {
	defer close(p.exit)
	total := stats.Snapshot().BytesTotal
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(total > 0),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSpinnerType(14),
	)
	start := time.Now()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			_ = bar.Clear()
			return
		case <-t.C:
			s := stats.Snapshot()
			if s.BytesTotal != total {
				// Run learns the total (and the passes) after the bar starts.
				total = s.BytesTotal
				bar.ChangeMax64(total)
			}
			// The bar's percentage is of the input's bytes read; the rows
			// are counted beside it, labelled as such.
			bar.Describe("input read; " + describe(s, time.Since(start)))
			if total > 0 {
				_ = bar.Set64(s.BytesDone)
			} else {
				_ = bar.Add(0)
			}
		}
	}
}

func (p *progress) logLines(stats *importer.Stats, logger *slog.Logger, every time.Duration) {
	defer close(p.exit)
	if every <= 0 {
		<-p.done
		return
	}
	start := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			s := stats.Snapshot()
			attrs := []any{"rows", s.Done, "rows_per_s", int(float64(s.Done) / time.Since(start).Seconds()),
				"retries", s.Retries, "http_429", s.Seen429, "in_flight", s.InFlight}
			for _, st := range importer.Statuses {
				if n := s.ByStatus[st]; n > 0 {
					attrs = append(attrs, string(st), n)
				}
			}
			if s.BytesTotal > 0 && s.BytesDone > 0 {
				frac := float64(s.BytesDone) / float64(s.BytesTotal)
				// The share of the input's bytes read, not of rows: the
				// row count is unknown until the end.
				attrs = append(attrs, "input_read_pct", int(frac*100))
				if frac > 0.01 {
					el := time.Since(start)
					attrs = append(attrs, "eta", (time.Duration(float64(el)/frac) - el).Round(time.Second).String())
				}
			}
			if !s.NearestDeadline.IsZero() {
				attrs = append(attrs, "deadline_in", time.Until(s.NearestDeadline).Round(time.Second).String(), "rows_at_risk", s.RowsAtRisk)
			}
			logger.Info("progress", attrs...)
		}
	}
}

func describe(s importer.Snapshot, el time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows done, %.0f/s", s.Done, float64(s.Done)/max(el.Seconds(), 0.001))
	for _, st := range importer.Statuses {
		if n := s.ByStatus[st]; n > 0 {
			fmt.Fprintf(&b, " %s %d", st, n)
		}
	}
	if !s.NearestDeadline.IsZero() {
		fmt.Fprintf(&b, " | deadline in %s", time.Until(s.NearestDeadline).Round(time.Minute))
		if s.RowsAtRisk > 0 {
			fmt.Fprintf(&b, " (%d at risk)", s.RowsAtRisk)
		}
	}
	return b.String()
}
