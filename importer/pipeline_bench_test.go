package importer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"afimport/importer"
	"afimport/importer/s2s"
	"afimport/importer/s2stest"
	"afimport/internal/benchdata"
	"afimport/mappings"
	"afimport/reports"
)

const benchRows = 20000

// writeBenchCSV writes a renewals export whose timestamps are inside the
// acceptance window at now.
func writeBenchCSV(b *testing.B, now time.Time) string {
	b.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(benchdata.Columns)
	ts := now.Add(-time.Minute).UTC().Format(time.RFC3339)
	for i := range benchRows {
		coupon := ""
		if i%4 == 0 {
			coupon = "SUMMER10"
		}
		w.Write([]string{fmt.Sprintf("rn-%d", i), fmt.Sprintf("cus_%08x", i*7919), fmt.Sprintf(" Ana.Garcia+%d@Example.COM", i),
			"(650) 555-1212", "US", "Élodie", "García", "pro-monthly", fmt.Sprintf("%d.99", 5+i%50), "USD", ts,
			fmt.Sprintf("35.244.%d.%d", i%256, 1+i%250), "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/124.0",
			"https://www.example.com/plans/pro-monthly?utm_source=crm", coupon})
	}
	w.Flush()
	path := filepath.Join(b.TempDir(), "renewals.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkPipeline runs importer.Run over a 20k-row renewals CSV into a
// CSV report: dry, and live against the mock. One op is one row. Set
// AFIMPORT_BENCH_ENDPOINT to a mock started apart (afimport mock) to keep
// the server's CPU out of a -cpuprofile.
func BenchmarkPipeline(b *testing.B) {
	m, err := mappings.Parse([]byte(benchdata.Mapping(false)), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	input := writeBenchCSV(b, now)
	for _, mode := range []string{"dry", "live"} {
		b.Run(mode, func(b *testing.B) {
			var sender importer.Sender
			if mode == "live" {
				endpoint := os.Getenv("AFIMPORT_BENCH_ENDPOINT")
				if endpoint == "" {
					srv := s2stest.NewServer(s2stest.Config{})
					defer srv.Close()
					endpoint = srv.URL()
				}
				c, err := s2s.NewClient(s2s.Options{Endpoint: endpoint, AppID: m.AppID, Token: "t", MaxInFlight: 64})
				if err != nil {
					b.Fatal(err)
				}
				defer c.CloseIdleConnections()
				sender = c
			}
			report := filepath.Join(b.TempDir(), "report.csv")
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cpu0 := benchdata.ProcessCPU()
			rows := 0
			for rows < b.N || rows == 0 {
				w, err := reports.Create(report, reports.Options{})
				if err != nil {
					b.Fatal(err)
				}
				sum, err := importer.Run(context.Background(), importer.Options{
					Mapping: m, Inputs: []string{input}, Sender: sender, Results: w, DryRun: mode == "dry",
					MaxInFlight: 64, AppTimezone: time.UTC,
				})
				if err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				ok := sum.Counts[importer.StatusAccepted] + sum.Counts[importer.StatusValid]
				if ok != benchRows {
					b.Fatalf("%d of %d rows accepted or valid: %v %v", ok, benchRows, sum.Counts, sum.Reasons)
				}
				rows += benchRows
			}
			b.StopTimer()
			cpu := benchdata.ProcessCPU() - cpu0
			runtime.ReadMemStats(&after)
			// One op is one row, whatever b.N asked for.
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			// The machine is shared: CPU per row says more than wall time.
			b.ReportMetric(float64(cpu.Microseconds())/float64(rows), "cpu-µs/row")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows), "allocs/row")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(rows), "B/row")
		})
	}
}

// BenchmarkSend is the send stage alone: one payload POSTed by 64
// goroutines to the in-process mock through the s2s client (net/http,
// HTTP/1.1 over plain http). The mock's CPU is in the same process.
func BenchmarkSend(b *testing.B) {
	srv := s2stest.NewServer(s2stest.Config{Token: "t"})
	defer srv.Close()
	body := []byte(`{"user_id":{"customer_user_id":"cus_1"},"event_name":"af_subscription_renewal","event_revenue":9.99,"event_revenue_currency":"USD","customer_dedup_id":"rn-1"}`)
	c, err := s2s.NewClient(s2s.Options{Endpoint: srv.URL(), AppID: "website-www.example.com",
		Kind: mappings.EndpointEvent, Token: "t", MaxInFlight: 64})
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseIdleConnections()
	b.ReportAllocs()
	b.SetParallelism(32) // 64 goroutines on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := c.Send(context.Background(), "", body); r.Status != 202 {
				b.Errorf("status %d: %v %s", r.Status, r.Err, r.Message)
				return
			}
		}
	})
}
