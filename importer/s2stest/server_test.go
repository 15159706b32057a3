package s2stest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHTTPContract(t *testing.T) {
	srv := NewServer(Config{
		Token:       testToken,
		BlockedApps: []string{"website-blocked.example.com"},
		KnownApps:   []string{testApp, "website-blocked.example.com"},
	})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	ev := body("event")
	for _, tc := range []struct {
		name, method, path string
		hdr                []string
		status             int
		message            string
	}{
		{"accepted", "POST", EventPath + testApp, nil, 202, ""},
		{"visit accepted", "POST", VisitPath + testApp, nil, 202, ""},
		{"no Authorization", "POST", EventPath + testApp, []string{"Authorization", ""}, 401, "authentication failed: missing Authorization: Bearer token"},
		{"empty bearer", "POST", EventPath + testApp, []string{"Authorization", "Bearer "}, 401, "authentication failed: missing Authorization: Bearer token"},
		{"basic scheme", "POST", EventPath + testApp, []string{"Authorization", "Basic " + testToken}, 401, "authentication failed: missing Authorization: Bearer token"},
		{"token without scheme", "POST", EventPath + testApp, []string{"Authorization", testToken}, 401, "authentication failed: missing Authorization: Bearer token"},
		{"wrong token", "POST", EventPath + testApp, []string{"Authorization", "Bearer " + wrongToken}, 401, "authentication failed: invalid token"},
		{"token prefix", "POST", EventPath + testApp, []string{"Authorization", "Bearer " + testToken[:5]}, 401, "authentication failed: invalid token"},
		{"lower-case scheme", "POST", EventPath + testApp, []string{"Authorization", "bearer " + testToken}, 202, ""},
		{"unknown app", "POST", EventPath + "website-other.example.com", nil, 401, "app does not exist"},
		{"blocked app", "POST", EventPath + "website-blocked.example.com", nil, 403, "app traffic is blocked"},
		{"blocked app visit", "POST", VisitPath + "website-blocked.example.com", nil, 403, "app traffic is blocked"},
		{"no Content-Type", "POST", EventPath + testApp, []string{"Content-Type", ""}, 415, "Content-Type must be application/json"},
		{"text/plain", "POST", EventPath + testApp, []string{"Content-Type", "text/plain"}, 415, "Content-Type must be application/json"},
		{"form", "POST", EventPath + testApp, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "Content-Type must be application/json"},
		{"latin1 charset", "POST", EventPath + testApp, []string{"Content-Type", "application/json; charset=iso-8859-1"}, 415, "Content-Type must be application/json"},
		{"other parameter", "POST", EventPath + testApp, []string{"Content-Type", "application/json; boundary=x"}, 415, "Content-Type must be application/json"},
		{"utf-8 charset", "POST", EventPath + testApp, []string{"Content-Type", "application/json; charset=utf-8"}, 202, ""},
		{"upper-case media type", "POST", EventPath + testApp, []string{"Content-Type", "Application/JSON;charset=UTF-8"}, 202, ""},
		{"GET", "GET", EventPath + testApp, nil, 405, "method not allowed"},
		{"PUT", "PUT", VisitPath + testApp, nil, 405, "method not allowed"},
		{"no app id", "POST", EventPath, nil, 404, "not found"},
		{"app id with slash", "POST", EventPath + testApp + "/x", nil, 404, "not found"},
		{"v1 path", "POST", "/v1.0/s2s/inapps/app/web/" + testApp, nil, 404, "not found"},
		{"mobile path", "POST", "/v2.0/s2s/inapps/app/" + testApp, nil, 404, "not found"},
		{"root", "POST", "/", nil, 404, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ev
			if strings.HasPrefix(tc.path, VisitPath) {
				b = body("visit")
			}
			got := do(t, c, tc.method, srv.URL()+tc.path, b, tc.hdr...)
			require.NoError(t, got.err)
			assert.Equal(t, tc.status, got.status, got.body)
			assertNoSecret(t, got)
			if tc.message != "" {
				assert.JSONEq(t, `{"status":"error","message":"`+tc.message+`"}`, got.body)
			}
			if tc.status == 405 {
				assert.Equal(t, "POST", got.header.Get("Allow"))
			}
		})
	}
	st := srv.Stats()
	assert.EqualValues(t, 26, st.Requests)
	assert.EqualValues(t, 5, st.Accepted)
	assert.Equal(t, map[int]int64{202: 5, 401: 7, 403: 2, 415: 5, 405: 2, 404: 5}, st.ByStatus)
}

func TestAnyTokenWhenUnset(t *testing.T) {
	srv := NewServer(Config{})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	assert.Equal(t, 202, do(t, c, "POST", srv.EventURL("any-app"), body("event"), "Authorization", "Bearer anything").status)
	assert.Equal(t, 401, do(t, c, "POST", srv.EventURL("any-app"), body("event"), "Authorization", "").status)
}

func TestBodyTooLarge(t *testing.T) {
	srv := NewServer(Config{MaxBodyBytes: 1000})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	big := body("event", "user_agent", q(strings.Repeat("a", 1000)))
	got := do(t, c, "POST", srv.EventURL(testApp), big)
	require.NoError(t, got.err)
	assert.Equal(t, 413, got.status)

	// Without a Content-Length the limit still holds.
	req, err := http.NewRequest("POST", srv.EventURL(testApp), io.MultiReader(strings.NewReader(big)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer x")
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1 // chunked
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 413, resp.StatusCode)

	def := NewServer(Config{})
	t.Cleanup(def.Close)
	huge := body("event", "event_value", `{"x":"`+strings.Repeat("a", DefaultMaxBodyBytes)+`"}`)
	assert.Equal(t, 413, do(t, c, "POST", def.EventURL(testApp), huge).status)
}

// outcome is a status, or -1 for a transport error.
func outcome(r reply) int {
	if r.err != nil {
		return -1
	}
	return r.status
}

func TestScript(t *testing.T) {
	withID := func(id string) string { return body("event", "customer_dedup_id", q(id)) }
	for _, tc := range []struct {
		name   string
		script []Step
		want   []int // outcomes for successive requests of one id
	}{
		{"429 then accepted", []Step{{Status: 429, RetryAfter: "2"}}, []int{429, 202, 202}},
		{"500 x3 then accepted", []Step{{Status: 500}, {Status: 500}, {Status: 500}}, []int{500, 500, 500, 202}},
		{"drop then accepted", []Step{{Drop: true}}, []int{-1, 202}},
		{"503 then drop then 202", []Step{{Status: 503, RetryAfter: "1"}, {Drop: true}, {Status: 0}}, []int{503, -1, 202, 202}},
		{"status 202 is normal", []Step{{Status: 202}}, []int{202, 202}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := NewServer(Config{Script: tc.script})
			t.Cleanup(srv.Close)
			c := newClient(t, 5*time.Second)
			var got []int
			for i := range tc.want {
				r := do(t, c, "POST", srv.EventURL(testApp), withID("renewal-1"))
				got = append(got, outcome(r))
				if i < len(tc.script) && tc.script[i].RetryAfter != "" {
					assert.Equal(t, tc.script[i].RetryAfter, r.header.Get("Retry-After"))
				}
				if r.err != nil {
					assert.True(t, errors.Is(r.err, io.EOF) || strings.Contains(r.err.Error(), "EOF") ||
						strings.Contains(r.err.Error(), "reset"), "want EOF or reset, got %v", r.err)
				}
			}
			assert.Equal(t, tc.want, got)
			// Another id starts the script afresh.
			assert.Equal(t, tc.want[0], outcome(do(t, c, "POST", srv.EventURL(testApp), withID("renewal-2"))))
			st := srv.Stats()
			accepted := 0
			for _, o := range tc.want {
				if o == 202 {
					accepted++
				}
			}
			assert.Equal(t, accepted, st.DedupAccepted["renewal-1"])
		})
	}

	t.Run("keyed by body hash without dedup id", func(t *testing.T) {
		srv := NewServer(Config{Script: []Step{{Status: 429}}})
		t.Cleanup(srv.Close)
		c := newClient(t, 5*time.Second)
		a, b := body("event"), body("event", "timestamp", "1712000000000")
		assert.Equal(t, 429, do(t, c, "POST", srv.EventURL(testApp), a).status)
		assert.Equal(t, 429, do(t, c, "POST", srv.EventURL(testApp), b).status)
		assert.Equal(t, 202, do(t, c, "POST", srv.EventURL(testApp), a).status)
		assert.Equal(t, 202, do(t, c, "POST", srv.EventURL(testApp), b).status)
		srv.Reset()
		assert.Equal(t, 429, do(t, c, "POST", srv.EventURL(testApp), a).status, "Reset restarts the script")
	})

	t.Run("invalid body still follows the script, then 400", func(t *testing.T) {
		srv := NewServer(Config{Script: []Step{{Status: 500}}})
		t.Cleanup(srv.Close)
		c := newClient(t, 5*time.Second)
		b := body("event", "customer_dedup_id", q("r-9"), "ip", q("nope"))
		assert.Equal(t, 500, do(t, c, "POST", srv.EventURL(testApp), b).status)
		assert.Equal(t, 400, do(t, c, "POST", srv.EventURL(testApp), b).status)
	})

	t.Run("delay past the client timeout", func(t *testing.T) {
		srv := NewServer(Config{Script: []Step{{Delay: 5 * time.Second}}})
		t.Cleanup(srv.Close)
		c := newClient(t, 150*time.Millisecond)
		start := time.Now()
		r := do(t, c, "POST", srv.EventURL(testApp), withID("slow"))
		require.Error(t, r.err)
		var ne net.Error
		require.ErrorAs(t, r.err, &ne)
		assert.True(t, ne.Timeout())
		assert.Less(t, time.Since(start), 2*time.Second)
		assert.Eventually(t, func() bool { return srv.Stats().Canceled == 1 }, 2*time.Second, 10*time.Millisecond)
		assert.Equal(t, 202, do(t, c, "POST", srv.EventURL(testApp), withID("slow")).status)
		assert.EqualValues(t, 1, srv.Stats().Accepted)
	})
}

func runFaults(t *testing.T, seed int64, n int) []int {
	srv := NewServer(Config{Seed: seed, Faults: Faults{P429: 0.10, P5xx: 0.05, PDrop: 0.02, RetryAfter: "3"}})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	b := body("event")
	out := make([]int, n)
	for i := range out {
		r := do(t, c, "POST", srv.EventURL(testApp), b)
		out[i] = outcome(r)
		if r.status == 429 || r.status == 503 {
			require.Equal(t, "3", r.header.Get("Retry-After"))
		}
	}
	st := srv.Stats()
	drops := 0
	for _, o := range out {
		if o == -1 {
			drops++
		}
	}
	assert.EqualValues(t, drops, st.Dropped)
	assert.EqualValues(t, n, st.Requests)
	return out
}

func TestFaults(t *testing.T) {
	const n = 2000
	a := runFaults(t, 42, n)
	count := map[string]int{}
	for _, o := range a {
		switch {
		case o == -1:
			count["drop"]++
		case o == 429:
			count["429"]++
		case o >= 500:
			count["5xx"]++
		case o == 202:
			count["202"]++
		default:
			t.Fatalf("unexpected outcome %d", o)
		}
	}
	t.Logf("outcomes over %d requests: %v", n, count)
	// Expected 200, 100, 40 with sigma about 13, 10, 6: allow ~4 sigma.
	assert.InDelta(t, 200, count["429"], 55)
	assert.InDelta(t, 100, count["5xx"], 40)
	assert.InDelta(t, 40, count["drop"], 25)
	assert.Equal(t, n, count["429"]+count["5xx"]+count["drop"]+count["202"])

	assert.Equal(t, a, runFaults(t, 42, n), "same seed, same outcomes")
	assert.NotEqual(t, a[:200], runFaults(t, 7, 200), "another seed, other outcomes")
}

func TestRateLimit(t *testing.T) {
	const rate = 5.0 // burst 1: robust to a slow, shared machine
	srv := NewServer(Config{RateLimit: rate})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	b := body("event")
	start := time.Now()
	var ok, limited int
	for range 20 {
		r := do(t, c, "POST", srv.EventURL(testApp), b)
		switch r.status {
		case 202:
			ok++
		case 429:
			limited++
			require.Equal(t, "1", r.header.Get("Retry-After"))
		default:
			t.Fatalf("unexpected %d", r.status)
		}
	}
	elapsed := time.Since(start).Seconds()
	assert.Positive(t, limited)
	assert.LessOrEqual(t, float64(ok), 1+rate*elapsed+1, "accepted %d in %.3fs", ok, elapsed)
	time.Sleep(250 * time.Millisecond) // a token back
	assert.Equal(t, 202, do(t, c, "POST", srv.EventURL(testApp), b).status)
}

func TestRateLimitConcurrent(t *testing.T) {
	const rate = 200.0 // burst 20
	srv := NewServer(Config{RateLimit: rate})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	b := body("event")
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				do(t, c, "POST", srv.EventURL(testApp), b)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	st := srv.Stats()
	assert.EqualValues(t, 400, st.Requests)
	assert.LessOrEqual(t, float64(st.Accepted), 20+rate*elapsed+1, "accepted %d in %.3fs", st.Accepted, elapsed)
	assert.Equal(t, st.Requests, st.Accepted+st.ByStatus[429])
}

func TestDedupAccounting(t *testing.T) {
	srv := NewServer(Config{})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	for _, id := range []string{"a", "b", "a", "c", "a", "b"} {
		require.Equal(t, 202, do(t, c, "POST", srv.EventURL(testApp), body("event", "customer_dedup_id", q(id))).status)
	}
	require.Equal(t, 202, do(t, c, "POST", srv.VisitURL(testApp), body("visit", "customer_dedup_id", q("v"))).status)
	require.Equal(t, 202, do(t, c, "POST", srv.EventURL(testApp), body("event")).status) // no id
	require.Equal(t, 400, do(t, c, "POST", srv.EventURL(testApp), body("event", "customer_dedup_id", q("d"), "ip", q("x"))).status)
	st := srv.Stats()
	assert.EqualValues(t, 8, st.Accepted)
	assert.Equal(t, map[string]int{"a": 3, "b": 2, "c": 1, "v": 1}, st.DedupAccepted)
	assert.Equal(t, []string{"a", "b"}, st.Duplicates())
}

func TestLate(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	now := time.Date(2024, 4, 2, 0, 20, 0, 0, ny) // 04:20 UTC
	ms := func(tt time.Time) string { return fmt.Sprint(tt.UnixMilli()) }
	yesterdayNY := time.Date(2024, 4, 1, 10, 0, 0, 0, ny)    // deadline 2024-04-02 00:30 NY: in window
	twoDaysAgoNY := time.Date(2024, 3, 31, 23, 59, 0, 0, ny) // deadline 2024-04-01 00:30 NY: late
	for _, tc := range []struct {
		name string
		tz   *time.Location
		ts   []string
		late int64
	}{
		{"no timestamp is never late", ny, nil, 0},
		{"yesterday in the app's zone is in the window", ny, []string{ms(yesterdayNY)}, 0},
		{"two days ago is late", ny, []string{ms(twoDaysAgoNY)}, 1},
		{"the same instant is late in UTC", nil, []string{ms(yesterdayNY)}, 1},
		{"start of yesterday is in the window", ny, []string{ms(time.Date(2024, 4, 1, 0, 0, 0, 0, ny))}, 0},
		{"end of two days ago is late", ny, []string{ms(time.Date(2024, 3, 31, 23, 59, 59, 999e6, ny))}, 1},
		{"seconds instead of ms is late", ny, []string{fmt.Sprint(now.Unix())}, 1},
		{"mixed", ny, []string{ms(now), ms(yesterdayNY), ms(twoDaysAgoNY), ms(twoDaysAgoNY)}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := NewServer(Config{AppTimezone: tc.tz, Now: func() time.Time { return now }})
			t.Cleanup(srv.Close)
			c := newClient(t, 5*time.Second)
			if tc.ts == nil {
				require.Equal(t, 202, do(t, c, "POST", srv.EventURL(testApp), body("event")).status)
			}
			for _, ts := range tc.ts {
				require.Equal(t, 202, do(t, c, "POST", srv.VisitURL(testApp), body("visit", "timestamp", ts)).status)
			}
			assert.Equal(t, tc.late, srv.Stats().Late)
		})
	}
	t.Run("at the deadline", func(t *testing.T) {
		deadline := time.Date(2024, 4, 2, 0, 30, 0, 0, ny)
		clock := deadline
		srv := NewServer(Config{AppTimezone: ny, Now: func() time.Time { return clock }})
		t.Cleanup(srv.Close)
		c := newClient(t, 5*time.Second)
		require.Equal(t, 202, do(t, c, "POST", srv.EventURL(testApp), body("event", "timestamp", ms(yesterdayNY))).status)
		assert.EqualValues(t, 0, srv.Stats().Late, "00:30 itself is in time")
		clock = deadline.Add(time.Millisecond)
		require.Equal(t, 202, do(t, c, "POST", srv.EventURL(testApp), body("event", "timestamp", ms(yesterdayNY))).status)
		assert.EqualValues(t, 1, srv.Stats().Late)
	})
}

func TestLatency(t *testing.T) {
	srv := NewServer(Config{Latency: 80 * time.Millisecond, Jitter: 40 * time.Millisecond, Seed: 1})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	for range 3 {
		start := time.Now()
		require.Equal(t, 202, do(t, c, "POST", srv.EventURL(testApp), body("event")).status)
		d := time.Since(start)
		assert.GreaterOrEqual(t, d, 80*time.Millisecond)
		assert.Less(t, d, 2*time.Second)
	}

	slow := NewServer(Config{Latency: 5 * time.Second})
	t.Cleanup(slow.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", slow.EventURL(testApp), strings.NewReader(body("event")))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer x")
	req.Header.Set("Content-Type", "application/json")
	_, err = newClient(t, 0).Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Eventually(t, func() bool { return slow.Stats().Canceled == 1 }, 2*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, 0, slow.Stats().Accepted)
}

func TestControlEndpoints(t *testing.T) {
	srv := NewServer(Config{KeepBodies: 2})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	var sent []string
	for _, id := range []string{"x", "y", "x"} {
		b := body("event", "customer_dedup_id", q(id))
		sent = append(sent, b)
		require.Equal(t, 202, do(t, c, "POST", srv.EventURL(testApp), b).status)
	}
	require.Equal(t, 400, do(t, c, "POST", srv.EventURL(testApp), "{}").status)

	r := do(t, c, "GET", srv.URL()+StatsPath, "")
	require.Equal(t, 200, r.status)
	var st Stats
	require.NoError(t, json.Unmarshal([]byte(r.body), &st))
	assert.EqualValues(t, 4, st.Requests, "control requests are not counted")
	assert.EqualValues(t, 3, st.Accepted)
	assert.Equal(t, map[int]int64{202: 3, 400: 1}, st.ByStatus)
	assert.Equal(t, []string{"x"}, st.Duplicates())
	require.Len(t, st.Bodies, 2)
	assert.JSONEq(t, sent[1], string(st.Bodies[0]))
	assert.JSONEq(t, sent[2], string(st.Bodies[1]))
	assert.Equal(t, srv.Stats(), st)

	assert.Equal(t, 405, do(t, c, "POST", srv.URL()+StatsPath, "").status)
	assert.Equal(t, 405, do(t, c, "GET", srv.URL()+ResetPath, "").status)
	require.Equal(t, 200, do(t, c, "POST", srv.URL()+ResetPath, "").status)
	st = srv.Stats()
	assert.Zero(t, st.Requests)
	assert.Zero(t, st.Accepted)
	assert.Empty(t, st.ByStatus)
	assert.Empty(t, st.DedupAccepted)
	assert.Empty(t, st.Bodies)
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"faults sum 1", Config{Faults: Faults{P429: 0.5, P5xx: 0.5}}, true},
		{"faults sum over 1", Config{Faults: Faults{P429: 0.6, P5xx: 0.5}}, false},
		{"negative probability", Config{Faults: Faults{PDrop: -0.1}}, false},
		{"negative rate", Config{RateLimit: -1}, false},
		{"bad script status", Config{Script: []Step{{Status: 42}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ok {
				assert.NoError(t, tc.cfg.Validate())
				assert.NotPanics(t, func() { NewHandler(tc.cfg) })
			} else {
				assert.Error(t, tc.cfg.Validate())
				assert.Panics(t, func() { NewHandler(tc.cfg) })
				assert.Error(t, ListenAndServe(context.Background(), "127.0.0.1:0", tc.cfg, nil))
			}
		})
	}
}

// serving runs serve on a free loopback address until the test ends or
// cancel is called; done gets its result, logs what it logged.
type serving struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	logs   []string
}

func startServing(t *testing.T, serve func(ctx context.Context, addr string, logf func(string, ...any)) error) *serving {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &serving{addr: ln.Addr().String(), done: make(chan error, 1)}
	require.NoError(t, ln.Close())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s.cancel = cancel
	logf := func(f string, a ...any) { s.mu.Lock(); s.logs = append(s.logs, fmt.Sprintf(f, a...)); s.mu.Unlock() }
	go func() { s.done <- serve(ctx, s.addr, logf) }()
	return s
}

func TestListenAndServe(t *testing.T) {
	sv := startServing(t, func(ctx context.Context, addr string, logf func(string, ...any)) error {
		return ListenAndServe(ctx, addr, Config{Token: testToken}, logf)
	})
	addr, cancel, done := sv.addr, sv.cancel, sv.done

	c := newClient(t, 2*time.Second)
	base := "http://" + addr
	require.Eventually(t, func() bool {
		return do(t, c, "POST", base+EventPath+testApp, body("event")).status == 202
	}, 3*time.Second, 20*time.Millisecond)
	r := do(t, c, "GET", base+StatsPath, "")
	require.Equal(t, 200, r.status)
	assert.Contains(t, r.body, `"accepted":1`)

	// Address in use.
	assert.Error(t, ListenAndServe(context.Background(), addr, Config{}, nil))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(6 * time.Second):
		t.Fatal("ListenAndServe did not return after cancel")
	}
	c.CloseIdleConnections()
	_, err := net.DialTimeout("tcp", addr, time.Second)
	assert.Error(t, err, "listener closed")
	sv.mu.Lock()
	defer sv.mu.Unlock()
	require.Len(t, sv.logs, 2, "no line per request")
	assert.Equal(t, "s2s mock listening on "+base, sv.logs[0])
}

func TestListenAndServeTLS(t *testing.T) {
	certFile, keyFile, err := WriteSelfSigned(t.TempDir())
	require.NoError(t, err)
	pemBytes, err := os.ReadFile(certFile)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(pemBytes))

	sv := startServing(t, func(ctx context.Context, addr string, logf func(string, ...any)) error {
		return ListenAndServeTLS(ctx, addr, Config{Token: testToken}, certFile, keyFile, logf)
	})
	addr := sv.addr

	for _, h2 := range []bool{true, false} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		c := &http.Client{Transport: tr, Timeout: 2 * time.Second}
		var proto string
		require.Eventually(t, func() bool {
			req, _ := http.NewRequest("POST", "https://"+addr+EventPath+testApp, strings.NewReader(body("event")))
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			proto = resp.Proto
			return resp.StatusCode == 202
		}, 3*time.Second, 20*time.Millisecond)
		assert.Equal(t, map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[h2], proto, "HTTP/2 through ALPN, HTTP/1.1 when the client asks")
		tr.CloseIdleConnections()
	}
	sv.cancel()
	require.NoError(t, <-sv.done)
	sv.mu.Lock()
	defer sv.mu.Unlock()
	assert.Equal(t, "s2s mock listening on https://"+addr, sv.logs[0])

	assert.Error(t, ListenAndServeTLS(context.Background(), "127.0.0.1:0", Config{}, certFile, "", nil))
	assert.Error(t, ListenAndServeTLS(context.Background(), "127.0.0.1:0", Config{}, certFile, certFile, nil), "not a key")
}
