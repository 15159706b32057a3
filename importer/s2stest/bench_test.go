package s2stest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"afimport/internal/benchdata"
)

// typicalEvent is a ~600-byte event body such as the importer sends.
const typicalEvent = `{"user_id":{"customer_user_id":"15667737-366d-4994-ac8b-653fe6b2be4a"},` +
	`"event_name":"af_subscription_renewal","event_revenue":49.99,"event_revenue_currency":"USD",` +
	`"event_value":{"af_content_id":"SKU-001","af_quantity":2,"custom_parameters":{"plan":"pro-annual","promo_code":"SUMMER10"}},` +
	`"event_url":"https://example.com/checkout/success","timestamp":1712000000000,"ip":"35.244.183.10",` +
	`"user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/124.0",` +
	`"customer_dedup_id":"renewal-000123456",` +
	`"email_hashed":"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"}`

// nopWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the handler rather than a recorder.
type nopWriter struct {
	h    http.Header
	code int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }

func BenchmarkHandler(b *testing.B) {
	h := NewHandler(Config{Token: testToken})
	body := []byte(typicalEvent)
	req, err := http.NewRequest("POST", "http://mock"+EventPath+testApp, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(body))
	rd := bytes.NewReader(body)
	w := &nopWriter{h: http.Header{}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu0 := benchdata.ProcessCPU()
	for b.Loop() {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		clear(w.h)
		h.ServeHTTP(w, req)
		if w.code != http.StatusAccepted {
			b.Fatalf("status %d", w.code)
		}
	}
	// The machine is shared: CPU time per op says more than wall time.
	b.ReportMetric(float64(benchdata.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(len(body)), "body-bytes")
}

func BenchmarkServerParallel(b *testing.B) {
	srv := NewServer(Config{Token: testToken})
	b.Cleanup(srv.Close)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}
	url := srv.EventURL(testApp)
	b.ReportAllocs()
	cpu0 := benchdata.ProcessCPU()
	defer func() { b.ReportMetric(float64(benchdata.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op") }()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", url, strings.NewReader(typicalEvent))
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

func TestTypicalEventIsTypical(t *testing.T) {
	if n := len(typicalEvent); n < 550 || n > 650 {
		t.Fatalf("typical event is %d bytes", n)
	}
	acc, err := validate(eventEndpoint, []byte(typicalEvent))
	if err != nil {
		t.Fatal(err)
	}
	if acc.dedupID != "renewal-000123456" || acc.timestamp != 1712000000000 {
		t.Fatalf("got %+v", acc)
	}
}

// FuzzValidate checks that validate never panics, and that whatever it
// accepts is a JSON object encoding/json agrees on, with a user_id object.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(typicalEvent), false)
	f.Add([]byte(body("visit", "timestamp", "1")), true)
	f.Add([]byte(`{"user_id":{"appsflyer_id":"a\u0000"},"event_name":"x\"y"}`), false)
	f.Add([]byte(`{"a":[{"b":"]}"}]}`), true)
	f.Fuzz(func(t *testing.T, b []byte, visit bool) {
		ep := eventEndpoint
		if visit {
			ep = visitEndpoint
		}
		if _, ferr := validate(ep, b); ferr != nil {
			if ferr.field == "" && strings.Contains(ferr.rule, "valid JSON") && json.Valid(b) && utf8.Valid(b) {
				t.Fatalf("valid JSON reported invalid: %v", ferr)
			}
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("accepted a body encoding/json rejects: %v", err)
		}
		var uid map[string]any
		if err := json.Unmarshal(m["user_id"], &uid); err != nil || len(uid) == 0 {
			t.Fatalf("accepted without a user_id object: %s", m["user_id"])
		}
		if visit {
			if _, ok := m["event_url"]; !ok {
				t.Fatal("visit accepted without event_url")
			}
		} else if _, ok := m["event_name"]; !ok {
			t.Fatal("event accepted without event_name")
		}
	})
}
