package readers

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParquetDictionaryFallback: a writer whose dictionary fills up writes
// dictionary-encoded pages, then PLAIN pages. The reader reopens such a
// chunk at its first PLAIN page without the dictionary; every value must be
// the one written, in order, with and without an offset index (the two ways
// the new page reader finds the page), in both data page versions.
// fallbackSchema has the columns of dictFallbackParquet.
var fallbackSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.BinaryTypes.String},                   // distinct: falls back
	{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true}, // distinct, with nulls
	{Name: "amount", Type: arrow.PrimitiveTypes.Int64},             // distinct: falls back
	{Name: "plan", Type: arrow.BinaryTypes.String},                 // 3 values: dictionary throughout
}, nil)

var fallbackPlans = []string{"monthly", "annual", "family"}

// dictFallbackParquet writes n rows of fallbackSchema whose distinct columns
// outgrow a small dictionary: dictionary-encoded pages, then PLAIN ones, in
// row groups of rowGroup rows.
func dictFallbackParquet(tb testing.TB, w io.Writer, n, rowGroup int, version parquet.DataPageVersion, index bool) {
	tb.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, fallbackSchema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("id-%06d", i))
		if i%7 == 3 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("note %d", i*31))
		}
		b.Field(2).(*array.Int64Builder).Append(int64(i) * 1_000_003)
		b.Field(3).(*array.StringBuilder).Append(fallbackPlans[i%3])
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithDictionaryDefault(true),
		parquet.WithDictionaryPageSizeLimit(int64(min(8<<10, n*4))),
		parquet.WithDataPageSize(int64(min(4<<10, n*2))),
		parquet.WithDataPageVersion(version),
		parquet.WithPageIndexEnabled(index),
		parquet.WithBatchSize(64),
		parquet.WithMaxRowGroupLength(int64(rowGroup)))
	pw, err := pqarrow.NewFileWriter(fallbackSchema, w, props, pqarrow.DefaultWriterProps())
	require.NoError(tb, err)
	require.NoError(tb, pw.Write(rec))
	require.NoError(tb, pw.Close())
}

// TestParquetDictionaryFallback: a writer whose dictionary fills up writes
// dictionary-encoded pages, then PLAIN pages. The reader reopens such a
// chunk at its first PLAIN page without the dictionary; every value must be
// the one written, in order, with and without an offset index (the two ways
// the new page reader finds the page), in both data page versions.
func TestParquetDictionaryFallback(t *testing.T) {
	const n = 20_000
	for _, tc := range []struct {
		name    string
		version parquet.DataPageVersion
		index   bool
	}{
		{"v1", parquet.DataPageV1, false},
		{"v1 offset index", parquet.DataPageV1, true},
		{"v2", parquet.DataPageV2, false},
		{"v2 offset index", parquet.DataPageV2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "fallback.parquet")
			f, err := os.Create(path)
			require.NoError(t, err)
			dictFallbackParquet(t, f, n, 12_000, tc.version, tc.index)

			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			rd, err := newParquetReader(path, Options{}, mem)
			require.NoError(t, err)
			rows, err := textReadAll(t, rd)
			require.ErrorIs(t, err, io.EOF)
			require.Len(t, rows, n)
			for k, row := range rows {
				require.NoError(t, row.Err)
				require.Equal(t, int64(k+1), row.Pos.Row)
				require.Equal(t, String(fmt.Sprintf("id-%06d", k)), row.Values[0], "row %d", k+1)
				if k%7 == 3 {
					require.Equal(t, Null(), row.Values[1], "row %d", k+1)
				} else {
					require.Equal(t, String(fmt.Sprintf("note %d", k*31)), row.Values[1], "row %d", k+1)
				}
				require.Equal(t, Number(fmt.Sprint(int64(k)*1_000_003)), row.Values[2], "row %d", k+1)
				require.Equal(t, String(fallbackPlans[k%3]), row.Values[3], "row %d", k+1)
			}
			// id, note and amount fall back in each of the two row groups.
			assert.Equal(t, 6, rd.(*parquetReader).reopens)
			require.NoError(t, rd.Close())
			assert.Zero(t, mem.CurrentAlloc(), "buffers left after Close")
		})
	}
}

// TestParquetDictionaryFallbackFuzzSeed: the fuzz seeds of the reopen path
// (FuzzParquetReader) do reopen chunks, and fit the fuzz limits.
func TestParquetDictionaryFallbackFuzzSeed(t *testing.T) {
	for _, index := range []bool{false, true} {
		var buf bytes.Buffer
		dictFallbackParquet(t, &buf, 400, 300, parquet.DataPageV1, index)
		require.LessOrEqual(t, buf.Len(), parquetFuzzMaxInput)
		r, err := newParquetReaderFrom("seed.parquet", bytes.NewReader(buf.Bytes()), int64(buf.Len()), Options{}, memory.DefaultAllocator, parquetFuzzLimits)
		require.NoError(t, err)
		rows, err := textReadAll(t, r)
		require.ErrorIs(t, err, io.EOF)
		for _, row := range rows {
			require.NoError(t, row.Err)
		}
		assert.Len(t, rows, 400)
		assert.Positive(t, r.(*parquetReader).reopens, "offset index %v", index)
		require.NoError(t, r.Close())
	}
}
