package main

import (
	"context"
	"fmt"
	"math"

	"github.com/urfave/cli/v2"

	"afimport/readers"
)

// defaultMaxMemoryMB is --max-memory's default: what a dry run of an
// ordinary export needs (a CSV, or a Parquet file of ~1 MB pages, peaks under
// it), an eighth of the 512 MiB limit of our Kubernetes examples. A file
// whose layout needs more gets a warning, and the soft memory limit is
// raised to its need so that the collector does not thrash.
const defaultMaxMemoryMB = 64

// The estimated peak of reading a Parquet file: readBaseMB (the mapped
// binary plus afimport's own live heap, ~8 MB, with the collector's
// headroom) plus readPageFactor per byte of pages held at once (the pages
// plus the headroom a soft memory limit at that peak leaves the collector).
// Calibrated on the bench's renewals exports (issue 16): ~1 MB pages need
// ~55 MB, DuckDB's defaults ~80 MB.
const (
	readBaseMB     = 34
	readPageFactor = 1.2
)

func maxMemoryFlag() cli.Flag {
	return &cli.IntFlag{Name: "max-memory", Value: defaultMaxMemoryMB,
		Usage:   "memory budget in `MB`: warn when a Parquet file's layout needs more to read, and hold the process near it through the Go soft memory limit, raised only when the run's working set needs more (unless GOMEMLIMIT is set; 0: no limit)",
		EnvVars: env("max-memory")}
}

// parquetMemoryWarnings estimates the read memory of each Parquet input
// (the columns the mapping reads) and returns a warning for each one whose
// estimated peak exceeds maxMB, naming the writer setting that fixes it,
// and the largest estimated peak in MB (0 without Parquet inputs).
// Files that are not Parquet, or whose footer cannot be read, are skipped:
// the run reports those itself.
func parquetMemoryWarnings(inputs, columns []string, ropts readers.Options, maxMB int) (warnings []string, needMB int) {
	for _, in := range inputs {
		if in == "-" || readers.FormatOf(in, ropts) != readers.FormatParquet {
			continue
		}
		est, err := readers.EstimateParquetMemory(in, columns)
		if err != nil {
			continue
		}
		peak := readBaseMB + readPageFactor*float64(est.Bytes)/1e6
		needMB = max(needMB, int(math.Ceil(peak)))
		if maxMB <= 0 || peak <= float64(maxMB) {
			continue // no budget, or within it
		}
		warnings = append(warnings, fmt.Sprintf("%s needs about %.0f MB to read, over --max-memory %d MB: row group %d of %d (%d rows) holds %.0f MB of pages at once (largest: %s, %.1f MB); %s",
			in, peak, maxMB, est.RowGroup+1, est.RowGroups, est.Rows, float64(est.Bytes)/1e6, est.Column, float64(est.Page)/1e6, est.Advice()))
	}
	return warnings, needMB
}

// setMemoryLimit keeps the Go runtime's soft memory limit at a budget of
// maxMB, less what the process holds outside the runtime (the mapped
// binary), until ctx ends, unless GOMEMLIMIT is set: the collector then
// works harder near the budget instead of letting the heap grow to twice
// its live size and the pod be OOM-killed. When the run's working set needs
// more than the budget (a thousand requests in flight), the limit follows
// it with some headroom rather than let the collector run without end
// (internal/memlimit).
func setMemoryLimit(ctx context.Context, maxMB int, p process) {
	if _, set := p.LookupEnv("GOMEMLIMIT"); set || maxMB <= 0 {
		return
	}
	p.GovernMemory(ctx, int64(maxMB)*1e6)
}

// warnReadMemory is import's part before the first row: a warning for each
// Parquet input that needs more than --max-memory to read, and the Go
// memory limit: the budget, or the largest input's need when that is more
// (a file that needs more is read at its need, with the warning, rather
// than at a collector running without end).
func warnReadMemory(ctx context.Context, logger interface{ Warn(string, ...any) }, inputs, columns []string, ropts readers.Options, maxMB int, p process) {
	warnings, needMB := parquetMemoryWarnings(inputs, columns, ropts, maxMB)
	for _, w := range warnings {
		logger.Warn(w)
	}
	if maxMB > 0 {
		setMemoryLimit(ctx, max(maxMB, needMB), p)
	}
}
