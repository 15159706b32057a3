package main

// Fault soak: the real binary against a mock that throttles below the
// client's rate, drops connections and answers 429 and 5xx at random.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer/s2stest"
)

const soakToken = "soak-t0ken-77"

// soakInput writes n sendable rows with dedup ids s-1..s-n.
func soakInput(t *testing.T, path string, n int) {
	var b bytes.Buffer
	b.Grow(n * 64)
	b.WriteString("renewal_id,user_id,email,amount,currency,renewed_at,plan\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "s-%d,cus_%d,user%d@example.com,9.99,USD,,pro\n", i, i, i)
	}
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

type soakResult struct {
	exit     exit
	stats    s2stest.Stats
	summary  map[string]any
	duration time.Duration
	// stopped: the run outlasted its budget and was stopped with SIGTERM;
	// accepted is how many rows it had delivered by then.
	stopped  bool
	accepted int
}

// soak runs n rows through faults: server RateLimit serverRate, client
// --rate clientRate (above it on purpose). A run that outlasts budget is
// stopped with SIGTERM, and what it did until then is checked the same way.
func soak(t *testing.T, n int, serverRate, clientRate float64, faults s2stest.Faults, budget time.Duration) soakResult {
	dir := t.TempDir()
	in := filepath.Join(dir, "soak.csv")
	soakInput(t, in, n)
	m := mappingFile(t, dir, e2eMapping)
	srv := s2stest.NewServer(s2stest.Config{Token: soakToken, Latency: time.Millisecond, Jitter: 3 * time.Millisecond,
		Faults: faults, RateLimit: serverRate, Seed: time.Now().UnixNano()})
	defer srv.Close()
	sum := filepath.Join(dir, "summary.json")
	c := startChild(t, []string{tokenEnv + "=" + soakToken}, "--quiet", "--concurrency", "16",
		"--rate", strconv.FormatFloat(clientRate, 'f', -1, 64), "--max-retries", "8", "--grace", "5s",
		"--endpoint", srv.URL(), "--mapping", m, "--summary", sum, in)
	res := soakResult{}
	select {
	case <-c.done:
	case <-time.After(budget):
		res.stopped = true
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
	e := c.wait()
	if res.stopped {
		require.Equal(t, exitInterrupted, e.code, c.stderr.String())
	} else {
		require.Equal(t, exitOK, e.code, c.stderr.String())
	}
	res.exit, res.stats, res.duration = e, srv.Stats(), e.duration
	b, err := os.ReadFile(sum)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &res.summary))

	// Every row accepted, once, in the report and at the mock.
	last := map[int]reportLine{}
	for _, l := range parseReportLines(t, filepath.Join(dir, "soak.report.csv"), 0) {
		_, dup := last[l.row]
		require.False(t, dup, "row %d reported twice", l.row)
		last[l.row] = l
	}
	st := res.stats
	// s2stest decides a drop (PDrop) before it accepts anything: a dropped
	// request was never accepted, so retrying it cannot duplicate. Latency
	// stays far below --timeout, so no answer is lost either: exactly once.
	assert.Empty(t, st.Duplicates(), "no row accepted twice")
	for row, l := range last {
		id := fmt.Sprintf("s-%d", row)
		if l.status == "accepted" {
			res.accepted++
			require.Equal(t, 1, st.DedupAccepted[id], "%s reported accepted", id)
		} else {
			require.True(t, res.stopped, "row %d: %s %s", row, l.status, l.reason)
			require.Equal(t, "not_sent", l.status, "row %d: %s", row, l.reason)
			require.Zero(t, st.DedupAccepted[id], "%s accepted by the mock but reported %s", id, l.status)
		}
	}
	assert.EqualValues(t, res.accepted, st.Accepted, "the report and the mock agree")
	if !res.stopped {
		require.Len(t, last, n)
		require.Len(t, st.DedupAccepted, n)
	}
	t.Logf("%d rows (stopped: %v, %d accepted) in %v (%.0f rows/s), requests %d, 429 %d, 5xx %d, dropped %d, client retries %v, peak RSS %.1f MB",
		n, res.stopped, res.accepted, e.duration.Round(time.Millisecond), float64(res.accepted)/e.duration.Seconds(), st.Requests, st.ByStatus[429],
		st.ByStatus[500]+st.ByStatus[502]+st.ByStatus[503]+st.ByStatus[504], st.Dropped, res.summary["retries"], float64(res.peakRSS())/1e6)
	return res
}

// peakRSS is the child's own peak RSS from its summary (VmHWM). Not
// rusage's Maxrss: Linux carries the parent's peak (this test binary,
// hundreds of MB under -race) into the child across exec.
func (r soakResult) peakRSS() int64 {
	v, _ := r.summary["peak_rss_bytes"].(float64)
	return int64(v)
}

var soakFaults = s2stest.Faults{P429: 0.05, P5xx: 0.03, PDrop: 0.01}

// soakNo429 is the same mix without the random 429s (the server's own rate
// limit still answers 429).
var soakNo429 = s2stest.Faults{P5xx: 0.03, PDrop: 0.01}

// TestSoakThrottledExactlyOnce: server rate below the client's, 5xx and
// dropped connections: every row delivered exactly once, exit 0.
// Not parallel: the client must outrun the server's limit for it to
// throttle, which a busy machine may not let it do.
func TestSoakThrottledExactlyOnce(t *testing.T) {
	n, server, client := 3000, 400.0, 600.0
	budget := 5 * time.Minute
	if longMode() {
		// Rates the race-instrumented binary can exceed (at 4000/6000 it
		// reached ~1,150 rows/s and the server never had to throttle).
		n, server, client, budget = 100_000, 600, 900, 8*time.Minute
	}
	res := soak(t, n, server, client, soakNo429, budget)
	assert.Positive(t, res.stats.ByStatus[429], "the server throttled")
	assert.Positive(t, res.stats.Dropped, "connections were dropped")
}

// TestSoakFaultsExactlyOnce is the full mix of the issue: 5% random 429s on
// top. Delivery must stay exactly once whatever the throughput.
func TestSoakFaultsExactlyOnce(t *testing.T) {
	t.Parallel() // its 429s are random ones: it asserts no rate
	n, server, client, budget := 3000, 400.0, 600.0, 8*time.Second
	if longMode() {
		n, server, client, budget = 100_000, 600, 900, 8*time.Minute
	}
	res := soak(t, n, server, client, soakFaults, budget)
	assert.Positive(t, res.stats.ByStatus[429], "the server throttled")
	// How fast is not asserted here (a timed test fails on a busy machine,
	// not on a bad pacer): TestPacerFindsTheServersLimit and
	// TestPacerIgnoresScattered429s check the pacer in virtual time, and the
	// bench command measures the rate at the mock.
	t.Logf("%d of %d rows in %v (%.0f rows/s at --rate %.0f, server %.0f/s)", res.accepted, n,
		res.duration.Round(time.Second), float64(res.accepted)/res.duration.Seconds(), client, server)
}

// TestSoakMemoryFlat compares the peak RSS of a 10k and a 100k run: the
// pipeline is bounded, so memory must not grow with the input.
func TestSoakMemoryFlat(t *testing.T) {
	if !longMode() {
		t.Skip("long: set AFIMPORT_LONG=1")
	}
	small := soak(t, 10_000, 4000, 6000, soakNo429, 5*time.Minute)
	big := soak(t, 100_000, 4000, 6000, soakNo429, 5*time.Minute)
	a, b := small.peakRSS(), big.peakRSS()
	require.Positive(t, a, "no peak_rss_bytes in the summary")
	t.Logf("peak RSS: 10k rows %.1f MB, 100k rows %.1f MB (x%.2f)", float64(a)/1e6, float64(b)/1e6, float64(b)/float64(a))
	assert.Less(t, float64(b), 1.2*float64(a), "peak RSS grows with the input")
}
