package mappings

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/readers"
)

var update = flag.Bool("update", false, "rewrite the golden payloads in testdata/")

func sha(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }

func mustParse(t testing.TB, src string) *Mapping {
	t.Helper()
	m, err := Parse([]byte(src), "m.yaml")
	require.NoError(t, err)
	return m
}

// row builds values aligned with m.Columns() from column -> value.
func row(t testing.TB, m *Mapping, vals map[string]readers.Value) []readers.Value {
	t.Helper()
	out := make([]readers.Value, len(m.Columns()))
	for i, c := range m.Columns() {
		out[i] = vals[c]
	}
	for c := range vals {
		require.Contains(t, m.Columns(), c, "row names a column the mapping does not read")
	}
	return out
}

func s(v string) readers.Value { return readers.String(v) }

// baseFor is a minimal mapping for the endpoint with the field under test
// on the last line, reading column x (the user id is column uid).
func baseFor(ep Endpoint, target, spec string) string {
	b := "app_id: website-www.example.com\nendpoint: " + string(ep) + "\ndedup: none\nfields:\n"
	if target != "user_id.customer_user_id" {
		b += "  user_id.customer_user_id: { column: uid }\n"
	}
	if ep == EndpointEvent && target != "event_name" {
		b += "  event_name: { value: af_test }\n"
	}
	if ep == EndpointVisit && target != "event_url" {
		b += "  event_url: { value: \"https://example.com/\" }\n"
	}
	return b + "  " + target + ": " + spec + "\n"
}

// TestRules runs every validation rule with a passing and a failing row,
// on both endpoints where the target exists on both.
func TestRules(t *testing.T) {
	long := func(n int, c string) string { return strings.Repeat(c, n) }
	tsOK := readers.Time(time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC))
	tests := []struct {
		name      string
		target    string
		spec      string
		in        readers.Value
		want      string // JSON member expected in the body ("" when failing)
		rule      string // expected FieldError.Rule ("" when passing)
		eventOnly bool
	}{
		{"cuid ok", "user_id.customer_user_id", "{ column: x }", s(" u-1 "), `"user_id":{"customer_user_id":"u-1"}`, "", false},
		{"cuid 64 characters (multibyte)", "user_id.customer_user_id", "{ column: x }", s(long(64, "é")), `"customer_user_id":"` + long(64, "é") + `"`, "", false},
		{"cuid 65 characters", "user_id.customer_user_id", "{ column: x }", s(long(65, "a")), "", "max_length", false},
		{"cuid missing", "user_id.customer_user_id", "{ column: x }", s("  "), "", "required", false},
		{"cuid invalid utf8", "user_id.customer_user_id", "{ column: x }", s("ab\xffcd"), "", "utf8", false},
		{"cuid from number", "user_id.customer_user_id", "{ column: x }", readers.Number("42"), `"customer_user_id":"42"`, "", false},
		{"cuid from json", "user_id.customer_user_id", "{ column: x }", readers.JSON(`{"a":1}`), "", "type", false},
		{"afid ok", "user_id.appsflyer_id", "{ column: x }", s("1234567890abcdef"), `"user_id":{"customer_user_id":"u","appsflyer_id":"1234567890abcdef"}`, "", false},
		{"afid missing", "user_id.appsflyer_id", "{ column: x }", readers.Null(), "", "required", false},
		{"event_name ok", "event_name", "{ column: x }", s("af_purchase"), `"event_name":"af_purchase"`, "", true},
		{"event_name forbidden -", "event_name", "{ column: x }", s("af-purchase"), "", "event_name", true},
		{"event_name forbidden @", "event_name", "{ column: x }", s("a@b"), "", "event_name", true},
		{"event_name forbidden =", "event_name", "{ column: x }", s("a=b"), "", "event_name", true},
		{"event_name forbidden +", "event_name", "{ column: x }", s("a+b"), "", "event_name", true},
		{"event_name 65", "event_name", "{ column: x }", s(long(65, "e")), "", "max_length", true},
		{"event_name empty", "event_name", "{ column: x }", s(""), "", "required", true},
		{"revenue exact decimal", "event_revenue", "{ column: x }", s("123456.789012"), `"event_revenue":123456.789012`, "", true},
		{"revenue number kind", "event_revenue", "{ column: x }", readers.Number("49.99"), `"event_revenue":49.99`, "", true},
		{"revenue plus sign", "event_revenue", "{ column: x }", s("+5"), `"event_revenue":5}`, "", true},
		{"revenue leading zero", "event_revenue", "{ column: x }", s("05.10"), `"event_revenue":5.10`, "", true},
		{"revenue long exact", "event_revenue", "{ column: x }", s("0.1000000000000000055511151231257827"), `"event_revenue":0.1000000000000000055511151231257827`, "", true},
		{"revenue integer", "event_revenue", "{ column: x, type: integer }", s("7.00"), `"event_revenue":7}`, "", true},
		{"revenue not integer", "event_revenue", "{ column: x, type: integer }", s("7.5"), "", "integer", true},
		{"revenue NaN", "event_revenue", "{ column: x }", s("NaN"), "", "number", true},
		{"revenue Inf", "event_revenue", "{ column: x }", s("Inf"), "", "number", true},
		{"revenue 1e400", "event_revenue", "{ column: x }", s("1e400"), "", "number", true},
		{"revenue comma", "event_revenue", "{ column: x }", s("1,50"), "", "number", true},
		{"revenue bool", "event_revenue", "{ column: x }", readers.Bool(true), "", "number", true},
		{"currency ok", "event_revenue_currency", "{ column: x }", s("EUR"), `"event_revenue_currency":"EUR"`, "", true},
		{"currency lower-case", "event_revenue_currency", "{ column: x }", s("usd"), `"event_revenue_currency":"USD"`, "", true},
		{"currency unknown", "event_revenue_currency", "{ column: x }", s("ABC"), "", "currency", true},
		{"currency too short", "event_revenue_currency", "{ column: x }", s("US"), "", "currency", true},
		{"event_url ok", "event_url", "{ column: x }", s("https://example.com/checkout?x=1"), `"event_url":"https://example.com/checkout?x=1"`, "", false},
		{"event_url 4096", "event_url", "{ column: x }", s("https://example.com/" + long(4096-20, "a")), `"event_url":"https://example.com/aaa`, "", false},
		{"event_url 4097", "event_url", "{ column: x }", s("https://example.com/" + long(4097-20, "a")), "", "max_length", false},
		{"event_url relative", "event_url", "{ column: x }", s("/checkout"), "", "url", false},
		{"event_url ftp", "event_url", "{ column: x }", s("ftp://example.com/x"), "", "url", false},
		{"event_url space", "event_url", "{ column: x }", s("https://example.com/a b"), "", "url", false},
		{"ip v4", "ip", "{ column: x }", s("35.244.183.10"), `"ip":"35.244.183.10"`, "", false},
		{"ip v6", "ip", "{ column: x }", s("2001:db8::1"), `"ip":"2001:db8::1"`, "", false},
		{"ip bad", "ip", "{ column: x }", s("999.1.1.1"), "", "ip", false},
		{"ip too long", "ip", "{ column: x }", s("0000:0000:0000:0000:0000:ffff:255.255.255.255%x"), "", "ip", false},
		{"user_agent 1024", "user_agent", "{ column: x }", s(long(1024, "M")), `"user_agent":"MMM`, "", false},
		{"user_agent 1025", "user_agent", "{ column: x }", s(long(1025, "M")), "", "max_length", false},
		{"user_agent escaped", "user_agent", "{ column: x }", s("Mozilla \"5.0\"\\\t\x01"), `"user_agent":"Mozilla \"5.0\"\\\t\u0001"`, "", false},
		{"referrer ok", "http_referrer", "{ column: x }", s("https://www.google.com/"), `"http_referrer":"https://www.google.com/"`, "", false},
		{"referrer bad", "http_referrer", "{ column: x }", s("google"), "", "url", false},
		{"timestamp time", "timestamp", "{ column: x }", tsOK, `"timestamp":1711972800000`, "", false},
		{"timestamp unix_ms", "timestamp", "{ column: x, format: unix_ms }", readers.Number("1712000000000"), `"timestamp":1712000000000`, "", false},
		{"timestamp rfc3339", "timestamp", "{ column: x, format: rfc3339 }", s("2024-04-01T12:00:00+02:00"), `"timestamp":1711965600000`, "", false},
		{"timestamp garbage", "timestamp", "{ column: x, format: rfc3339 }", s("yesterday"), "", "timestamp", false},
		{"timestamp before 1970", "timestamp", "{ column: x }", readers.Time(time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)), "", "timestamp", false},
		{"timestamp after 9999", "timestamp", "{ column: x }", readers.Time(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)), "", "timestamp", false},
		{"timestamp last ms", "timestamp", "{ column: x }", readers.Time(time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)), `"timestamp":253402300799999`, "", false},
		{"dedup ok", "customer_dedup_id", "{ column: x }", s("r-1"), `"customer_dedup_id":"r-1"`, "", false},
		{"dedup blank", "customer_dedup_id", "{ column: x }", s("  "), "", "required", false},
		{"email hashed", "email_hashed", "{ column: x, hash: email }", s(" John_Smith@Gmail.com "), `"email_hashed":"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"`, "", false},
		{"email not email", "email_hashed", "{ column: x, hash: email }", s("john.smith"), "", "email", false},
		{"email passthrough", "email_hashed", "{ column: x, hash: email }", s(strings.ToUpper(sha("a"))), `"email_hashed":"` + sha("a") + `"`, "", false},
		{"hashed no hash ok", "email_hashed", "{ column: x }", s(sha("a")), `"email_hashed":"` + sha("a") + `"`, "", false},
		{"hashed no hash bad", "email_hashed", "{ column: x }", s("john@example.com"), "", "sha256", false},
		{"phone hashed", "phone_number_hashed", "{ column: x, hash: phone, region: US }", s("(650) 555-1212"), `"phone_number_hashed":"e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"`, "", false},
		{"phone bad", "phone_number_hashed", "{ column: x, hash: phone, region: US }", s("12"), "", "phone", false},
		{"phone e164 hashed", "phone_number_e164_hashed", "{ column: x, hash: phone_e164, region: US }", s("(650) 555-1212"), `"phone_number_e164_hashed":"` + sha("+16505551212") + `"`, "", false},
		{"phone e164 no region", "phone_number_e164_hashed", "{ column: x, hash: phone_e164 }", s("(650) 555-1212"), "", "", false},
		{"first name", "first_name_hashed", "{ column: x, hash: name }", s("  John "), `"first_name_hashed":"` + sha("john") + `"`, "", false},
		{"last name sha256", "last_name_hashed", "{ column: x, hash: sha256 }", s(" Smith "), `"last_name_hashed":"` + sha("Smith") + `"`, "", false},
		{"hashed utf8", "last_name_hashed", "{ column: x, hash: name }", s("\xff"), "", "utf8", false},
		{"ev path string", "event_value.custom_parameters.plan", "{ column: x }", s("gold"), `"event_value":{"custom_parameters":{"plan":"gold"}}`, "", false},
		{"ev path number kept", "event_value.af_quantity", "{ column: x }", readers.Number("2"), `"event_value":{"af_quantity":2}`, "", false},
		{"ev path bool kept", "event_value.flag", "{ column: x }", readers.Bool(false), `"event_value":{"flag":false}`, "", false},
		{"ev path json kept", "event_value.items", "{ column: x }", readers.JSON(`[1, {"a": "b c"}]`), `"event_value":{"items":[1,{"a":"b c"}]}`, "", false},
		{"ev path typed number", "event_value.q", "{ column: x, type: number }", s("3"), `"event_value":{"q":3}`, "", false},
		{"ev path typed number bad", "event_value.q", "{ column: x, type: number }", s("three"), "", "number", false},
		{"ev path boolean", "event_value.b", "{ column: x, type: boolean }", s("1"), `"event_value":{"b":true}`, "", false},
		{"ev path boolean bad", "event_value.b", "{ column: x, type: boolean }", s("yes"), "", "boolean", false},
		{"ev path string from number", "event_value.s", "{ column: x, type: string }", readers.Number("007"), `"event_value":{"s":"007"}`, "", false},
		{"ev path json string", "event_value.j", "{ column: x, type: json }", s(`{"k": [1]}`), `"event_value":{"j":{"k":[1]}}`, "", false},
		{"ev path json bad", "event_value.j", "{ column: x, type: json }", s(`{"k":`), "", "json", false},
		{"ev whole", "event_value", "{ column: x }", readers.JSON(`{"af_content_id": "SKU-001", "af_quantity": 2}`), `"event_value":{"af_content_id":"SKU-001","af_quantity":2}`, "", false},
		{"ev whole from string", "event_value", "{ column: x }", s(`{"a":1}`), `"event_value":{"a":1}`, "", false},
		{"ev whole not object", "event_value", "{ column: x }", readers.JSON(`[1]`), "", "object", false},
		{"ev whole bad json", "event_value", "{ column: x }", s(`{bad`), "", "json", false},
	}
	for _, ep := range []Endpoint{EndpointEvent, EndpointVisit} {
		for _, tt := range tests {
			if tt.eventOnly && ep == EndpointVisit {
				continue
			}
			t.Run(string(ep)+"/"+tt.name, func(t *testing.T) {
				m := mustParse(t, baseFor(ep, tt.target, tt.spec))
				vals := map[string]readers.Value{"x": tt.in}
				if tt.target != "user_id.customer_user_id" {
					vals["uid"] = s("u")
				}
				p, err := m.Apply(row(t, m, vals))
				if tt.name == "phone e164 no region" {
					// No region and no '+': the number cannot be read.
					require.Error(t, err)
					return
				}
				if tt.rule != "" {
					require.Error(t, err)
					assert.Nil(t, p)
					var fe *FieldError
					require.True(t, errors.As(err, &fe), "error %T", err)
					assert.Equal(t, tt.rule, fe.Rule, "%v", fe)
					assert.Equal(t, tt.target, fe.Field)
					assert.Equal(t, "x", fe.Column)
					if len(tt.in.S) >= 3 {
						assert.NotContains(t, err.Error(), strings.TrimSpace(tt.in.S), "error leaks the value")
					}
					return
				}
				require.NoError(t, err)
				assert.True(t, json.Valid(p.Body), "%s", p.Body)
				assert.Contains(t, string(p.Body), tt.want)
			})
		}
	}
}

func TestUserIDRule(t *testing.T) {
	src := `app_id: a
endpoint: visit
fields:
  user_id.customer_user_id: { column: cuid, optional: true }
  user_id.appsflyer_id: { column: afid, optional: true }
  event_url: { value: "https://example.com/" }
`
	m := mustParse(t, src)
	_, err := m.Apply(row(t, m, map[string]readers.Value{"cuid": readers.Null(), "afid": s("")}))
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "user_id", fe.Rule)
	assert.Equal(t, "user_id", fe.Field)

	p, err := m.Apply(row(t, m, map[string]readers.Value{"afid": s("af1")}))
	require.NoError(t, err)
	assert.Equal(t, `{"user_id":{"appsflyer_id":"af1"},"event_url":"https://example.com/","customer_dedup_id":"`+p.DedupID+`"}`, string(p.Body))
}

func TestRequiredTargetOmitted(t *testing.T) {
	for _, tt := range []struct{ ep, target string }{{"event", "event_name"}, {"visit", "event_url"}} {
		t.Run(tt.ep, func(t *testing.T) {
			src := "app_id: a\nendpoint: " + tt.ep + "\nfields:\n  user_id.appsflyer_id: { column: afid }\n"
			if tt.ep == "event" {
				src += "  event_name: { column: n, on_invalid: omit }\n"
			} else {
				src += "  event_url: { column: n, on_invalid: omit }\n"
			}
			m := mustParse(t, src)
			_, err := m.Apply(row(t, m, map[string]readers.Value{"afid": s("a"), "n": s("bad-name x://")}))
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "required", fe.Rule)
			assert.Equal(t, tt.target, fe.Field)
		})
	}
}

func TestOnInvalidOptionalDefault(t *testing.T) {
	src := `app_id: a
endpoint: event
dedup: none
fields:
  user_id.customer_user_id: { column: uid }
  event_name: { value: af_purchase }
  ip: { column: ip, on_invalid: omit }
  user_agent: { column: ua, optional: true }
  event_revenue_currency: { column: cur, default: usd }
  event_value.af_quantity: { column: q, optional: true, type: integer }
`
	m := mustParse(t, src)
	tests := []struct {
		name string
		in   map[string]readers.Value
		body string
		rule string
	}{
		{"all present", map[string]readers.Value{"uid": s("u"), "ip": s("1.2.3.4"), "ua": s("UA"), "cur": s("EUR"), "q": readers.Number("2")},
			`{"user_id":{"customer_user_id":"u"},"event_name":"af_purchase","event_revenue_currency":"EUR","event_value":{"af_quantity":2},"ip":"1.2.3.4","user_agent":"UA"}`, ""},
		{"invalid ip omitted, missing optional omitted, default used", map[string]readers.Value{"uid": s("u"), "ip": s("not-an-ip"), "cur": s(" ")},
			`{"user_id":{"customer_user_id":"u"},"event_name":"af_purchase","event_revenue_currency":"USD"}`, ""},
		{"invalid optional still rejects", map[string]readers.Value{"uid": s("u"), "ip": s("::1"), "q": s("2.5")}, "", "integer"},
		{"missing required", map[string]readers.Value{"uid": readers.Null()}, "", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := m.Apply(row(t, m, tt.in))
			if tt.rule != "" {
				var fe *FieldError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, tt.rule, fe.Rule)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.body, string(p.Body))
			assert.Empty(t, p.DedupID)
		})
	}
}

func TestTemplates(t *testing.T) {
	src := `app_id: a
endpoint: visit
dedup: none
fields:
  user_id.customer_user_id: { column: uid }
  event_url: { template: "https://example.com/plans/{plan}?n={n}&x={{y}}" }
  event_value.label: { template: "{plan}-{plan}" }
`
	m := mustParse(t, src)
	assert.Equal(t, []string{"uid", "plan", "n"}, m.Columns())
	p, err := m.Apply(row(t, m, map[string]readers.Value{"uid": s("u"), "plan": s("gold"), "n": readers.Number("3")}))
	require.NoError(t, err)
	assert.Equal(t, `{"user_id":{"customer_user_id":"u"},"event_url":"https://example.com/plans/gold?n=3&x={y}","event_value":{"label":"gold-gold"}}`, string(p.Body))

	_, err = m.Apply(row(t, m, map[string]readers.Value{"uid": s("u"), "plan": s("gold"), "n": readers.Null()}))
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "required", fe.Rule)
	assert.Equal(t, "event_url", fe.Field)
	assert.Equal(t, "plan,n", fe.Column)
}

func TestNestedTargetsAndConstants(t *testing.T) {
	src := `app_id: a
endpoint: event
dedup: none
fields:
  user_id.customer_user_id: { column: uid }
  event_name: { value: af_purchase }
  event_value.custom_parameters.promo_code: { column: promo, optional: true }
  event_value.af_content_id: { column: sku }
  event_value.custom_parameters.tier.level: { value: 3 }
  event_value.tags: { value: [a, 1, true, null] }
  event_value.meta: { value: { src: "crm \"x\"", ratio: 0.50 } }
  event_value.af_price: { value: 12.50 }
`
	m := mustParse(t, src)
	p, err := m.Apply(row(t, m, map[string]readers.Value{"uid": s("u"), "promo": s("SUMMER10"), "sku": s("SKU-001")}))
	require.NoError(t, err)
	assert.Equal(t, `{"user_id":{"customer_user_id":"u"},"event_name":"af_purchase","event_value":{"custom_parameters":{"promo_code":"SUMMER10","tier":{"level":3}},"af_content_id":"SKU-001","tags":["a",1,true,null],"meta":{"src":"crm \"x\"","ratio":0.50},"af_price":12.50}}`, string(p.Body))

	// An object whose members are all absent disappears, with its comma.
	p, err = m.Apply(row(t, m, map[string]readers.Value{"uid": s("u"), "sku": s("S")}))
	require.NoError(t, err)
	assert.Contains(t, string(p.Body), `"event_value":{"custom_parameters":{"tier":{"level":3}},"af_content_id":"S"`)
}

func TestDedup(t *testing.T) {
	src := strings.Replace(designExample, "  customer_dedup_id:        { column: renewal_id }\n", "", 1)
	m1 := mustParse(t, src)
	m2 := mustParse(t, src)
	r := designRow()
	delete(r, "renewal_id")
	p1, err := m1.Apply(row(t, m1, r))
	require.NoError(t, err)
	p2, err := m2.Apply(row(t, m2, r))
	require.NoError(t, err)
	assert.Len(t, p1.DedupID, 32)
	assert.Equal(t, p1.DedupID, p2.DedupID, "same mapped row, same id, across Parse calls")
	assert.Equal(t, p1.Body, p2.Body)

	// The derivation is documented: sha256(app_id \n endpoint \n body-without-id)[:32 hex].
	without := strings.Replace(string(p1.Body), `,"customer_dedup_id":"`+p1.DedupID+`"`, "", 1)
	assert.Equal(t, sha("website-www.example.com\nevent\n" + without)[:32], p1.DedupID)
	assert.Contains(t, string(p1.Body), `"customer_dedup_id":"`+p1.DedupID+`","email_hashed"`)

	r["amount"] = s("9.99")
	p3, err := m1.Apply(row(t, m1, r))
	require.NoError(t, err)
	assert.NotEqual(t, p1.DedupID, p3.DedupID)

	// A mapped id wins; dedup: none sends none.
	m4 := mustParse(t, designExample)
	p4, err := m4.Apply(row(t, m4, designRow()))
	require.NoError(t, err)
	assert.Equal(t, "rn-0001", p4.DedupID)
	m5 := mustParse(t, strings.Replace(src, "fields:", "dedup: none\nfields:", 1))
	p5, err := m5.Apply(row(t, m5, r))
	require.NoError(t, err)
	assert.Empty(t, p5.DedupID)
	assert.NotContains(t, string(p5.Body), "customer_dedup_id")
}

func designRow() map[string]readers.Value {
	return map[string]readers.Value{
		"user_id":    s("15667737-366d-4994-ac8b-653fe6b2be4a"),
		"amount":     readers.Number("49.99"),
		"currency":   s("usd"),
		"renewed_at": s("2024-04-01T09:30:00-04:00"),
		"email":      s("John_Smith@gmail.com"),
		"phone":      s("(650) 555-1212"),
		"country":    s("us"),
		"plan":       s("annual"),
		"renewal_id": s("rn-0001"),
	}
}

func TestDesignExamplePayload(t *testing.T) {
	m := mustParse(t, designExample)
	p, err := m.Apply(row(t, m, designRow()))
	require.NoError(t, err)
	assert.True(t, p.HasTimestamp)
	assert.Equal(t, int64(1711978200000), p.Timestamp)
	assert.Equal(t, `{"user_id":{"customer_user_id":"15667737-366d-4994-ac8b-653fe6b2be4a"},"event_name":"af_subscription_renewal","event_revenue":49.99,"event_revenue_currency":"USD","event_value":{"custom_parameters":{"plan":"annual"}},"timestamp":1711978200000,"customer_dedup_id":"rn-0001","email_hashed":"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f","phone_number_e164_hashed":"`+sha("+16505551212")+`"}`, string(p.Body))
}

func TestRegionColumn(t *testing.T) {
	src := `app_id: a
endpoint: visit
fields:
  user_id.customer_user_id: { column: uid }
  event_url: { value: "https://example.com/" }
  phone_number_hashed: { column: phone, hash: phone, region: GB, region_column: cc }
`
	m := mustParse(t, src)
	for _, tt := range []struct {
		cc   readers.Value
		in   string
		want string
	}{
		{s("US"), "(650) 555-1212", "16505551212"},
		{s("us"), "650 555 1212", "16505551212"},
		{readers.Null(), "020 7946 0018", "442079460018"}, // falls back to region: GB
		{s("GB"), "+1 650 555 1212", "16505551212"},
	} {
		p, err := m.Apply(row(t, m, map[string]readers.Value{"uid": s("u"), "phone": s(tt.in), "cc": tt.cc}))
		require.NoError(t, err, tt.in)
		assert.Contains(t, string(p.Body), `"phone_number_hashed":"`+sha(tt.want)+`"`, tt.in)
	}
}

func TestNaiveTimes(t *testing.T) {
	src := `app_id: a
endpoint: visit
input_timezone: America/New_York
fields:
  user_id.customer_user_id: { column: uid }
  event_url: { value: "https://example.com/" }
  timestamp: { column: ts }
`
	m := mustParse(t, src)
	ny := m.InputTimezone
	for _, tt := range []struct {
		name string
		wall time.Time
		want time.Time
	}{
		{"winter", time.Date(2024, 1, 15, 9, 0, 0, 0, time.UTC), time.Date(2024, 1, 15, 14, 0, 0, 0, time.UTC)},
		{"summer", time.Date(2024, 7, 15, 9, 0, 0, 0, time.UTC), time.Date(2024, 7, 15, 13, 0, 0, 0, time.UTC)},
		{"spring-forward gap moves forward", time.Date(2024, 3, 10, 2, 30, 0, 0, time.UTC), time.Date(2024, 3, 10, 3, 30, 0, 0, ny)},
		{"fall-back overlap takes the first", time.Date(2024, 11, 3, 1, 30, 0, 0, time.UTC), time.Date(2024, 11, 3, 5, 30, 0, 0, time.UTC)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := m.Apply(row(t, m, map[string]readers.Value{"uid": s("u"), "ts": readers.NaiveTime(tt.wall)}))
			require.NoError(t, err)
			assert.Equal(t, tt.want.UnixMilli(), p.Timestamp)
		})
	}
	// An aware time is not reinterpreted.
	at := time.Date(2024, 1, 15, 9, 0, 0, 0, time.UTC)
	p, err := m.Apply(row(t, m, map[string]readers.Value{"uid": s("u"), "ts": readers.Time(at)}))
	require.NoError(t, err)
	assert.Equal(t, at.UnixMilli(), p.Timestamp)
}

func TestAppendNumber(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"0", "0"}, {"-0", "-0"}, {"123456.789012", "123456.789012"}, {"+5", "5"}, {"05.10", "5.10"},
		{".5", "0.5"}, {"-.5", "-0.5"}, {"5.", "5"}, {"000", "0"}, {"1E+05", "1E+05"}, {"+1e5", "1e5"},
		{"1e-400", "1e-400"}, {"NaN", ""}, {"-Inf", ""}, {"1e400", ""}, {"0x10", ""}, {"1_000", ""},
		{"", ""}, {"-", ""}, {".", ""}, {"1e", ""}, {"1..2", ""}, {" 1", ""},
	} {
		out, ok := appendNumber(nil, tt.in)
		if tt.want == "" {
			assert.False(t, ok, tt.in)
			assert.Empty(t, out, tt.in)
			continue
		}
		assert.True(t, ok, tt.in)
		assert.Equal(t, tt.want, string(out), tt.in)
	}
}

// TestErrorsNeverCarryValues pushes personal data through failing rules
// and checks no error text contains it.
func TestErrorsNeverCarryValues(t *testing.T) {
	src := `app_id: a
endpoint: event
fields:
  user_id.customer_user_id: { column: uid }
  event_name: { column: name }
  email_hashed: { column: email, hash: email }
  phone_number_hashed: { column: phone, hash: phone, region: US }
  first_name_hashed: { column: first, hash: name }
  ip: { column: ip }
`
	m := mustParse(t, src)
	good := map[string]readers.Value{"uid": s("u"), "name": s("af_x"), "email": s("a@b.co"), "phone": s("6505551212"), "first": s("Jo"), "ip": s("1.1.1.1")}
	for col, bad := range map[string]string{
		"uid":   "john.smith.private.customer.id.that.is.far.too.long.for.the.api.limit",
		"name":  "john-smith@example.com",
		"email": "john smith at example dot com",
		"phone": "call john at home 555",
		"first": "John\xffSmith",
		"ip":    "john.smith.home",
	} {
		t.Run(col, func(t *testing.T) {
			in := map[string]readers.Value{}
			for k, v := range good {
				in[k] = v
			}
			in[col] = s(bad)
			_, err := m.Apply(row(t, m, in))
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, col, fe.Column)
			assert.NotContains(t, err.Error(), bad)
			assert.NotContains(t, err.Error(), "john")
			assert.NotContains(t, err.Error(), "John")
		})
	}
}

func TestApplyConcurrent(t *testing.T) {
	m := mustParse(t, designExample)
	want, err := m.Apply(row(t, m, designRow()))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				p, err := m.Apply(row(t, m, designRow()))
				if assert.NoError(t, err) {
					assert.Equal(t, want.Body, p.Body)
				}
			}
		}()
	}
	wg.Wait()
}

func TestApplyWrongWidth(t *testing.T) {
	m := mustParse(t, designExample)
	_, err := m.Apply(nil)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "columns", fe.Rule)
}

// TestGolden compares full bodies with testdata/*.golden.json; run with
// -update to rewrite them after an intended change.
func TestGolden(t *testing.T) {
	visit := `app_id: website-www.example.com
endpoint: visit
timezone: Europe/Berlin
input_timezone: Europe/Berlin
fields:
  user_id.appsflyer_id: { column: afid }
  user_id.customer_user_id: { column: cuid }
  event_url: { column: url }
  timestamp: { column: ts }
  ip: { column: ip }
  user_agent: { column: ua }
  http_referrer: { column: ref }
  event_value: { column: ev }
  email_hashed: { column: email, hash: email }
  first_name_hashed: { column: first, hash: name }
  last_name_hashed: { column: last, hash: name }
`
	tests := []struct {
		name, src string
		row       map[string]readers.Value
	}{
		{"design_event", designExample, designRow()},
		{"visit_all_fields", visit, map[string]readers.Value{
			"afid": s("1234567890abcdef"), "cuid": s("15667737-366d-4994-ac8b-653fe6b2be4a"),
			"url": s("https://example.com/products/sneakers"), "ts": readers.NaiveTime(time.Date(2024, 4, 1, 21, 33, 20, 0, time.UTC)),
			"ip": s("35.244.183.10"), "ua": s("Mozilla/5.0 (Windows NT 10.0; Win64; x64) ..."), "ref": s("https://www.google.com/"),
			"ev":    readers.JSON(`{"af_content_id":"SKU-001","custom_parameters":{"promo_code":"SUMMER10"}}`),
			"email": s("john_smith@gmail.com"), "first": s("John"), "last": s("Smith"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, tt.src)
			p, err := m.Apply(row(t, m, tt.row))
			require.NoError(t, err)
			path := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, append(p.Body, '\n'), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, strings.TrimSuffix(string(want), "\n"), string(p.Body))
		})
	}
}

// TestTimestampAlone: Timestamp gives the instant Apply would send, or
// Apply's timestamp error, and ignores the other fields.
func TestTimestampAlone(t *testing.T) {
	m := mustParse(t, `app_id: a
endpoint: event
input_timezone: America/New_York
fields:
  user_id.customer_user_id: { column: uid }
  event_name: { value: af_purchase }
  ip: { column: ip }
  timestamp: { column: ts, format: "2006-01-02 15:04", optional: true }
`)
	for _, tt := range []struct {
		name   string
		in     map[string]readers.Value
		ms     int64
		timed  bool
		errHas string
	}{
		{"naive time in the input zone", map[string]readers.Value{"uid": s("u"), "ip": s("1.2.3.4"), "ts": s("2024-04-01 08:00")}, 1711972800000, true, ""},
		{"other fields invalid: not its business", map[string]readers.Value{"ip": s("nope"), "ts": s("2024-04-01 08:00")}, 1711972800000, true, ""},
		{"optional and missing: untimed", map[string]readers.Value{"uid": s("u"), "ts": readers.Null()}, 0, false, ""},
		{"invalid", map[string]readers.Value{"uid": s("u"), "ts": s("April 1st")}, 0, false, "timestamp"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vals := row(t, m, tt.in)
			ms, timed, err := m.Timestamp(vals)
			if tt.errHas != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.errHas)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.timed, timed)
			assert.Equal(t, tt.ms, ms)
			if p, err := m.Apply(vals); err == nil {
				assert.Equal(t, p.HasTimestamp, timed)
				assert.Equal(t, p.Timestamp, ms, "the instant Apply sends")
			}
		})
	}
	untimed := mustParse(t, "app_id: a\nendpoint: event\nfields:\n  user_id.customer_user_id: { column: uid }\n  event_name: { value: x }\n")
	_, timed, err := untimed.Timestamp(row(t, untimed, map[string]readers.Value{"uid": s("u")}))
	assert.NoError(t, err)
	assert.False(t, timed)
}
