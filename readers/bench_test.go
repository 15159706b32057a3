package readers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
)

// textBenchRows is the size of the generated renewals export.
const textBenchRows = 20000

var textBenchColumns = []string{
	"renewal_id", "user_id", "email", "phone", "country", "plan", "amount", "currency",
	"renewed_at", "status", "channel", "coupon", "first_name", "last_name", "notes",
}

var textBenchData = sync.OnceValues(func() (csvData, ndjsonData []byte) {
	var c, n bytes.Buffer
	cw := csv.NewWriter(&c)
	cw.Write(textBenchColumns)
	plans := []string{"monthly", "annual", "pro-annual"}
	for i := 0; i < textBenchRows; i++ {
		rec := []string{
			fmt.Sprintf("rn_%010d", i), fmt.Sprintf("u%08d", i*7), fmt.Sprintf("user.%d@example.com", i),
			fmt.Sprintf("+1 (650) 555-%04d", i%10000), "US", plans[i%3], fmt.Sprintf("%d.99", 5+i%50), "USD",
			fmt.Sprintf("2026-11-26T%02d:%02d:%02dZ", i%24, i%60, i%60), "renewed", "web", "",
			"Ann", "O'Neil", "",
		}
		if i%10 == 0 {
			rec[14] = `said "thanks", renewed early`
		}
		cw.Write(rec)
		m := make(map[string]any, len(rec))
		for j, col := range textBenchColumns {
			m[col] = rec[j]
		}
		m["amount"] = json.Number(rec[6])
		line, _ := json.Marshal(m)
		n.Write(line)
		n.WriteByte('\n')
	}
	cw.Flush()
	return c.Bytes(), n.Bytes()
})

// textBenchReport adds rows/s and allocs/row, the figures the import's
// 250k rows/s budget is about.
func textBenchReport(b *testing.B, rows int, mallocs uint64) {
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(mallocs)/float64(rows), "allocs/row")
}

func textRunBench(b *testing.B, data []byte, read func() int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rows := 0
	b.ResetTimer()
	for b.Loop() {
		rows += read()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	textBenchReport(b, rows, after.Mallocs-before.Mallocs)
}

// BenchmarkCSVRead reads a 15-column renewals export with this package and,
// for comparison, with encoding/csv producing a fresh record per row.
func BenchmarkCSVRead(b *testing.B) {
	data, _ := textBenchData()
	b.Run("readers", func(b *testing.B) {
		textRunBench(b, data, func() int {
			r, err := textOpenBytes(b, "bench.csv", FormatCSV, data, Options{})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				row, err := r.Next()
				if err == io.EOF {
					return n
				}
				if err != nil || row.Err != nil {
					b.Fatal(err, row.Err)
				}
				n++
			}
		})
	})
	b.Run("encoding_csv", func(b *testing.B) {
		textRunBench(b, data, func() int {
			cr := csv.NewReader(bytes.NewReader(data))
			if _, err := cr.Read(); err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				_, err := cr.Read()
				if err == io.EOF {
					return n
				}
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
		})
	})
}

// BenchmarkNDJSONRead reads the same export as NDJSON, projecting every key.
func BenchmarkNDJSONRead(b *testing.B) {
	_, data := textBenchData()
	for _, bc := range []struct {
		name string
		cols []string
	}{{"all_columns", nil}, {"5_columns", []string{"email", "phone", "amount", "renewed_at", "renewal_id"}}} {
		b.Run(bc.name, func(b *testing.B) {
			textRunBench(b, data, func() int {
				r, err := textOpenBytes(b, "bench.ndjson", FormatNDJSON, data, Options{Columns: bc.cols})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					row, err := r.Next()
					if err == io.EOF {
						return n
					}
					if err != nil || row.Err != nil {
						b.Fatal(err, row.Err)
					}
					n++
				}
			})
		})
	}
}
