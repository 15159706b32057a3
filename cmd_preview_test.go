package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// previewNow is a fixed clock: row 10 of the sample (2024-03-01T10:00Z) is
// in its window until 2024-03-02 00:30 New York.
const previewNow = "2024-03-01T12:00:00Z"

func decodeLines(t *testing.T, out string) []previewLine {
	t.Helper()
	var lines []previewLine
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l previewLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
		lines = append(lines, l)
	}
	return lines
}

func TestPreviewGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"preview_renewals.jsonl", nil}, // stdout is a pipe: JSON lines
		{"preview_renewals.txt", []string{"--json=false"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"preview", "--mapping", "testdata/renewals.yaml", "--rows", "10", "--now", previewNow}, tc.args...)
			code, stdout, stderr := runCLI(t, append(args, "testdata/renewals.csv")...)
			assert.Equal(t, exitRowsFailed, code, "rows 4, 6, 8 and 9 are invalid: %s", stderr)
			assert.Contains(t, stderr, "4 of the 10 rows shown would not be sent")
			assertGolden(t, tc.golden, stdout)
			assertNoPII(t, stdout+stderr)
		})
	}
}

func TestPreviewTerminalIsReadable(t *testing.T) {
	t.Parallel()
	terminal := cliEnv{OutIsTerminal: true}
	_, stdout, _ := terminal.run(t, "preview", "--mapping", "testdata/renewals.yaml", "--now", previewNow, "testdata/renewals.csv")
	assert.Contains(t, stdout, "testdata/renewals.csv row 4  INVALID\n")
	_, stdout, _ = terminal.run(t, "preview", "--json", "--mapping", "testdata/renewals.yaml", "--now", previewNow, "testdata/renewals.csv")
	assert.Len(t, decodeLines(t, stdout), 5, "--json wins over the terminal")
}

// TestPreviewBodiesAreWhatImportSends runs a live import against a server
// that records every body, and compares with preview: byte for byte.
func TestPreviewBodiesAreWhatImportSends(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	sent := map[string]string{} // customer_dedup_id -> body
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var v struct {
			ID string `json:"customer_dedup_id"`
		}
		_ = json.Unmarshal(b, &v)
		mu.Lock()
		sent[v.ID] = string(b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	const token = "s3cret-preview-token"
	cli := withToken(token)

	code, stdout, stderr := cli.run(t, "preview", "--mapping", "testdata/renewals.yaml", "--rows", "100", "testdata/renewals.csv")
	assert.Equal(t, exitRowsFailed, code)
	lines := decodeLines(t, stdout)
	require.Len(t, lines, 15, "every row of the sample")
	assert.NotContains(t, stdout+stderr, token)

	report := filepath.Join(t.TempDir(), "r.csv")
	code, _, stderr = cli.run(t, "import", "--quiet", "--mapping", "testdata/renewals.yaml", "--endpoint", srv.URL, "--report", report, "testdata/renewals.csv")
	require.Equal(t, exitRowsFailed, code, stderr)
	valid := 0
	for _, l := range lines {
		if l.Status != "valid" {
			assert.Empty(t, sent[l.DedupID], "row %d was not sent", l.Row)
			assert.NotEmpty(t, l.Reason, "row %d says why", l.Row)
			continue
		}
		valid++
		require.Contains(t, sent, l.DedupID, "row %d", l.Row)
		assert.Equal(t, sent[l.DedupID], string(l.Body), "row %d: preview shows the exact body", l.Row)
	}
	assert.Equal(t, len(sent), valid)
}

func TestPreviewWindowVerdicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		now, status string
		code        int
	}{
		{"2024-03-01T12:00:00Z", "valid", exitOK},
		{"2024-03-02T05:30:00Z", "valid", exitOK}, // 00:30 EST exactly: still in
		{"2024-03-02T05:31:00Z", "late", exitRowsFailed},
		{"2024-03-01T09:00:00Z", "future", exitRowsFailed},
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "one.csv")
	require.NoError(t, os.WriteFile(in, []byte("renewal_id,user_id,email,phone,country,first_name,plan,amount,currency,renewed_at\n"+
		"r-1,cus_1,a@example.com,,US,Al,pro,1,USD,2024-03-01T10:00:00Z\n"), 0o644))
	for _, tt := range tests {
		t.Run(tt.now, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, "preview", "--mapping", "testdata/renewals.yaml", "--now", tt.now, in)
			assert.Equal(t, tt.code, code, stderr)
			lines := decodeLines(t, stdout)
			require.Len(t, lines, 1)
			assert.Equal(t, tt.status, lines[0].Status)
			assert.Equal(t, "2024-03-02T00:30:00-05:00", lines[0].Deadline, "the deadline in the app's zone")
			if tt.status == "valid" {
				assert.Contains(t, lines[0].Window, "in window: deadline 2024-03-02 00:30 America/New_York")
			} else {
				assert.True(t, strings.HasPrefix(lines[0].Reason, tt.status+":"), lines[0].Reason)
			}
		})
	}
	// --app-timezone moves the deadline.
	_, stdout, _ := runCLI(t, "preview", "--mapping", "testdata/renewals.yaml", "--app-timezone", "Asia/Tokyo", "--now", "2024-03-01T12:00:00Z", in)
	assert.Equal(t, "2024-03-02T00:30:00+09:00", decodeLines(t, stdout)[0].Deadline)
}

// A mapping that sends a hashed column unhashed too: preview hides it.
func TestPreviewRedactsUnhashedPII(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := mappingFile(t, dir, e2eMapping+"  event_value.custom_parameters.contact: { column: email }\n")
	in := filepath.Join(dir, "r.csv")
	require.NoError(t, os.WriteFile(in, []byte("renewal_id,user_id,email,amount,currency,renewed_at,plan\n"+
		"r-1,cus_1,Secret.Person@example.com,1,USD,,pro\n"), 0o644))
	for _, args := range [][]string{{"--json"}, {"--json=false"}} {
		code, stdout, stderr := runCLI(t, append(append([]string{"preview", "--mapping", m}, args...), in)...)
		require.Equal(t, exitOK, code, stderr)
		assert.NotContains(t, strings.ToLower(stdout+stderr), "secret.person@example.com")
		assert.Contains(t, stdout, "event_value.custom_parameters.contact")
		assert.Contains(t, stdout, "<redacted, 27 chars>") // the JSON string, quotes included
		assert.Contains(t, stdout, "customer_user_id", "the rest of the body is shown")
	}
}

func TestPreviewUsageErrors(t *testing.T) {
	t.Parallel()
	noCol := filepath.Join(t.TempDir(), "nocol.csv")
	require.NoError(t, os.WriteFile(noCol, []byte("renewal_id,user_id\nr-1,u-1\n"), 0o644))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no input", []string{"--mapping", "testdata/renewals.yaml"}, "no INPUT"},
		{"no mapping", []string{"testdata/renewals.csv"}, "mapping"},
		{"bad --now", []string{"--mapping", "testdata/renewals.yaml", "--now", "yesterday", "testdata/renewals.csv"}, "RFC 3339"},
		{"bad zone", []string{"--mapping", "testdata/renewals.yaml", "--app-timezone", "Mars/Base", "testdata/renewals.csv"}, "Mars/Base"},
		{"missing column", []string{"--mapping", "testdata/renewals.yaml", noCol}, "lacks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCLI(t, append([]string{"preview"}, tt.args...)...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}
