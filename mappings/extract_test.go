package mappings

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/readers"
)

// cookieMapping reads appsflyer_id out of a Cookie header in column
// cookie; cuid keeps the row valid when the cookie is missing.
const cookieMapping = `app_id: website-www.example.com
endpoint: visit
dedup: none
fields:
  user_id.customer_user_id: { column: uid, optional: true }
  user_id.appsflyer_id: { column: cookie, extract: af_user_id_cookie, optional: true }
  event_url: { value: "https://example.com/" }
`

func TestExtractAFUserIDCookie(t *testing.T) {
	m := mustParse(t, cookieMapping)
	tests := []struct {
		name   string
		header readers.Value
		want   string // appsflyer_id sent; "" when missing (omitted)
		rule   string // FieldError rule when the field is invalid
	}{
		{"middle of three", s("a=1; afUserId=abc-123; b=2"), "abc-123", ""},
		{"alone", s("afUserId=abc-123"), "abc-123", ""},
		{"first", s("afUserId=abc-123;b=2"), "abc-123", ""},
		{"last, no spaces", s("a=1;b=2;afUserId=abc-123"), "abc-123", ""},
		{"spaces around ; and =", s("a=1 ;  afUserId = abc-123 ; b=2"), "abc-123", ""},
		{"tabs", s("a=1;\tafUserId\t=\tabc-123\t"), "abc-123", ""},
		{"trailing semicolon", s("afUserId=abc-123;"), "abc-123", ""},
		{"quoted", s(`afUserId="abc"`), "abc", ""},
		{"quoted with spaces around", s(`a=1; afUserId = "abc" ; b=2`), "abc", ""},
		{"lone quote kept", s(`afUserId="abc`), `\"abc`, ""}, // JSON-escaped in the body
		{"percent-encoded dash", s("afUserId=abc%2D1"), "abc-1", ""},
		{"percent-encoded lower hex", s("afUserId=a%2fb%3Dc"), "a/b=c", ""},
		{"plus is not a space", s("afUserId=a+b"), "a+b", ""},
		{"quoted and encoded", s(`afUserId="x%20y"`), "x y", ""},
		{"longer name is another cookie", s("xafUserId=no; afUserId=yes"), "yes", ""},
		{"name suffix is another cookie", s("afUserIdx=no; afUserId=yes"), "yes", ""},
		{"name is case-sensitive", s("afuserid=no; AFUSERID=no"), "", ""},
		{"first occurrence wins", s("afUserId=first; afUserId=second"), "first", ""},
		{"first occurrence wins even when empty", s("afUserId=; afUserId=second"), "", ""},
		{"value with =", s("afUserId=abc==; b=2"), "abc==", ""},
		{"header name prefix", s("Cookie: a=1; afUserId=abc-123"), "abc-123", ""},
		{"header name prefix any case", s("cookie:afUserId=abc-123"), "abc-123", ""},
		{"missing", s("a=1; b=2"), "", ""},
		{"empty value", s("a=1; afUserId=; b=2"), "", ""},
		{"blank value", s("afUserId=   ;b=2"), "", ""},
		{"empty quoted value", s(`afUserId=""`), "", ""},
		{"empty header", s(""), "", ""},
		{"null column", readers.Null(), "", ""},
		{"malformed pairs skipped", s(";;=x; afUserId; =; a; afUserId=ok"), "ok", ""},
		{"name only is not a cookie", s("afUserId"), "", ""},
		{"name in a value is not a cookie", s("a=afUserId=no"), "", ""},
		{"bad escape", s("afUserId=abc%2"), "", "extract"},
		{"bad escape digits", s("afUserId=abc%zz1"), "", "extract"},
		{"escape to invalid utf8", s("afUserId=%ff"), "", "utf8"},
		{"not text", readers.Number("12"), "", "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := m.Apply(row(t, m, map[string]readers.Value{"uid": s("u"), "cookie": tt.header}))
			if tt.rule != "" {
				var fe *FieldError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, tt.rule, fe.Rule)
				assert.Equal(t, "user_id.appsflyer_id", fe.Field)
				assert.Equal(t, "cookie", fe.Column)
				assert.NotContains(t, err.Error(), "abc")
				return
			}
			require.NoError(t, err)
			if tt.want == "" {
				assert.Equal(t, `{"user_id":{"customer_user_id":"u"},"event_url":"https://example.com/"}`, string(p.Body))
				return
			}
			assert.Equal(t, `{"user_id":{"customer_user_id":"u","appsflyer_id":"`+tt.want+`"},"event_url":"https://example.com/"}`, string(p.Body))
		})
	}
}

// TestExtractMissingIsMissing: an absent cookie is a missing value, so a
// required field rejects the row and a default stands in.
func TestExtractMissingIsMissing(t *testing.T) {
	required := strings.Replace(cookieMapping, "extract: af_user_id_cookie, optional: true", "extract: af_user_id_cookie", 1)
	m := mustParse(t, required)
	_, err := m.Apply(row(t, m, map[string]readers.Value{"uid": s("u"), "cookie": s("a=1")}))
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "required", fe.Rule)
	assert.ErrorIs(t, err, ErrRequired)

	withDefault := strings.Replace(cookieMapping, "optional: true }\n  event_url", "default: unknown-visitor }\n  event_url", 1)
	m = mustParse(t, withDefault)
	p, err := m.Apply(row(t, m, map[string]readers.Value{"uid": s("u"), "cookie": s("afUserId=")}))
	require.NoError(t, err)
	assert.Contains(t, string(p.Body), `"appsflyer_id":"unknown-visitor"`)

	// on_invalid: omit drops a malformed escape, keeping the row.
	omit := strings.Replace(cookieMapping, "optional: true }\n  event_url", "on_invalid: omit }\n  event_url", 1)
	m = mustParse(t, omit)
	p, err = m.Apply(row(t, m, map[string]readers.Value{"uid": s("u"), "cookie": s("afUserId=%")}))
	require.NoError(t, err)
	assert.NotContains(t, string(p.Body), "appsflyer_id")
}

func TestExtractConfigErrors(t *testing.T) {
	const head = "app_id: a\nendpoint: event\nfields:\n  user_id.customer_user_id: { column: uid }\n  event_name: { value: af_x }\n"
	tests := []struct {
		name, line, at, msg string
	}{
		{"unknown kind", `  user_id.appsflyer_id: { column: c, extract: af_cookie }`, "af_cookie", "extract must be af_user_id_cookie"},
		{"empty kind", `  user_id.appsflyer_id: { column: c, extract: "" }`, `""`, "extract must be af_user_id_cookie"},
		{"with value", `  user_id.appsflyer_id: { value: x, extract: af_user_id_cookie }`, "extract", "cannot be combined with value"},
		{"with value, extract first", `  user_id.appsflyer_id: { extract: af_user_id_cookie, value: x }`, "extract", "cannot be combined with value"},
		{"with template", `  user_id.appsflyer_id: { template: "{c}", extract: af_user_id_cookie }`, "extract", "cannot be combined with template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := head + tt.line + "\n"
			assertPositions(t, src, configErrs(t, src), []pos{{6, tt.at, tt.msg}})
		})
	}
}

// FuzzCookieValue: the parser never panics, finds only what was written,
// and obeys first-occurrence-wins against an appended cookie.
func FuzzCookieValue(f *testing.F) {
	for _, h := range []string{"a=1; afUserId=abc-123; b=2", `afUserId="abc"`, "afUserId=abc%2D1", "xafUserId=no; afUserId=yes",
		"", ";;;", "afUserId", "afUserId=", "Cookie: afUserId=x", `afUserId="`, "afUserId=%", "afUserId=%e2%82%ac"} {
		f.Add(h, "id-1")
	}
	f.Fuzz(func(t *testing.T, header, id string) {
		raw, ok := cookieValue(header, afUserIDCookie)
		if ok && !strings.Contains(header, afUserIDCookie) {
			t.Fatalf("found %q in a header without the cookie name", raw)
		}
		if ok && !strings.Contains(header, raw) {
			t.Fatalf("value %q is not a part of the header", raw)
		}
		if dec, ok := percentDecode(raw); ok && !strings.Contains(raw, "%") && dec != raw {
			t.Fatalf("decoding changed a value without escapes: %q -> %q", raw, dec)
		}
		// An id appended as its own pair (escaped the way the SDK's
		// encodeURIComponent would) is found unless the header already
		// holds the cookie.
		appended := header + "; afUserId=" + url.PathEscape(id)
		got, ok2 := cookieValue(appended, afUserIDCookie)
		if !ok2 {
			t.Fatalf("appended cookie not found in %q", appended)
		}
		if ok {
			if got != raw {
				t.Fatalf("first occurrence lost: %q, then %q", raw, got)
			}
			return
		}
		if dec, okDec := percentDecode(got); !okDec || dec != id {
			t.Fatalf("appended id %q read back as %q (%v)", id, dec, okDec)
		}
	})
}

// TestPercentDecode pins the decoder to net/url's path unescaping, which
// is what encodeURIComponent output needs.
func TestPercentDecode(t *testing.T) {
	for _, in := range []string{"", "abc", "a%20b", "%2D", "%e2%82%ac", "a+b", "%", "%2", "%g0", "100%", "%%20"} {
		got, ok := percentDecode(in)
		want, err := url.PathUnescape(in)
		assert.Equal(t, err == nil, ok, in)
		if ok {
			assert.Equal(t, want, got, in)
		}
	}
}
