package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/mappings"
)

const goldenDir = "testdata/golden"

// The -update flag may already be defined by another test file of this
// package; define it only if not, and read it by name.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// assertGolden compares got with testdata/golden/name, rewriting it with
// -update.
func assertGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if updateGolden() {
		require.NoError(t, os.MkdirAll(goldenDir, 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), got, "golden %s (run with -update to rewrite)", path)
}

// cliEnv is what an in-process afimport takes from its test instead of
// the process: the environment (only these variables: no AF_S2S_TOKEN
// leaks in from the developer's shell), standard input (empty when nil),
// whether standard output is a terminal, and where the Go memory limit it
// sets is recorded (it is never imposed on the test binary). Each run has
// its own stdout and stderr, so tests run in parallel.
type cliEnv struct {
	Env           map[string]string
	Stdin         io.Reader
	OutIsTerminal bool
	MemoryLimit   *atomic.Int64 // the budget import gave the memory governor
}

// withToken is an environment with only AF_S2S_TOKEN set.
func withToken(token string) cliEnv {
	return cliEnv{Env: map[string]string{tokenEnv: token}}
}

// run runs afimport with args (the program name left out) and returns its
// exit code, stdout and stderr.
func (e cliEnv) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs syncBuffer
	p := process{
		streams: streams{In: e.Stdin, Out: &out, Err: &errs, OutIsTerminal: e.OutIsTerminal},
		Args:    append([]string{"afimport"}, args...),
		LookupEnv: func(key string) (string, bool) {
			v, ok := e.Env[key]
			return v, ok
		},
		GovernMemory: func(_ context.Context, budget int64) {
			if e.MemoryLimit != nil {
				e.MemoryLimit.Store(budget)
			}
		},
	}
	if p.In == nil {
		p.In = strings.NewReader("")
	}
	code = run(p)
	return code, out.String(), errs.String()
}

// runArgs is run with the whole command line, program name first, and
// returns the exit code and stderr.
func (e cliEnv) runArgs(t *testing.T, args []string) (code int, stderr string) {
	t.Helper()
	code, _, stderr = e.run(t, args[1:]...)
	return code, stderr
}

// runCLI runs afimport in-process in an empty environment and returns its
// exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return cliEnv{}.run(t, args...)
}

// syncBuffer is a bytes.Buffer that the run's goroutines may write at once
// (the logger, the progress lines).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// samplePII is the personal data of testdata/renewals.csv: emails, phones
// (as written and in E.164) and first names. No output may hold any.
var samplePII = []string{
	"John_Smith@Gmail.com", "john_smith@gmail.com", "ana.garcia+billing@example.es", "li.wei@example.cn",
	"marie@example.fr", "anon@example.com", "kenji@example.jp", "olga@example.de", "priya", "tom@example.co.uk",
	"sara@example.se", "lucas@example.com.br", "ragged@example.com", "noah@example.com", "emma@example.ca",
	"(650) 555-1212", "+16505551212", "612 34 56 78", "+34612345678", "+33 6 12 34 56 78", "+33612345678",
	"090-1234-5678", "+819012345678", "0151 23456789", "07700 900123", "070-123 45 67", "(11) 91234-5678",
	"(212) 555-0199", "(416) 555-0142",
	"John", "Ana", "Wei", "Marie", "Kenji", "Olga", "Priya", "Sara", "Lucas", "Ragged", "Noah", "Emma",
}

func assertNoPII(t *testing.T, out string) {
	t.Helper()
	for _, s := range samplePII {
		assert.NotContains(t, out, s, "raw PII in the output")
	}
}

func TestInitRenewalsLoadsChecksAndImports(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "starter.yaml")
	code, stdout, stderr := runCLI(t, "init", "--out", out, "testdata/renewals.csv")
	require.Equal(t, exitOK, code, stderr)
	assert.Empty(t, stdout, "with --out nothing goes to stdout")
	assert.Contains(t, stderr, "afimport check --mapping")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assertGolden(t, "init_renewals.yaml", string(b))
	assertNoPII(t, string(b)+stderr)

	// It loads, and check accepts it, warning about the placeholders.
	m, err := mappings.Load(out)
	require.NoError(t, err)
	assert.Equal(t, "TODO_app_id", m.AppID)
	code, stdout, stderr = runCLI(t, "check", "--mapping", out, "testdata/renewals.csv")
	assert.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "warning: app_id is still the placeholder TODO_app_id")
	assert.Contains(t, stdout, `warning: event_name is still the placeholder "TODO_event_name"`)
	assert.Contains(t, stdout, "testdata/renewals.csv: has every column")

	// It imports the sample end to end: the rows are judged, never a
	// usage or mapping error.
	for _, mode := range [][]string{
		{"--dry-run", "--now", "2024-03-01T12:00:00Z"},
		{"--endpoint", "mock"},
	} {
		report := filepath.Join(dir, "report-"+mode[0]+".csv")
		args := append([]string{"import", "--quiet", "--mapping", out, "--report", report}, mode...)
		code, _, stderr := runCLI(t, append(args, "testdata/renewals.csv")...)
		assert.Contains(t, []int{exitOK, exitRowsFailed}, code, "%v: %s", mode, stderr)
		lines, _ := readReport(t, report)
		assert.Len(t, lines, 15, "one report line per sample row")
		if mode[0] == "--endpoint" {
			accepted := 0
			for _, l := range lines {
				if l["status"] == "accepted" {
					accepted++
				}
			}
			assert.Positive(t, accepted, "the mock accepted the starter mapping's rows")
		}
	}
}

func TestInitStdoutAndOverwrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "init", "--app-id", "website-www.example.com", "--endpoint", "visit", "testdata/renewals.csv")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "app_id: website-www.example.com\n")
	assert.Contains(t, stdout, "endpoint: visit\n")
	_, err := mappings.Parse([]byte(stdout), "stdout.yaml")
	require.NoError(t, err)

	out := filepath.Join(dir, "m.yaml")
	require.NoError(t, os.WriteFile(out, []byte("mine"), 0o644))
	code, _, stderr = runCLI(t, "init", "--out", out, "testdata/renewals.csv")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--force")
	b, _ := os.ReadFile(out)
	assert.Equal(t, "mine", string(b), "an existing file is left alone")

	code, _, stderr = runCLI(t, "init", "--force", "--out", out, "testdata/renewals.csv")
	require.Equal(t, exitOK, code, stderr)
	b, _ = os.ReadFile(out)
	assert.True(t, strings.HasPrefix(string(b), "# Starter mapping for renewals.csv"))
}

func TestInitUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no sample", []string{}, "one SAMPLE"},
		{"missing file", []string{"testdata/nope.csv"}, "nope.csv"},
		{"bad endpoint", []string{"--endpoint", "click", "testdata/renewals.csv"}, "event or visit"},
		{"bad app id", []string{"--app-id", "a/b", "testdata/renewals.csv"}, "app id"},
		{"flag after the sample", []string{"testdata/renewals.csv", "--out", "x.yaml"}, "put every flag before"},
		{"zero rows", []string{"--rows", "0", "testdata/renewals.csv"}, "--rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"init"}, tt.args...)...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tt.want)
		})
	}
	assert.NoFileExists(t, "x.yaml")
}

func TestInitSniffsTheDelimiterAndNamesUnreadableRows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sample := filepath.Join(dir, "invoices.csv")
	require.NoError(t, os.WriteFile(sample, []byte("invoice_id;customer_id;email;amount\n"+
		"i-1;c-1;a@example.com;3.50\n"+
		"i-2;c-2\n"+ // ragged
		"i-3;c-3;b@example.com;4.10\n"+
		"i-4;c-4;c@example.com;1.00\n"+
		"i-5;c-5;d@example.com;2.00\n"+
		"i-6;c-6;e@example.com;2.00\n"), 0o644))
	code, stdout, stderr := runCLI(t, "init", sample)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, `looks ";"-delimited: read it with --delimiter ';'`)
	assert.Contains(t, stderr, "1 sample row(s) could not be read and were skipped: row 2 (")
	assert.Contains(t, stdout, "{ column: customer_id }", "the columns are split")
	assert.NotContains(t, stdout, "invoice_id;customer_id")

	// An explicit --delimiter is obeyed, not second-guessed.
	code, stdout, stderr = runCLI(t, "init", "--delimiter", ",", sample)
	require.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, stderr, "looks")
	assert.Contains(t, stdout, "invoice_id;customer_id")
}
