package importer

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
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"afimport/mappings"
)

// DefaultEndpoint is AppsFlyer's S2S base URL.
const DefaultEndpoint = "https://events.appsflyer.com"

// Response is what one attempt to send a payload produced. Err is set when
// no HTTP answer arrived (timeout, reset, refused); Status is 0 then.
type Response struct {
	Status        int
	MessageID     string
	Message       string        // the API's message (or a short body excerpt), token-redacted
	RetryAfter    time.Duration // from Retry-After; valid when HasRetryAfter
	HasRetryAfter bool
	Err           error
}

// Sender sends one payload body and reports what came back. It must be safe
// for concurrent use and must not retry: the importer owns retries.
type Sender interface {
	Send(ctx context.Context, body []byte) Response
}

// SenderFunc adapts a function to Sender, like http.HandlerFunc.
type SenderFunc func(ctx context.Context, body []byte) Response

// Send calls f(ctx, body).
func (f SenderFunc) Send(ctx context.Context, body []byte) Response { return f(ctx, body) }

// ClientOptions configure the HTTP S2S client.
type ClientOptions struct {
	Endpoint    string // base URL, DefaultEndpoint when empty
	AppID       string
	Kind        mappings.Endpoint
	Token       string
	Timeout     time.Duration // per attempt; 0 = 30s
	Concurrency int           // sizes the idle connection pool
	UserAgent   string
	// HTTP picks the client: "auto" (or empty) uses afimport's HTTP/1.1
	// fast path unless the server offers HTTP/2 or a proxy is configured,
	// then Go's net/http; "1.1" insists on the fast path (no HTTP/2
	// offered) unless a proxy is configured; "2" always uses net/http
	// (HTTP/2 when the server offers it).
	HTTP string
	// RootCAs replaces the system roots (tests with a private CA).
	RootCAs *x509.CertPool
	// Now is the clock used to read HTTP-date Retry-After values.
	Now func() time.Time
}

// Client is the HTTP Sender for AppsFlyer's S2S API.
type Client struct {
	url     string
	u       *url.URL    // parsed url, shared read-only by every request
	header  http.Header // shared read-only by every request
	token   string
	timeout time.Duration
	now     func() time.Time
	tr      *http.Transport
	hc      *http.Client // for the rare redirect; see Send
	h1      *h1          // nil: always net/http
}

var _ Sender = (*Client)(nil)

// ErrInsecureEndpoint is returned for plain-http endpoints that are not on
// the loopback interface.
var ErrInsecureEndpoint = errors.New("plain http:// is only allowed for loopback endpoints")

// NewClient builds a client. TLS verification is always on; plain http is
// refused unless the host is a loopback address.
func NewClient(o ClientOptions) (*Client, error) {
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
	path := "/v2.0/s2s/inapps/app/web/"
	if o.Kind == mappings.EndpointVisit {
		path = "/v2.0/s2s/visits/app/web/"
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	conc := max(o.Concurrency, 1)
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        conc * 2,
		MaxIdleConnsPerHost: conc * 2,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: o.RootCAs},
		// Bodies are small JSON; compression costs more CPU than it saves.
		DisableCompression: true,
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	ua := o.UserAgent
	if ua == "" {
		ua = "afimport"
	}
	full := strings.TrimRight(u.String(), "/") + path + url.PathEscape(o.AppID)
	fu, err := url.Parse(full)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", base, err)
	}
	if !validHeaderValue(o.Token) || !validHeaderValue(ua) {
		// Never echo the token: say only what is wrong with it.
		return nil, errors.New("the API token (or user agent) contains a line break or control character")
	}
	var fast *h1
	switch o.HTTP {
	case "", "auto", "1.1":
		if proxy, err := http.ProxyFromEnvironment(&http.Request{URL: fu}); err != nil || proxy != nil {
			break // net/http speaks to proxies
		}
		port := fu.Port()
		var tlsConf *tls.Config
		if fu.Scheme == "https" {
			if port == "" {
				port = "443"
			}
			protos := []string{"h2", "http/1.1"}
			if o.HTTP == "1.1" {
				protos = protos[1:]
			}
			tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: o.RootCAs,
				ServerName: fu.Hostname(), NextProtos: protos}
		} else if port == "" {
			port = "80"
		}
		head := "POST " + fu.RequestURI() + " HTTP/1.1\r\nHost: " + fu.Host +
			"\r\nUser-Agent: " + ua + "\r\nContent-Type: application/json\r\n"
		if o.Token != "" {
			head += "Authorization: Bearer " + o.Token + "\r\n"
		}
		head += "Content-Length: "
		fast = newH1(net.JoinHostPort(fu.Hostname(), port), tlsConf, []byte(head), conc*2)
	case "2":
	default:
		return nil, fmt.Errorf("HTTP %q: want auto, 1.1 or 2", o.HTTP)
	}
	return &Client{
		h1:  fast,
		url: full,
		u:   fu,
		header: http.Header{
			"Authorization": {"Bearer " + o.Token},
			"Content-Type":  {"application/json"},
			"User-Agent":    {ua},
		},
		token:   o.Token,
		timeout: timeout,
		now:     now,
		tr:      tr,
		hc:      &http.Client{Transport: tr},
	}, nil
}

// URL is the full request URL (it holds no secret).
func (c *Client) URL() string { return c.url }

// CloseIdleConnections releases the connection pools.
func (c *Client) CloseIdleConnections() {
	c.hc.CloseIdleConnections()
	if c.h1 != nil {
		c.h1.closeIdle()
	}
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

// maxAnswer is how much of an answer is read and parsed; the rest is
// drained (up to 1 MiB) so the connection is reused.
const maxAnswer = 8 << 10

var answerPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Send POSTs body once: through the HTTP/1.1 fast path (see h1) unless
// the server offered HTTP/2, a proxy is configured, or ClientOptions.HTTP
// says otherwise; then through net/http.
func (c *Client) Send(ctx context.Context, body []byte) Response {
	if c.h1 != nil && !c.h1.offersH2() {
		if resp, ok := c.sendH1(ctx, body); ok {
			return resp
		}
	}
	return c.sendStd(ctx, body)
}

// sendH1 sends through the HTTP/1.1 fast path; ok false means the server
// offers HTTP/2 and nothing was sent.
func (c *Client) sendH1(ctx context.Context, body []byte) (resp Response, ok bool) {
	deadline := time.Now().Add(c.timeout)
	if d, has := ctx.Deadline(); has && d.Before(deadline) {
		deadline = d
	}
	bp := answerPool.Get().(*[]byte)
	defer answerPool.Put(bp)
	ans, err := c.h1.do(ctx, deadline, body, (*bp)[:0])
	*bp = ans.body[:0] // keep a grown buffer for the next answer
	if errors.Is(err, errServerOffersH2) {
		return Response{}, false
	}
	if ans.status < 200 {
		// No final answer arrived. As http.Client reports it:
		// Post "url": cause.
		return Response{Err: c.redact(&url.Error{Op: "Post", URL: c.url, Err: err})}, true
	}
	if isRedirect(ans.status) {
		return c.sendStd(ctx, body), true
	}
	resp.Status = ans.status
	if err != nil && ans.status/100 != 2 {
		resp.Err = c.redact(err)
	}
	c.fillAnswer(&resp, ans.body, ans.retryAfter, ans.hasRetry)
	return resp, true
}

// fillAnswer fills resp from an answer's body and Retry-After header.
func (c *Client) fillAnswer(resp *Response, raw []byte, retryAfter string, hasRetryAfter bool) {
	// Redact before parsing and cutting to an excerpt: a token cut in two
	// by the excerpt would no longer match, and its prefix would leak.
	if c.token != "" && bytes.Contains(raw, []byte(c.token)) {
		raw = bytes.ReplaceAll(raw, []byte(c.token), []byte("[REDACTED]"))
	}
	resp.MessageID, resp.Message = parseAnswer(raw)
	if hasRetryAfter {
		if d, ok := parseRetryAfter(retryAfter, c.now()); ok {
			resp.RetryAfter, resp.HasRetryAfter = d, true
		}
	}
}

// sendStd sends through net/http.
//
// It hands the request straight to the Transport: http.Client.Do would
// clone the headers and re-parse the URL of every request for a redirect
// that the S2S API never sends. The headers and URL are built once and
// shared read-only. Should an answer be a redirect after all, the request
// is sent again through an http.Client, which follows it as before.
func (c *Client) sendStd(ctx context.Context, body []byte) (resp Response) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// A NopCloser around a *bytes.Reader, as http.NewRequest makes it:
	// net/http then knows the body is in memory and writes headers and
	// body with one system call.
	var rbody io.ReadCloser = io.NopCloser(bytes.NewReader(body))
	if len(body) == 0 {
		rbody = http.NoBody
	}
	req := (&http.Request{
		Method:        http.MethodPost,
		URL:           c.u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        c.header,
		Body:          rbody,
		ContentLength: int64(len(body)),
		Host:          c.u.Host,
		// GetBody lets net/http replay the body on a connection that died
		// before the request was written, without copying it.
		GetBody: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil },
	}).WithContext(ctx)
	hr, err := c.tr.RoundTrip(req)
	if err == nil && isRedirect(hr.StatusCode) {
		drain(hr.Body)
		req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
		if rerr != nil {
			return Response{Err: c.redact(rerr)}
		}
		req.Header = c.header.Clone()
		hr, err = c.hc.Do(req)
	} else if err != nil {
		// As http.Client reports it: Post "url": cause.
		err = &url.Error{Op: "Post", URL: c.url, Err: err}
	}
	if err != nil {
		return Response{Err: c.redact(err)}
	}
	defer hr.Body.Close()
	bp := answerPool.Get().(*[]byte)
	defer answerPool.Put(bp)
	raw, err := readAnswer((*bp)[:0], hr.Body)
	*bp = raw[:0]
	resp.Status = hr.StatusCode
	if err != nil && hr.StatusCode/100 != 2 {
		resp.Err = c.redact(err)
	}
	v := hr.Header["Retry-After"]
	c.fillAnswer(&resp, raw, firstOr(v, ""), len(v) > 0)
	return resp
}

func firstOr(v []string, def string) string {
	if len(v) > 0 {
		return v[0]
	}
	return def
}

func isRedirect(code int) bool {
	switch code {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// readAnswer appends up to maxAnswer bytes of r to buf, as
// io.ReadAll(io.LimitReader(r, maxAnswer)) would, and drains what is left.
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
	drain(r)
	return buf, nil
}

// drain reads what is left of a body (up to 1 MiB) so the connection is
// reused.
func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 1<<20))
}

// parseAnswer pulls messageId and message out of an API answer, falling back
// to a short excerpt of a non-JSON body.
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

// parseRetryAfter reads delta-seconds or an HTTP-date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 3600)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		return min(max(d, 0), time.Hour), true
	}
	return 0, false
}

func (c *Client) redact(err error) error {
	if c.token == "" || !strings.Contains(err.Error(), c.token) {
		return err
	}
	return errors.New(c.redactString(err.Error()))
}

func (c *Client) redactString(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "[REDACTED]")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
