package importer

import (
	"net/http"
)

// verdict is how the importer treats one attempt's response.
type verdict uint8

const (
	vAccepted verdict = iota // 2xx
	vRejected                // final for this row: 400, 415, other 4xx
	vRetry                   // 429, 5xx, 408, no answer
	vAbort                   // 401, 403: wrong for every row; stop the run
)

// classify sorts a response, in the manner of benthos' checkStatus. The
// table is the whole policy: change it here, nowhere else.
func classify(r Response) verdict {
	if r.Status == 0 {
		return vRetry // timeout, reset, refused, dropped connection
	}
	switch {
	case r.Status >= 200 && r.Status < 300:
		return vAccepted
	case r.Status == http.StatusUnauthorized, r.Status == http.StatusForbidden:
		return vAbort
	case r.Status == http.StatusTooManyRequests, r.Status == http.StatusRequestTimeout,
		r.Status >= 500:
		return vRetry
	default:
		return vRejected
	}
}
