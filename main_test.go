package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer/s2stest"
)

const e2eMapping = `app_id: website-www.example.com
endpoint: event
timezone: America/New_York
fields:
  user_id.customer_user_id: { column: user_id }
  event_name:               { value: af_subscription_renewal }
  event_revenue:            { column: amount, type: number }
  event_revenue_currency:   { column: currency }
  timestamp:                { column: renewed_at, format: rfc3339, optional: true }
  email_hashed:             { column: email, hash: email }
  event_value.custom_parameters.plan: { column: plan }
  customer_dedup_id:        { column: renewal_id }
`

type e2eRow struct {
	id, user, email, amount, currency, ts, plan string
	ragged                                      bool
	want                                        string
}

// mixedRows builds n rows cycling through every outcome, relative to now.
func mixedRows(n int, now time.Time) []e2eRow {
	rows := make([]e2eRow, n)
	for i := range rows {
		r := e2eRow{id: fmt.Sprintf("r-%d", i+1), user: fmt.Sprintf("cus_%d", i+1),
			email: fmt.Sprintf("User%d@Example.com", i+1), amount: "49.99", currency: "USD", plan: "pro", want: "accepted"}
		switch i % 10 {
		case 1:
			r.email, r.want = "not-an-email", "invalid"
		case 2:
			r.user, r.want = "", "invalid"
		case 3:
			r.currency, r.want = "XYZ", "invalid"
		case 4:
			r.ragged, r.want = true, "invalid"
		case 5:
			r.ts, r.want = now.Add(-72*time.Hour).Format(time.RFC3339), "late"
		case 6:
			r.ts, r.want = now.Add(3*time.Hour).Format(time.RFC3339), "future"
		case 7:
			r.ts = now.Add(-time.Minute).Format(time.RFC3339)
		case 8:
			r.amount, r.want = "12.5.3", "invalid"
		}
		rows[i] = r
	}
	return rows
}

func writeCSV(t *testing.T, path string, rows []e2eRow) {
	var b bytes.Buffer
	b.WriteString("renewal_id,user_id,email,amount,currency,renewed_at,plan\n")
	for _, r := range rows {
		if r.ragged {
			fmt.Fprintf(&b, "%s,%s\n", r.id, r.user)
			continue
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s\n", r.id, r.user, r.email, r.amount, r.currency, r.ts, r.plan)
	}
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

func writeNDJSON(t *testing.T, path string, rows []e2eRow) {
	var b bytes.Buffer
	for _, r := range rows {
		if r.ragged {
			b.WriteString(`["not", "an", "object"]` + "\n")
			continue
		}
		m := map[string]any{"renewal_id": r.id, "user_id": r.user, "email": r.email,
			"currency": r.currency, "renewed_at": r.ts, "plan": r.plan}
		if r.amount == "49.99" {
			m["amount"] = json.Number("49.99")
		} else {
			m["amount"] = r.amount
		}
		if r.user == "" {
			m["user_id"] = nil
		}
		line, err := json.Marshal(m)
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

// readReport returns status by row number, failing on duplicates.
func readReport(t *testing.T, path string) (map[int]map[string]string, []string) {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	header := recs[0]
	require.Equal(t, []string{"file", "row", "status", "reason", "http_status", "attempts", "latency_ms", "dedup_id", "message_id"}, header[:9])
	out := map[int]map[string]string{}
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range header {
			m[h] = rec[i]
		}
		var row int
		fmt.Sscan(m["row"], &row)
		_, dup := out[row]
		require.False(t, dup, "row %d reported twice", row)
		out[row] = m
	}
	return out, header
}

func mappingFile(t *testing.T, dir, text string) string {
	p := filepath.Join(dir, "m.yaml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

func TestImportEndToEndAgainstMock(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"csv", "ndjson"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			rows := mixedRows(300, time.Now())
			in := filepath.Join(dir, "renewals."+format)
			if format == "csv" {
				writeCSV(t, in, rows)
			} else {
				writeNDJSON(t, in, rows)
			}
			srv := s2stest.NewServer(s2stest.Config{Token: "t0ken-e2e"})
			defer srv.Close()
			cli := withToken("t0ken-e2e")
			code, stderr := cli.runArgs(t, []string{"afimport", "import", "--quiet", "--mapping", mappingFile(t, dir, e2eMapping), "--endpoint", srv.URL(), in})
			assert.Equal(t, exitRowsFailed, code, stderr)
			got, _ := readReport(t, filepath.Join(dir, "renewals.report.csv"))
			require.Len(t, got, len(rows), "one line per input row")
			accepted := 0
			for i, r := range rows {
				line := got[i+1]
				require.NotNil(t, line, "row %d missing", i+1)
				assert.Equal(t, r.want, line["status"], "row %d: %s", i+1, line["reason"])
				if r.want == "accepted" {
					accepted++
					assert.Equal(t, r.id, line["dedup_id"])
					assert.NotEmpty(t, line["message_id"])
					assert.Equal(t, "202", line["http_status"])
				}
				assert.NotContains(t, line["reason"], r.email, "no raw PII in reasons")
			}
			st := srv.Stats()
			assert.EqualValues(t, accepted, st.Accepted)
			assert.Empty(t, st.Duplicates())
			assert.Zero(t, st.Late, "no late row was sent to be re-dated")
			assert.Contains(t, stderr, fmt.Sprintf("accepted %d", accepted))
			assert.Contains(t, stderr, "because of their content", "no resume advice when a retry cannot help")
			assert.NotContains(t, stderr, "t0ken-e2e")
		})
	}
}

func TestImportWrongTokenStopsWithExit3(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rows := mixedRows(500, time.Now())
	in := filepath.Join(dir, "r.csv")
	writeCSV(t, in, rows)
	srv := s2stest.NewServer(s2stest.Config{Token: "the-right-token"})
	defer srv.Close()
	cli := withToken("s3cret-wrong-token")
	code, stderr := cli.runArgs(t, []string{"afimport", "import", "--quiet", "--concurrency", "4", "--mapping", mappingFile(t, dir, e2eMapping), "--endpoint", srv.URL(), in})
	assert.Equal(t, exitAborted, code)
	assert.LessOrEqual(t, srv.Stats().Requests, int64(4), "stops within a bounded number of requests")
	got, _ := readReport(t, filepath.Join(dir, "r.report.csv"))
	assert.Len(t, got, len(rows))
	counts := map[string]int{}
	for _, l := range got {
		counts[l["status"]]++
		if l["status"] == "not_sent" {
			assert.Contains(t, l["reason"], "401")
		}
	}
	assert.Positive(t, counts["not_sent"])
	assert.NotContains(t, stderr, "s3cret-wrong-token")
	report, _ := os.ReadFile(filepath.Join(dir, "r.report.csv"))
	assert.NotContains(t, string(report), "s3cret-wrong-token")
}

func TestImportMappingErrorExit2WithPosition(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "r.csv")
	writeCSV(t, in, mixedRows(3, time.Now()))
	bad := strings.Replace(e2eMapping, "event_name:  ", "event_nmae:  ", 1)
	code, stderr := cliEnv{}.runArgs(t, []string{"afimport", "import", "--mapping", mappingFile(t, dir, bad), "--endpoint", "mock", in})
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "m.yaml:6:")
	assert.NoFileExists(t, filepath.Join(dir, "r.report.csv"))
}

func TestImportUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "r.csv")
	writeCSV(t, in, mixedRows(3, time.Now()))
	m := mappingFile(t, dir, e2eMapping)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no token", []string{"--mapping", m, in}, tokenEnv},
		{"token as a flag is refused", []string{"--mapping", m, "--token", "abc", in}, "flag provided but not defined"},
		{"--now needs --dry-run", []string{"--mapping", m, "--endpoint", "mock", "--now", "2026-11-28T00:20:00Z", in}, "--dry-run"},
		{"flags after the inputs", []string{in, "--mapping", m}, "put every flag before them"},
		{"no mapping", []string{in}, "--mapping FILE is required"},
		{"stdin needs a report", []string{"--mapping", m, "--format", "csv", "--dry-run", "-"}, "--report"},
		{"plain http refused off loopback", []string{"--mapping", m, "--endpoint", "http://example.com", in}, "loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cli := withToken("")
			if tt.name == "plain http refused off loopback" {
				cli = withToken("x")
			}
			code, stderr := cli.runArgs(t, append([]string{"afimport", "import"}, tt.args...))
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

func TestImportDryRunNowAndExistingReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "r.csv")
	// A row stamped 2026-11-27 15:00 New York: sendable until 2026-11-28 00:30 EST.
	require.NoError(t, os.WriteFile(in, []byte("renewal_id,user_id,email,amount,currency,renewed_at,plan\n"+
		"r-1,cus_1,a@example.com,1,USD,2026-11-27T15:00:00-05:00,pro\n"), 0o644))
	m := mappingFile(t, dir, e2eMapping)
	for _, tc := range []struct{ now, want string }{
		{"2026-11-28T00:20:00-05:00", "valid"},
		{"2026-11-28T00:30:00-05:00", "valid"},
		{"2026-11-28T00:31:00-05:00", "late"},
	} {
		code, stderr := cliEnv{}.runArgs(t, []string{"afimport", "import", "--quiet", "--dry-run", "--now", tc.now, "--mapping", m, in})
		got, _ := readReport(t, filepath.Join(dir, "r.dry-run.report.csv"))
		assert.Equal(t, tc.want, got[1]["status"], tc.now)
		if tc.want == "valid" {
			assert.Equal(t, exitOK, code, stderr)
			assert.Contains(t, stderr, "2026-11-28 00:30")
		}
	}
	// A live run refuses to overwrite an existing report without --resume.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "r.report.csv"), []byte("x"), 0o644))
	code, stderr := cliEnv{}.runArgs(t, []string{"afimport", "import", "--quiet", "--endpoint", "mock", "--mapping", m, in})
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--resume")
}

func TestImportResumeSkipsAccepted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "r.csv")
	rows := mixedRows(40, time.Now())
	writeCSV(t, in, rows)
	m := mappingFile(t, dir, e2eMapping)
	srv := s2stest.NewServer(s2stest.Config{Token: "tok"})
	defer srv.Close()
	cli := withToken("tok")
	args := []string{"afimport", "import", "--quiet", "--endpoint", srv.URL(), "--mapping", m, in}
	cli.runArgs(t, args)
	first := srv.Stats().Accepted
	require.Positive(t, first)
	code, stderr := cli.runArgs(t, append(args[:2:2], append([]string{"--resume"}, args[2:]...)...))
	assert.Equal(t, exitRowsFailed, code, stderr) // the invalid rows are still invalid
	assert.Equal(t, first, srv.Stats().Accepted, "nothing accepted twice")
	assert.Empty(t, srv.Stats().Duplicates())
	assert.Contains(t, stderr, fmt.Sprintf("skipped %d", first))
}

func goodRows(n int) []e2eRow {
	rows := make([]e2eRow, n)
	for i := range rows {
		rows[i] = e2eRow{id: fmt.Sprintf("g-%d", i+1), user: fmt.Sprintf("cus_%d", i+1),
			email: fmt.Sprintf("u%d@example.com", i+1), amount: "1.00", currency: "EUR", plan: "pro", want: "accepted"}
	}
	return rows
}

func TestImportMetricsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	writeCSV(t, good, goodRows(20))
	mixed := filepath.Join(dir, "mixed.csv")
	writeCSV(t, mixed, mixedRows(20, time.Now()))
	m := mappingFile(t, dir, e2eMapping)
	metrics := filepath.Join(dir, "afimport.prom")

	var code int
	code, _ = cliEnv{}.runArgs(t, []string{"afimport", "import", "--quiet", "--endpoint", "mock", "--mapping", m, "--metrics-file", metrics, good})
	require.Equal(t, exitOK, code)
	b, err := os.ReadFile(metrics)
	require.NoError(t, err)
	text := string(b)
	assert.Contains(t, text, `afimport_rows{app_id="website-www.example.com",status="accepted"} 20`)
	assert.Contains(t, text, "# TYPE afimport_last_success_timestamp_seconds gauge")
	assert.Contains(t, text, "afimport_last_exit_code{app_id=\"website-www.example.com\"} 0")
	success := lastSuccessLine(text)
	require.NotEmpty(t, success)

	// A failing run keeps the previous success time.
	code, _ = cliEnv{}.runArgs(t, []string{"afimport", "import", "--quiet", "--endpoint", "mock", "--mapping", m, "--metrics-file", metrics, mixed})
	require.Equal(t, exitRowsFailed, code)
	b, err = os.ReadFile(metrics)
	require.NoError(t, err)
	assert.Equal(t, success, lastSuccessLine(string(b)))
	assert.Contains(t, string(b), "afimport_last_exit_code{app_id=\"website-www.example.com\"} 1")
	assert.Contains(t, string(b), `status="invalid"} 10`)
}

func lastSuccessLine(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "afimport_last_success_timestamp_seconds{") {
			return l
		}
	}
	return ""
}

func TestImportShardsSplitOneExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "r.csv")
	writeCSV(t, in, goodRows(200))
	m := mappingFile(t, dir, e2eMapping)
	srv := s2stest.NewServer(s2stest.Config{Token: "tok"})
	defer srv.Close()
	cli := withToken("tok")
	total := 0
	for i := range 3 {
		code, stderr := cli.runArgs(t, []string{"afimport", "import", "--quiet", "--endpoint", srv.URL(), "--mapping", m, "--shard", fmt.Sprintf("%d/3", i), in})
		require.Equal(t, exitOK, code, stderr)
		got, _ := readReport(t, filepath.Join(dir, fmt.Sprintf("r.shard-%d-of-3.report.csv", i)))
		total += len(got)
	}
	assert.Equal(t, 200, total, "the shards cover the export exactly once")
	assert.EqualValues(t, 200, srv.Stats().Accepted)
	assert.Empty(t, srv.Stats().Duplicates())
}

// TestParquetImportsLikeItsCSVTwin: the DuckDB-style renewals Parquet file
// (timestamptz, decimal(18,2), strings, nulls) and its CSV twin give the
// same report and send byte-identical bodies (exact decimals included).
func TestParquetImportsLikeItsCSVTwin(t *testing.T) {
	t.Parallel()
	const mapping = `app_id: website-www.example.com
endpoint: event
timezone: UTC
fields:
  user_id.customer_user_id: { column: user_id }
  event_name:               { value: af_subscription_renewal }
  event_revenue:            { column: amount, type: number }
  event_revenue_currency:   { column: currency }
  email_hashed:             { column: email, hash: email, optional: true }
  phone_number_e164_hashed: { column: phone, hash: phone_e164, region_column: country, optional: true, on_invalid: omit }
  event_value.custom_parameters.plan: { column: plan }
  customer_dedup_id:        { column: renewal_id }
%s`
	type outcome struct{ status, reason, dedup string }
	runOne := func(t *testing.T, input, extra string, args ...string) (map[int]outcome, map[string]string) {
		dir := t.TempDir()
		in := filepath.Join(dir, filepath.Base(input))
		b, err := os.ReadFile(input)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(in, b, 0o644))
		srv := s2stest.NewServer(s2stest.Config{Token: "tok", KeepBodies: 1000})
		defer srv.Close()
		cli := withToken("tok")
		m := mappingFile(t, dir, fmt.Sprintf(mapping, extra))
		report := filepath.Join(dir, "report.csv")
		_, stderr := cli.runArgs(t, append([]string{"afimport", "import", "--quiet", "--endpoint", srv.URL(), "--mapping", m, "--report", report}, append(args, in)...))
		got, _ := readReport(t, report)
		require.NotEmpty(t, got, stderr)
		out := map[int]outcome{}
		for row, l := range got {
			out[row] = outcome{l["status"], l["reason"], l["dedup_id"]}
		}
		bodies := map[string]string{}
		for _, raw := range srv.Stats().Bodies {
			var v struct {
				ID string `json:"customer_dedup_id"`
			}
			require.NoError(t, json.Unmarshal(raw, &v))
			bodies[v.ID] = string(raw)
		}
		return out, bodies
	}
	pq, csvTwin := "readers/testdata/parquet/renewals.parquet", "readers/testdata/parquet/renewals.csv"

	t.Run("live", func(t *testing.T) {
		a, abodies := runOne(t, pq, "")
		b, bbodies := runOne(t, csvTwin, "")
		assert.Equal(t, b, a)
		assert.Equal(t, bbodies, abodies, "same bytes on the wire")
		assert.NotEmpty(t, abodies)
	})
	t.Run("dry run with timestamps", func(t *testing.T) {
		ts := "  timestamp: { column: renewed_at, format: rfc3339 }\n"
		now := "--now=2026-03-02T00:30:00Z"
		a, _ := runOne(t, pq, ts, "--dry-run", now)
		b, _ := runOne(t, csvTwin, ts, "--dry-run", now)
		assert.Equal(t, b, a)
		statuses := map[string]int{}
		for _, o := range a {
			statuses[o.status]++
		}
		assert.Positive(t, statuses["valid"])
		assert.Positive(t, statuses["late"]+statuses["future"])
	})
}

func TestResumeCommand(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "afimport import --resume --mapping m.yaml 'my file.csv'",
		resumeCommand([]string{"afimport", "import", "--mapping", "m.yaml", "my file.csv"}))
	assert.Equal(t, "afimport import --resume --mapping m.yaml x.csv",
		resumeCommand([]string{"afimport", "import", "--resume", "--mapping", "m.yaml", "x.csv"}))
	assert.Equal(t, "afimport import --resume --mapping m.yaml x.csv",
		resumeCommand([]string{"afimport", "import", "--overwrite", "--mapping", "m.yaml", "x.csv"}))
	assert.Equal(t, "go run . import --resume --mapping m.yaml x.csv",
		resumeCommand([]string{"/tmp/go-build123/b001/exe/afimport", "import", "--mapping", "m.yaml", "x.csv"}))
}

func TestImportFromStdinGzip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := filepath.Join(dir, "r.csv")
	writeCSV(t, plain, goodRows(30))
	raw, err := os.ReadFile(plain)
	require.NoError(t, err)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err = zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	r, w, err := os.Pipe()
	require.NoError(t, err)
	go func() { w.Write(gz.Bytes()); w.Close() }()
	defer r.Close()

	report := filepath.Join(dir, "stdin.report.csv")
	code, stderr := cliEnv{Stdin: r}.runArgs(t, []string{"afimport", "import", "--quiet", "--endpoint", "mock", "--format", "csv", "--mapping", mappingFile(t, dir, e2eMapping), "--report", report, "-"})
	require.Equal(t, exitOK, code, stderr)
	got, _ := readReport(t, report)
	assert.Len(t, got, 30)
	assert.Equal(t, "-", got[1]["file"])
}

func TestImportRefusesInitPlaceholders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "r.csv")
	writeCSV(t, in, goodRows(3))
	m := mappingFile(t, dir, strings.Replace(e2eMapping, "value: af_subscription_renewal", "value: TODO_event_name", 1))
	cli := withToken("tok")
	code, stderr := cli.runArgs(t, []string{"afimport", "import", "--quiet", "--endpoint", "https://events.appsflyer.com", "--mapping", m, in})
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "TODO_event_name")
	code, _ = cli.runArgs(t, []string{"afimport", "import", "--quiet", "--dry-run", "--mapping", m, in})
	assert.Equal(t, exitOK, code, "a dry run still works")
}
