package s2s

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunkConn reads back fixed chunks, as a socket returns them.
type chunkConn struct {
	net.Conn
	chunks []string
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if n < len(c.chunks[0]) {
		c.chunks[0] = c.chunks[0][n:]
	} else {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func (c *chunkConn) Write(p []byte) (int, error) { return len(p), nil }

const (
	ok202    = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"messageId\":1}\n"
	err503   = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}"
	chunk202 = "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\n{\"a\":\r\n3\r\n1}\n\r\n0\r\n\r\n"
	cont100  = "HTTP/1.1 100 Continue\r\n\r\n"
)

// guardRead sends a request through a guard over chunks and reads the
// answer as net/http's transport does; it returns the answer's status and
// body, and what the guard hands over after it (its error: io.EOF when it
// ended the connection).
func guardRead(t *testing.T, chunks ...string) (status int, body string, after []byte, afterErr error) {
	t.Helper()
	g := &guardConn{Conn: &chunkConn{chunks: chunks}}
	_, err := g.Write([]byte("POST / HTTP/1.1\r\n\r\n"))
	require.NoError(t, err)
	br := bufio.NewReader(g)
	resp, err := readFinal(br)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	after, afterErr = io.ReadAll(br)
	if afterErr == nil {
		afterErr = io.EOF // ReadAll drops it
	}
	return resp.StatusCode, string(b), after, g.ended()
}

func (c *guardConn) ended() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == guardEnded {
		return io.EOF
	}
	return nil
}

// readFinal reads interim answers and returns the final one, as the
// transport does.
func readFinal(br *bufio.Reader) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodPost})
		if err != nil {
			return nil, err
		}
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == 101 {
			return resp, nil
		}
	}
}

func TestGuardConnStrayBytes(t *testing.T) {
	// Whatever follows an answer, in the same read or a later one, never
	// reaches net/http, and the connection ends after the answer.
	i3 := strings.Index(chunk202, "\r\n3") // the CRLF after the first chunk's data
	tests := []struct {
		name   string
		chunks []string
		status int
		body   string
	}{
		{"body longer than Content-Length", []string{ok202 + `{"messageId":"stale"}`}, 202, "{\"messageId\":1}\n"},
		{"a second answer after a 2xx", []string{ok202 + err503}, 202, "{\"messageId\":1}\n"},
		{"a second answer after an error", []string{err503 + ok202}, 503, "{}"},
		{"stray bytes in a later read", []string{ok202, "HTTP/1.1 202"}, 202, "{\"messageId\":1}\n"},
		{"answer split byte by byte, then stray", append(strings.Split(ok202, ""), "x"), 202, "{\"messageId\":1}\n"},
		{"chunked, then stray", []string{chunk202 + "\r\n"}, 202, "{\"a\":1}\n"},
		{"chunked split in its CRLFs", []string{chunk202[:i3+1], chunk202[i3+1 : i3+4], chunk202[i3+4:], "x"}, 202, "{\"a\":1}\n"},
		{"100 Continue, then the answer, then stray", []string{cont100, ok202 + "x"}, 202, "{\"messageId\":1}\n"},
		{"204 ignores its Content-Length", []string{"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nabcde"}, 204, ""},
		{"bare LF headers", []string{"HTTP/1.1 202 OK\nContent-Length: 2\n\n{}{}"}, 202, "{}"},
		{"HTTP/1.0 with a length", []string{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}\r\n"}, 200, "{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, after, ended := guardRead(t, tt.chunks...)
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.body, body)
			assert.Empty(t, after, "no byte after the answer reaches net/http")
			assert.ErrorIs(t, ended, io.EOF, "the connection ends after the answer")
		})
	}
}

func TestGuardConnKeepsGoodConnections(t *testing.T) {
	// An answer with nothing after it leaves the connection usable, for
	// answer after answer; one the guard cannot frame is let through whole.
	t.Run("answer after answer", func(t *testing.T) {
		c := &chunkConn{}
		g := &guardConn{Conn: c}
		br := bufio.NewReader(g)
		for i, a := range []string{ok202, err503, chunk202, cont100 + ok202, "HTTP/1.1 304 Not Modified\r\n\r\n"} {
			c.chunks = []string{a}
			_, _ = g.Write([]byte("POST / HTTP/1.1\r\n\r\n"))
			resp, err := readFinal(br)
			require.NoError(t, err, "answer %d", i)
			_, err = io.ReadAll(resp.Body)
			require.NoError(t, err, "answer %d", i)
			require.NoError(t, g.ended(), "answer %d", i)
			assert.Equal(t, guardIdle, g.state, "answer %d", i)
		}
	})
	for _, tt := range []struct{ name, first, answer string }{
		{"no length: read to the end", "POST", "HTTP/1.1 200 OK\r\n\r\nbody to the end"},
		{"trailer fields", "POST", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-T: 1\r\n\r\nmore"},
		{"not HTTP/1.x", "POST", "\x00\x00\x12\x04\x00\x00\x00\x00\x00HTTP/1.1 503 x\r\n\r\n"},
		{"HTTP/2 with prior knowledge", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "\x00\x00\x00\x04\x00\x00\x00\x00\x00"},
		{"a tunnel", "CONNECT", "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := &guardConn{Conn: &chunkConn{chunks: []string{tt.answer}}}
			_, _ = g.Write([]byte(tt.first))
			got, err := io.ReadAll(g)
			require.NoError(t, err)
			assert.Equal(t, tt.answer, string(got))
			assert.Equal(t, guardOff, g.state)
		})
	}
	t.Run("unsolicited bytes end an idle connection", func(t *testing.T) {
		g := &guardConn{Conn: &chunkConn{chunks: []string{ok202}}}
		n, err := g.Read(make([]byte, 64))
		assert.Zero(t, n)
		assert.ErrorIs(t, err, io.EOF)
		n, err = g.Read(make([]byte, 64))
		assert.Zero(t, n)
		assert.ErrorIs(t, err, io.EOF, "stays ended")
	})
}

// FuzzGuardFraming holds the guard's framing to net/http's: over any bytes
// a server may send, split anyhow across reads, an answer net/http reads
// is read the same through the guard; when net/http's framing leaves bytes
// after it, none of them reaches net/http through the guard; when it
// leaves none, the connection stays usable. `go test -fuzz
// FuzzGuardFraming ./importer/s2s/`
func FuzzGuardFraming(f *testing.F) {
	for _, s := range []string{ok202, err503, chunk202, cont100 + ok202, ok202 + err503, chunk202 + "x",
		"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\nx",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabcd",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n1 ;a\r\nx\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\nab",
	} {
		f.Add([]byte(s), uint8(7))
	}
	f.Fuzz(func(t *testing.T, raw []byte, split uint8) {
		// The reference: net/http reading the bytes directly.
		r := bytes.NewReader(raw)
		br := bufio.NewReader(r)
		resp, err := readFinal(br)
		if err != nil {
			return // net/http refuses it: the connection is closed anyway
		}
		want, err := io.ReadAll(resp.Body)
		if err != nil {
			return
		}
		framed := resp.ContentLength >= 0 || len(resp.TransferEncoding) > 0 || !bodyAllowed(resp.StatusCode)
		consumed := len(raw) - r.Len() - br.Buffered()

		// The same bytes through the guard, in reads of 1 to 16 bytes.
		var chunks []string
		step := int(split%16) + 1
		for i := 0; i < len(raw); i += step {
			chunks = append(chunks, string(raw[i:min(i+step, len(raw))]))
		}
		g := &guardConn{Conn: &chunkConn{chunks: chunks}}
		_, _ = g.Write([]byte("POST / HTTP/1.1\r\n\r\n"))
		gbr := bufio.NewReader(g)
		gresp, err := readFinal(gbr)
		require.NoError(t, err, "net/http reads this answer, the guard must let it")
		got, err := io.ReadAll(gresp.Body)
		require.NoError(t, err)
		require.Equal(t, resp.StatusCode, gresp.StatusCode)
		require.Equal(t, want, got)
		if g.state == guardOff {
			return // not framed exactly: net/http's own behaviour
		}
		require.True(t, framed, "the guard framed an answer net/http reads to the end")
		// What the transport's read loop does next: look for more.
		_, err = gbr.Peek(1)
		require.ErrorIs(t, err, io.EOF)
		if consumed < len(raw) {
			assert.Zero(t, gbr.Buffered(), "bytes after the answer reached net/http")
			assert.Equal(t, guardEnded, g.state)
		} else {
			assert.Equal(t, guardIdle, g.state, "a clean answer leaves the connection usable")
		}
	})
}

// bodyAllowed is net/http's bodyAllowedForStatus.
func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199) && status != 204 && status != 304
}
