package reports

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"afimport/importer"
	"afimport/readers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./reports/ -update to create it")
	require.Equal(t, string(want), string(got))
}

// fixtureResults covers the encodings' hard cases: a reason with commas,
// quotes and a newline, no HTTP answer, a leading space, non-ASCII, a raw
// JSON body kept as message id, no row hash.
func fixtureResults() []*importer.Result {
	return []*importer.Result{
		{Pos: readers.Pos{File: "renewals.csv", Row: 1}, Status: importer.StatusAccepted, HTTPStatus: 202,
			Attempts: 1, LatencyMS: 87, DedupID: "r-1001", MessageID: "msg-1", RowHash: "0123456789abcdef"},
		{Pos: readers.Pos{File: "renewals.csv", Row: 2}, Status: importer.StatusInvalid,
			Reason: `column "email": not an address, got "a,b"` + "\nsecond line", RowHash: "fedcba9876543210"},
		{Pos: readers.Pos{File: "renewals.csv", Row: 3}, Status: importer.StatusRejected, Reason: "400: bad event_name",
			HTTPStatus: 400, Attempts: 1, LatencyMS: 120, DedupID: " lead-space", MessageID: `{"error":"bad","n":1}`, RowHash: "00000000000000ff"},
		{Pos: readers.Pos{File: "dir, with comma/é.ndjson", Row: 10}, Status: importer.StatusFailed,
			Reason: "retries ran out: 503\tService Unavailable", HTTPStatus: 503, Attempts: 5, LatencyMS: 30012, DedupID: "d"},
		{Pos: readers.Pos{File: "renewals.csv", Row: 4}, Status: importer.StatusNotSent, Reason: "run aborted: 401",
			RowHash: "ffffffffffffffff"},
	}
}

func writeAll(t *testing.T, path string, opts Options, rs []*importer.Result) {
	t.Helper()
	w, err := Create(path, opts)
	require.NoError(t, err)
	for _, r := range rs {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close())
}

func res(file string, row int64, st importer.Status, hash string) *importer.Result {
	return &importer.Result{Pos: readers.Pos{File: file, Row: row}, Status: st, RowHash: hash, Attempts: 1}
}

// Ids for hand-written report lines.
const (
	idA  = "a1a1a1a1a1a1a1a1"
	idB  = "b2b2b2b2b2b2b2b2"
	mapA = "0a0a0a0a0a0a0a0a"
)

// nameID is a file id that depends on the name only, not on where the
// test runs: for golden files.
func nameID(name string) string { return FileID("/golden/" + name) }
