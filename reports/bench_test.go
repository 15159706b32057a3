package reports

import (
	"path/filepath"
	"testing"

	"afimport/importer"
	"afimport/readers"
)

func benchWriter(b *testing.B, name string) {
	w, err := Create(filepath.Join(b.TempDir(), name), Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := &importer.Result{Pos: readers.Pos{File: "exports/renewals-2026-11-27.csv.gz"}, Status: importer.StatusAccepted,
		Reason: "", HTTPStatus: 202, Attempts: 1, LatencyMS: 87, DedupID: "renewal-000123456",
		MessageID: "3f2b1c9e-8d7a-4c55-9e0f-1a2b3c4d5e6f", RowHash: "0123456789abcdef"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Pos.Row = int64(i + 1)
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkWriterCSV(b *testing.B)    { benchWriter(b, "r.csv") }
func BenchmarkWriterNDJSON(b *testing.B) { benchWriter(b, "r.ndjson") }

func BenchmarkReadCheckpointCSV(b *testing.B) {
	path := filepath.Join(b.TempDir(), "r.csv")
	w, err := Create(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := &importer.Result{Pos: readers.Pos{File: "renewals.csv"}, Status: importer.StatusAccepted, HTTPStatus: 202,
		Attempts: 1, LatencyMS: 87, DedupID: "renewal-000123456", MessageID: "msg", RowHash: "0123456789abcdef"}
	const n = 100_000
	for i := int64(1); i <= n; i++ {
		r.Pos.Row = i
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ReadCheckpoint(path); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "lines/s")
}
