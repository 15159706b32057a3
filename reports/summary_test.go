package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer"
	"afimport/readers"
)

func fixtureSummary() *importer.Summary {
	start := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	return &importer.Summary{
		Started:  start,
		Finished: start.Add(2*time.Minute + 3500*time.Millisecond),
		Rows:     1234,
		Counts: map[importer.Status]int64{importer.StatusAccepted: 1200, importer.StatusInvalid: 20,
			importer.StatusLate: 14, importer.StatusFailed: 0},
		Retries: 40,
		Seen429: 3,
		Reasons: []importer.ReasonCount{{Reason: `column "email": not an address`, Count: 12},
			{Reason: "late: past 00:30\nnext day\x1b[31m", Count: 8}},
		AppTimezone: "America/New_York",
		// 2026-11-28 00:30 in New York (EST, -05:00).
		EarliestDeadline: time.Date(2026, 11, 28, 5, 30, 0, 0, time.UTC),
		Now:              time.Date(2026, 11, 28, 2, 18, 0, 0, time.UTC),
		FailedFiles:      []importer.FileError{{File: "broken.csv.gz", Err: "gzip: invalid header"}},
		Aborted:          "401: token rejected",
		Interrupted:      true,
		StoppedReading:   &readers.Pos{File: "renewals.csv", Row: 1234},
		MissingInputs:    []importer.FileError{{File: "exports/2026-12-05/", Err: "no such file or directory"}},
		MaxInvalid:       mustBudget("5%"),
		Warnings:         []string{"20 rows rejected for one rule: email"},
	}
}

func mustBudget(s string) importer.Budget {
	b, err := importer.ParseBudget(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestWriteSummaryTextGolden(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteSummaryText(&b, fixtureSummary()))
	golden(t, "summary.txt.golden", b.Bytes())
	assert.Contains(t, b.String(), "the next rows expire at 2026-11-28 00:30 America/New_York, in 3h12m\n")
	assert.NotContains(t, b.String(), "\x1b", "no terminal escapes from free text")
}

func TestWriteSummaryTextMinimal(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteSummaryText(&b, &importer.Summary{DryRun: true}))
	assert.Equal(t, "dry run: 0 rows in 0s, 0.0 rows/s\nretries 0, 429s seen 0\n", b.String())
}

func TestDeadlineLine(t *testing.T) {
	now := time.Date(2026, 11, 28, 2, 18, 0, 0, time.UTC)
	tests := []struct {
		name     string
		tz       string
		deadline time.Time
		now      time.Time
		want     string
	}{
		{"none", "America/New_York", time.Time{}, now, ""},
		{"hours", "America/New_York", now.Add(3*time.Hour + 12*time.Minute + 59*time.Second), now,
			"the next rows expire at 2026-11-28 00:30 America/New_York, in 3h12m"},
		{"minutes", "Asia/Kathmandu", now.Add(45 * time.Minute), now,
			"the next rows expire at 2026-11-28 08:48 Asia/Kathmandu, in 45m"},
		{"seconds", "UTC", now.Add(30 * time.Second), now, "the next rows expire at 2026-11-28 02:18 UTC, in under a minute"},
		{"past", "UTC", now.Add(-90 * time.Minute), now, "the next rows expired at 2026-11-28 00:48 UTC, 1h30m ago"},
		{"unknown zone falls back to UTC", "Mars/Olympus", now, now, "the next rows expire at 2026-11-28 02:18 UTC, in under a minute"},
		{"no clock", "UTC", now, time.Time{}, "the next rows expire at 2026-11-28 02:18 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &importer.Summary{AppTimezone: tt.tz, EarliestDeadline: tt.deadline, Now: tt.now}
			assert.Equal(t, tt.want, deadlineLine(s))
		})
	}
}

func TestWriteSummaryJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "summary.json")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, WriteSummaryJSON(path, fixtureSummary()))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	golden(t, "summary.json.golden", data)

	var got map[string]any
	require.NoError(t, json.Unmarshal(data, &got))
	assert.Equal(t, 1234.0, got["rows"])
	assert.InDelta(t, 123.5, got["elapsed_seconds"], 1e-9)
	assert.InDelta(t, 1234/123.5, got["rows_per_second"], 1e-9)
	counts := got["counts"].(map[string]any)
	assert.Equal(t, 1200.0, counts["accepted"])
	assert.Equal(t, 0.0, counts["not_sent"], "every status has a key")
	assert.Equal(t, "2026-11-28T00:30:00-05:00", got["earliest_deadline"])

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestWriteSummaryJSONEmptyListsAreArrays(t *testing.T) {
	b, err := MarshalSummaryJSON(&importer.Summary{})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"reasons": []`)
	assert.Contains(t, string(b), `"warnings": []`)
	assert.NotContains(t, string(b), "earliest_deadline")
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.prom")
	require.NoError(t, WriteFileAtomic(path, []byte("a 1\n"), 0o600))
	require.NoError(t, WriteFileAtomic(path, []byte("a 2\n"), 0o600))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "a 2\n", string(data))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// A failed write leaves the old file and no temporary behind.
	err = WriteFileAtomic(filepath.Join(dir, "missing-dir", "x"), []byte("x"), 0o644)
	require.Error(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}
