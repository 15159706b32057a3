package main

// The report is the truth (issue 18): a resume finds its rows however the
// input is spelled, refuses a report written under another mapping, and one
// report has one writer at a time.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer/s2stest"
	"afimport/reports"
)

// importIn runs afimport import in-process with args, the token "tok" in
// its environment, and returns the exit code and stderr.
func importIn(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return importWith(t, withToken("tok"), args...)
}

// importWith is importIn in e.
func importWith(t *testing.T, e cliEnv, args ...string) (int, string) {
	t.Helper()
	code, _, stderr := e.run(t, append([]string{"import", "--quiet"}, args...)...)
	return code, stderr
}

// Same input, spelled differently: every resume finds every row accepted
// and sends nothing.
func TestResumeFindsRowsWhateverTheSpelling(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, os.Mkdir("m", 0o755))
	rows := goodRows(20)
	writeCSV(t, filepath.Join(dir, "m", "in.csv"), rows)
	require.NoError(t, os.Symlink(filepath.Join(dir, "m", "in.csv"), "link.csv"))
	mapping := mappingFile(t, dir, e2eMapping)
	srv := s2stest.NewServer(s2stest.Config{Token: "tok"})
	defer srv.Close()
	report := filepath.Join(dir, "r.report.csv")
	base := []string{"--endpoint", srv.URL(), "--mapping", mapping, "--report", report}

	code, stderr := importIn(t, append(base, "m/in.csv")...)
	require.Equal(t, exitOK, code, stderr)
	require.EqualValues(t, len(rows), srv.Stats().Requests)

	for _, spelling := range []string{
		filepath.Join(dir, "m", "in.csv"), // absolute
		"./m/in.csv",                      // ./-prefixed
		"link.csv",                        // a symbolic link
		"m/",                              // the folder
		"m/*.csv",                         // a glob
		"m/../m/in.csv",
	} {
		t.Run(spelling, func(t *testing.T) {
			before := srv.Stats().Requests
			code, stderr := importIn(t, append(base, "--resume", spelling)...)
			assert.Equal(t, exitOK, code, stderr)
			assert.Equal(t, before, srv.Stats().Requests, "nothing sent again")
			assert.Contains(t, stderr, fmt.Sprintf("skipped %d", len(rows)))
		})
	}
	assert.Empty(t, srv.Stats().Duplicates())
	// The report keeps the name as the user wrote it.
	data, err := os.ReadFile(report)
	require.NoError(t, err)
	assert.Contains(t, string(data), "\n./m/in.csv,")
	assert.Contains(t, string(data), "\nlink.csv,")
}

// Standard input has no path: under --report a resume matches its rows by
// row number.
func TestResumeStandardInputByRowNumber(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var in bytes.Buffer
	rows := goodRows(60)
	writeCSV(t, filepath.Join(dir, "in.csv"), rows)
	data, err := os.ReadFile(filepath.Join(dir, "in.csv"))
	require.NoError(t, err)
	in.Write(data)
	srv := s2stest.NewServer(s2stest.Config{Token: "tok"})
	defer srv.Close()
	report := filepath.Join(dir, "stdin.report.csv")
	mapping := mappingFile(t, dir, e2eMapping)
	withStdin := func(args ...string) (int, string) {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		go func() { w.Write(data); w.Close() }()
		defer r.Close()
		e := withToken("tok")
		e.Stdin = r
		return importWith(t, e, args...)
	}
	base := []string{"--endpoint", srv.URL(), "--mapping", mapping, "--report", report, "--format", "csv"}

	// Run 1 sends only the first 40 rows: the input is cut short.
	cut := bytes.SplitAfterN(data, []byte("\n"), 42)
	data = bytes.Join(cut[:41], nil)
	code, stderr := withStdin(append(base, "-")...)
	require.Equal(t, exitOK, code, stderr)
	require.EqualValues(t, 40, srv.Stats().Requests)

	// Run 2 reads all 60 rows again and sends only rows 41..60.
	data = in.Bytes()
	code, stderr = withStdin(append(base, "--resume", "-")...)
	require.Equal(t, exitOK, code, stderr)
	assert.EqualValues(t, 60, srv.Stats().Requests)
	assert.Empty(t, srv.Stats().Duplicates())
	assert.Contains(t, stderr, "skipped 40")
}

// Two part files with the same name and content in two folders are two
// files: resuming with the second folder added sends the second.
func TestResumeKeepsIdenticalPartFilesApart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rows := goodRows(10)
	for _, d := range []string{"a", "b"} {
		require.NoError(t, os.Mkdir(filepath.Join(dir, d), 0o755))
		writeCSV(t, filepath.Join(dir, d, "part-00000.csv"), rows)
	}
	srv := s2stest.NewServer(s2stest.Config{Token: "tok"})
	defer srv.Close()
	report := filepath.Join(dir, "day.report.csv")
	base := []string{"--endpoint", srv.URL(), "--mapping", mappingFile(t, dir, e2eMapping), "--report", report}
	code, stderr := importIn(t, append(base, filepath.Join(dir, "a"))...)
	require.Equal(t, exitOK, code, stderr)
	code, stderr = importIn(t, append(base, "--resume", filepath.Join(dir, "a"), filepath.Join(dir, "b"))...)
	require.Equal(t, exitOK, code, stderr)
	assert.EqualValues(t, 2*len(rows), srv.Stats().Requests, "b's rows were sent, not taken for a's")
	assert.Contains(t, stderr, fmt.Sprintf("skipped %d", len(rows)))
	assert.Contains(t, stderr, fmt.Sprintf("accepted %d", len(rows)))
}

// A second mapping over the same export (a second app): the resume is
// refused, naming the report and the mapping; with its own report it is
// sent; a deliberate fix resumes with --mapping-changed.
func TestResumeUnderAnotherMappingIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "renewals.csv")
	rows := goodRows(15)
	writeCSV(t, in, rows)
	srv := s2stest.NewServer(s2stest.Config{Token: "tok"})
	defer srv.Close()
	m1 := mappingFile(t, dir, e2eMapping)
	m2 := filepath.Join(dir, "second-app.yaml")
	require.NoError(t, os.WriteFile(m2, []byte(strings.Replace(e2eMapping, "website-www.example.com", "website-two.example.com", 1)), 0o644))

	code, stderr := importIn(t, "--endpoint", srv.URL(), "--mapping", m1, "--resume", in)
	require.Equal(t, exitOK, code, stderr)
	report := filepath.Join(dir, "renewals.report.csv")
	written, err := os.ReadFile(report)
	require.NoError(t, err)

	code, stderr = importIn(t, "--endpoint", srv.URL(), "--mapping", m2, "--resume", in)
	assert.Equal(t, exitUsage, code)
	for _, want := range []string{report, m2, "only the app id differs", "--report", "--overwrite", "--mapping-changed"} {
		assert.Contains(t, stderr, want)
	}
	assert.EqualValues(t, len(rows), srv.Stats().Requests, "nothing sent to the second app")
	after, err := os.ReadFile(report)
	require.NoError(t, err)
	assert.Equal(t, written, after, "the refused resume left the report alone")

	report2 := filepath.Join(dir, "renewals.two.report.csv")
	code, stderr = importIn(t, "--endpoint", srv.URL(), "--mapping", m2, "--report", report2, "--resume", in)
	require.Equal(t, exitOK, code, stderr)
	assert.EqualValues(t, 2*len(rows), srv.Stats().Requests, "the second app gets every row")

	// A deliberate fix of the first mapping (another constant): accepted
	// rows stay settled; the report then belongs to the new mapping.
	m1fixed := filepath.Join(dir, "fixed.yaml")
	require.NoError(t, os.WriteFile(m1fixed, []byte(strings.Replace(e2eMapping, "{ column: plan }", "{ value: gold }", 1)), 0o644))
	code, stderr = importIn(t, "--endpoint", srv.URL(), "--mapping", m1fixed, "--resume", in)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "under another mapping than "+m1fixed)
	assert.NotContains(t, stderr, "only the app id")
	code, stderr = importIn(t, "--endpoint", srv.URL(), "--mapping", m1fixed, "--resume", "--mapping-changed", in)
	require.Equal(t, exitOK, code, stderr)
	assert.EqualValues(t, 2*len(rows), srv.Stats().Requests)
	code, stderr = importIn(t, "--endpoint", srv.URL(), "--mapping", m1fixed, "--resume", in)
	require.Equal(t, exitOK, code, stderr)

	code, stderr = importIn(t, "--endpoint", srv.URL(), "--mapping", m1, "--mapping-changed", in)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--mapping-changed goes with --resume")
}

// A run refused at start leaves no report behind.
func TestRefusedRunLeavesNoReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "r.csv")
	require.NoError(t, os.WriteFile(in, []byte("renewal_id;user_id;email\nr-1;u;a@b.co\n"), 0o644))
	code, stderr := importIn(t, "--endpoint", "mock", "--mapping", mappingFile(t, dir, e2eMapping), in)
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, "column")
	assert.NoFileExists(t, filepath.Join(dir, "r.report.csv"))
}

// --report /dev/full: the header cannot be written, so nothing is sent.
func TestReportDevFullSendsNothing(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "r.csv")
	writeCSV(t, in, goodRows(20))
	srv := s2stest.NewServer(s2stest.Config{Token: "tok"})
	defer srv.Close()
	code, stderr := importIn(t, "--endpoint", srv.URL(), "--mapping", mappingFile(t, dir, e2eMapping), "--report", "/dev/full", "--overwrite", in)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "no space left on device")
	assert.Zero(t, srv.Stats().Requests)
}

// interruptedReport leaves an interrupted run's report: SIGTERM drains, so
// no row is in doubt.
func interruptedReport(t *testing.T, srv *s2stest.Server, base []string, in string) {
	t.Helper()
	c := startChild(t, []string{tokenEnv + "=" + crashToken}, append(base, in)...)
	waitSending(c, srv, 0)
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	e := c.wait()
	require.Equal(t, exitInterrupted, e.code, c.stderr.String())
}

// Two resumes of one interrupted report at once (cron overlapping a manual
// re-run): one exits 2 at once, naming the other; nothing is sent twice and
// the report parses.
func TestTwoResumesAtOnce(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "renewals.csv")
	const rows = 600
	sendable := crashInput(t, in, rows)
	report := filepath.Join(dir, "renewals.report.csv")
	srv := s2stest.NewServer(s2stest.Config{Token: crashToken, Latency: time.Millisecond})
	defer srv.Close()
	base := []string{"--quiet", "--concurrency", "8", "--rate", "200", "--grace", "2s",
		"--endpoint", srv.URL(), "--mapping", mappingFile(t, dir, e2eMapping), "--report", report}
	interruptedReport(t, srv, base, in)

	env := []string{tokenEnv + "=" + crashToken}
	resume := append(append([]string(nil), base...), "--resume", in)
	first := startChild(t, env, resume...)
	waitSending(first, srv, srv.Stats().Requests)
	require.False(t, first.exited(), "the first resume is still sending")
	before := srv.Stats().Requests
	e2, second := runChild(t, env, resume...)
	assert.Equal(t, exitUsage, e2.code, second.stderr.String())
	assert.Contains(t, second.stderr.String(), "in use by another afimport (pid "+strconv.Itoa(first.cmd.Process.Pid)+")")
	assert.Less(t, e2.duration, 5*time.Second, "refused at once")
	require.False(t, first.exited(), "the runs overlapped: make the input bigger")
	e1 := first.wait()
	require.Contains(t, []int{exitOK, exitRowsFailed}, e1.code, first.stderr.String())
	assert.Greater(t, srv.Stats().Requests, before, "the first went on sending")

	st := srv.Stats()
	assert.Empty(t, st.Duplicates(), "nothing sent twice")
	for id := range sendable {
		assert.Equal(t, 1, st.DedupAccepted[id], id)
	}
	_, err := reports.ReadCheckpoint(report)
	require.NoError(t, err, "the report parses")
	last := map[int]string{}
	for _, l := range parseReportLines(t, report, 0) {
		last[l.row] = l.status
	}
	assert.Len(t, last, rows)
}

// SIGKILL while holding the lock: the kernel releases it, and the next run
// proceeds.
func TestKilledRunLeavesNoStaleLock(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "renewals.csv")
	crashInput(t, in, 400)
	report := filepath.Join(dir, "renewals.report.csv")
	srv := s2stest.NewServer(s2stest.Config{Token: crashToken, Latency: time.Millisecond})
	defer srv.Close()
	env := []string{tokenEnv + "=" + crashToken}
	base := []string{"--quiet", "--concurrency", "4", "--rate", "200",
		"--endpoint", srv.URL(), "--mapping", mappingFile(t, dir, e2eMapping), "--report", report}
	c := startChild(t, env, append(base, in)...)
	waitSending(c, srv, 0)
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	require.Equal(t, syscall.SIGKILL, c.wait().signal)
	e, c2 := runChild(t, env, append(base, "--resume", in)...)
	assert.Equal(t, exitRowsFailed, e.code, c2.stderr.String()) // the invalid rows stay invalid
	assert.NotContains(t, c2.stderr.String(), "in use")
}

// The report's disk fills up mid-run (a file size limit on the process):
// sending stops at the first failed write; rows sent without a line are
// only those in flight then, and the resume sends at most those again.
func TestReportFullMidRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "renewals.csv")
	const rows, concurrency = 1500, 4
	sendable := crashInput(t, in, rows)
	report := filepath.Join(dir, "renewals.report.csv")
	srv := s2stest.NewServer(s2stest.Config{Token: crashToken, Latency: time.Millisecond})
	defer srv.Close()
	base := []string{"--quiet", "--concurrency", strconv.Itoa(concurrency), "--endpoint", srv.URL(),
		"--mapping", mappingFile(t, dir, e2eMapping), "--report", report}
	// Room for some 500 lines of 1500.
	const limit = 64<<10 + 16<<10
	e, c := runChild(t, []string{tokenEnv + "=" + crashToken, "AFIMPORT_TEST_FSIZE=" + strconv.Itoa(limit)}, append(base, in)...)
	require.Equal(t, exitRowsFailed, e.code, c.stderr.String())
	assert.Contains(t, c.stderr.String(), "file too large")

	st := srv.Stats()
	lines := parseReportLines(t, report, 0)
	reported := map[string]bool{}
	for _, l := range lines {
		if l.status == "accepted" {
			reported[l.dedupID] = true
		}
	}
	require.NotEmpty(t, reported, "some lines made it before the disk filled")
	require.Less(t, len(reported), len(sendable), "the disk filled before the end")
	inDoubt := 0
	for id := range st.DedupAccepted {
		if !reported[id] {
			inDoubt++
		}
	}
	t.Logf("lines %d, accepted by the mock %d, without a line %d", len(lines), len(st.DedupAccepted), inDoubt)
	// In doubt: the requests in flight, and the lines of the write that
	// failed (the collector flushes whenever nothing more is queued).
	assert.LessOrEqual(t, inDoubt, 4*concurrency, "rows sent without a line")

	e, c = runChild(t, []string{tokenEnv + "=" + crashToken}, append(base, "--resume", in)...)
	require.Equal(t, exitRowsFailed, e.code, c.stderr.String()) // the invalid rows
	st = srv.Stats()
	for id := range sendable {
		assert.Positive(t, st.DedupAccepted[id], id)
	}
	assert.LessOrEqual(t, len(st.Duplicates()), inDoubt, "the resume sends again at most the rows in doubt")
}
