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
// Over HTTP/1.1 every connection is guarded (guardConn): it frames each
// answer as net/http does and never hands net/http a byte past its end,
// because net/http pools a connection before it notices bytes a broken
// server sent after its answer (golang/go#31259), and the next request
// would read them as its own answer. Such bytes end the connection after
// the answer; a clean answer keeps it. HTTP/2 frames every answer and
// needs no guard.
package s2s
