package s2s

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"afimport/mappings"
)

// DefaultEndpoint is AppsFlyer's S2S base URL.
const DefaultEndpoint = "https://events.appsflyer.com"

// Paths of the two endpoints; the app id follows.
const (
	EventPath = "/v2.0/s2s/inapps/app/web/"
	VisitPath = "/v2.0/s2s/visits/app/web/"
)

// Response is what one attempt to send a payload produced.
//
// Status is 0 when no HTTP answer arrived; Err then says why and Reached
// whether the request may have reached a server (false: the connection was
// never made, so the API cannot have seen the row).
type Response struct {
	Status        int
	MessageID     string
	Message       string // the API's message (or a short body excerpt), token-redacted
	Location      string // a 3xx answer's Location header
	RetryAfter    time.Duration
	HasRetryAfter bool
	Err           error
	Reached       bool
}

// Options configure a Client.
type Options struct {
	Endpoint string // base URL; DefaultEndpoint when empty
	// AppID is the app a Send with an empty app id goes to.
	AppID string
	Kind  mappings.Endpoint
	Token string
	// Timeout bounds one attempt, answer included (default 30s).
	Timeout time.Duration
	// ConnectTimeout bounds making a connection, TLS included (default 10s).
	ConnectTimeout time.Duration
	// MaxInFlight sizes the idle connection pool: as many idle connections
	// are kept as requests may be in flight, so a steady run never dials.
	MaxInFlight int
	UserAgent   string
	// HTTP picks the protocol: "auto" (or empty) is HTTP/2 when the server
	// offers it (ALPN) and HTTP/1.1 otherwise; "1.1" never uses HTTP/2;
	// "2" insists on HTTP/2 (over plain http:// to a loopback address:
	// HTTP/2 with prior knowledge).
	HTTP string
	// RootCAs replaces the system roots (tests with a private CA).
	RootCAs *x509.CertPool
	// Now reads HTTP-date Retry-After values (default time.Now).
	Now func() time.Time
}

// Client is the HTTP client for AppsFlyer's S2S API. It is safe for
// concurrent use.
type Client struct {
	base      string // scheme://host[/prefix], without a trailing slash
	path      string
	appID     string
	header    http.Header // shared read-only by every request
	token     string
	timeout   time.Duration
	now       func() time.Time
	tr        *http.Transport
	templates sync.Map // app id -> *http.Request, see template
}

// ErrInsecureEndpoint is returned for plain-http endpoints that are not on
// the loopback interface.
var ErrInsecureEndpoint = errors.New("plain http:// is only allowed for loopback endpoints")

// NewClient builds a client. TLS verification is always on; plain http is
// refused unless the host is a loopback address.
func NewClient(o Options) (*Client, error) {
	base := o.Endpoint
	if base == "" {
		base = DefaultEndpoint
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("endpoint %q: not an http(s) URL", base)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("endpoint %q: %w", base, ErrInsecureEndpoint)
	}
	ua := o.UserAgent
	if ua == "" {
		ua = "afimport"
	}
	if !validHeaderValue(o.Token) || !validHeaderValue(ua) {
		// Never echo the token: say only what is wrong with it.
		return nil, errors.New("the API token (or user agent) contains a line break or control character")
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	connect := o.ConnectTimeout
	if connect <= 0 {
		connect = 10 * time.Second
	}
	conns := max(o.MaxInFlight, 1)
	protos := new(http.Protocols)
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: o.RootCAs}
	switch o.HTTP {
	case "", "auto":
		protos.SetHTTP1(true)
		protos.SetHTTP2(true)
		tlsConf.NextProtos = []string{"h2", "http/1.1"}
	case "1.1":
		protos.SetHTTP1(true)
		tlsConf.NextProtos = []string{"http/1.1"}
	case "2":
		protos.SetHTTP2(true)
		protos.SetUnencryptedHTTP2(u.Scheme == "http")
		tlsConf.NextProtos = []string{"h2"}
	default:
		return nil, fmt.Errorf("--http %q: want auto, 1.1 or 2", o.HTTP)
	}
	dial := (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		// Every HTTP/1.1 connection is guarded (see guardConn): over TLS
		// the handshake is made here, so that the guard sits above it.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &guardConn{Conn: c}, nil
		},
		DialTLSContext: dialTLS(dial, tlsConf, connect),
		Protocols:      protos,
		// One host: keep an idle connection for every request that may be
		// in flight, so the pool never closes one only to dial it again.
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: connect,
		// Used by net/http only for TLS through a proxy; dialTLS otherwise.
		TLSClientConfig: tlsConf,
		// Bodies are small JSON; compression costs more CPU than it saves.
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
		// Answers are a few hundred bytes and bodies about one KiB: 2 KiB
		// buffers instead of 4 KiB save ~4 MB at 1,000 connections, and a
		// longer header line or body still goes through, in pieces.
		ReadBufferSize:  2 << 10,
		WriteBufferSize: 2 << 10,
		HTTP2: &http.HTTP2Config{
			// At a server's stream limit, open another connection rather
			// than queueing requests behind the ones in flight.
			StrictMaxConcurrentRequests: false,
			// Notice a dead HTTP/2 connection within seconds, not at the
			// next request's timeout.
			SendPingTimeout: 15 * time.Second,
			PingTimeout:     5 * time.Second,
		},
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	path := EventPath
	if o.Kind == mappings.EndpointVisit {
		path = VisitPath
	}
	return &Client{
		base:  strings.TrimRight(u.String(), "/"),
		path:  path,
		appID: o.AppID,
		header: http.Header{
			"Authorization": {"Bearer " + o.Token},
			"Content-Type":  {"application/json"},
			"User-Agent":    {ua},
		},
		token:   o.Token,
		timeout: timeout,
		now:     now,
		tr:      tr,
	}, nil
}

// URL is the request URL for appID ("" for the client's default app). It
// holds no secret.
func (c *Client) URL(appID string) string {
	u, err := c.urlOf(appID)
	if err != nil {
		return ""
	}
	return u.String()
}

func (c *Client) urlOf(appID string) (*url.URL, error) {
	t, err := c.template(appID)
	if err != nil {
		return nil, err
	}
	return t.URL, nil
}

// template is the request every attempt to appID copies: method, URL,
// headers and host, built once per app. Its header map is shared read-only
// by every copy.
func (c *Client) template(appID string) (*http.Request, error) {
	if appID == "" {
		appID = c.appID
	}
	if t, ok := c.templates.Load(appID); ok {
		return t.(*http.Request), nil
	}
	u, err := url.Parse(c.base + c.path + url.PathEscape(appID))
	if err != nil {
		return nil, err
	}
	t := &http.Request{
		Method:     http.MethodPost,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     c.header,
		Host:       u.Host,
	}
	c.templates.Store(appID, t)
	return t, nil
}

// CloseIdleConnections releases the connection pool.
func (c *Client) CloseIdleConnections() { c.tr.CloseIdleConnections() }

// maxAnswer is how much of an answer is read and parsed; up to maxDrain
// more is read and dropped so the connection can be reused.
const (
	maxAnswer = 8 << 10
	maxDrain  = 1 << 20
)

var answerPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// progress records how far one attempt got, for telling "never reached a
// server" from "the answer was lost".
type progress struct {
	connected, wrote bool
}

// sendState is one attempt's own state: the trace hooks (which may run on
// the transport's goroutines, hence the atomics) and the body's reader.
type sendState struct {
	body             []byte
	reader           bytes.Reader
	trace            httptrace.ClientTrace
	connected, wrote atomic.Bool
}

func (s *sendState) gotConn(httptrace.GotConnInfo) { s.connected.Store(true) }
func (s *sendState) wroteHeaders()                 { s.wrote.Store(true) }

func (s *sendState) getBody() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(s.body)), nil
}

func (s *sendState) progress() progress {
	return progress{connected: s.connected.Load(), wrote: s.wrote.Load()}
}

// Send POSTs body to appID's URL ("" for the client's default app) once.
func (c *Client) Send(ctx context.Context, appID string, body []byte) Response {
	tmpl, err := c.template(appID)
	if err != nil {
		return Response{Err: fmt.Errorf("app id %q does not make a valid URL", appID)}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// One allocation carries the attempt's trace and its body reader.
	st := &sendState{body: body}
	st.trace.GotConn = st.gotConn
	st.trace.WroteHeaders = st.wroteHeaders
	// The template's copy with this attempt's context (one allocation).
	// A NopCloser around a *bytes.Reader, as http.NewRequest makes it:
	// net/http then knows the body is in memory and writes headers and
	// body together; GetBody lets it replay a request that provably was
	// not sent (a connection found dead before writing) without a copy.
	req := tmpl.WithContext(httptrace.WithClientTrace(ctx, &st.trace))
	st.reader.Reset(body)
	req.Body = io.NopCloser(&st.reader)
	req.ContentLength = int64(len(body))
	req.GetBody = st.getBody
	if len(body) == 0 {
		req.Body, req.GetBody = http.NoBody, nil
	}
	// The Transport, not an http.Client: a client would follow a redirect
	// (re-sending the POST elsewhere, or as a GET without its body).
	hr, err := c.tr.RoundTrip(req)
	if err != nil {
		p := st.progress()
		return Response{Err: c.redact(describe(err, p)), Reached: p.wrote}
	}
	defer hr.Body.Close()
	resp := Response{Status: hr.StatusCode, Reached: true}
	bp := answerPool.Get().(*[]byte)
	defer answerPool.Put(bp)
	raw, err := readAnswer((*bp)[:0], hr.Body)
	*bp = raw[:0]
	if err != nil && hr.StatusCode/100 != 2 {
		resp.Err = c.redact(describe(err, progress{connected: true, wrote: true}))
	}
	if hr.StatusCode/100 == 3 {
		resp.Location = c.redactString(hr.Header.Get("Location"))
	}
	// Redact before parsing and cutting to an excerpt: a token cut in two
	// by the excerpt would no longer match, and its prefix would leak.
	if c.token != "" && bytes.Contains(raw, []byte(c.token)) {
		raw = []byte(Redact(string(raw), c.token))
	}
	resp.MessageID, resp.Message = parseAnswer(raw)
	if v := hr.Header["Retry-After"]; len(v) > 0 {
		resp.RetryAfter, resp.HasRetryAfter = ParseRetryAfter(v[0], c.now())
	}
	return resp
}

// validHeaderValue reports whether v can be sent as a header value: no
// control characters (a line break would inject headers).
func validHeaderValue(v string) bool {
	for i := range len(v) {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// readAnswer appends up to maxAnswer bytes of r to buf and drains up to
// maxDrain more, so that the connection can be reused.
func readAnswer(buf []byte, r io.Reader) ([]byte, error) {
	for len(buf) < maxAnswer {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), maxAnswer)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	_, err := io.Copy(io.Discard, io.LimitReader(r, maxDrain))
	return buf, err
}

// parseAnswer pulls messageId and message out of an API answer, falling
// back to a short excerpt of a body that is not JSON.
func parseAnswer(raw []byte) (id, msg string) {
	if id, msg, ok := parseFlatAnswer(raw); ok {
		return id, msg
	}
	return parseAnswerSlow(raw)
}

// parseAnswerSlow is parseAnswer without its fast path: encoding/json, or
// an excerpt of a body that is not JSON. The fast path must agree with it.
func parseAnswerSlow(raw []byte) (id, msg string) {
	var a struct {
		MessageID  string `json:"messageId"`
		MessageID2 string `json:"message_id"`
		Message    string `json:"message"`
		Error      string `json:"error"`
	}
	if len(raw) > 0 && json.Unmarshal(raw, &a) == nil {
		id = a.MessageID
		if id == "" {
			id = a.MessageID2
		}
		msg = a.Message
		if msg == "" {
			msg = a.Error
		}
		return id, msg
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return "", strings.ToValidUTF8(s, "?")
}

// parseFlatAnswer is parseAnswer's fast path for the usual answer, a flat
// JSON object of plain strings ({"status":"ok","messageId":"..."}): it
// gives what json.Unmarshal into parseAnswer's struct gives (keys matched
// case-insensitively, the last duplicate wins). Anything else (escapes,
// non-ASCII keys, other value kinds, invalid UTF-8, trailing data) reports
// false, and parseAnswer takes the general path.
func parseFlatAnswer(raw []byte) (id, msg string, ok bool) {
	var id1, id2, m1, m2 []byte
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return "", "", false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		i++
	} else {
		for {
			key, next, ok := flatString(raw, i)
			if !ok {
				return "", "", false
			}
			for _, c := range key {
				if c >= utf8.RuneSelf {
					return "", "", false
				}
			}
			i = skipSpace(raw, next)
			if i >= len(raw) || raw[i] != ':' {
				return "", "", false
			}
			val, next, ok := flatString(raw, skipSpace(raw, i+1))
			if !ok || !utf8.Valid(val) {
				return "", "", false
			}
			switch {
			case bytes.EqualFold(key, []byte("messageId")):
				id1 = val
			case bytes.EqualFold(key, []byte("message_id")):
				id2 = val
			case bytes.EqualFold(key, []byte("message")):
				m1 = val
			case bytes.EqualFold(key, []byte("error")):
				m2 = val
			}
			i = skipSpace(raw, next)
			if i < len(raw) && raw[i] == ',' {
				i = skipSpace(raw, i+1)
				continue
			}
			if i < len(raw) && raw[i] == '}' {
				i++
				break
			}
			return "", "", false
		}
	}
	if skipSpace(raw, i) != len(raw) {
		return "", "", false
	}
	if len(id1) == 0 {
		id1 = id2
	}
	if len(m1) == 0 {
		m1 = m2
	}
	return string(id1), string(m1), true
}

// flatString reads a JSON string without escapes or control characters at
// raw[i:], returning its contents and the index after the closing quote.
func flatString(raw []byte, i int) ([]byte, int, bool) {
	if i >= len(raw) || raw[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(raw); j++ {
		switch c := raw[j]; {
		case c == '"':
			return raw[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// ParseRetryAfter reads a Retry-After value: delta-seconds or an HTTP-date
// (relative to now). It does not cap the result; the importer does.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		// Past ~290 years a Duration overflows; a day is plenty to mean "long".
		return time.Duration(min(n, 86400)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), 24*time.Hour), true
	}
	return 0, false
}

func (c *Client) redact(err error) error {
	if err == nil || c.token == "" || !strings.Contains(err.Error(), c.token) {
		return err
	}
	return errors.New(c.redactString(err.Error()))
}

// redactString replaces the token where it stands whole: not inside a
// longer word, so that a short token typed while trying things ("x") does
// not turn every x of a message into [REDACTED].
func (c *Client) redactString(s string) string {
	return Redact(s, c.token)
}

// Redact replaces each whole occurrence of token in s with [REDACTED]: one
// not preceded or followed by a letter, digit, '-' or '_'.
func Redact(s, token string) string {
	if token == "" || !strings.Contains(s, token) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, token)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := i + len(token)
		whole := (i == 0 || !tokenByte(s[i-1])) && (j == len(s) || !tokenByte(s[j]))
		b.WriteString(s[:i])
		if whole {
			b.WriteString("[REDACTED]")
		} else {
			b.WriteString(token)
		}
		s = s[j:]
	}
}

func tokenByte(c byte) bool {
	return c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
