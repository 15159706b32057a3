// Package reports writes what a run did and reads it back.
//
// It owns the per-row report encodings (CSV and NDJSON, one line per input
// row, chosen by file extension), their durability (buffered, flushed to the
// operating system at least every second, fsynced on Sync and Close), the
// checkpoint that --resume reads back from a report (last line per file and
// row wins, a torn last line is tolerated), and the rendering of a run's
// Summary as text for people and as JSON for machines, written atomically,
// and the Prometheus textfile of a run's metrics (WriteMetrics), which keeps
// the last success time of an earlier run that did not succeed.
//
// It only writes what importer.Result holds: the importer guarantees a
// Result carries no raw PII, and this package adds none.
//
// It also owns where a report goes when the run does not name it
// (DefaultPath, next to the first input) and what happens to an existing
// report (Open): one writer at a
// time (an exclusive lock), rows identified by file id and row number
// whatever the input's spelling, and a resume refused when the report was
// written under another mapping (the mapping_id column).
//
// It reads a CSV report back with the readers' CSV scanner
// (readers.CSVRecords), the one that reads CSV exports: one CSV parser in
// the project. Otherwise this package knows nothing of HTTP, the S2S API or
// file readers, and of mappings only their fingerprint; importer must never
// import it (data flows readers → mappings → importer → reports).
package reports
