package s2s

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// guardConn keeps net/http from reading bytes a server sent after its
// answer as the answer to the next request (RFC 9112, section 6.3: a
// client must not treat such bytes as a separate answer).
//
// net/http puts an HTTP/1.1 connection back in its pool as soon as an
// answer's body is read, and only then looks for bytes left after it
// (golang/go#31259). When a broken server writes more than its answer (a
// body longer than its Content-Length, two answers to one request), those
// bytes usually sit in net/http's read buffer already, and a request that
// takes the connection in that instant reads them as its answer: rows
// answered only 503 were reported accepted, with another row's message id.
//
// guardConn frames each answer as net/http does (status line, headers,
// Content-Length or chunked body, 1xx answers before the final one) and
// never hands net/http a byte past its end: the read that holds the end
// returns the bytes up to it with io.EOF, and net/http never pools a
// connection on which a read returned io.EOF, so the answer is read whole
// and the connection is closed after it. Bytes that arrive when no request
// is outstanding end the connection the same way. An answer it cannot
// frame exactly (no length, a protocol switch, anything net/http would
// refuse) turns the guard off for that connection, leaving net/http's own
// behaviour; so does a connection that is not HTTP/1.x (HTTP/2 with prior
// knowledge, a CONNECT tunnel). Stray bytes that arrive after the next
// request went out are indistinguishable from its answer, for any client.
type guardConn struct {
	net.Conn

	mu    sync.Mutex // Write (the transport's write loop) and Read (its read loop)
	state guardState
	f     framer
}

type guardState uint8

const (
	guardIdle      guardState = iota // no request outstanding: any byte is unsolicited
	guardAnswering                   // a request went out: bytes are framed as its answer
	guardOff                         // framing unknown: bytes pass through
	guardEnded                       // stray bytes seen: reads return io.EOF
)

// h2Preface starts every HTTP/2 connection with prior knowledge.
var h2Preface = []byte("PRI * HTTP/2.0")

func (c *guardConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.state == guardIdle {
		if bytes.HasPrefix(p, h2Preface) {
			c.state = guardOff
		} else {
			c.state = guardAnswering
			c.f.reset()
		}
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *guardConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	ended := c.state == guardEnded
	c.mu.Unlock()
	if ended {
		return 0, io.EOF
	}
	n, err := c.Conn.Read(p)
	if n == 0 {
		return n, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.state {
	case guardIdle:
		c.state = guardEnded
		return 0, io.EOF
	case guardAnswering:
		used, res := c.f.feed(p[:n])
		switch res {
		case frameUnknown:
			c.state = guardOff
		case frameDone:
			if used < n {
				c.state = guardEnded
				return used, io.EOF
			}
			c.state = guardIdle
		}
	}
	return n, err
}

// frameResult is what framer.feed found.
type frameResult uint8

const (
	frameMore    frameResult = iota // the answer goes on
	frameDone                       // the answer ended within the bytes fed
	frameUnknown                    // the answer cannot be framed exactly
)

type framePhase uint8

const (
	phaseStatus    framePhase = iota // the status line
	phaseHeaders                     // header lines, up to an empty one
	phaseBody                        // remain bytes of a Content-Length body
	phaseChunkSize                   // a chunk-size line
	phaseChunkData                   // remain bytes of chunk data
	phaseChunkEnd                    // the CRLF after chunk data
	phaseTrailer                     // the CRLF after the last chunk
)

// lineMax bounds a kept line; longer header lines are skipped unless
// they are one of the two that frame the body.
const lineMax = 256

// framer finds the end of one HTTP/1.x answer to a POST in the bytes fed
// to it, by the rules net/http's ReadResponse and its body reader apply
// (net/http's transfer.go and internal/chunked.go); a differential fuzz
// test holds the two together. Where net/http would refuse the answer, or
// read it to the connection's end, it gives up (frameUnknown).
type framer struct {
	phase   framePhase
	line    []byte
	long    bool // the line grew past lineMax
	http10  bool
	status  int
	length  int64 // Content-Length, -1 when absent
	te      int   // Transfer-Encoding lines
	chunked bool
	remain  int64
	crlf    int // bytes of the CRLF after chunk data seen
}

// reset readies f for the answer to the next request.
func (f *framer) reset() {
	*f = framer{line: f.line[:0]}
}

// feed consumes b and reports how much of it belongs to the answer.
func (f *framer) feed(b []byte) (used int, res frameResult) {
	for used < len(b) {
		switch f.phase {
		case phaseBody, phaseChunkData:
			k := int(min(f.remain, int64(len(b)-used)))
			used += k
			f.remain -= int64(k)
			if f.remain > 0 {
				return used, frameMore
			}
			if f.phase == phaseBody {
				return used, frameDone
			}
			f.phase, f.crlf = phaseChunkEnd, 0
		case phaseChunkEnd:
			if b[used] != "\r\n"[f.crlf] {
				return used, frameUnknown
			}
			used++
			if f.crlf++; f.crlf == 2 {
				f.phase = phaseChunkSize
			}
		default:
			c := b[used]
			used++
			if c != '\n' {
				if len(f.line) < lineMax {
					f.line = append(f.line, c)
				} else {
					f.long = true
				}
				if f.phase == phaseStatus && !statusPrefixOK(f.line) {
					return used, frameUnknown
				}
				continue
			}
			line, long := f.line, f.long
			f.line, f.long = f.line[:0], false
			if res := f.endLine(line, long); res != frameMore {
				return used, res
			}
		}
	}
	return used, frameMore
}

// statusPrefixOK says whether line can still begin "HTTP/1.0 " or
// "HTTP/1.1 ", so that a connection that is not HTTP/1.x is let go at once.
func statusPrefixOK(line []byte) bool {
	const a, b = "HTTP/1.0 ", "HTTP/1.1 "
	n := min(len(line), len(a))
	return string(line[:n]) == a[:n] || string(line[:n]) == b[:n]
}

// endLine handles one line (without its '\n') of the line-framed phases.
func (f *framer) endLine(line []byte, long bool) frameResult {
	switch f.phase {
	case phaseStatus:
		return f.statusLine(bytes.TrimSuffix(line, []byte("\r")), long)
	case phaseHeaders:
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 && !long {
			return f.headersEnd()
		}
		return f.header(line, long)
	case phaseChunkSize:
		// net/http: CRLF only, no other CR, extensions after ';' dropped,
		// trailing spaces and tabs trimmed, at most 16 hex digits.
		if long || len(line) == 0 || bytes.IndexByte(line, '\r') != len(line)-1 {
			return frameUnknown
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line[:len(line)-1], " \t"), []byte(";"))
		// Under 2^60: net/http takes up to 16 hex digits, but no answer
		// to a POST has a chunk that size, and remain stays an int64.
		n, err := strconv.ParseUint(string(size), 16, 60)
		if err != nil {
			return frameUnknown
		}
		if n == 0 {
			f.phase = phaseTrailer
			return frameMore
		}
		f.phase, f.remain = phaseChunkData, int64(n)
		return frameMore
	case phaseTrailer:
		// The common case only: no trailer fields.
		if string(line) == "\r" && !long {
			return frameDone
		}
		return frameUnknown
	}
	return frameUnknown
}

func (f *framer) statusLine(line []byte, long bool) frameResult {
	// "HTTP/1.1 503 Service Unavailable": the code is three digits
	// followed by the line's end or a space.
	if long || len(line) < 12 || !statusPrefixOK(line) || (len(line) > 12 && line[12] != ' ') {
		return frameUnknown
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return frameUnknown
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return frameUnknown
	}
	f.http10, f.status, f.length, f.te, f.chunked = line[7] == '0', code, -1, 0, false
	f.phase = phaseHeaders
	return frameMore
}

// header notes the lines that frame the body: Content-Length and
// Transfer-Encoding.
func (f *framer) header(line []byte, long bool) frameResult {
	if line[0] == ' ' || line[0] == '\t' {
		return frameUnknown // a folded line
	}
	name, value, ok := bytes.Cut(line, []byte(":"))
	isLength := bytes.EqualFold(name, []byte("Content-Length"))
	isTE := bytes.EqualFold(name, []byte("Transfer-Encoding"))
	if !isLength && !isTE {
		return frameMore
	}
	if long || !ok {
		return frameUnknown
	}
	value = bytes.Trim(value, " \t")
	if isTE {
		f.te++
		f.chunked = bytes.EqualFold(value, []byte("chunked"))
		return frameMore
	}
	n, err := strconv.ParseUint(string(value), 10, 63) // as net/http's parseContentLength
	if err != nil || (f.length >= 0 && int64(n) != f.length) {
		return frameUnknown // net/http refuses unequal lengths
	}
	f.length = int64(n)
	return frameMore
}

// headersEnd decides how the body is framed, as net/http's fixLength does
// for the answer to a POST.
func (f *framer) headersEnd() frameResult {
	switch {
	case f.status == 101:
		return frameUnknown // the connection changes protocol
	case f.status < 200:
		f.phase = phaseStatus // an interim answer: the final one follows
		return frameMore
	case f.status == 204 || f.status == 304:
		return frameDone // no body, whatever the headers say
	case f.te > 0:
		if f.http10 || f.te != 1 || !f.chunked {
			return frameUnknown
		}
		f.phase = phaseChunkSize
		return frameMore
	case f.length == 0:
		return frameDone
	case f.length > 0:
		f.phase, f.remain = phaseBody, f.length
		return frameMore
	}
	return frameUnknown // read to the connection's end
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
