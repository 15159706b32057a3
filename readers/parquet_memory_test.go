package readers

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunkTotals is the sum over the projected columns of one row group of
// the footer's compressed and uncompressed chunk sizes.
func chunkTotals(t *testing.T, path string, rg int, columns []string) int64 {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer pf.Close()
	leaves, err := projectedLeaves(pf.MetaData().Schema, columns)
	require.NoError(t, err)
	var sum int64
	for _, leaf := range leaves {
		cc, err := pf.MetaData().RowGroup(rg).ColumnChunk(leaf)
		require.NoError(t, err)
		sum += cc.TotalCompressedSize() + cc.TotalUncompressedSize()
	}
	return sum
}

func TestEstimateParquetMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.parquet")
	writeBenchFile(t, path, 5000, 4000) // row groups of 4,000 and 1,000 rows, one page per chunk

	all, err := EstimateParquetMemory(path, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, all.RowGroup, "the larger row group")
	assert.EqualValues(t, 4000, all.Rows)
	assert.Equal(t, 2, all.RowGroups)
	assert.Contains(t, all.CreatedBy, "parquet-go")
	// One page per chunk here: the estimate is the chunks less their page headers.
	totals := chunkTotals(t, path, 0, nil)
	assert.LessOrEqual(t, all.Bytes, totals)
	assert.Greater(t, all.Bytes, totals*9/10)

	one, err := EstimateParquetMemory(path, []string{"email"})
	require.NoError(t, err)
	assert.Equal(t, "email", one.Column)
	assert.Less(t, one.Bytes, all.Bytes, "only the projected columns count")
	assert.Greater(t, one.Bytes, chunkTotals(t, path, 0, []string{"email"})*9/10)

	t.Run("not a parquet file", func(t *testing.T) {
		_, err := EstimateParquetMemory(renewalsCSV, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), renewalsCSV)
	})
	t.Run("truncated", func(t *testing.T) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		_, err = estimateParquetMemory("cut.parquet", bytes.NewReader(data[:len(data)/2]), int64(len(data)/2), nil)
		require.Error(t, err)
	})
	t.Run("corrupt page headers fall back to the footer", func(t *testing.T) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		for i := 4; i < 64; i++ {
			data[i] = 0xff
		}
		m, err := estimateParquetMemory("bad.parquet", bytes.NewReader(data), int64(len(data)), nil)
		require.NoError(t, err)
		assert.Positive(t, m.Bytes)
	})
}

func TestParquetMemoryAdvice(t *testing.T) {
	assert.Contains(t, ParquetMemory{CreatedBy: "DuckDB version v1.5.6 (build 123)"}.Advice(), "ROW_GROUP_SIZE")
	assert.Contains(t, ParquetMemory{CreatedBy: "parquet-mr version 1.13.1"}.Advice(), "parquet.page.size")
	assert.Contains(t, ParquetMemory{CreatedBy: "parquet-cpp-arrow version 17.0.0"}.Advice(), "data_page_size")
}

// TestParquetPageOverHardBound: a page larger than the bound is an error
// naming the file and the column, not an allocation of its size.
func TestParquetPageOverHardBound(t *testing.T) {
	data, err := os.ReadFile(renewalsParquet)
	require.NoError(t, err)
	lim := defaultParquetLimits
	lim.maxUncompressedPage = 64 // smaller than any page of the fixture
	mem := newCapped()
	r, err := newParquetReaderFrom("small-bound.parquet", bytes.NewReader(data), int64(len(data)), Options{}, mem, lim)
	if err == nil {
		_, err = r.Next()
		require.NoError(t, r.Close())
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "small-bound.parquet")
	assert.True(t, strings.Contains(err.Error(), "exceeds") || strings.Contains(err.Error(), "limit"), "%v", err)
	assert.Zero(t, mem.exceeded)
}
