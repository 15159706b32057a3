package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer"
	"afimport/importer/s2stest"
	"afimport/reports"
)

// nightRows is n good rows of which every invalidEvery-th (when > 0) has a
// malformed email: the test accounts of a real export.
func nightRows(n, invalidEvery int) []e2eRow {
	rows := goodRows(n)
	for i := range rows {
		if invalidEvery > 0 && i%invalidEvery == invalidEvery-1 {
			rows[i].email = "test-account"
		}
	}
	return rows
}

// metricValue is the value of the first sample of name in a textfile.
func metricValue(t *testing.T, text, name string) string {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, name+"{") || strings.HasPrefix(l, name+" ") {
			f := strings.Fields(l)
			return f[len(f)-1]
		}
	}
	t.Fatalf("metric %s not in:\n%s", name, text)
	return ""
}

// TestCronThreeNights runs the cron line of the README on three nights
// against one mock: a normal night within the error budget, a night whose
// export did not arrive, and a night whose export is broken.
func TestCronThreeNights(t *testing.T) {
	t.Parallel()
	const token = "nightly-t0ken-0123456789"
	srv := s2stest.NewServer(s2stest.Config{Token: token})
	defer srv.Close()
	cli := withToken(token)
	dir := t.TempDir()
	m := mappingFile(t, dir, e2eMapping)
	metrics := filepath.Join(dir, "afimport.prom")
	summary := filepath.Join(dir, "summary.json")

	night := func(day string) (int, string, string) {
		code, stderr := cli.runArgs(t, []string{"afimport", "import", "--quiet", "--resume", "--endpoint", srv.URL(), "--mapping", m, "--max-invalid", "5%", "--summary", summary, "--metrics-file", metrics, filepath.Join(dir, "exports", day) + string(filepath.Separator)})
		b, err := os.ReadFile(metrics)
		require.NoError(t, err, "metrics are written every night\n%s", stderr)
		return code, string(b), stderr
	}
	readSummary := func() map[string]any {
		b, err := os.ReadFile(summary)
		require.NoError(t, err)
		var s map[string]any
		require.NoError(t, json.Unmarshal(b, &s))
		return s
	}

	// Night 1: 3% of the rows are test accounts, under --max-invalid 5%.
	day1 := filepath.Join(dir, "exports", "2026-12-04")
	require.NoError(t, os.MkdirAll(day1, 0o755))
	writeCSV(t, filepath.Join(day1, "renewals.csv"), nightRows(1000, 33))
	code, text, stderr := night("2026-12-04")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "invalid rows: 30 of 1000 (3.0%), within --max-invalid 5%")
	assert.NotContains(t, stderr, "--resume", "no advice when all is well")
	assert.Equal(t, "0", metricValue(t, text, "afimport_last_exit_code"))
	success := metricValue(t, text, reports.LastSuccessMetric)
	assert.NotEqual(t, "0", success, "a night within the budget is a success")
	assert.Equal(t, "0", metricValue(t, text, "afimport_over_budget"))
	assert.EqualValues(t, 970, srv.Stats().Accepted)

	// Night 2: the export did not arrive.
	srv.Reset()
	code, text, stderr = night("2026-12-05")
	assert.Equal(t, exitRowsFailed, code, "a missed export is exit 1, not a usage error\n%s", stderr)
	assert.Contains(t, stderr, "inputs missing (nothing was read):")
	assert.Contains(t, stderr, "2026-12-05")
	assert.NotContains(t, stderr, "--resume", "a resume cannot bring the export")
	assert.Equal(t, "1", metricValue(t, text, "afimport_inputs_missing"))
	assert.Equal(t, "1", metricValue(t, text, "afimport_last_exit_code"))
	assert.Equal(t, success, metricValue(t, text, reports.LastSuccessMetric), "the last success is kept, so the 26h alert can fire")
	s := readSummary()
	require.Len(t, s["missing_inputs"], 1)
	assert.Zero(t, srv.Stats().Requests)
	assert.NoFileExists(t, filepath.Join(dir, "exports", "2026-12-05.report.csv"))

	// Night 3: the export changed format: every other row is broken.
	day3 := filepath.Join(dir, "exports", "2026-12-06")
	require.NoError(t, os.MkdirAll(day3, 0o755))
	writeCSV(t, filepath.Join(day3, "renewals.csv"), nightRows(3000, 2))
	code, text, stderr = night("2026-12-06")
	assert.Equal(t, exitRowsFailed, code, stderr)
	assert.Zero(t, srv.Stats().Requests, "a broken export over budget sends nothing")
	assert.Contains(t, stderr, "refused: the first 1000 rows hold 500 invalid (50.0%), over --max-invalid 5%: nothing was sent")
	assert.Contains(t, stderr, `column "email"`, "the top reasons say what is wrong")
	assert.Equal(t, "1", metricValue(t, text, "afimport_over_budget"))
	assert.Equal(t, success, metricValue(t, text, reports.LastSuccessMetric))
	assert.NoFileExists(t, filepath.Join(dir, "exports", "2026-12-06.report.csv"), "a run refused at start leaves no report")
	s = readSummary()
	assert.Equal(t, true, s["over_budget"])
	assert.Contains(t, s["refused"], "nothing was sent")
}

func TestImportMissingInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := mappingFile(t, dir, e2eMapping)
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	tests := []struct {
		name, input, want string
	}{
		{"missing file", filepath.Join(dir, "nope.csv"), "no such file or directory"},
		{"empty folder", empty, "the folder holds no data file"},
		{"glob matching nothing", filepath.Join(dir, "*.csv"), "the pattern matches no data file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metrics, summary := filepath.Join(dir, "m.prom"), filepath.Join(dir, "s.json")
			code, stderr := cliEnv{}.runArgs(t, []string{"afimport", "import", "--quiet", "--dry-run", "--mapping", m, "--metrics-file", metrics, "--summary", summary, tt.input})
			assert.Equal(t, exitRowsFailed, code, stderr)
			assert.Contains(t, stderr, tt.want)
			b, err := os.ReadFile(metrics)
			require.NoError(t, err)
			assert.Equal(t, "1", metricValue(t, string(b), "afimport_inputs_missing"))
			b, err = os.ReadFile(summary)
			require.NoError(t, err)
			assert.Contains(t, string(b), tt.want)
		})
	}
	// A mistake in the command stays exit 2.
	var code int
	code, _ = cliEnv{}.runArgs(t, []string{"afimport", "import", "--quiet", "--dry-run", "--mapping", m, filepath.Join(dir, "[")})
	assert.Equal(t, exitUsage, code)
}

func TestImportBudgetDryRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := mappingFile(t, dir, e2eMapping)
	in := filepath.Join(dir, "r.csv")
	writeCSV(t, in, nightRows(200, 25)) // 4%
	for _, tc := range []struct {
		budget string
		want   int
	}{{"", exitRowsFailed}, {"5%", exitOK}, {"8", exitOK}, {"3%", exitRowsFailed}} {
		args := []string{"afimport", "import", "--quiet", "--dry-run", "--mapping", m}
		if tc.budget != "" {
			args = append(args, "--max-invalid", tc.budget)
		}
		code, stderr := cliEnv{}.runArgs(t, append(args, in))
		assert.Equal(t, tc.want, code, "--max-invalid %q\n%s", tc.budget, stderr)
	}
	code, stderr := cliEnv{}.runArgs(t, []string{"afimport", "import", "--dry-run", "--mapping", m, "--max-invalid", "five", in})
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--max-invalid")
}

func TestImportSemicolonFileNamesTheDelimiter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := mappingFile(t, dir, e2eMapping)
	in := filepath.Join(dir, "r.csv")
	require.NoError(t, os.WriteFile(in, []byte("renewal_id;user_id;email;amount;currency;renewed_at;plan\n"+
		"r-1;cus_1;a@example.com;1;USD;;pro\n"), 0o644))
	code, stderr := cliEnv{}.runArgs(t, []string{"afimport", "import", "--quiet", "--dry-run", "--mapping", m, in})
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "use --delimiter ';'")
	code, stderr = cliEnv{}.runArgs(t, []string{"afimport", "import", "--quiet", "--dry-run", "--overwrite", "--delimiter", ";", "--mapping", m, in})
	assert.Equal(t, exitOK, code, stderr)
}

func TestImportEmptyFileGetsNoResumeAdvice(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := mappingFile(t, dir, e2eMapping)
	good := filepath.Join(dir, "a.csv")
	writeCSV(t, good, goodRows(3))
	empty := filepath.Join(dir, "b.csv")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	cli := withToken("")
	code, stderr := cli.runArgs(t, []string{"afimport", "import", "--quiet", "--endpoint", "mock", "--mapping", m, good, empty})
	assert.Equal(t, exitRowsFailed, code, stderr)
	assert.Contains(t, stderr, "failed files:\n  "+empty+": ")
	assert.Contains(t, stderr, "empty")
	assert.NotContains(t, stderr, "--resume", "a resume cannot help an empty file")
	assert.Contains(t, stderr, "running again changes nothing until")
}

func TestImportLogFormatJSONSummaryIsOneObject(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := mappingFile(t, dir, e2eMapping)
	in := filepath.Join(dir, "r.csv")
	writeCSV(t, in, nightRows(20, 10))
	code, stderr := cliEnv{}.runArgs(t, []string{"afimport", "import", "--quiet", "--dry-run", "--log-format", "json", "--mapping", m, in})
	assert.Equal(t, exitRowsFailed, code)
	var summaries int
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(line, "afimport: ") && strings.TrimSpace(strings.TrimPrefix(line, "afimport:")) == "" {
			continue
		}
		var obj map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &obj), "every stderr line is one JSON object: %q", line)
		if obj["msg"] == "summary" {
			summaries++
			s := obj["summary"].(map[string]any)
			assert.EqualValues(t, 20, s["rows"])
			assert.EqualValues(t, 2, s["counts"].(map[string]any)["invalid"])
		}
	}
	assert.Equal(t, 1, summaries)
}

func TestHelpTopicsAndSuggestions(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runCLI(t, "help", "import")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "Exit codes:", "import --help has a description with the exit codes")
	assert.Contains(t, stdout, "--max-invalid")

	code, _, stderr := runCLI(t, "imprt")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `Did you mean "import"?`)
	assert.NotContains(t, stderr, "No help topic")

	_, stdout, _ = runCLI(t, "explain", "--help")
	assert.Contains(t, stdout, "(required) [$AFIMPORT_EXPLAIN_ROW]")
	assert.NotContains(t, stdout, "(required) (default: 0)")

	_, stdout, _ = runCLI(t, "mock", "--help")
	for _, f := range []string{"ADDR", "TOKEN_FILE", "LATENCY", "P429", "SEED", "TLS_CERT", "TLS_KEY"} {
		assert.Contains(t, stdout, fmt.Sprintf("$AFIMPORT_MOCK_%s", f))
	}
}

func TestProgressLabelsSayWhatTheyCount(t *testing.T) {
	t.Parallel()
	s := importer.Snapshot{Done: 1200, ByStatus: map[importer.Status]int64{importer.StatusAccepted: 1200}}
	assert.Equal(t, "1200 rows done, 600/s accepted 1200", describe(s, 2*time.Second))
}
