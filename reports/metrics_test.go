package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer"
)

// readMetrics parses a metrics file as node_exporter would.
func readMetrics(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	require.NoError(t, err)
	return fams
}

// gaugeValue is the value of the one series of a gauge family.
func gaugeValue(t *testing.T, fams map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	f, ok := fams[name]
	require.True(t, ok, "no %s", name)
	require.Len(t, f.GetMetric(), 1, name)
	return f.GetMetric()[0].GetGauge().GetValue()
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestWriteMetricsKeepsTheLastSuccess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "afimport.prom")
	night1 := fixtureSummary()
	require.NoError(t, WriteMetrics(path, night1, MetricLabels{AppID: "website-www.example.com"}, importer.ExitOK))
	fams := readMetrics(t, path)
	assert.Equal(t, float64(night1.Finished.Unix()), gaugeValue(t, fams, LastSuccessMetric))
	assert.Equal(t, 0.0, gaugeValue(t, fams, "afimport_last_exit_code"))
	assert.Equal(t, 1.0, gaugeValue(t, fams, "afimport_inputs_missing"))
	assert.Equal(t, 1.0, gaugeValue(t, fams, "afimport_failed_files"))
	rows := map[string]float64{}
	for _, m := range fams["afimport_rows"].GetMetric() {
		l := labelsOf(m)
		assert.Equal(t, "website-www.example.com", l["app_id"])
		rows[l["status"]] = m.GetGauge().GetValue()
	}
	assert.Equal(t, 1200.0, rows["accepted"])
	assert.Equal(t, 14.0, rows["late"])
	assert.Len(t, rows, len(importer.Statuses), "every status has a series, zero included")
	assert.NotContains(t, fams, "afimport_app_rows")

	// A failed night later: the last success is the first night's.
	night2 := fixtureSummary()
	night2.Finished = night1.Finished.Add(24 * time.Hour)
	require.NoError(t, WriteMetrics(path, night2, MetricLabels{AppID: "website-www.example.com"}, importer.ExitRowsFailed))
	fams = readMetrics(t, path)
	assert.Equal(t, float64(night1.Finished.Unix()), gaugeValue(t, fams, LastSuccessMetric))
	assert.Equal(t, 1.0, gaugeValue(t, fams, "afimport_last_exit_code"))
	assert.Equal(t, float64(night2.Finished.Unix()), gaugeValue(t, fams, "afimport_last_run_timestamp_seconds"))
}

func TestWriteMetricsNoSuccessYet(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "afimport.prom")
	require.NoError(t, WriteMetrics(path, fixtureSummary(), MetricLabels{AppID: "a"}, importer.ExitRowsFailed))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(b), LastSuccessMetric, "no success to report: no series, not a zero")
}

func TestWriteMetricsPerRowAppAndShard(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "afimport.prom")
	sum := fixtureSummary()
	sum.ByApp = map[string]map[importer.Status]int64{
		"website-shop.example.com": {importer.StatusAccepted: 3},
		"website-www.example.com":  {importer.StatusAccepted: 5, importer.StatusRejected: 1},
	}
	l := MetricLabels{AppID: "ignored", PerRowApp: true, Shard: importer.Shard{Index: 2, Count: 4}}
	require.NoError(t, WriteMetrics(path, sum, l, importer.ExitRowsFailed))
	fams := readMetrics(t, path)
	for _, m := range fams["afimport_rows"].GetMetric() {
		assert.NotContains(t, labelsOf(m), "app_id", "per-row apps: no one app label")
		assert.Equal(t, "2/4", labelsOf(m)["shard"])
	}
	got := map[string]float64{}
	for _, m := range fams["afimport_app_rows"].GetMetric() {
		l := labelsOf(m)
		got[l["app_id"]+" "+l["status"]] = m.GetGauge().GetValue()
	}
	assert.Equal(t, 3.0, got["website-shop.example.com accepted"])
	assert.Equal(t, 5.0, got["website-www.example.com accepted"])
	assert.Equal(t, 1.0, got["website-www.example.com rejected"])
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.False(t, strings.Contains(string(b), "ignored"))
}
