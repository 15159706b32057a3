// Package importer runs an import: it takes rows from readers, decides
// each one (Judge.Decide: the mapping, the acceptance window, a resumed
// report; the one decision import, dry runs, preview, explain and check
// share), sends the payloads to the S2S API open-loop at a shared rate with
// retries, a 429-following pacer and an outage breaker, forecasts the
// deadlines from the rate it measures, and hands one Result per input row
// to a ResultWriter.
//
// Run (or Prepare, then Prepared.Run) works without the CLI. The HTTP client
// is the s2s sub-package (net/http only); the S2S mock server lives in the
// s2stest sub-package, in the spirit of net/http/httptest; the acceptance
// window arithmetic in the window sub-package.
//
// This package knows nothing of file formats or report encodings.
package importer
