package reports

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer"
)

func TestDefaultPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	day := filepath.Join(dir, "exports", "2026-11-27")
	require.NoError(t, os.MkdirAll(day, 0o755))
	tests := []struct {
		first string
		dry   bool
		shard importer.Shard
		want  string
	}{
		{"renewals.csv", false, importer.Shard{}, "renewals.report.csv"},
		{"exports/renewals.csv.gz", false, importer.Shard{}, "exports/renewals.report.csv"},
		{"renewals.ndjson.zst", false, importer.Shard{}, "renewals.report.csv"},
		{"Renewals.PARQUET", false, importer.Shard{}, "Renewals.report.csv"},
		{"renewals.txt", false, importer.Shard{}, "renewals.txt.report.csv"},
		{"renewals.csv", true, importer.Shard{}, "renewals.dry-run.report.csv"},
		{"renewals.csv", false, importer.Shard{Index: 1, Count: 4}, "renewals.shard-1-of-4.report.csv"},
		{"renewals.csv", true, importer.Shard{Index: 0, Count: 2}, "renewals.shard-0-of-2.dry-run.report.csv"},
		{"exports/*.csv", false, importer.Shard{}, "exports/afimport.report.csv"},
		{day + string(filepath.Separator), false, importer.Shard{}, day + ".report.csv"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, DefaultPath(tt.first, tt.dry, tt.shard), "%s dry=%v shard=%v", tt.first, tt.dry, tt.shard)
	}
}
