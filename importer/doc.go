// Package importer runs an import: it takes rows from readers, maps them
// with a mappings.Mapping, checks the acceptance window, and sends the
// payloads to the S2S API through a rate-limited worker pool with retries,
// then hands one Result per input row to a ResultWriter.
//
// Run works without the CLI. The S2S mock server lives in the s2stest
// sub-package, in the spirit of net/http/httptest; the acceptance window
// arithmetic in the window sub-package.
//
// This package knows nothing of file formats or report encodings.
package importer
