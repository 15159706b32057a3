package importer

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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
	// Now is the clock used to read HTTP-date Retry-After values.
	Now func() time.Time
}

// Client is the HTTP Sender for AppsFlyer's S2S API.
type Client struct {
	url     string
	auth    string
	token   string
	ua      string
	timeout time.Duration
	now     func() time.Time
	hc      *http.Client
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
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
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
	return &Client{
		url:     strings.TrimRight(u.String(), "/") + path + url.PathEscape(o.AppID),
		auth:    "Bearer " + o.Token,
		token:   o.Token,
		ua:      ua,
		timeout: timeout,
		now:     now,
		hc:      &http.Client{Transport: tr},
	}, nil
}

// URL is the full request URL (it holds no secret).
func (c *Client) URL() string { return c.url }

// CloseIdleConnections releases the connection pool.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Send POSTs body once.
func (c *Client) Send(ctx context.Context, body []byte) (resp Response) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return Response{Err: c.redact(err)}
	}
	req.Header = http.Header{
		"Authorization": {c.auth},
		"Content-Type":  {"application/json"},
		"User-Agent":    {c.ua},
	}
	// GetBody lets net/http replay the body on a connection that died
	// before the request was written, without copying it.
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	hr, err := c.hc.Do(req)
	if err != nil {
		return Response{Err: c.redact(err)}
	}
	defer hr.Body.Close()
	const maxBody = 8 << 10
	raw, err := io.ReadAll(io.LimitReader(hr.Body, maxBody))
	// Drain what is left so the connection is reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, 1<<20))
	resp.Status = hr.StatusCode
	if err != nil && hr.StatusCode/100 != 2 {
		resp.Err = c.redact(err)
	}
	resp.MessageID, resp.Message = parseAnswer(raw)
	resp.Message = c.redactString(resp.Message)
	if d, ok := parseRetryAfter(hr.Header.Get("Retry-After"), c.now()); ok {
		resp.RetryAfter, resp.HasRetryAfter = d, true
	}
	return resp
}

// parseAnswer pulls messageId and message out of an API answer, falling back
// to a short excerpt of a non-JSON body.
func parseAnswer(raw []byte) (id, msg string) {
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
