package s2stest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// API paths, each followed by the app id.
const (
	EventPath = "/v2.0/s2s/inapps/app/web/"
	VisitPath = "/v2.0/s2s/visits/app/web/"
)

// Control paths, outside the API.
const (
	StatsPath = "/_mock/stats"
	ResetPath = "/_mock/reset"
)

// Handler is the mock as an http.Handler, for embedding in another server.
// It is safe for concurrent use.
type Handler struct {
	cfg      Config
	token    []byte
	known    map[string]bool
	blocked  map[string]bool
	now      func() time.Time
	tz       *time.Location
	maxBody  int64
	msgPfx   string
	limiter  *bucket
	seq      atomic.Uint64 // request sequence number, for the random draws
	msgSeq   atomic.Uint64
	counters *counters

	scriptMu   sync.Mutex
	scriptSeen map[string]int
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a mock configured by cfg. It panics if cfg.Validate
// fails, as a test helper should.
func NewHandler(cfg Config) *Handler {
	if err := cfg.Validate(); err != nil {
		panic("s2stest: " + err.Error())
	}
	h := &Handler{
		cfg:        cfg,
		token:      []byte(cfg.Token),
		now:        cfg.Now,
		tz:         cfg.AppTimezone,
		maxBody:    cfg.MaxBodyBytes,
		counters:   newCounters(cfg.KeepBodies),
		scriptSeen: make(map[string]int),
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.tz == nil {
		h.tz = time.UTC
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if len(cfg.KnownApps) > 0 {
		h.known = setOf(cfg.KnownApps)
	}
	h.blocked = setOf(cfg.BlockedApps)
	if cfg.RateLimit > 0 {
		h.limiter = newBucket(cfg.RateLimit, math.Max(1, cfg.RateLimit/10))
	}
	var p [4]byte
	_, _ = rand.Read(p[:])
	h.msgPfx = "mock-" + hex.EncodeToString(p[:]) + "-"
	return h
}

func setOf(ss []string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}

// Stats returns a snapshot of the counters.
func (h *Handler) Stats() Stats { return h.counters.snapshot() }

// Reset clears the counters and the Script progress.
func (h *Handler) Reset() {
	h.counters.reset()
	h.scriptMu.Lock()
	h.scriptSeen = make(map[string]int)
	h.scriptMu.Unlock()
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ServeHTTP answers one request; see the package documentation for the order
// of the checks.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch path {
	case StatsPath:
		h.serveStats(w, r)
		return
	case ResetPath:
		h.serveReset(w, r)
		return
	}

	h.counters.arrived(time.Now().Unix())
	n := h.seq.Add(1)

	var ep endpoint
	var app string
	switch {
	case strings.HasPrefix(path, EventPath):
		ep, app = eventEndpoint, path[len(EventPath):]
	case strings.HasPrefix(path, VisitPath):
		ep, app = visitEndpoint, path[len(VisitPath):]
	default:
		h.fail(w, http.StatusNotFound, msgNotFound)
		return
	}
	if app == "" || strings.IndexByte(app, '/') >= 0 {
		h.fail(w, http.StatusNotFound, msgNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, http.StatusMethodNotAllowed, msgMethod)
		return
	}

	// Read the body before serving the latency: only then does net/http
	// notice a client that goes away and cancel the request context.
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 64<<10 { // don't pin huge buffers
			bufPool.Put(buf)
		}
	}()
	if r.ContentLength > h.maxBody {
		h.fail(w, http.StatusRequestEntityTooLarge, msgTooLarge)
		return
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.maxBody)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.fail(w, http.StatusRequestEntityTooLarge, msgTooLarge)
			return
		}
		h.counters.canceled.Add(1) // client went away mid-body
		return
	}
	body := buf.Bytes()

	if d := h.cfg.Latency + jitter(h.cfg.Jitter, draw(h.cfg.Seed, n, 1)); !h.sleep(r.Context(), d) {
		return
	}
	if msg := h.checkAuth(r.Header.Get("Authorization")); msg != nil {
		h.fail(w, http.StatusUnauthorized, msg)
		return
	}
	if !jsonContentType(r.Header.Get("Content-Type")) {
		h.fail(w, http.StatusUnsupportedMediaType, msgMediaType)
		return
	}
	if h.known != nil && !h.known[app] {
		h.fail(w, http.StatusUnauthorized, msgNoApp)
		return
	}
	if h.blocked[app] {
		h.fail(w, http.StatusForbidden, msgBlocked)
		return
	}
	if h.limiter != nil && !h.limiter.allow(time.Now()) {
		w.Header().Set("Retry-After", "1")
		h.fail(w, http.StatusTooManyRequests, msgRateLimited)
		return
	}

	if len(body) == 0 {
		h.fail(w, http.StatusBadRequest, errorBody("body is empty"))
		return
	}
	acc, verr := validate(ep, body)

	if len(h.cfg.Script) > 0 {
		if step, ok := h.scriptStep(acc, verr, body); ok {
			if !h.sleep(r.Context(), step.Delay) {
				return
			}
			if step.Drop {
				h.drop(w)
				return
			}
			if step.Status != 0 && step.Status != http.StatusAccepted {
				if step.RetryAfter != "" {
					w.Header().Set("Retry-After", step.RetryAfter)
				}
				h.fail(w, step.Status, errorBody("scripted "+strconv.Itoa(step.Status)))
				return
			}
		}
	}

	if f := h.cfg.Faults; f.P429+f.P5xx+f.PDrop > 0 {
		u := draw(h.cfg.Seed, n, 2)
		switch {
		case u < f.PDrop:
			h.drop(w)
			return
		case u < f.PDrop+f.P429:
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			h.fail(w, http.StatusTooManyRequests, msgFault429)
			return
		case u < f.PDrop+f.P429+f.P5xx:
			code := fault5xx[int(draw(h.cfg.Seed, n, 3)*float64(len(fault5xx)))%len(fault5xx)]
			if code == http.StatusServiceUnavailable && f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			h.fail(w, code, msgFault5xx)
			return
		}
	}

	if verr != nil {
		h.fail(w, http.StatusBadRequest, errorBody(verr.Error()))
		return
	}
	late := acc.hasTimestamp && h.isLate(acc.timestamp)
	h.counters.accept(acc.dedupID, acc.hasDedupID, late, body)

	var out [96]byte
	b := append(out[:0], `{"status":"ok","message":"accepted","messageId":"`...)
	b = append(b, h.msgPfx...)
	b = strconv.AppendUint(b, h.msgSeq.Add(1), 10)
	b = append(b, `"}`...)
	h.write(w, http.StatusAccepted, b)
}

var fault5xx = [...]int{500, 502, 503, 504}

// isLate reports whether a row stamped ts (Unix ms) arrives past its late
// acceptance window: 00:30 on the calendar day after its date in the app's
// timezone. time.Date normalizes a 00:30 that a DST change skips.
func (h *Handler) isLate(ts int64) bool {
	t := time.UnixMilli(ts).In(h.tz)
	y, m, d := t.Date()
	deadline := time.Date(y, m, d+1, 0, 30, 0, 0, h.tz)
	return h.now().After(deadline)
}

func (h *Handler) checkAuth(v string) []byte {
	const scheme = "Bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return msgNoToken
	}
	tok := v[len(scheme):]
	if strings.TrimSpace(tok) == "" {
		return msgNoToken
	}
	if len(h.token) > 0 && subtle.ConstantTimeCompare([]byte(tok), h.token) != 1 {
		return msgBadToken
	}
	return nil
}

// jsonContentType accepts application/json with at most a charset=utf-8
// parameter.
func jsonContentType(v string) bool {
	if v == "application/json" {
		return true
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || mt != "application/json" {
		return false
	}
	for k, val := range params {
		if k != "charset" || !strings.EqualFold(val, "utf-8") {
			return false
		}
	}
	return true
}

// scriptStep returns the step for this request's key, if any, and advances
// the key's count.
func (h *Handler) scriptStep(acc accepted, verr *fieldError, body []byte) (Step, bool) {
	var key string
	if verr == nil && acc.hasDedupID {
		key = "id:" + acc.dedupID
	} else if id, ok := dedupIDOf(body); ok {
		key = "id:" + id
	} else {
		sum := sha256.Sum256(body)
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	h.scriptMu.Lock()
	i := h.scriptSeen[key]
	h.scriptSeen[key] = i + 1
	h.scriptMu.Unlock()
	if i < len(h.cfg.Script) {
		return h.cfg.Script[i], true
	}
	return Step{}, false
}

// dedupIDOf finds a string customer_dedup_id (exact key) in a body that
// failed validation for another reason.
func dedupIDOf(body []byte) (string, bool) {
	if !json.Valid(body) || body[skipWS(body, 0)] != '{' {
		return "", false
	}
	var id []byte
	_ = eachMember(body, func(key, val []byte) *fieldError {
		if string(key) == "customer_dedup_id" {
			id, _ = stringField("", val)
		}
		return nil
	})
	return string(id), id != nil
}

// sleep waits d, or until ctx is done; then it counts the request canceled
// and reports false.
func (h *Handler) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		h.counters.canceled.Add(1)
		return false
	}
}

// drop closes the connection without an answer: the client sees EOF.
func (h *Handler) drop(w http.ResponseWriter) {
	h.counters.dropped.Add(1)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2 or a recorder: abort the stream
	}
	_ = conn.Close()
}

func (h *Handler) fail(w http.ResponseWriter, code int, body []byte) {
	h.write(w, code, body)
}

func (h *Handler) write(w http.ResponseWriter, code int, body []byte) {
	h.counters.status(code)
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func (h *Handler) serveStats(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeControl(w, http.StatusMethodNotAllowed, msgMethod)
		return
	}
	b, err := json.Marshal(h.Stats())
	if err != nil {
		writeControl(w, http.StatusInternalServerError, errorBody(err.Error()))
		return
	}
	writeControl(w, http.StatusOK, b)
}

func (h *Handler) serveReset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeControl(w, http.StatusMethodNotAllowed, msgMethod)
		return
	}
	h.Reset()
	writeControl(w, http.StatusOK, []byte(`{"status":"ok","message":"reset"}`))
}

func writeControl(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// errorBody is the API's error answer. msg must never contain the token or
// a field value.
func errorBody(msg string) []byte {
	b, _ := json.Marshal(struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}{"error", msg})
	return b
}

var (
	msgNotFound    = errorBody("not found")
	msgMethod      = errorBody("method not allowed")
	msgNoToken     = errorBody("authentication failed: missing Authorization: Bearer token")
	msgBadToken    = errorBody("authentication failed: invalid token")
	msgNoApp       = errorBody("app does not exist")
	msgBlocked     = errorBody("app traffic is blocked")
	msgMediaType   = errorBody("Content-Type must be application/json")
	msgRateLimited = errorBody("rate limit exceeded")
	msgTooLarge    = errorBody("request body too large")
	msgFault429    = errorBody("too many requests")
	msgFault5xx    = errorBody("internal error")
)

// draw returns a uniform float in [0, 1) determined by seed, the request's
// sequence number n and a stream number, without shared state.
func draw(seed int64, n, stream uint64) float64 {
	x := uint64(seed) ^ n*0x9e3779b97f4a7c15 ^ stream*0xbf58476d1ce4e5b9
	// splitmix64 finalizer
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

func jitter(max time.Duration, u float64) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(u * float64(max))
}

// bucket is a token bucket: rate tokens per second, up to burst.
type bucket struct {
	mu          sync.Mutex
	rate, burst float64
	tokens      float64
	last        time.Time
}

func newBucket(rate, burst float64) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst}
}

func (b *bucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}
