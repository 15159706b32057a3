// Package s2s sends one payload to AppsFlyer's S2S API and says what came
// back: the status, the API's message id or message, Retry-After, and, when
// no answer arrived, why, in words that do not change from one connection
// to the next ("connection refused", "timeout waiting for the answer").
//
// It speaks HTTP through Go's net/http only (HTTP/2 when the server offers
// it), never retries and never follows a redirect: a POST answered 3xx is
// reported as such, and the importer, which owns every retry decision,
// rejects it. It knows nothing of rows, reports or the acceptance window.
//
// One known limit, net/http's (golang/go#31259): over HTTP/1.1, a server
// that writes bytes after its answer (a body longer than its
// Content-Length, two answers to one request) can have those bytes read as
// the answer to the next request on that connection, when that request
// takes the connection in the instant between net/http returning it to the
// pool and noticing the leftover. net/http usually notices first and
// closes the connection ("Unsolicited response received on idle HTTP
// channel" on the standard logger); the adversarial tests in the importer
// measure about one row in a thousand such answers misreported. HTTP/2
// frames every answer and is immune.
package s2s
