package reports

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"afimport/importer"
)

// DefaultPath is where a run's report goes when it is not named: next to
// the first input. renewals.csv.gz -> renewals.report.csv; a folder
// exports/day/ -> exports/day.report.csv; a glob -> afimport.report.csv in
// its folder; a dry run's is renewals.dry-run.report.csv, shard 1 of 4's
// renewals.shard-1-of-4.report.csv.
func DefaultPath(first string, dry bool, shard importer.Shard) string {
	suffix := ".report.csv"
	if dry {
		suffix = ".dry-run.report.csv"
	}
	if shard.Count > 1 {
		// Each shard keeps its own report: hosts may share a filesystem.
		suffix = fmt.Sprintf(".shard-%d-of-%d%s", shard.Index, shard.Count, suffix)
	}
	if strings.ContainsAny(first, "*?[") {
		return filepath.Join(filepath.Dir(first), "afimport"+suffix)
	}
	if fi, err := os.Stat(first); err == nil && fi.IsDir() {
		return filepath.Clean(first) + suffix
	}
	base := first
	for _, ext := range []string{".gz", ".zst", ".zstd"} {
		base = strings.TrimSuffix(base, ext)
	}
	for _, ext := range []string{".csv", ".tsv", ".ndjson", ".jsonl", ".parquet", ".pq"} {
		if strings.HasSuffix(strings.ToLower(base), ext) {
			base = base[:len(base)-len(ext)]
			break
		}
	}
	return base + suffix
}
