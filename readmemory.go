package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"afimport/readers"
)

// defaultMaxMemoryMB is --max-memory's default: half the 512 MiB limit of
// our Kubernetes examples, leaving room for the rest of the pod.
const defaultMaxMemoryMB = 256

// readBaseMB is afimport's own peak without the Parquet pages (the peak of
// a CSV dry run of the same rows, ~48 MB), and readPageFactor what the Go
// heap holds per byte of pages held at once (the pages plus the garbage
// between two collections): together, the estimated peak of a Parquet run.
const (
	readBaseMB     = 48
	readPageFactor = 1.5
)

func maxMemoryFlag() cli.Flag {
	return &cli.IntFlag{Name: "max-memory", Value: defaultMaxMemoryMB,
		Usage:   "memory budget in `MB`: warn when a Parquet file's layout needs more to read, and keep the Go heap under it (unless GOMEMLIMIT is set)",
		EnvVars: env("max-memory")}
}

// parquetMemoryWarnings estimates the read memory of each Parquet input
// (the columns the mapping reads) and returns a warning for each one whose
// estimated peak exceeds maxMB, naming the writer setting that fixes it.
// Files that are not Parquet, or whose footer cannot be read, are skipped:
// the run reports those itself.
func parquetMemoryWarnings(inputs, columns []string, ropts readers.Options, maxMB int) []string {
	var out []string
	for _, in := range inputs {
		if in == "-" || readers.FormatOf(in, ropts) != readers.FormatParquet {
			continue
		}
		est, err := readers.EstimateParquetMemory(in, columns)
		if err != nil {
			continue
		}
		peak := readBaseMB + readPageFactor*float64(est.Bytes)/1e6
		if peak <= float64(maxMB) {
			continue
		}
		out = append(out, fmt.Sprintf("%s needs about %.0f MB to read, over --max-memory %d MB: row group %d of %d (%d rows) holds %.0f MB of pages at once (largest: %s, %.1f MB); %s",
			in, peak, maxMB, est.RowGroup+1, est.RowGroups, est.Rows, float64(est.Bytes)/1e6, est.Column, float64(est.Page)/1e6, est.Advice()))
	}
	return out
}

// setMemoryLimit makes --max-memory the Go runtime's soft memory limit,
// less what is not Go heap (the mapped binary), unless GOMEMLIMIT is set:
// the collector then works harder near the budget instead of letting the
// heap grow past it and the pod be OOM-killed.
// The environment and the setter (debug.SetMemoryLimit) are p's, so that
// in-process tests record the limit instead of imposing it on the test
// binary.
func setMemoryLimit(maxMB int, p process) {
	if _, set := p.LookupEnv("GOMEMLIMIT"); set || maxMB <= 0 {
		return
	}
	const notHeapMB = 24
	p.SetMemoryLimit(int64(max(maxMB-notHeapMB, 16)) * 1e6)
}

// warnReadMemory is import's part before the first row: a warning for each
// Parquet input that needs more than --max-memory to read, and the Go
// memory limit.
func warnReadMemory(logger interface{ Warn(string, ...any) }, inputs, columns []string, ropts readers.Options, maxMB int, p process) {
	for _, w := range parquetMemoryWarnings(inputs, columns, ropts, maxMB) {
		logger.Warn(w)
	}
	setMemoryLimit(maxMB, p)
}
