package importer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// h1 is a small HTTP/1.1 client for one host and one request shape: POST a
// JSON body to a fixed path with fixed headers. It is what makes afimport
// cheaper per row than a load generator on net/http: net/http hands every
// request between three goroutines (caller, write loop, read loop), builds
// header maps, and arms a timer per request; here the sending worker writes
// the pre-serialized request line and headers plus the body with one system
// call and parses the answer itself, on its own goroutine.
//
// It speaks only HTTP/1.1 with keep-alive. It is used when the server does
// not offer HTTP/2 (over TLS, ALPN decides) and no proxy is configured;
// otherwise the Client uses net/http. What it implements of RFC 9112:
// Content-Length, chunked and close-delimited bodies, 1xx interim answers,
// Connection: close, HTTP/1.0 answers. It never retries by itself: a request
// that failed may or may not have reached the server, and the importer owns
// that decision (the retry carries the same dedup id).
type h1 struct {
	addr      string      // host:port
	tlsConf   *tls.Config // nil for plain http
	head      []byte      // "POST ... HTTP/1.1\r\n" + headers + "Content-Length: "
	dialer    net.Dialer
	maxIdle   int
	idleLimit time.Duration // pooled connections idle longer are not reused
	idleCheck time.Duration // pooled connections idle longer are checked first

	mu   sync.Mutex
	idle []*h1Conn // LIFO: the most recently used connection is warmest

	// h2 is set when the server offered HTTP/2 during a TLS handshake; the
	// Client then sends through net/http instead.
	h2 atomic.Bool
}

type h1Conn struct {
	c        net.Conn
	br       *bufio.Reader
	wbuf     []byte
	lastUsed time.Time
}

// h1Answer is what came back for one request.
type h1Answer struct {
	status     int
	retryAfter string
	hasRetry   bool
	body       []byte // up to maxAnswer bytes, in the caller's buffer
}

// errServerOffersH2 tells the Client to switch to net/http.
var errServerOffersH2 = errors.New("server negotiated HTTP/2")

// maxHeaderBytes bounds the status line plus headers of one answer.
const maxHeaderBytes = 64 << 10

func newH1(addr string, tlsConf *tls.Config, head []byte, maxIdle int) *h1 {
	return &h1{
		addr:      addr,
		tlsConf:   tlsConf,
		head:      head,
		dialer:    net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
		maxIdle:   maxIdle,
		idleLimit: 30 * time.Second,
		idleCheck: time.Second,
	}
}

// offersH2 reports whether a handshake negotiated HTTP/2.
func (h *h1) offersH2() bool { return h.h2.Load() }

// do sends body and reads the answer into buf (reset to length 0).
func (h *h1) do(ctx context.Context, deadline time.Time, body, buf []byte) (h1Answer, error) {
	if err := ctx.Err(); err != nil {
		return h1Answer{}, err
	}
	cn, err := h.get(ctx, deadline)
	if err != nil {
		return h1Answer{}, err
	}
	if err := cn.c.SetDeadline(deadline); err != nil {
		cn.c.Close()
		return h1Answer{}, err
	}
	// A cancelled ctx (the grace period ran out) interrupts the request
	// by moving the deadline into the past.
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { _ = cn.c.SetDeadline(time.Unix(1, 0)) })
	}
	ans, keep, err := cn.roundTrip(h.head, body, buf)
	if stop != nil && !stop() {
		keep = false // the deadline was moved: the connection is spent
		if err != nil && ctx.Err() != nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		cn.c.Close()
		if isTimeout(err) {
			err = fmt.Errorf("no answer before the deadline: %w", err)
		}
		return ans, err
	}
	if keep {
		h.put(cn)
	} else {
		cn.c.Close()
	}
	return ans, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// get takes the warmest pooled connection or dials a new one.
func (h *h1) get(ctx context.Context, deadline time.Time) (*h1Conn, error) {
	now := time.Now()
	h.mu.Lock()
	for n := len(h.idle); n > 0; n = len(h.idle) {
		cn := h.idle[n-1]
		h.idle[n-1] = nil
		h.idle = h.idle[:n-1]
		idle := now.Sub(cn.lastUsed)
		if idle < min(h.idleCheck, h.idleLimit) {
			h.mu.Unlock()
			return cn, nil
		}
		if idle < h.idleLimit {
			// A server that closed the connection while it sat idle would
			// fail the request sent on it, and that row would count a
			// retry. Look first (one non-blocking peek; at the rates where
			// connections idle this long, its cost does not matter).
			h.mu.Unlock()
			if !closedWhileIdle(cn) {
				return cn, nil
			}
			h.mu.Lock()
		}
		cn.c.Close() // closed by the server, or it may be about to
	}
	h.mu.Unlock()
	return h.dial(ctx, deadline)
}

func (h *h1) put(cn *h1Conn) {
	cn.lastUsed = time.Now()
	h.mu.Lock()
	if len(h.idle) < h.maxIdle {
		h.idle = append(h.idle, cn)
		cn = nil
	}
	h.mu.Unlock()
	if cn != nil {
		cn.c.Close()
	}
}

func (h *h1) dial(ctx context.Context, deadline time.Time) (*h1Conn, error) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	c, err := h.dialer.DialContext(ctx, "tcp", h.addr)
	if err != nil {
		return nil, err
	}
	if h.tlsConf != nil {
		tc := tls.Client(c, h.tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			tc.Close()
			h.h2.Store(true)
			return nil, errServerOffersH2
		}
		c = tc
	}
	return &h1Conn{c: c, br: bufio.NewReaderSize(c, 4096)}, nil
}

// closeIdle closes every pooled connection.
func (h *h1) closeIdle() {
	h.mu.Lock()
	idle := h.idle
	h.idle = nil
	h.mu.Unlock()
	for _, cn := range idle {
		cn.c.Close()
	}
}

// roundTrip writes one request and reads its answer. keep reports whether
// the connection may carry another request.
func (cn *h1Conn) roundTrip(head, body, buf []byte) (h1Answer, bool, error) {
	w := append(cn.wbuf[:0], head...)
	w = strconv.AppendInt(w, int64(len(body)), 10)
	w = append(w, "\r\n\r\n"...)
	w = append(w, body...)
	cn.wbuf = w[:0]
	if cap(cn.wbuf) > 64<<10 {
		cn.wbuf = nil // do not pin one huge body per connection
	}
	if _, err := cn.c.Write(w); err != nil {
		return h1Answer{}, false, err
	}
	return readH1Answer(cn.br, buf)
}

// readH1Answer reads one HTTP/1.x answer from br: status, Retry-After, and
// up to maxAnswer bytes of body into buf; the rest of the body (up to
// 1 MiB) is read and dropped so that the connection can be reused.
func readH1Answer(br *bufio.Reader, buf []byte) (h1Answer, bool, error) {
	for interim := 0; ; interim++ {
		ans, keep, err := readH1Once(br, buf)
		if err != nil || ans.status >= 200 || interim >= 8 {
			if err == nil && ans.status < 200 {
				return ans, false, malformed("too many interim (1xx) answers")
			}
			return ans, keep, err
		}
		// 100 Continue, 103 Early Hints, ...: the real answer follows.
	}
}

var (
	errMalformed = errors.New("malformed HTTP answer")
	// errEmptyAnswer is a connection closed before any byte of an answer.
	errEmptyAnswer = errors.New("connection closed before an answer")
)

func malformed(what string) error { return fmt.Errorf("%w: %s", errMalformed, what) }

func readH1Once(br *bufio.Reader, buf []byte) (ans h1Answer, keep bool, err error) {
	ans.body = buf[:0]
	line, err := readLine(br)
	if err != nil {
		if err == io.EOF {
			err = errEmptyAnswer
		}
		return ans, false, err
	}
	// HTTP/1.1 202 Accepted
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return ans, false, malformed("status line")
	}
	minor := line[7]
	if minor != '0' && minor != '1' {
		return ans, false, malformed("HTTP version")
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return ans, false, malformed("status code")
		}
		ans.status = ans.status*10 + int(c-'0')
	}
	if ans.status < 100 {
		return ans, false, malformed("status code")
	}
	keep = minor == '1'
	size := len(line)
	contentLength := int64(-1)
	chunked := false
	for {
		line, err := readLine(br)
		if errors.Is(err, errLongLine) {
			// A header longer than the read buffer (a big cookie or
			// policy header from a proxy): none that afimport reads is
			// ever that long, so skip it.
			if err := skipLongLine(br, &size); err != nil {
				return ans, false, err
			}
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return ans, false, err
		}
		if size += len(line); size > maxHeaderBytes {
			return ans, false, malformed("headers too long")
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || line[0] == ' ' || line[0] == '\t' {
			return ans, false, malformed("header line")
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case asciiEqualFold(name, "content-length"):
			n, ok := parseDigits(value)
			if !ok || (contentLength >= 0 && n != contentLength) {
				return ans, false, malformed("Content-Length")
			}
			contentLength = n
		case asciiEqualFold(name, "transfer-encoding"):
			if minor == '0' {
				break // HTTP/1.0 has no transfer codings (as net/http reads it)
			}
			if !asciiEqualFold(lastToken(value), "chunked") {
				return ans, false, malformed("Transfer-Encoding")
			}
			chunked = true
		case asciiEqualFold(name, "connection"):
			for tok := range bytes.SplitSeq(value, []byte(",")) {
				tok = bytes.TrimSpace(tok)
				if asciiEqualFold(tok, "close") {
					keep = false
				} else if asciiEqualFold(tok, "keep-alive") && minor == '0' {
					keep = true
				}
			}
		case asciiEqualFold(name, "retry-after"):
			ans.retryAfter, ans.hasRetry = string(value), true
		}
	}
	if ans.status < 200 {
		return ans, keep, nil // interim: no body
	}
	switch {
	case ans.status == 204 || ans.status == 304:
	case chunked:
		// Content-Length beside chunked may be a smuggling attempt: read
		// by chunks (RFC 9112 6.3) and do not reuse the connection.
		if contentLength >= 0 {
			keep = false
		}
		ans.body, err = readChunked(br, ans.body)
	case contentLength >= 0:
		ans.body, err = readBody(br, ans.body, contentLength)
	default:
		ans.body, err = readBody(br, ans.body, -1) // until the server closes
		keep = false
	}
	if err != nil {
		return ans, false, err
	}
	return ans, keep, nil
}

// maxDrain is how much of a long answer is read to keep the connection.
const maxDrain = 1 << 20

// readBody appends the first maxAnswer bytes of an n-byte body (n < 0:
// until EOF) to buf and reads past the rest.
func readBody(br *bufio.Reader, buf []byte, n int64) ([]byte, error) {
	if n > maxAnswer+maxDrain {
		return buf, malformed("answer body too long")
	}
	r := io.Reader(br)
	if n >= 0 {
		r = io.LimitReader(br, n)
	} else {
		r = io.LimitReader(br, maxAnswer+maxDrain)
	}
	var got int64
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := buf[len(buf):cap(buf)]
		if len(buf)+len(room) > maxAnswer {
			room = room[:max(maxAnswer-len(buf), 0)]
		}
		var k int
		var err error
		if len(room) > 0 {
			k, err = r.Read(room)
			buf = buf[:len(buf)+k]
		} else {
			var d int64
			d, err = io.Copy(io.Discard, r)
			k = int(d)
			if err == nil {
				err = io.EOF
			}
		}
		got += int64(k)
		if err == io.EOF {
			if n >= 0 && got < n {
				return buf, io.ErrUnexpectedEOF
			}
			if n < 0 && got >= maxAnswer+maxDrain {
				return buf, malformed("answer body too long")
			}
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// readChunked reads a chunked body (RFC 9112 7.1) and its trailers.
func readChunked(br *bufio.Reader, buf []byte) ([]byte, error) {
	var total int64
	for {
		line, err := readLine(br)
		if err != nil {
			return buf, unexpected(err)
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || len(line) > 16 {
			return buf, malformed("chunk size")
		}
		size, err := strconv.ParseUint(string(line), 16, 63)
		if err != nil {
			return buf, malformed("chunk size")
		}
		if size == 0 {
			for { // trailers
				line, err := readLine(br)
				if err != nil {
					return buf, unexpected(err)
				}
				if len(line) == 0 {
					return buf, nil
				}
				if total += int64(len(line)); total > maxAnswer+maxDrain {
					return buf, malformed("trailers too long")
				}
			}
		}
		if total += int64(size); total > maxAnswer+maxDrain {
			return buf, malformed("answer body too long")
		}
		keep := min(int64(maxAnswer-len(buf)), int64(size))
		if keep > 0 {
			start := len(buf)
			buf = slices.Grow(buf, int(keep))[:start+int(keep)]
			if _, err := io.ReadFull(br, buf[start:]); err != nil {
				return buf[:start], unexpected(err)
			}
		}
		if rest := int64(size) - keep; rest > 0 {
			if _, err := br.Discard(int(rest)); err != nil {
				return buf, unexpected(err)
			}
		}
		crlf, err := readLine(br)
		if err != nil {
			return buf, unexpected(err)
		}
		if len(crlf) != 0 {
			return buf, malformed("chunk not followed by CRLF")
		}
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// errLongLine is a line longer than the read buffer.
var errLongLine = fmt.Errorf("%w: line too long", errMalformed)

// readLine returns one line without its CRLF or LF. The slice is valid
// until the next read from br. A line longer than br's buffer is
// errLongLine; its start has been read.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return line, errLongLine
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// parseDigits reads a Content-Length: 1 to 18 ASCII digits, no sign.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// skipLongLine reads past the rest of a header line that readLine found
// too long, within the headers' size limit; size counts its bytes.
func skipLongLine(br *bufio.Reader, size *int) error {
	*size += br.Size()
	for {
		if *size > maxHeaderBytes {
			return malformed("headers too long")
		}
		chunk, err := br.ReadSlice('\n')
		*size += len(chunk)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
}

// lastToken is the last comma-separated token of a header value.
func lastToken(v []byte) []byte {
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return bytes.TrimSpace(v)
}

// asciiEqualFold is bytes.EqualFold for an ASCII lower-case want.
func asciiEqualFold(b []byte, want string) bool {
	if len(b) != len(want) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}
