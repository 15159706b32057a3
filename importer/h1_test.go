package importer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/mappings"
)

// next is a second answer queued behind each case's answer: reading it
// after a kept connection proves the first body was consumed exactly.
const next = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok"

func TestReadH1Answer(t *testing.T) {
	long := strings.Repeat("x", maxAnswer+100)
	tests := []struct {
		name       string
		raw        string
		status     int
		body       string
		keep       bool
		retryAfter string
		err        string // substring; "" for none
	}{
		{name: "content-length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", status: 200, body: "hello", keep: true},
		{name: "no reason phrase", raw: "HTTP/1.1 202\r\nContent-Length: 0\r\n\r\n", status: 202, keep: true},
		{name: "bare LF lines", raw: "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", status: 200, body: "hi", keep: true},
		{name: "header names any case", raw: "HTTP/1.1 429 Too Many\r\ncontent-LENGTH: 2\r\nRETRY-after:  7 \r\n\r\nno", status: 429, body: "no", keep: true, retryAfter: "7"},
		{name: "connection close", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi", status: 200, body: "hi"},
		{name: "connection list with close", raw: "HTTP/1.1 200 OK\r\nConnection: upgrade, Close\r\nContent-Length: 0\r\n\r\n", status: 200},
		{name: "HTTP/1.0 closes by default", raw: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", status: 200, body: "hi"},
		{name: "HTTP/1.0 keep-alive", raw: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", status: 200, body: "hi", keep: true},
		{name: "chunked with extension and trailer", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\nX-T: 1\r\n\r\n", status: 200, body: "hello", keep: true},
		{name: "HTTP/1.0 has no transfer codings", raw: "HTTP/1.0 200 \nTransfer-Encoding: chunked\n\n0\n\n", status: 200, body: "0\n\n"},
		{name: "chunked beside content-length is not reused", raw: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", status: 200, body: "hi"},
		{name: "interim answers skipped", raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 1\r\n\r\nx", status: 202, body: "x", keep: true},
		{name: "204 has no body", raw: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, keep: true},
		{name: "close-delimited body", raw: "HTTP/1.1 200 OK\r\n\r\nuntil the end", status: 200, body: "until the end"},
		{name: "long body cut, rest drained", raw: "HTTP/1.1 500 Oops\r\nContent-Length: " + itoa(len(long)) + "\r\n\r\n" + long, status: 500, body: long[:maxAnswer], keep: true},
		{name: "long chunked body cut, rest drained", raw: "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n" + hex(len(long)) + "\r\n" + long + "\r\n0\r\n\r\n", status: 500, body: long[:maxAnswer], keep: true},

		{name: "empty", raw: "", err: "connection closed before an answer"},
		{name: "not HTTP", raw: "SSH-2.0-OpenSSH\r\n\r\n", err: "status line"},
		{name: "HTTP/2 status line", raw: "HTTP/2 200 OK\r\n\r\n", err: "status line"},
		{name: "bad status code", raw: "HTTP/1.1 2x0 OK\r\n\r\n", err: "status code"},
		{name: "status below 100", raw: "HTTP/1.1 099 Huh\r\n\r\n", err: "status code"},
		{name: "header without colon", raw: "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", err: "header line"},
		{name: "folded header", raw: "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", err: "header line"},
		{name: "conflicting lengths", raw: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy", err: "Content-Length"},
		{name: "signed length", raw: "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx", err: "Content-Length"},
		{name: "unknown transfer coding", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", err: "Transfer-Encoding"},
		{name: "bad chunk size", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", err: "chunk size"},
		{name: "chunk without CRLF", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiX\r\n0\r\n\r\n", err: "CRLF"},
		{name: "truncated body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", err: "unexpected EOF"},
		{name: "truncated headers", raw: "HTTP/1.1 200 OK\r\nContent-Len", err: "unexpected EOF"},
		{name: "header longer than the buffer skipped", raw: "HTTP/1.1 403 No\r\nContent-Security-Policy: " + strings.Repeat("a", 9000) + "\r\nContent-Length: 2\r\n\r\nno", status: 403, body: "no", keep: true},
		{name: "status line too long", raw: "HTTP/1.1 200 " + strings.Repeat("a", 5000) + "\r\n\r\n", err: "line too long"},
		{name: "long header cut off", raw: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 5000), err: "unexpected EOF"},
		{name: "long header past the headers limit", raw: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxHeaderBytes+10) + "\r\n\r\n", err: "headers too long"},
		{name: "too many headers", raw: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("a", 1000)+"\r\n", 70) + "\r\n", err: "headers too long"},
		{name: "endless interim answers", raw: strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 20), err: "interim"},
		{name: "body over the drain limit", raw: "HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", err: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.raw
			if tt.keep {
				raw += next
			}
			br := bufio.NewReaderSize(strings.NewReader(raw), 4096)
			ans, keep, err := readH1Answer(br, nil)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.False(t, keep)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.status, ans.status)
			assert.Equal(t, tt.body, string(ans.body))
			assert.Equal(t, tt.keep, keep, "keep-alive")
			assert.Equal(t, tt.retryAfter, ans.retryAfter)
			assert.Equal(t, tt.retryAfter != "", ans.hasRetry)
			if keep {
				ans, _, err := readH1Answer(br, nil)
				require.NoError(t, err, "the next answer on the connection")
				assert.Equal(t, 202, ans.status)
				assert.Equal(t, "ok", string(ans.body))
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
func hex(n int) string  { return strconv.FormatInt(int64(n), 16) }

// FuzzReadH1Answer feeds arbitrary bytes as an answer. It must not panic or
// read without bound, and when both it and net/http's http.ReadResponse
// accept an answer, they must agree on its status and body.
func FuzzReadH1Answer(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.0 429 Slow\r\nRetry-After: 3\r\n\r\nbody",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 No\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 400 Bad\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ans, keep, err := readH1Answer(bufio.NewReaderSize(bytes.NewReader(raw), 4096), nil)
		if err != nil {
			if keep {
				t.Fatal("kept a connection after an error")
			}
			return
		}
		if ans.status < 200 || ans.status > 999 {
			t.Fatalf("final status %d", ans.status)
		}
		if len(ans.body) > maxAnswer {
			t.Fatalf("body of %d bytes kept", len(ans.body))
		}
		std, serr := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		if serr != nil || std.StatusCode < 200 {
			return // net/http is stricter here, or returns the interim answer itself
		}
		body, berr := io.ReadAll(io.LimitReader(std.Body, maxAnswer))
		if berr != nil {
			return
		}
		if std.StatusCode != ans.status {
			t.Fatalf("status %d, net/http %d", ans.status, std.StatusCode)
		}
		if !bytes.Equal(body, ans.body) {
			t.Fatalf("body %q, net/http %q", ans.body, body)
		}
	})
}

// recorder is an S2S stand-in that records what arrives and counts
// connections.
type recorder struct {
	mu      sync.Mutex
	bodies  []string
	headers []http.Header
	protos  []string
	conns   atomic.Int64
}

func (rec *recorder) handler(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.bodies = append(rec.bodies, string(b))
		rec.headers = append(rec.headers, r.Header.Clone())
		rec.protos = append(rec.protos, r.Proto)
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"status":"ok","messageId":"m-1"}`)
	}
}

func (rec *recorder) connState(_ net.Conn, s http.ConnState) {
	if s == http.StateNew {
		rec.conns.Add(1)
	}
}

func newTestClient(t *testing.T, url string, mod func(*ClientOptions)) *Client {
	t.Helper()
	o := ClientOptions{Endpoint: url, AppID: "website-www.example.com", Kind: mappings.EndpointEvent,
		Token: "s3cret-token", Timeout: 2 * time.Second, Concurrency: 8, UserAgent: "afimport/test"}
	if mod != nil {
		mod(&o)
	}
	c, err := NewClient(o)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// TestH1SendsWhatNetHTTPWould checks, from the server's side, the request
// the fast path writes, and that connections are reused.
func TestH1SendsWhatNetHTTPWould(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewUnstartedServer(rec.handler(202))
	srv.Config.ConnState = rec.connState
	srv.Start()
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	require.NotNil(t, c.h1, "plain http to loopback takes the fast path")

	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				body := []byte(`{"event_name":"n` + itoa(w*100+i) + `"}`)
				resp := c.Send(context.Background(), body)
				assert.NoError(t, resp.Err)
				assert.Equal(t, 202, resp.Status)
				assert.Equal(t, "m-1", resp.MessageID)
			}
		}()
	}
	wg.Wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.bodies, 400)
	assert.LessOrEqual(t, rec.conns.Load(), int64(8), "connections are kept alive and reused")
	seen := map[string]bool{}
	for i, h := range rec.headers {
		assert.Equal(t, "Bearer s3cret-token", h.Get("Authorization"))
		assert.Equal(t, "application/json", h.Get("Content-Type"))
		assert.Equal(t, "afimport/test", h.Get("User-Agent"))
		assert.Equal(t, "HTTP/1.1", rec.protos[i])
		seen[rec.bodies[i]] = true
	}
	assert.Len(t, seen, 400, "every body arrived intact")
}

func TestH1TLSAndHTTP2(t *testing.T) {
	for _, tt := range []struct {
		name      string
		offerH2   bool
		http      string
		wantProto string
		fast      bool
	}{
		{"HTTP/1.1 server: fast path over TLS", false, "auto", "HTTP/1.1", true},
		{"HTTP/2 offered: net/http speaks HTTP/2", true, "auto", "HTTP/2.0", false},
		{"HTTP/2 offered, --http 1.1: fast path", true, "1.1", "HTTP/1.1", true},
		{"--http 2: net/http", true, "2", "HTTP/2.0", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			srv := httptest.NewUnstartedServer(rec.handler(200))
			srv.EnableHTTP2 = tt.offerH2
			srv.StartTLS()
			defer srv.Close()
			c := newTestClient(t, srv.URL, func(o *ClientOptions) {
				o.HTTP = tt.http
				o.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
			})
			for range 3 {
				resp := c.Send(context.Background(), []byte(`{}`))
				require.NoError(t, resp.Err)
				require.Equal(t, 200, resp.Status)
			}
			assert.Equal(t, []string{tt.wantProto, tt.wantProto, tt.wantProto}, rec.protos)
			assert.Equal(t, tt.fast, c.h1 != nil && !c.h1.offersH2(), "fast path in use")
		})
	}
}

func TestH1RefusesAnUntrustedCertificate(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil) // system roots: the test CA is unknown
	resp := c.Send(context.Background(), []byte(`{}`))
	require.Error(t, resp.Err)
	assert.Contains(t, resp.Err.Error(), "certificate")
	assert.Zero(t, resp.Status)
}

func TestH1TimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newTestClient(t, srv.URL, func(o *ClientOptions) { o.Timeout = 200 * time.Millisecond })

	start := time.Now()
	resp := c.Send(context.Background(), []byte(`{}`))
	require.Error(t, resp.Err)
	assert.Contains(t, resp.Err.Error(), "no answer before the deadline")
	assert.Less(t, time.Since(start), 2*time.Second)

	c = newTestClient(t, srv.URL, func(o *ClientOptions) { o.Timeout = time.Minute })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	resp = c.Send(ctx, []byte(`{}`))
	require.Error(t, resp.Err)
	assert.True(t, errors.Is(resp.Err, context.Canceled), "%v", resp.Err)
	assert.Less(t, time.Since(start), 5*time.Second)
}

// TestH1ServerClosingConnections: a server that closes after every answer,
// or drops idle connections, costs new connections, never a failed row.
func TestH1ServerClosingConnections(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewUnstartedServer(rec.handler(202))
	srv.Config.ConnState = rec.connState
	srv.Config.SetKeepAlivesEnabled(false)
	srv.Start()
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	for range 20 {
		resp := c.Send(context.Background(), []byte(`{}`))
		require.NoError(t, resp.Err)
		require.Equal(t, 202, resp.Status)
	}
	assert.Equal(t, int64(20), rec.conns.Load())
	assert.Empty(t, c.h1.idle, "closed connections are not pooled")

	// A pooled connection that sat idle past the limit is not reused.
	srv2 := httptest.NewUnstartedServer(rec.handler(202))
	rec2 := &recorder{}
	srv2.Config.ConnState = rec2.connState
	srv2.Start()
	defer srv2.Close()
	c2 := newTestClient(t, srv2.URL, nil)
	c2.h1.idleLimit = 50 * time.Millisecond
	require.Equal(t, 202, c2.Send(context.Background(), []byte(`{}`)).Status)
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, 202, c2.Send(context.Background(), []byte(`{}`)).Status)
	assert.Equal(t, int64(2), rec2.conns.Load())
}

func TestH1FollowsARedirectThroughNetHTTP(t *testing.T) {
	rec := &recorder{}
	mux := http.NewServeMux()
	mux.HandleFunc("/moved", rec.handler(202))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/moved", http.StatusPermanentRedirect)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	resp := c.Send(context.Background(), []byte(`{"a":1}`))
	require.NoError(t, resp.Err)
	assert.Equal(t, 202, resp.Status)
	assert.Equal(t, []string{`{"a":1}`}, rec.bodies)
}

func TestNewClientRefusesHeaderInjection(t *testing.T) {
	_, err := NewClient(ClientOptions{Endpoint: "http://127.0.0.1:1", AppID: "a", Token: "zq9\r\nX-Evil: 1"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "zq9")
	_, err = NewClient(ClientOptions{Endpoint: "http://127.0.0.1:1", AppID: "a", Token: "t", HTTP: "3"})
	require.Error(t, err)
}

// TestH1ConnectionDroppedMidAnswer: an answer cut off is an error (the
// importer retries it), and the connection is not reused.
func TestH1ConnectionDroppedMidAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				_, _ = io.WriteString(conn, "HTTP/1.1 202 Accepted\r\nContent-Length: 50\r\n\r\n{\"sta")
			}()
		}
	}()
	c := newTestClient(t, "http://"+ln.Addr().String(), nil)
	resp := c.Send(context.Background(), []byte(`{}`))
	// The status arrived: 2xx counts as accepted even though the body was
	// cut, as with net/http.
	assert.Equal(t, 202, resp.Status)
	assert.Empty(t, c.h1.idle)
}

// TestH1ServerClosedIdleConnection: a server's idle timeout closes pooled
// connections; the next request must not be sent on one (that would fail
// the row's attempt), which the peek before reuse prevents. The control
// case, without the peek, shows the failure it prevents.
func TestH1ServerClosedIdleConnection(t *testing.T) {
	for _, peek := range []bool{true, false} {
		t.Run(map[bool]string{true: "peek", false: "no peek"}[peek], func(t *testing.T) {
			rec := &recorder{}
			srv := httptest.NewUnstartedServer(rec.handler(202))
			srv.Config.ConnState = rec.connState
			srv.Config.IdleTimeout = 100 * time.Millisecond
			srv.Start()
			defer srv.Close()
			c := newTestClient(t, srv.URL, nil)
			c.h1.idleCheck = 10 * time.Millisecond
			if !peek {
				c.h1.idleCheck = c.h1.idleLimit
			}
			require.Equal(t, 202, c.Send(context.Background(), []byte(`{}`)).Status)
			time.Sleep(400 * time.Millisecond) // the server closes the idle connection
			resp := c.Send(context.Background(), []byte(`{}`))
			if peek {
				require.NoError(t, resp.Err)
				assert.Equal(t, 202, resp.Status)
				assert.Equal(t, int64(2), rec.conns.Load())
			} else {
				require.Error(t, resp.Err, "sent on the connection the server had closed")
			}
		})
	}
}
