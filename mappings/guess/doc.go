// Package guess writes a starter mapping from a sample of rows, for
// `afimport init SAMPLE`.
//
// It looks at every column's name and sample values, guesses the S2S target
// each column feeds, and writes a commented YAML mapping that
// mappings.Parse accepts as is. Every guess carries a trailing comment
// saying why, in counts only; what cannot be guessed is left as a TODO
// whose placeholder still loads but obviously needs editing.
//
// Sample values are personal data: they are read, never written. The output
// holds column names, target names, counts and fixed text only.
//
// This package reads rows already decoded by readers and knows the mapping
// language; it does no I/O and knows nothing of HTTP, the importer or
// reports.
package guess
