package s2s

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"
)

// guardConn keeps net/http from reusing an HTTP/1.1 connection after an
// answer that is not 1xx or 2xx.
//
// net/http puts a connection back in its pool as soon as an answer's body
// is read, and only then looks for bytes left after it (golang/go#31259).
// A server that writes more than its answer (a body longer than its
// Content-Length, two answers to one request) can thus have the extra
// bytes read as the answer to the next request that takes the connection
// in between: rows answered only 503 were reported accepted. net/http
// never pools a connection on which a read returned io.EOF, so guardConn
// returns io.EOF with the bytes that complete the headers of such an
// answer: the caller still gets the whole answer (its body too, when it
// came with the headers, as small answers do) and the connection is closed
// after it. One reconnect per error answer is the cost; a 2xx answer
// followed by stray bytes is not covered (it is indistinguishable from a
// good connection), and HTTP/2, which frames every answer, needs none of it.
type guardConn struct {
	net.Conn

	mu       sync.Mutex // Write (the transport's write loop) and Read (its read loop)
	inspect  bool       // a request went out; the next bytes start its answer
	head     [12]byte   // "HTTP/1.1 503"
	nhead    int
	poisoned bool   // the answer is an error: end the connection after its headers
	tail     []byte // the last 3 bytes seen while poisoned, for "\r\n\r\n" across reads
	eof      bool
}

func (c *guardConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.inspect, c.nhead, c.poisoned, c.tail = true, 0, false, c.tail[:0]
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *guardConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	eof := c.eof
	c.mu.Unlock()
	if eof {
		return 0, io.EOF
	}
	n, err := c.Conn.Read(p)
	if n == 0 {
		return n, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.scan(p[:n]) {
		c.eof = true
		return n, io.EOF
	}
	return n, err
}

// scan looks at the bytes of an answer as they arrive and reports whether
// they complete the headers of an answer that must end the connection.
func (c *guardConn) scan(b []byte) bool {
	if c.inspect {
		c.nhead += copy(c.head[c.nhead:], b)
		if c.nhead < len(c.head) {
			return false // headers cannot end within the status line
		}
		c.inspect = false
		h := c.head[:]
		// Anything but an HTTP/1.x status line (HTTP/2 with prior
		// knowledge, garbage) is left to net/http.
		c.poisoned = bytes.HasPrefix(h, []byte("HTTP/1.")) && h[8] == ' ' && h[9] >= '3' && h[9] <= '9'
	}
	if !c.poisoned {
		return false
	}
	seen := append(c.tail, b...)
	if bytes.Contains(seen, []byte("\r\n\r\n")) {
		return true
	}
	c.tail = append(c.tail[:0], seen[max(0, len(seen)-3):]...)
	return false
}

// dialTLS makes the TLS connection itself, so that an HTTP/1.1 one can be
// guarded above TLS; one that negotiated HTTP/2 is returned as the
// *tls.Conn net/http needs to speak HTTP/2 on it.
func dialTLS(dial func(ctx context.Context, network, addr string) (net.Conn, error), cfg *tls.Config, timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout) // dial and handshake, as TLSHandshakeTimeout would
		defer cancel()
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := cfg.Clone()
		if c.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			c.ServerName = host
		}
		tc := tls.Client(raw, c)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return nil, err
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			return tc, nil
		}
		return &guardConn{Conn: tc}, nil
	}
}
