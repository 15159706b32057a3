package main

// Hostile inputs, secrets and PII: what a nightly run must survive and what
// it must never print.

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer/s2stest"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/hostile")

const hostileDir = "testdata/hostile"

// hostileOutcome is what a run did, in the form the goldens hold: the exit
// code, the inputs the summary names as failed, and per report line
// file,row,status,reason (file as a base name, lines sorted by file and row).
type hostileOutcome struct {
	exit   int
	failed []string
	lines  [][4]string
}

func (o hostileOutcome) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# exit %d\n", o.exit)
	for _, f := range o.failed {
		fmt.Fprintf(&b, "# failed %s\n", f)
	}
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"file", "row", "status", "reason"})
	for _, l := range o.lines {
		_ = w.Write(l[:])
	}
	w.Flush()
	return b.String()
}

// runHostile runs afimport in-process on input and returns its outcome. It
// fails the test if a row is reported twice.
func runHostile(t *testing.T, mapping, input string, extra ...string) (hostileOutcome, string) {
	t.Helper()
	dir := t.TempDir()
	report, summary := filepath.Join(dir, "report.csv"), filepath.Join(dir, "summary.json")
	args := append([]string{"afimport", "import", "--quiet", "--mapping", mapping, "--report", report, "--summary", summary}, extra...)
	args = append(args, input)
	var o hostileOutcome
	var stderr string
	// The token of the live cases' server (TestHostileInputs).
	o.exit, stderr = withToken("hostile-token").runArgs(t, args)

	var sum struct {
		FailedFiles []struct{ File string } `json:"failed_files"`
	}
	if b, err := os.ReadFile(summary); err == nil {
		require.NoError(t, json.Unmarshal(b, &sum))
	}
	for _, f := range sum.FailedFiles {
		o.failed = append(o.failed, filepath.Base(f.File))
	}
	if _, err := os.Stat(report); err == nil {
		seen := map[string]bool{}
		for _, l := range parseReportLines(t, report, 0) {
			key := fmt.Sprintf("%s:%d", l.file, l.row)
			require.False(t, seen[key], "%s reported twice", key)
			seen[key] = true
			o.lines = append(o.lines, [4]string{filepath.Base(l.file), fmt.Sprint(l.row), l.status, l.reason})
		}
	}
	sort.Slice(o.lines, func(i, j int) bool {
		a, b := o.lines[i], o.lines[j]
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		return len(a[1]) < len(b[1]) || len(a[1]) == len(b[1]) && a[1] < b[1]
	})
	return o, stderr
}

func checkGolden(t *testing.T, name string, got hostileOutcome) {
	t.Helper()
	path := filepath.Join(hostileDir, name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), got.String())
}

// TestHostileInputs runs each input of testdata/hostile and compares what
// the report says about every row with the golden file next to it.
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	mapping := filepath.Join(hostileDir, "mapping.yaml")
	srv := s2stest.NewServer(s2stest.Config{Token: "hostile-token"})
	defer srv.Close()
	live := []string{"--endpoint", srv.URL()}
	dry := []string{"--dry-run"}
	tests := []struct {
		name, input string
		args        []string
	}{
		{"ragged", "ragged.csv", dry},
		{"unterminated_quote", "unterminated_quote.csv", dry},
		{"nul", "nul.csv", dry},
		{"nul_live", "nul.csv", live},
		{"badutf8_userid", "badutf8_userid.csv", dry},
		{"badutf8_email", "badutf8_email.csv", dry},
		{"badutf8_header", "badutf8_header.csv", dry},
		// Invalid UTF-8 in every other column kind: dedup id, phone (with
		// on_invalid: omit), region, name, custom parameter and template,
		// number, currency, timestamp; and in NDJSON strings.
		{"badutf8_kinds", "badutf8_kinds.csv", dry},
		{"badutf8_kinds_live", "badutf8_kinds.csv", live},
		{"badutf8_ndjson", "badutf8.ndjson", dry},
		// A broken header on the first input is a setup mistake: exit 2,
		// nothing sent (on a later input, that file fails: exit 1).
		{"dup_header", "dup_header.csv", dry},
		{"numbers", "numbers.csv", dry},
		{"timestamps", "timestamps.csv", dry},
		{"emails", "emails.csv", dry},
		{"emails_live", "emails.csv", live},
		{"array", "array.ndjson", dry},
		{"array_live", "array.ndjson", live},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Reset()
			got, stderr := runHostile(t, mapping, filepath.Join(hostileDir, tt.input), tt.args...)
			assert.NotContains(t, stderr, "panic:", stderr)
			checkGolden(t, tt.name, got)
			st := srv.Stats()
			assert.Empty(t, st.Duplicates())
			accepted := 0
			for _, l := range got.lines {
				if l[2] == "accepted" {
					accepted++
				}
			}
			assert.EqualValues(t, accepted, st.Accepted, "the report and the mock agree")
		})
	}
}

// TestHostileWideRow: 10,000 columns, generated.
func TestHostileWideRow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "wide.csv")
	var b bytes.Buffer
	b.WriteString("renewal_id,user_id,email,phone,country,first_name,plan,amount,currency,renewed_at")
	for i := 10; i < 10_000; i++ {
		fmt.Fprintf(&b, ",c%d", i)
	}
	b.WriteByte('\n')
	for r := 1; r <= 3; r++ {
		fmt.Fprintf(&b, "r-%d,cus_%d,u%d@example.com,,US,Ann,pro,1,USD,", r, r, r)
		b.WriteString(strings.Repeat(",x", 9_990))
		b.WriteByte('\n')
	}
	b.WriteString("r-4,cus_4,u4@example.com,,US,Ann,pro,1,USD,\n") // 10 of 10,000
	require.NoError(t, os.WriteFile(in, b.Bytes(), 0o644))
	got, _ := runHostile(t, filepath.Join(hostileDir, "mapping.yaml"), in, "--dry-run")
	checkGolden(t, "wide", got)
}

// TestHostileTruncatedGzip: a gzip stream cut in the middle. The rows
// before the cut are reported, the file is named as failed, exit 1.
func TestHostileTruncatedGzip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var plain bytes.Buffer
	plain.WriteString("renewal_id,user_id,email,phone,country,first_name,plan,amount,currency,renewed_at\n")
	const rows = 20_000
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&plain, "r-%d,cus_%x,user%d@example.com,,US,Ann,pro,%d.%02d,USD,\n", i, i*7919, i, i%500, i%100)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(plain.Bytes())
	require.NoError(t, zw.Close())
	in := filepath.Join(dir, "cut.csv.gz")
	require.NoError(t, os.WriteFile(in, gz.Bytes()[:gz.Len()/2], 0o644))

	got, stderr := runHostile(t, filepath.Join(hostileDir, "mapping.yaml"), in, "--dry-run")
	assert.Equal(t, exitRowsFailed, got.exit, stderr)
	assert.Equal(t, []string{"cut.csv.gz"}, got.failed)
	require.NotEmpty(t, got.lines, "rows before the cut are reported")
	assert.Less(t, len(got.lines), rows)
	for i, l := range got.lines {
		assert.Equal(t, fmt.Sprint(i+1), l[1], "rows 1..K, each once")
		assert.Equal(t, "valid", l[2], "row %s: %s", l[1], l[3])
	}
	t.Logf("%d of %d rows read before the cut", len(got.lines), rows)
}

// TestHostileParquetCutInHalf: a clear error, exit 1, no panic.
func TestHostileParquetCutInHalf(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := os.ReadFile("readers/testdata/parquet/renewals.parquet")
	require.NoError(t, err)
	in := filepath.Join(dir, "half.parquet")
	require.NoError(t, os.WriteFile(in, b[:len(b)/2], 0o644))
	m := mappingFile(t, dir, `app_id: website-www.example.com
endpoint: event
timezone: UTC
fields:
  user_id.customer_user_id: { column: user_id }
  event_name:               { value: af_subscription_renewal }
  event_revenue:            { column: amount, type: number }
  event_revenue_currency:   { column: currency }
  customer_dedup_id:        { column: renewal_id }
`)
	got, stderr := runHostile(t, m, in, "--dry-run")
	assert.Equal(t, exitRowsFailed, got.exit, stderr)
	assert.Equal(t, []string{"half.parquet"}, got.failed)
	assert.Contains(t, stderr, "half.parquet")
	assert.NotContains(t, stderr, "panic")
}

// TestHostileHugeLine: a 50 MB single CSV line is one invalid row (the max
// row size), the next row still reads, and memory stays bounded (the child
// process is measured).
func TestHostileHugeLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "huge.csv")
	f, err := os.Create(in)
	require.NoError(t, err)
	_, _ = io.WriteString(f, "renewal_id,user_id,email,phone,country,first_name,plan,amount,currency,renewed_at\n")
	_, _ = io.WriteString(f, "r-1,cus_1,")
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for range 50 {
		_, err = f.Write(chunk)
		require.NoError(t, err)
	}
	_, _ = io.WriteString(f, "@example.com,,US,Ann,pro,1,USD,\nr-2,cus_2,b@example.com,,US,Bo,pro,1,USD,\n")
	require.NoError(t, f.Close())
	report := filepath.Join(dir, "huge.report.csv")
	summary := filepath.Join(dir, "summary.json")
	e, c := runChild(t, nil, "--quiet", "--dry-run", "--mapping", filepath.Join(hostileDir, "mapping.yaml"), "--report", report, "--summary", summary, in)
	assert.Equal(t, exitRowsFailed, e.code, c.stderr.String())
	lines := parseReportLines(t, report, 0)
	require.Len(t, lines, 2)
	sort.Slice(lines, func(i, j int) bool { return lines[i].row < lines[j].row })
	assert.Equal(t, "invalid", lines[0].status)
	assert.Contains(t, lines[0].reason, "row exceeds the maximum row size")
	assert.Equal(t, "valid", lines[1].status)
	// The child's own peak (VmHWM, from its summary): rusage's Maxrss
	// would include this test binary's memory, carried across exec.
	var sum struct {
		PeakRSS int64 `json:"peak_rss_bytes"`
	}
	b, err := os.ReadFile(summary)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	require.Positive(t, sum.PeakRSS)
	t.Logf("50 MB line: peak RSS %.1f MB in %v", float64(sum.PeakRSS)/1e6, e.duration)
	assert.Less(t, sum.PeakRSS, int64(150<<20), "peak RSS %d bytes for a 50 MB line", sum.PeakRSS)
}

// --- secrets ---

const secretToken = "SeCrEt-T0ken-9f8e7d6c5b4a3f2e1d0c-zz"

// secretLeak describes where secretToken, or any 10-character piece of it,
// appears in out; "" if nowhere.
func secretLeak(out string) string {
	if strings.Contains(out, secretToken) {
		return "the whole token: " + excerpt(out, secretToken)
	}
	for i := 0; i+10 <= len(secretToken); i++ {
		if piece := secretToken[i : i+10]; strings.Contains(out, piece) {
			return fmt.Sprintf("a piece of the token (%q): %s", piece, excerpt(out, piece))
		}
	}
	return ""
}

func assertNoSecret(t *testing.T, what, out string) {
	t.Helper()
	if leak := secretLeak(out); leak != "" {
		t.Errorf("%s holds %s", what, leak)
	}
}

func excerpt(s, sub string) string {
	i := strings.Index(s, sub)
	return s[max(0, i-80):min(len(s), i+len(sub)+20)]
}

// echoServer answers every request with status and a body that holds the
// request's Authorization header (json: in the message field).
func echoServer(status int, json bool, pad int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		auth := r.Header.Get("Authorization")
		if json {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"status":"error","message":"bad request, you sent Authorization: %s"}`, auth)
			return
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "%sAuthorization: %s\nUser-Agent: %s\n", strings.Repeat("x", pad), auth, r.UserAgent())
	}))
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	right := s2stest.NewServer(s2stest.Config{Token: "the-right-token"})
	defer right.Close()
	servers := map[string]string{"401": right.URL()}
	for name, s := range map[string]*httptest.Server{
		"400 json echo":   echoServer(400, true, 0),
		"400 text echo":   echoServer(400, false, 0),
		"500 text echo":   echoServer(500, false, 0),
		"400 cut excerpt": echoServer(400, false, 200-len("Authorization: Bearer ")-12), // the 200-byte excerpt ends inside the token
	} {
		defer s.Close()
		servers[name] = s.URL
	}
	names := make([]string, 0, len(servers))
	for n := range servers {
		names = append(names, n)
	}
	sort.Strings(names)

	for _, name := range names {
		for _, source := range []string{"env", "file"} {
			t.Run(name+"/"+source, func(t *testing.T) {
				dir := t.TempDir()
				in := filepath.Join(dir, "r.csv")
				require.NoError(t, os.WriteFile(in, []byte("renewal_id,user_id,email,amount,currency,renewed_at,plan\n"+
					"r-1,cus_1,a@example.com,1,USD,,pro\nr-2,cus_2,b@example.com,1,USD,,pro\nr-3,cus_3,not-an-email,1,USD,,pro\n"), 0o644))
				report, summary := filepath.Join(dir, "r.report.csv"), filepath.Join(dir, "summary.json")
				args := []string{"--log-format", "json", "--max-retries", "1", "--concurrency", "2",
					"--endpoint", servers[name], "--mapping", mappingFile(t, dir, e2eMapping),
					"--report", report, "--summary", summary}
				var env []string
				if source == "env" {
					env = []string{tokenEnv + "=" + secretToken}
				} else {
					tf := filepath.Join(dir, "token")
					require.NoError(t, os.WriteFile(tf, []byte(secretToken+"\n"), 0o600))
					args = append(args, "--token-file", tf)
				}
				e, c := runChild(t, env, append(args, in)...)
				assert.NotEqual(t, exitOK, e.code)
				assert.NotEqual(t, exitUsage, e.code, c.stderr.String())
				if name == "401" {
					assert.Equal(t, exitAborted, e.code)
				}
				outputs := map[string]string{"stdout": c.stdout.String(), "stderr": c.stderr.String()}
				for _, p := range []string{report, summary} {
					b, err := os.ReadFile(p)
					require.NoError(t, err)
					outputs[filepath.Base(p)] = string(b)
				}
				for what, out := range outputs {
					assertNoSecret(t, what, out)
				}
			})
		}
	}
}

func TestTokenFileModeWarning(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode os.FileMode
		warn bool
	}{{0o644, true}, {0o604, true}, {0o660, true}, {0o600, false}, {0o640, false}, {0o440, false}} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "r.csv")
			require.NoError(t, os.WriteFile(in, []byte("renewal_id,user_id,email,amount,currency,renewed_at,plan\nr-1,cus_1,a@example.com,1,USD,,pro\n"), 0o644))
			tf := filepath.Join(dir, "token")
			require.NoError(t, os.WriteFile(tf, []byte(secretToken), 0o600))
			require.NoError(t, os.Chmod(tf, tc.mode))
			code, stderr := cliEnv{}.runArgs(t, []string{"afimport", "import", "--quiet", "--endpoint", "mock", "--token-file", tf, "--mapping", mappingFile(t, dir, e2eMapping), in})
			assert.Equal(t, exitOK, code, stderr)
			if tc.warn {
				assert.Contains(t, stderr, "readable or writable by other users")
			} else {
				assert.NotContains(t, stderr, "by other users")
			}
			assertNoSecret(t, "stderr", stderr)
		})
	}
}

// --- PII ---

const piiMapping = `app_id: website-www.example.com
endpoint: event
timezone: UTC
fields:
  user_id.customer_user_id: { column: user_id }
  event_name:               { value: af_subscription_renewal }
  event_revenue:            { column: amount, type: number }
  event_revenue_currency:   { column: currency }
  email_hashed:             { column: email, hash: email }
  phone_number_e164_hashed: { column: phone, hash: phone_e164, region_column: country, optional: true }
  first_name_hashed:        { column: first_name, hash: name, optional: true }
  last_name_hashed:         { column: last_name, hash: name, optional: true }
  customer_dedup_id:        { column: renewal_id }
`

// piiRows: raw PII values, valid and invalid. Each invalid one makes its row
// invalid with a reason that must name the column, not the value.
var piiRows = [][]string{
	// renewal_id, user_id, email, phone, country, first_name, last_name
	{"p-1", "cus_1", "Quentin.Tarantella+VIP@Example.org", "(650) 555-0173", "US", "Quentinella", "Tarantellova"},
	{"p-2", "cus_2", "zoë.ångström@exämple.se", "+46 70 123 45 67", "SE", "Zoëlinda", "Ångströmberg"},
	{"p-3", "cus_3", "Bartholomew Not An Email", "", "US", "Bartholomew", "Pinkertonian"},            // invalid email
	{"p-4", "cus_4", "Ignatius.Valid@example.com", "555 0199 77", "US", "Ignatius", "Wolfeschlegel"}, // invalid phone
	{"p-5", "cus_5", "Ottoline@@example..com", "+44 20 7946 0958", "GB", "Ottoline", "Featherstonehaugh"},
	{"p-6", "cus_6", "Cassiopeia.Ng@example.com", "+1 212 555 01", "US", "Cassiopeia", "Vanderbilt-Ngata"}, // invalid phone
	{"p-7", "cus_7", "Leopoldine@example.com", "06 12 34 56 78", "FR", "   ", "Aubergineaux"},              // empty name: optional
}

func TestPIINeverPrinted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"renewal_id", "user_id", "email", "phone", "country", "first_name", "last_name", "amount", "currency"})
	for _, r := range piiRows {
		_ = w.Write(append(append([]string(nil), r...), "9.99", "USD"))
	}
	w.Flush()
	in := filepath.Join(dir, "pii.csv")
	require.NoError(t, os.WriteFile(in, b.Bytes(), 0o644))
	m := mappingFile(t, dir, piiMapping)

	var needles []string
	for _, r := range piiRows {
		for _, v := range r[2:4] {
			if v = strings.TrimSpace(v); len(v) >= 6 {
				needles = append(needles, v, strings.ToLower(v))
			}
		}
		for _, v := range r[5:7] {
			if v = strings.TrimSpace(v); v != "" {
				needles = append(needles, v, strings.ToLower(v))
			}
		}
	}
	// Normalized phones too: the E.164 forms of the valid ones.
	needles = append(needles, "+16505550173", "16505550173", "+46701234567", "+442079460958", "+33612345678")

	srv := s2stest.NewServer(s2stest.Config{Token: "pii-token"})
	defer srv.Close()
	for _, mode := range []string{"live", "dry-run"} {
		t.Run(mode, func(t *testing.T) {
			report, summary := filepath.Join(dir, mode+".report.csv"), filepath.Join(dir, mode+".summary.json")
			args := []string{"--log-format", "json", "--mapping", m, "--report", report, "--summary", summary}
			if mode == "live" {
				args = append(args, "--endpoint", srv.URL())
			} else {
				args = append(args, "--dry-run")
			}
			e, c := runChild(t, []string{tokenEnv + "=pii-token"}, append(args, in)...)
			assert.Equal(t, exitRowsFailed, e.code, c.stderr.String())
			outputs := map[string]string{"stdout": c.stdout.String(), "stderr": c.stderr.String()}
			for _, p := range []string{report, summary} {
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				outputs[filepath.Base(p)] = string(b)
			}
			for what, out := range outputs {
				for _, n := range needles {
					assert.NotContains(t, out, n, "%s holds raw PII", what)
				}
			}
			statuses := map[int]reportLine{}
			for _, l := range parseReportLines(t, report, 0) {
				statuses[l.row] = l
			}
			require.Len(t, statuses, len(piiRows))
			for _, row := range []int{3, 4, 5, 6} {
				assert.Equal(t, "invalid", statuses[row].status, "row %d", row)
				assert.NotEmpty(t, statuses[row].reason, "row %d", row)
			}
			ok := "valid"
			if mode == "live" {
				ok = "accepted"
			}
			for _, row := range []int{1, 2, 7} {
				assert.Equal(t, ok, statuses[row].status, "row %d: %s", row, statuses[row].reason)
			}
		})
	}
}
