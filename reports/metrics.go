package reports

import (
	"bytes"
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"afimport/importer"
)

// LastSuccessMetric is the metric that says when a run last exited 0; it
// is carried over from the previous file by a run that did not.
const LastSuccessMetric = "afimport_last_success_timestamp_seconds"

// MetricLabels say what a metrics file is about: which app (unless the
// mapping reads each row's app id from a column) and which shard.
type MetricLabels struct {
	AppID     string
	PerRowApp bool // the app id comes from a column: count per app instead
	Shard     importer.Shard
}

// constLabels are the labels every series of the file carries.
func (l MetricLabels) constLabels() prometheus.Labels {
	labels := prometheus.Labels{}
	if !l.PerRowApp {
		labels["app_id"] = l.AppID
	}
	if l.Shard.Count > 1 {
		labels["shard"] = fmt.Sprintf("%d/%d", l.Shard.Index, l.Shard.Count)
	}
	return labels
}

// WriteMetrics writes the run's metrics in the Prometheus text exposition
// format, atomically, for node_exporter's textfile collector. exit is the
// run's exit code (importer.ExitCode). The last success time is carried
// over from the previous file when this run did not succeed, so "no
// success in 26h" alerts keep working.
func WriteMetrics(path string, sum *importer.Summary, l MetricLabels, exit int) error {
	labels := l.constLabels()
	reg := prometheus.NewRegistry()
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels})
		g.Set(v)
		reg.MustRegister(g)
	}
	registerRows(reg, sum, labels, l.PerRowApp)
	gauge("afimport_retries", "Requests sent again in the last run.", float64(sum.Retries))
	gauge("afimport_http_429", "429 answers seen in the last run.", float64(sum.Seen429))
	gauge("afimport_failed_files", "Inputs that could not be read in the last run.", float64(len(sum.FailedFiles)))
	gauge("afimport_inputs_missing", "Inputs of the last run that were not there (missing file, empty folder, glob matching nothing).", float64(len(sum.MissingInputs)))
	gauge("afimport_over_budget", "1 when the last run's invalid rows were over --max-invalid (or it was refused before sending).", boolGauge(sum.OverBudget()))
	var atRisk int64
	for _, k := range sum.DeadlineRisks {
		atRisk += k.RowsAtRisk
	}
	gauge("afimport_deadline_rows_at_risk", "Rows the deadline forecast saw missing their acceptance deadline at the rate the last run measured (worst forecast per deadline, summed).", float64(atRisk))
	gauge("afimport_endpoint_unreachable", "1 when the last run stopped because the endpoint gave no answer.", boolGauge(sum.Unreachable != ""))
	gauge("afimport_run_duration_seconds", "Wall time of the last run.", sum.Elapsed().Seconds())
	gauge("afimport_last_run_timestamp_seconds", "When the last run finished (Unix time).", float64(sum.Finished.Unix()))
	gauge("afimport_last_exit_code", "Exit code of the last run.", float64(exit))
	last := previousLastSuccess(path)
	if exit == importer.ExitOK {
		last = float64(sum.Finished.Unix())
	}
	if last > 0 {
		gauge(LastSuccessMetric, "When a run last exited 0: every row accepted or skipped, invalid rows within --max-invalid (Unix time).", last)
	}
	return writeRegistry(path, reg)
}

// registerRows registers the rows by final status, and by app and status
// when the mapping reads each row's app id from a column.
func registerRows(reg *prometheus.Registry, sum *importer.Summary, labels prometheus.Labels, perRowApp bool) {
	rows := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "afimport_rows", Help: "Rows of the last run by final status.", ConstLabels: labels,
	}, []string{"status"})
	for _, st := range importer.Statuses {
		rows.WithLabelValues(string(st)).Set(float64(sum.Counts[st]))
	}
	reg.MustRegister(rows)
	if !perRowApp {
		return
	}
	// One series per app that rows went to.
	appRows := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "afimport_app_rows", Help: "Rows of the last run by app id and final status (mapped rows only).", ConstLabels: labels,
	}, []string{"app_id", "status"})
	for app, counts := range sum.ByApp {
		for _, st := range importer.Statuses {
			appRows.WithLabelValues(app, string(st)).Set(float64(counts[st]))
		}
	}
	reg.MustRegister(appRows)
}

// writeRegistry writes reg's metrics to path atomically.
func writeRegistry(path string, reg *prometheus.Registry) error {
	fams, err := reg.Gather()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return WriteFileAtomic(path, buf.Bytes(), 0o644)
}

// previousLastSuccess reads the last success time from an earlier metrics
// file; 0 when there is none.
func previousLastSuccess(path string) float64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		return 0
	}
	f, ok := fams[LastSuccessMetric]
	if !ok {
		return 0
	}
	var best float64
	for _, m := range f.GetMetric() {
		if g := m.GetGauge(); g != nil && g.GetValue() > best {
			best = g.GetValue()
		}
	}
	return best
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
