package readers

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// writeBenchFile writes n renewals-like rows (8 columns) in row groups of
// rowGroupRows, building the records in slices of 64k rows so the generator
// itself stays small.
func writeBenchFile(tb testing.TB, path string, n, rowGroupRows int) {
	tb.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "renewal_id", Type: arrow.BinaryTypes.String},
		{Name: "user_id", Type: arrow.BinaryTypes.String},
		{Name: "email", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "country", Type: arrow.BinaryTypes.String},
		{Name: "plan", Type: arrow.BinaryTypes.String},
		{Name: "amount", Type: &arrow.Decimal128Type{Precision: 18, Scale: 2}},
		{Name: "currency", Type: arrow.BinaryTypes.String},
		{Name: "renewed_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	countries := []string{"US", "GB", "DE", "IN", "BR"}
	plans := []string{"monthly", "annual", "family"}
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	var recs []arrow.RecordBatch
	for i := 0; i < n; i++ {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("ren-%09d", i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("user-%07d", i%3_000_000))
		if i%10 == 0 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("user%d@example.com", i))
		}
		b.Field(3).(*array.StringBuilder).Append(countries[i%5])
		b.Field(4).(*array.StringBuilder).Append(plans[i%3])
		b.Field(5).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(999 + i%10000)))
		b.Field(6).(*array.StringBuilder).Append("USD")
		b.Field(7).(*array.TimestampBuilder).Append(arrow.Timestamp(base + int64(i)*1_000_000))
		if (i+1)%65536 == 0 || i == n-1 {
			recs = append(recs, b.NewRecordBatch())
		}
	}
	tbl := array.NewTableFromRecords(schema, recs)
	for _, r := range recs {
		r.Release()
	}
	defer tbl.Release()
	rdr := array.NewTableReader(tbl, int64(rowGroupRows))
	defer rdr.Release()
	// One record per row group: concatenating keeps writeParquet's simple
	// contract (one record in, row groups cut by length).
	var all []arrow.RecordBatch
	for rdr.Next() {
		r := rdr.RecordBatch()
		r.Retain()
		all = append(all, r)
	}
	merged := mergeRecords(tb, schema, all)
	defer merged.Release()
	writeParquet(tb, path, merged, int64(rowGroupRows))
}

func mergeRecords(tb testing.TB, schema *arrow.Schema, recs []arrow.RecordBatch) arrow.RecordBatch {
	tb.Helper()
	cols := make([]arrow.Array, schema.NumFields())
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	for c := range cols {
		parts := make([]arrow.Array, len(recs))
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		var err error
		cols[c], err = array.Concatenate(parts, memory.DefaultAllocator)
		require.NoError(tb, err)
	}
	for _, r := range recs {
		r.Release()
	}
	rec := array.NewRecordBatch(schema, cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

const benchRows = 1_000_000

// BenchmarkParquetRead reads every row and column. It reports rows/s and the
// peak HeapInuse seen while reading (sampled every 16k rows), which must not
// grow with the number of row groups.
//
//	go test ./readers -run '^$' -bench ParquetRead -benchtime=1x -benchmem
func BenchmarkParquetRead(b *testing.B) {
	// The parent runs once, so its TempDir holds both files for every
	// sub-benchmark and the generation is not timed.
	dir := b.TempDir()
	for _, rg := range []int{1, 9} {
		writeBenchFile(b, filepath.Join(dir, fmt.Sprintf("rg%d.parquet", rg)), benchRows, (benchRows+rg-1)/rg)
	}
	for _, rg := range []int{1, 9} {
		b.Run(fmt.Sprintf("rowgroups=%d", rg), func(b *testing.B) {
			path := filepath.Join(dir, fmt.Sprintf("rg%d.parquet", rg))
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			baseline := ms.HeapInuse
			var peak uint64
			b.ResetTimer()
			start := time.Now()
			rows := 0
			for i := 0; i < b.N; i++ {
				r, err := openParquet(path, Options{})
				require.NoError(b, err)
				for {
					row, err := r.Next()
					if err == io.EOF {
						break
					}
					require.NoError(b, err)
					rows++
					if row.Pos.Row%16384 == 0 {
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse)
					}
				}
				require.NoError(b, r.Close())
			}
			b.StopTimer()
			b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
			b.ReportMetric(float64(peak-min(peak, baseline))/(1<<20), "peak-heap-MiB")
		})
	}
}
