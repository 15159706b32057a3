package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
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

// TestParquetReadMemoryWarning: check and import warn about a Parquet file
// whose layout needs more than --max-memory, naming the file and the fix,
// and stay quiet under the default budget.
func TestParquetReadMemoryWarning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := mappingFile(t, dir, `app_id: website-www.example.com
endpoint: event
timezone: UTC
fields:
  user_id.customer_user_id: { column: user_id }
  event_name:               { value: af_subscription_renewal }
  customer_dedup_id:        { column: renewal_id }
`)
	pq := "readers/testdata/parquet/renewals.parquet"
	const warn = "needs about 34 MB to read, over --max-memory 30 MB"

	code, stdout, stderr := runCLI(t, "check", "--mapping", m, "--max-memory", "30", pq)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "warning: "+pq+" "+warn)
	assert.Contains(t, stdout, "row group 2 of 3 (8 rows)")
	assert.Contains(t, stdout, "ROW_GROUP_SIZE")

	code, stdout, _ = runCLI(t, "check", "--mapping", m, pq)
	assert.Equal(t, exitOK, code)
	assert.NotContains(t, stdout, "needs about")

	report := filepath.Join(dir, "report.csv")
	var limit atomic.Int64
	env := cliEnv{MemoryLimit: &limit}
	code, _, stderr = env.run(t, "import", "--quiet", "--dry-run", "--max-memory", "30", "--mapping", m, "--report", report, pq)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, warn)
	assert.InDelta(t, 34e6, float64(limit.Load()), 1e6, "the file's need")

	code, _, stderr = env.run(t, "import", "--quiet", "--dry-run", "--overwrite", "--max-memory", "100", "--mapping", m, "--report", report, pq)
	assert.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, stderr, "needs about")
	assert.EqualValues(t, 100e6, limit.Load(), "--max-memory")

	// A file that needs more than the budget is read at its need, with the
	// warning, rather than with the collector running without end.
	big := filepath.Join(dir, "big.parquet")
	writeOnePageParquet(t, big, 100_000)
	code, _, stderr = env.run(t, "import", "--quiet", "--dry-run", "--overwrite", "--max-memory", "30", "--mapping", m, "--report", report, big)
	assert.Equal(t, exitRowsFailed, code, stderr) // the long user_id values are invalid; it is the memory that counts
	need := regexp.MustCompile(`needs about (\d+) MB to read, over --max-memory 30 MB`).FindStringSubmatch(stderr)
	require.NotNil(t, need, stderr)
	mb, err := strconv.Atoi(need[1])
	require.NoError(t, err)
	assert.Greater(t, mb, 45)
	assert.InDelta(t, float64(mb)*1e6, float64(limit.Load()), 1e6, "the file's need")

	limit.Store(0)
	withLimit := cliEnv{Env: map[string]string{"GOMEMLIMIT": "1GiB"}, MemoryLimit: &limit}
	code, _, stderr = withLimit.run(t, "import", "--quiet", "--dry-run", "--overwrite", "--max-memory", "300", "--mapping", m, "--report", report, pq)
	assert.Equal(t, exitOK, code, stderr)
	assert.Zero(t, limit.Load(), "GOMEMLIMIT wins")

	// --max-memory 0: no budget, so no warning and no limit, whatever
	// the file needs.
	limit.Store(-1)
	code, _, stderr = env.run(t, "import", "--quiet", "--dry-run", "--overwrite", "--max-memory", "0", "--mapping", m, "--report", report, big)
	assert.Equal(t, exitRowsFailed, code, stderr)
	assert.NotContains(t, stderr, "needs about")
	assert.EqualValues(t, -1, limit.Load(), "no budget, no limit")
}

// writeOnePageParquet writes n rows of user_id and renewal_id (~110 bytes
// each, distinct, without a dictionary) in one row group of one page per
// column.
func writeOnePageParquet(t *testing.T, path string, n int) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "renewal_id", Type: arrow.BinaryTypes.String},
		{Name: "user_id", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("rn-%08d-%0100x", i, i*2654435761))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("cus_%08x-%0100d", i*2654435761, i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	require.NoError(t, err)
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithDictionaryDefault(false), parquet.WithDataPageSize(1<<30), parquet.WithMaxRowGroupLength(int64(n)))
	w, err := pqarrow.NewFileWriter(schema, f, props, pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
}
