package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"afimport/internal/benchdata"
)

// Parquet layouts the bench can write, with arrow-go's writer, zstd:
//
//   - arrow: the layout of pyarrow, arrow-rs and Spark: ~1 MiB data pages, here in
//     one row group (WithDataPageSize(1 MiB), WithMaxRowGroupLength(rows));
//   - duckdb: DuckDB's COPY … (FORMAT PARQUET) defaults: row groups of 122,880
//     rows with one data page per column per row group;
//   - duckdb1: DuckDB with ROW_GROUP_SIZE at least the row count: one row group,
//     one page per column (each page is the whole column).
var parquetLayouts = map[string]struct {
	pageSize int64
	rowGroup func(rows int) int64
}{
	"arrow":   {1 << 20, func(rows int) int64 { return int64(max(rows, 1)) }},
	"duckdb":  {1 << 30, func(int) int64 { return 122880 }},
	"duckdb1": {1 << 30, func(rows int) int64 { return int64(max(rows, 1)) }},
}

// writeParquet writes the n rows of genRow as Parquet in the given layout:
// strings, amount as DECIMAL(18,2) (INT64, as DuckDB stores it), renewed_at
// as a UTC-adjusted TIMESTAMP(MICROS), coupon NULL when empty.
func writeParquet(path, layout string, n int, now time.Time, rnd *rand.Rand, spread time.Duration) error {
	lay, ok := parquetLayouts[layout]
	if !ok {
		return fmt.Errorf("-layout %q: want arrow, duckdb or duckdb1", layout)
	}
	fields := make([]arrow.Field, len(benchdata.Columns))
	for i, col := range benchdata.Columns {
		var t arrow.DataType = arrow.BinaryTypes.String
		switch col {
		case "amount":
			t = &arrow.Decimal128Type{Precision: 18, Scale: 2}
		case "renewed_at":
			t = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
		}
		fields[i] = arrow.Field{Name: col, Type: t, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithDataPageSize(lay.pageSize),
		parquet.WithMaxRowGroupLength(lay.rowGroup(n)),
		parquet.WithStoreDecimalAsInteger(true),
	)
	w, err := pqarrow.NewFileWriter(schema, f, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	const batch = 8192
	for i := 0; i < n; {
		for ; i < n && b.Field(0).Len() < batch; i++ {
			rec := genRow(i, now, rnd, spread)
			for j, col := range benchdata.Columns {
				switch col {
				case "amount":
					whole, frac, _ := strings.Cut(rec[j], ".")
					cents, err := strconv.ParseInt(whole+frac, 10, 64)
					if err != nil {
						return err
					}
					b.Field(j).(*array.Decimal128Builder).Append(decimal128.FromI64(cents))
				case "renewed_at":
					t, err := time.Parse(time.RFC3339, rec[j])
					if err != nil {
						return err
					}
					b.Field(j).(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
				default:
					if col == "coupon" && rec[j] == "" {
						b.Field(j).AppendNull()
						continue
					}
					b.Field(j).(*array.StringBuilder).Append(rec[j])
				}
			}
		}
		r := b.NewRecordBatch()
		err := w.WriteBuffered(r)
		r.Release()
		if err != nil {
			return err
		}
	}
	return w.Close()
}
