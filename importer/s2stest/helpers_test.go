package s2stest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testToken  = "s3cr3t-T0KEN-do-not-echo"
	wrongToken = "WRONG-t0ken-never-echo"
	testApp    = "website-www.example.com"
)

// reply is what a client saw.
type reply struct {
	status int
	header http.Header
	body   string
	err    error
}

// newClient returns a client with its own transport, so connections dropped
// by one test don't leak into another.
func newClient(t testing.TB, timeout time.Duration) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: timeout}
}

// do sends body to url with the headers given as key, value pairs; by default
// a valid bearer token and Content-Type.
func do(t testing.TB, c *http.Client, method, url, body string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// body builds a JSON object for ep ("event" or "visit"): the endpoint's
// minimal valid fields, overridden or extended by key, raw-JSON-value pairs
// (a value of "-" removes the key).
func body(ep string, kv ...string) string {
	keys := []string{"user_id"}
	vals := map[string]string{"user_id": `{"customer_user_id":"15667737-366d-4994-ac8b-653fe6b2be4a"}`}
	if ep == "event" {
		keys = append(keys, "event_name")
		vals["event_name"] = `"af_purchase"`
	} else {
		keys = append(keys, "event_url")
		vals["event_url"] = `"https://example.com/products/sneakers"`
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if _, ok := vals[kv[i]]; !ok {
			keys = append(keys, kv[i])
		}
		vals[kv[i]] = kv[i+1]
	}
	var sb strings.Builder
	sb.WriteByte('{')
	first := true
	for _, k := range keys {
		if vals[k] == "-" {
			continue
		}
		if !first {
			sb.WriteByte(',')
		}
		first = false
		sb.WriteString(`"` + k + `":` + vals[k])
	}
	sb.WriteByte('}')
	return sb.String()
}

func q(s string) string { return `"` + s + `"` }

// assertNoSecret checks that neither token appears in an answer.
func assertNoSecret(t *testing.T, r reply) {
	t.Helper()
	for _, tok := range []string{testToken, wrongToken} {
		require.NotContains(t, r.body, tok)
		for k, vs := range r.header {
			for _, v := range vs {
				require.NotContains(t, v, tok, "header %s", k)
			}
		}
	}
}
