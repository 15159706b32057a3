package importer

import (
	"net/http"
)

// verdict is how the importer treats one attempt's response.
type verdict uint8

const (
	vAccepted  verdict = iota // 2xx
	vRejected                 // final for this row: 3xx (never followed), 400, 415, other 4xx
	vThrottled                // 429: the API says "too fast"; wait, never give up for it alone
	vRetry                    // 5xx, 408, no answer: retry, counted against MaxRetries
	vAbort                    // 401, 403: wrong for every row; stop the run
)

// classify sorts a response, in the manner of benthos' checkStatus. The
// table is the whole policy: change it here, nowhere else.
func classify(r Response) verdict {
	switch {
	case r.Status == 0:
		return vRetry // timeout, reset, refused, dropped connection
	case r.Status >= 200 && r.Status < 300:
		return vAccepted
	case r.Status == http.StatusUnauthorized, r.Status == http.StatusForbidden:
		return vAbort
	case r.Status == http.StatusTooManyRequests:
		return vThrottled
	case r.Status == http.StatusRequestTimeout, r.Status >= 500:
		return vRetry
	default:
		return vRejected
	}
}
