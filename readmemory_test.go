package main

import (
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
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
	const warn = "needs about 48 MB to read, over --max-memory 40 MB"

	code, stdout, stderr := runCLI(t, "check", "--mapping", m, "--max-memory", "40", pq)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "warning: "+pq+" "+warn)
	assert.Contains(t, stdout, "row group 2 of 3 (8 rows)")
	assert.Contains(t, stdout, "ROW_GROUP_SIZE")

	code, stdout, _ = runCLI(t, "check", "--mapping", m, pq)
	assert.Equal(t, exitOK, code)
	assert.NotContains(t, stdout, "needs about")

	report := filepath.Join(dir, "report.csv")
	var limit atomic.Int64
	code, _, stderr = cliEnv{MemoryLimit: &limit}.run(t, "import", "--quiet", "--dry-run", "--max-memory", "40", "--mapping", m, "--report", report, pq)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, warn)
	assert.EqualValues(t, 16e6, limit.Load(), "--max-memory less 24 MB, at least 16 MB")

	limit.Store(0)
	withLimit := cliEnv{Env: map[string]string{"GOMEMLIMIT": "1GiB"}, MemoryLimit: &limit}
	code, _, stderr = withLimit.run(t, "import", "--quiet", "--dry-run", "--overwrite", "--max-memory", "300", "--mapping", m, "--report", report, pq)
	assert.Equal(t, exitOK, code, stderr)
	assert.Zero(t, limit.Load(), "GOMEMLIMIT wins")
}
