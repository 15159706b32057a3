package s2s

import (
	"context"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/mappings"
)

// transportReason sends once to endpoint and returns the response and its
// normalized reason, failing the test when an HTTP answer came instead.
func transportReason(t *testing.T, o Options) (Response, string) {
	t.Helper()
	o.AppID, o.Kind, o.Token = "app", mappings.EndpointEvent, "s3cret-token"
	c, err := NewClient(o)
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	resp := c.Send(context.Background(), "", []byte(`{}`))
	require.Zero(t, resp.Status, "no HTTP answer expected")
	var te *TransportError
	require.ErrorAs(t, resp.Err, &te)
	assert.NotContains(t, te.Reason, "s3cret-token")
	return resp, te.Reason
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestTransportReasons(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		addr := closedPort(t)
		resp, reason := transportReason(t, Options{Endpoint: "http://" + addr})
		assert.Equal(t, "connection refused", reason)
		_, port, _ := net.SplitHostPort(addr)
		assert.NotContains(t, reason, port, "no port: reasons must add up across connections")
		assert.False(t, resp.Reached, "a refused connection cannot have reached the API")
		assert.ErrorIs(t, resp.Err, syscall.ECONNREFUSED, "the net/http error stays reachable through Unwrap")
	})
	t.Run("timeout waiting for the answer", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client leave
			select {                           // never answers; the client gives up first
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}))
		defer srv.Close()
		resp, reason := transportReason(t, Options{Endpoint: srv.URL, Timeout: 100 * time.Millisecond})
		assert.Equal(t, "timeout waiting for the answer", reason)
		assert.True(t, resp.Reached, "the request was written: the API may have seen it")
	})
	t.Run("TLS unknown authority", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
		}))
		defer srv.Close()
		resp, reason := transportReason(t, Options{Endpoint: srv.URL, RootCAs: x509.NewCertPool()})
		assert.Equal(t, "TLS: certificate signed by an unknown authority", reason)
		assert.False(t, resp.Reached)
	})
	t.Run("DNS", func(t *testing.T) {
		// .invalid never resolves (RFC 6761); the lookup fails locally or
		// at the configured resolver, whichever answers.
		resp, reason := transportReason(t, Options{Endpoint: "https://afimport-test.invalid", ConnectTimeout: 5 * time.Second})
		assert.True(t, strings.HasPrefix(reason, "DNS"), reason)
		assert.False(t, resp.Reached)
	})
}

func TestTLSWithPrivateRoot(t *testing.T) {
	for _, proto := range []string{"auto", "1.1"} {
		t.Run(proto, func(t *testing.T) {
			var got string
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Proto
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte(`{"messageId":"m1"}`))
			}))
			srv.EnableHTTP2 = true
			srv.StartTLS()
			defer srv.Close()
			roots := x509.NewCertPool()
			roots.AddCert(srv.Certificate())
			c, err := NewClient(Options{Endpoint: srv.URL, AppID: "app", Token: "t", RootCAs: roots, HTTP: proto})
			require.NoError(t, err)
			defer c.CloseIdleConnections()
			resp := c.Send(context.Background(), "", []byte(`{}`))
			require.NoError(t, resp.Err)
			assert.Equal(t, 200, resp.Status)
			assert.Equal(t, "m1", resp.MessageID)
			want := map[string]string{"auto": "HTTP/2.0", "1.1": "HTTP/1.1"}[proto]
			assert.Equal(t, want, got, "HTTP/2 through ALPN unless 1.1 is asked")
		})
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var posts, others int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			others++
		} else {
			posts++
		}
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c, err := NewClient(Options{Endpoint: srv.URL, AppID: "app", Token: "t"})
	require.NoError(t, err)
	resp := c.Send(context.Background(), "", []byte(`{}`))
	assert.Equal(t, 307, resp.Status)
	assert.Equal(t, "/elsewhere", resp.Location)
	assert.Equal(t, 1, posts)
	assert.Zero(t, others)
}

func TestReasonOfDNSTimeout(t *testing.T) {
	err := &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "i/o timeout", Name: "h.example", IsTimeout: true}}
	assert.Equal(t, "DNS lookup timed out", reasonOf(err, progress{}), "a DNS timeout is a DNS failure")
	assert.Equal(t, "DNS: no such host", reasonOf(&net.DNSError{Err: "no such host", IsNotFound: true}, progress{}))
}
