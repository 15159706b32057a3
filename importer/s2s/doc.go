// Package s2s sends one payload to AppsFlyer's S2S API and says what came
// back: the status, the API's message id or message, Retry-After, and, when
// no answer arrived, why, in words that do not change from one connection
// to the next ("connection refused", "timeout waiting for the answer").
//
// It speaks HTTP through Go's net/http only (HTTP/2 when the server offers
// it), never retries and never follows a redirect: a POST answered 3xx is
// reported as such, and the importer, which owns every retry decision,
// rejects it. It knows nothing of rows, reports or the acceptance window.
package s2s
