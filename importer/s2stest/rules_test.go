package s2stest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hex64 = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"

// rule is one body variant: extra or overriding key/raw-value pairs, and the
// field a 400 must name ("" = accepted).
type rule struct {
	name  string
	kv    []string
	field string
}

func ok(name string, kv ...string) rule         { return rule{name, kv, ""} }
func bad(name, field string, kv ...string) rule { return rule{name, kv, field} }
func long(c string, n int) string               { return strings.Repeat(c, n) }

// commonRules hold for both endpoints.
func commonRules() []rule {
	rs := []rule{
		ok("minimal"),
		// user_id
		ok("user_id appsflyer_id only", "user_id", `{"appsflyer_id":"1234567890abcdef"}`),
		ok("user_id both", "user_id", `{"appsflyer_id":"a","customer_user_id":"c"}`),
		ok("customer_user_id 64 chars", "user_id", `{"customer_user_id":"`+long("u", 64)+`"}`),
		ok("customer_user_id 64 multibyte chars", "user_id", `{"customer_user_id":"`+long("é", 64)+`"}`),
		bad("user_id missing", "user_id", "user_id", "-"),
		bad("user_id not object", "user_id", "user_id", `"u1"`),
		bad("user_id null", "user_id", "user_id", `null`),
		bad("user_id empty", "user_id", "user_id", `{}`),
		bad("customer_user_id empty", "user_id.customer_user_id", "user_id", `{"customer_user_id":""}`),
		bad("customer_user_id empty with appsflyer_id", "user_id.customer_user_id", "user_id", `{"customer_user_id":"","appsflyer_id":"a"}`),
		bad("customer_user_id 65 chars", "user_id.customer_user_id", "user_id", `{"customer_user_id":"`+long("u", 65)+`"}`),
		bad("customer_user_id number", "user_id.customer_user_id", "user_id", `{"customer_user_id":123}`),
		bad("appsflyer_id empty", "user_id.appsflyer_id", "user_id", `{"appsflyer_id":""}`),
		bad("appsflyer_id null", "user_id.appsflyer_id", "user_id", `{"appsflyer_id":null}`),
		bad("user_id unknown field", "user_id.\"email\"", "user_id", `{"customer_user_id":"u","email":"x"}`),
		// event_value
		ok("event_value object", "event_value", `{"af_content_id":"SKU-001","af_quantity":2}`),
		ok("event_value custom_parameters", "event_value", `{"custom_parameters":{"promo_code":"SUMMER10"}}`),
		bad("event_value array", "event_value", "event_value", `[1]`),
		bad("event_value string", "event_value", "event_value", `"{}"`),
		bad("custom_parameters not object", "event_value.custom_parameters", "event_value", `{"custom_parameters":"x"}`),
		// timestamp
		ok("timestamp int64 ms", "timestamp", `1712000000000`),
		bad("timestamp fraction", "timestamp", "timestamp", `1712000000000.0`),
		bad("timestamp exponent", "timestamp", "timestamp", `1.712e12`),
		bad("timestamp string", "timestamp", "timestamp", `"1712000000000"`),
		bad("timestamp overflow", "timestamp", "timestamp", `9223372036854775808`),
		bad("timestamp null", "timestamp", "timestamp", `null`),
		// ip
		ok("ip v4", "ip", q("35.244.183.10")),
		ok("ip v6", "ip", q("2001:db8::1")),
		bad("ip partial", "ip", "ip", q("35.244.183")),
		bad("ip with port", "ip", "ip", q("35.244.183.10:80")),
		bad("ip hostname", "ip", "ip", q("example.com")),
		bad("ip over 46 chars", "ip", "ip", q("fe80::1%"+long("e", 40))),
		bad("ip number", "ip", "ip", `3523524362`),
		// user_agent
		ok("user_agent 1024 chars", "user_agent", q(long("a", 1024))),
		bad("user_agent 1025 chars", "user_agent", "user_agent", q(long("a", 1025))),
		bad("user_agent number", "user_agent", "user_agent", `5`),
		// http_referrer
		ok("http_referrer", "http_referrer", q("https://www.google.com/")),
		bad("http_referrer number", "http_referrer", "http_referrer", `5`),
		// customer_dedup_id
		ok("customer_dedup_id", "customer_dedup_id", q("renewal-42")),
		bad("customer_dedup_id number", "customer_dedup_id", "customer_dedup_id", `42`),
		// event_url when given
		ok("event_url https", "event_url", q("https://example.com/checkout/success?x=1")),
		ok("event_url http", "event_url", q("http://example.com")),
		ok("event_url 4096 chars", "event_url", q("https://example.com/"+long("p", 4096-20))),
		bad("event_url 4097 chars", "event_url", "event_url", q("https://example.com/"+long("p", 4097-20))),
		bad("event_url ftp", "event_url", "event_url", q("ftp://example.com/f")),
		bad("event_url relative", "event_url", "event_url", q("/checkout")),
		bad("event_url no scheme", "event_url", "event_url", q("example.com/checkout")),
		bad("event_url no host", "event_url", "event_url", q("https://")),
		bad("event_url number", "event_url", "event_url", `1`),
		// strictness
		bad("unknown field", `"foo"`, "foo", `1`),
		bad("field in wrong case", `"Timestamp"`, "Timestamp", `1712000000000`),
		bad("duplicate field", "ip", "ip", q("1.2.3.4"), "ip", q("1.2.3.5")),
	}
	// "ip", "ip" above: body() overrides a key, so build the duplicate by hand.
	rs[len(rs)-1].kv = []string{"ip", q("1.2.3.4") + `,"ip":"1.2.3.5"`}
	for _, f := range []string{"email_hashed", "phone_number_hashed", "phone_number_e164_hashed", "first_name_hashed", "last_name_hashed"} {
		rs = append(rs,
			ok(f+" lower hex", f, q(hex64)),
			ok(f+" upper hex", f, q(strings.ToUpper(hex64))),
			bad(f+" 63 chars", f, f, q(hex64[:63])),
			bad(f+" 65 chars", f, f, q(hex64+"0")),
			bad(f+" not hex", f, f, q("g"+hex64[1:])),
			bad(f+" raw email", f, f, q("john_smith@gmail.com")),
			bad(f+" number", f, f, `1`),
		)
	}
	return rs
}

func eventRules() []rule {
	return []rule{
		bad("event_name missing", "event_name", "event_name", "-"),
		bad("event_name empty", "event_name", "event_name", q("")),
		ok("event_name 64 chars", "event_name", q(long("e", 64))),
		bad("event_name 65 chars", "event_name", "event_name", q(long("e", 65))),
		bad("event_name with @", "event_name", "event_name", q("a@b")),
		bad("event_name with =", "event_name", "event_name", q("a=b")),
		bad("event_name with +", "event_name", "event_name", q("a+b")),
		bad("event_name with -", "event_name", "event_name", q("af-purchase")),
		bad("event_name escaped -", "event_name", "event_name", q(`af\u002dpurchase`)),
		bad("event_name number", "event_name", "event_name", `1`),
		ok("event_revenue decimal", "event_revenue", `49.99`),
		ok("event_revenue zero", "event_revenue", `0`),
		ok("event_revenue negative", "event_revenue", `-5.5`),
		ok("event_revenue exponent", "event_revenue", `1e3`),
		bad("event_revenue string", "event_revenue", "event_revenue", q("49.99")),
		bad("event_revenue overflow", "event_revenue", "event_revenue", `1e400`),
		bad("event_revenue null", "event_revenue", "event_revenue", `null`),
		ok("currency USD", "event_revenue", `49.99`, "event_revenue_currency", q("USD")),
		ok("currency EUR", "event_revenue_currency", q("EUR")),
		bad("currency lower case", "event_revenue_currency", "event_revenue_currency", q("usd")),
		bad("currency unknown", "event_revenue_currency", "event_revenue_currency", q("ZZZ")),
		bad("currency 2 letters", "event_revenue_currency", "event_revenue_currency", q("US")),
		bad("currency numeric", "event_revenue_currency", "event_revenue_currency", `840`),
	}
}

func visitRules() []rule {
	return []rule{
		bad("event_url missing", "event_url", "event_url", "-"),
		bad("event_name present", "event_name", "event_name", q("af_purchase")),
		bad("event_revenue present", "event_revenue", "event_revenue", `1`),
		bad("event_revenue_currency present", "event_revenue_currency", "event_revenue_currency", q("USD")),
	}
}

func TestRules(t *testing.T) {
	srv := NewServer(Config{Token: testToken})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	for _, ep := range []struct {
		name, url string
		rules     []rule
	}{
		{"event", srv.EventURL(testApp), append(commonRules(), eventRules()...)},
		{"visit", srv.VisitURL(testApp), append(commonRules(), visitRules()...)},
	} {
		for _, r := range ep.rules {
			t.Run(ep.name+"/"+r.name, func(t *testing.T) {
				b := body(ep.name, r.kv...)
				got := do(t, c, http.MethodPost, ep.url, b)
				require.NoError(t, got.err)
				assertNoSecret(t, got)
				assert.Equal(t, "application/json", got.header.Get("Content-Type"))
				var ans map[string]string
				require.NoError(t, json.Unmarshal([]byte(got.body), &ans), got.body)
				if r.field == "" {
					assert.Equal(t, http.StatusAccepted, got.status, "body %s: %s", b, got.body)
					assert.Equal(t, "ok", ans["status"])
					assert.Equal(t, "accepted", ans["message"])
					assert.NotEmpty(t, ans["messageId"])
					return
				}
				assert.Equal(t, http.StatusBadRequest, got.status, "body %s", b)
				assert.Equal(t, "error", ans["status"])
				assert.True(t, strings.HasPrefix(ans["message"], r.field+": "), "message %q should name %s", ans["message"], r.field)
			})
		}
	}
}

func TestSpecExamplesAccepted(t *testing.T) {
	srv := NewServer(Config{Token: testToken})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	event := `{"user_id":{"customer_user_id":"15667737-366d-4994-ac8b-653fe6b2be4a"},"event_name":"af_purchase","event_revenue":49.99,"event_revenue_currency":"USD","event_value":{"af_content_id":"SKU-001","af_quantity":2,"custom_parameters":{"promo_code":"SUMMER10"}},"event_url":"https://example.com/checkout/success","timestamp":1712000000000,"ip":"35.244.183.10","user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) ...","email_hashed":"a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2"}`
	visit := `{"user_id":{"appsflyer_id":"1234567890abcdef","customer_user_id":"15667737-366d-4994-ac8b-653fe6b2be4a"},"event_url":"https://example.com/products/sneakers","timestamp":1712000000000,"ip":"35.244.183.10","user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) ...","http_referrer":"https://www.google.com/","email_hashed":"a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2"}`
	assert.Equal(t, http.StatusAccepted, do(t, c, http.MethodPost, srv.EventURL(testApp), event).status)
	assert.Equal(t, http.StatusAccepted, do(t, c, http.MethodPost, srv.VisitURL(testApp), visit).status)
	// Each endpoint's body is wrong for the other.
	assert.Equal(t, http.StatusBadRequest, do(t, c, http.MethodPost, srv.VisitURL(testApp), event).status)
	assert.Equal(t, http.StatusBadRequest, do(t, c, http.MethodPost, srv.EventURL(testApp), visit).status)
}

func TestMalformedBodies(t *testing.T) {
	srv := NewServer(Config{Token: testToken})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	valid := body("event")
	for _, tc := range []struct{ name, body, msg string }{
		{"empty", "", "body is empty"},
		{"not JSON", "user_id=1", "body is not valid JSON"},
		{"truncated", valid[:len(valid)-1], "body is not valid JSON"},
		{"trailing value", valid + ` {}`, "body is not valid JSON"},
		{"array", `[` + valid + `]`, "body must be a JSON object, got an array"},
		{"string", `"x"`, "body must be a JSON object, got a string"},
		{"invalid UTF-8", strings.Replace(valid, "af_purchase", "af_purch\xe4se", 1), "body is not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, c, http.MethodPost, srv.EventURL(testApp), tc.body)
			require.NoError(t, got.err)
			assert.Equal(t, http.StatusBadRequest, got.status)
			assert.JSONEq(t, `{"status":"error","message":"`+tc.msg+`"}`, got.body)
		})
	}
	t.Run("whitespace around the object", func(t *testing.T) {
		got := do(t, c, http.MethodPost, srv.EventURL(testApp), "\n "+valid+" \n")
		assert.Equal(t, http.StatusAccepted, got.status, got.body)
	})
}

func TestMessageIDsUnique(t *testing.T) {
	srv := NewServer(Config{})
	t.Cleanup(srv.Close)
	c := newClient(t, 5*time.Second)
	seen := map[string]bool{}
	for range 50 {
		got := do(t, c, http.MethodPost, srv.EventURL(testApp), body("event"))
		require.Equal(t, http.StatusAccepted, got.status)
		var ans struct{ MessageID string }
		require.NoError(t, json.Unmarshal([]byte(got.body), &ans))
		require.False(t, seen[ans.MessageID], "duplicate messageId %s", ans.MessageID)
		seen[ans.MessageID] = true
	}
}
