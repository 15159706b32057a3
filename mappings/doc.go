// Package mappings loads a YAML mapping and turns rows into S2S payloads.
//
// Load checks the whole mapping once and reports every mistake with its
// YAML line and column. Apply then maps one row: constants, templates, type
// coercion, timestamp parsing, PII normalization and SHA-256 hashing, the
// customer_dedup_id, and validation of every field against the S2S API
// specification. Raw PII never leaves this package: errors name the field,
// the column and the rule, never the value.
//
// RunTests runs the fixtures a mapping carries under tests:, and Explain
// traces one row field by field (with personal data masked) through the
// same per-field step Apply uses.
//
// This package does no I/O beyond reading the mapping file, and knows
// nothing of HTTP, the acceptance window or reports.
package mappings
