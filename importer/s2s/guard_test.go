package s2s

import (
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
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
	c.chunks = c.chunks[1:]
	return n, nil
}

func (c *chunkConn) Write(p []byte) (int, error) { return len(p), nil }

// readAll reads g to its end and says after which chunk (0-based) the
// guard ended the connection (-1: it did not).
func readAll(g *guardConn, chunks int) (got string, eofAt int) {
	buf := make([]byte, 1024)
	for i := range chunks {
		n, err := g.Read(buf)
		got += string(buf[:n])
		if err == io.EOF {
			if n == 0 {
				return got, -1 // the socket's own end
			}
			return got, i
		}
	}
	return got, -1
}

func TestGuardConn(t *testing.T) {
	const e503 = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}"
	const ok = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}"
	tests := []struct {
		name   string
		chunks []string
		eofAt  int
	}{
		{"error answer in one read", []string{e503 + "HTTP/1.1 202 Accepted\r\n\r\n"}, 0},
		{"error answer split in the status line", []string{e503[:5], e503[5:20], e503[20:]}, 2},
		{"error answer split in the header end", []string{e503[:len(e503)-5], e503[len(e503)-5:]}, 1},
		{"error answer, headers end in a later read", []string{e503[:40], e503[40:52], e503[52:]}, 2},
		{"2xx is left alone", []string{ok, ok}, -1},
		{"not HTTP/1.x is left alone", []string{"\x00\x00\x12\x04\x00\x00\x00\x00\x00HTTP/1.1 503 x\r\n\r\n"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &guardConn{Conn: &chunkConn{chunks: tt.chunks}}
			_, _ = g.Write([]byte("POST / HTTP/1.1\r\n\r\n"))
			_, at := readAll(g, len(tt.chunks))
			assert.Equal(t, tt.eofAt, at)
			if at >= 0 {
				n, err := g.Read(make([]byte, 8))
				assert.Zero(t, n)
				assert.ErrorIs(t, err, io.EOF, "stays ended")
			}
		})
	}
	t.Run("each request is judged by its own answer", func(t *testing.T) {
		g := &guardConn{Conn: &chunkConn{chunks: []string{ok, e503}}}
		_, _ = g.Write([]byte("POST / HTTP/1.1\r\n\r\n"))
		_, at := readAll(g, 1)
		assert.Equal(t, -1, at)
		_, _ = g.Write([]byte("POST / HTTP/1.1\r\n\r\n"))
		_, at = readAll(g, 1)
		assert.Equal(t, 0, at)
	})
}
