// Package readers turns export files into a stream of rows.
//
// It owns file formats (CSV, NDJSON, Parquet), decompression (gzip, zstd),
// standard input, and the expansion of folders and globs into files. Every
// row carries its position (file and 1-based data row) so that later stages
// can name it in errors and in the report.
//
// Readers stream: memory is bounded by one row (CSV, NDJSON) or, for
// Parquet, one page of each projected column plus its dictionary while the
// column's pages use it, whatever the file or row-group size. EstimateParquetMemory tells from a file's
// footer and page headers how much that is.
//
// CSVRecords offers the CSV scanner under the CSV reader to CSV files that
// are not exports (the report read back on --resume), with each record's
// byte offsets.
//
// This package knows nothing of mappings, the S2S API or reports.
package readers
