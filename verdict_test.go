package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer"
	"afimport/importer/s2s"
	"afimport/importer/s2stest"
	"afimport/mappings"
	"afimport/reports"
)

// TestOneVerdictEverywhere feeds the samples through preview, explain, a
// dry run and a live run against the mock: each row gets the same verdict
// from all four (filtered rows included), and a valid row the
// byte-identical body.
func TestOneVerdictEverywhere(t *testing.T) {
	t.Parallel()
	t.Run("renewals", func(t *testing.T) {
		t.Parallel()
		oneVerdictEverywhere(t, "testdata/renewals.csv", "testdata/renewals.yaml", 15, previewNow)
	})
	t.Run("billing", func(t *testing.T) {
		t.Parallel()
		oneVerdictEverywhere(t, "testdata/billing.csv", "testdata/billing.yaml", 12, "2026-11-28T00:10:00Z")
	})
}

func oneVerdictEverywhere(t *testing.T, input, mappingPath string, rows int64, nowText string) {
	now, err := time.Parse(time.RFC3339, nowText)
	require.NoError(t, err)
	type view struct {
		status string
		body   string
	}
	compact := func(b []byte) string {
		var buf bytes.Buffer
		require.NoError(t, json.Compact(&buf, b))
		return buf.String()
	}

	// preview
	_, out, _ := runCLI(t, "preview", "--mapping", mappingPath, "--rows", "100", "--now", nowText, "--json", input)
	preview := map[int64]view{}
	for _, l := range decodeLines(t, out) {
		v := view{status: l.Status}
		if l.Status == "valid" {
			v.body = compact(l.Body)
		}
		preview[l.Row] = v
	}
	require.Len(t, preview, int(rows))

	// explain, row by row
	verdict := regexp.MustCompile(`(?m)^verdict: ([A-Z_]+)`)
	for row := range rows {
		row++
		_, out, _ := runCLI(t, "explain", "--mapping", mappingPath, "--row", strconv.FormatInt(row, 10), "--now", nowText, input)
		m := verdict.FindStringSubmatch(out)
		require.NotNil(t, m, "row %d: %s", row, out)
		assert.Equal(t, preview[row].status, strings.ToLower(m[1]), "row %d: explain and preview", row)
		if preview[row].status == "valid" {
			i := strings.Index(out, "\nbody:")
			require.GreaterOrEqual(t, i, 0, "row %d: explain shows the body", row)
			assert.Equal(t, preview[row].body, compact([]byte(out[i+len("\nbody:"):])), "row %d: explain's body", row)
		}
	}

	// dry run
	dir := t.TempDir()
	dryReport := filepath.Join(dir, "dry.csv")
	code, _, stderr := runCLI(t, "import", "--quiet", "--dry-run", "--mapping", mappingPath, "--now", nowText, "--report", dryReport, input)
	require.Equal(t, exitRowsFailed, code, stderr)
	for row, st := range reportStatuses(t, dryReport) {
		assert.Equal(t, preview[row].status, st, "row %d: dry run and preview", row)
	}

	// live, through the real client and the strict mock, at the same clock
	m, err := mappings.Load(mappingPath)
	require.NoError(t, err)
	srv := s2stest.NewServer(s2stest.Config{Token: "tok-verdict", KeepBodies: 100, AppTimezone: m.Timezone, Now: func() time.Time { return now }})
	defer srv.Close()
	client, err := s2s.NewClient(s2s.Options{Endpoint: srv.URL(), AppID: m.AppID, Kind: m.Endpoint, Token: "tok-verdict"})
	require.NoError(t, err)
	liveReport := filepath.Join(dir, "live.csv")
	w, err := reports.Create(liveReport, reports.Options{})
	require.NoError(t, err)
	_, err = importer.Run(context.Background(), importer.Options{Mapping: m, Inputs: []string{input}, Sender: client,
		Results: w, Clock: importer.FixedClock(now), AppTimezone: m.Timezone})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	sent := map[string]string{} // dedup id -> body as the mock received it
	for _, b := range srv.Stats().Bodies {
		var p struct {
			ID string `json:"customer_dedup_id"`
		}
		require.NoError(t, json.Unmarshal(b, &p))
		sent[p.ID] = string(b)
	}
	valid := 0
	for _, v := range preview {
		if v.status == "valid" {
			valid++
		}
	}
	require.GreaterOrEqual(t, valid, 5, "the sample has valid rows to compare")
	assert.Len(t, sent, valid, "the mock accepted exactly the rows preview calls valid")
	live := reportStatuses(t, liveReport)
	require.Len(t, live, int(rows))
	for row, st := range live {
		want := preview[row].status
		if want == "valid" {
			want = "accepted"
		}
		assert.Equal(t, want, st, "row %d: live run and preview", row)
	}
	for row, v := range preview {
		if v.status != "valid" {
			continue
		}
		var p struct {
			ID string `json:"customer_dedup_id"`
		}
		require.NoError(t, json.Unmarshal([]byte(v.body), &p))
		assert.Equal(t, v.body, sent[p.ID], "row %d: the body sent is the body previewed", row)
	}
}

// reportStatuses reads a CSV report: the last status of each row.
func reportStatuses(t *testing.T, path string) map[int64]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	out := map[int64]string{}
	for _, r := range recs[1:] {
		row, err := strconv.ParseInt(r[col["row"]], 10, 64)
		require.NoError(t, err)
		out[row] = r[col["status"]]
	}
	return out
}
