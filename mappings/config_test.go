package mappings

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// designExample is the mapping from DESIGN.md, exactly as written there.
const designExample = `app_id: website-www.example.com
endpoint: event                 # event | visit
timezone: America/New_York      # the app's timezone as set in AppsFlyer
fields:
  user_id.customer_user_id: { column: user_id }
  event_name:               { value: af_subscription_renewal }
  event_revenue:            { column: amount, type: number }
  event_revenue_currency:   { column: currency }
  timestamp:                { column: renewed_at, format: rfc3339 }
  email_hashed:             { column: email, hash: email }
  phone_number_e164_hashed: { column: phone, hash: phone_e164, region_column: country }
  event_value.custom_parameters.plan: { column: plan }
  customer_dedup_id:        { column: renewal_id }
`

func TestLoadDesignExample(t *testing.T) {
	path := filepath.Join(t.TempDir(), "renewals.yaml")
	require.NoError(t, os.WriteFile(path, []byte(designExample), 0o600))
	m, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, "website-www.example.com", m.AppID)
	assert.Equal(t, EndpointEvent, m.Endpoint)
	assert.Equal(t, "America/New_York", m.TimezoneName)
	assert.Equal(t, "America/New_York", m.Timezone.String())
	assert.Equal(t, time.UTC, m.InputTimezone)
	assert.Equal(t, DedupAuto, m.Dedup)
	assert.Equal(t, []string{"user_id", "amount", "currency", "renewed_at", "email", "phone", "country", "plan", "renewal_id"}, m.Columns())
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	var ces ConfigErrors
	assert.False(t, errors.As(err, &ces), "a read failure is not a ConfigError")
}

// pos marks where an error must point: the line, and the text in that line
// whose first character is the column.
type pos struct {
	line int
	at   string
	msg  string
}

func configErrs(t *testing.T, src string) ConfigErrors {
	t.Helper()
	m, err := Parse([]byte(src), "m.yaml")
	require.Error(t, err)
	assert.Nil(t, m)
	var ces ConfigErrors
	require.True(t, errors.As(err, &ces), "error is %T, want ConfigErrors", err)
	return ces
}

func assertPositions(t *testing.T, src string, ces ConfigErrors, want []pos) {
	t.Helper()
	lines := strings.Split(src, "\n")
	require.Len(t, ces, len(want), "errors: %v", ces)
	for i, w := range want {
		require.Less(t, w.line-1, len(lines))
		col := strings.Index(lines[w.line-1], w.at)
		require.GreaterOrEqual(t, col, 0, "marker %q not on line %d", w.at, w.line)
		assert.Equal(t, "m.yaml", ces[i].File)
		assert.Equal(t, w.line, ces[i].Line, "error %d: %v", i, ces[i])
		assert.Equal(t, col+1, ces[i].Column, "error %d: %v", i, ces[i])
		assert.Contains(t, ces[i].Msg, w.msg)
	}
}

// TestFieldConfigErrors puts one bad field on line 6 of a valid mapping.
func TestFieldConfigErrors(t *testing.T) {
	const head = "app_id: a\nendpoint: event\nfields:\n  user_id.customer_user_id: { column: uid }\n  event_name: { value: af_x }\n"
	tests := []struct {
		name, line, at, msg string
	}{
		{"unknown target", `  bogus: { column: x }`, "bogus", "unknown target"},
		{"empty path segment", `  event_value..x: { column: x }`, "event_value", "unknown target"},
		{"unknown field key", `  ip: { column: x, colour: y }`, "colour", `unknown key "colour"`},
		{"two sources", `  ip: { column: x, value: y }`, "value", "exclusive"},
		{"three sources", `  ip: { template: "{x}", column: x }`, "column", "exclusive"},
		{"no source", `  ip: { optional: true }`, "ip", "needs one of column, value or template"},
		{"not a mapping", `  ip: x`, "x", "a field is a mapping"},
		{"hash on plain target", `  ip: { column: x, hash: email }`, "hash", "*_hashed targets only"},
		{"hash kind misfit email", `  email_hashed: { column: x, hash: phone }`, "phone", "does not fit"},
		{"hash kind misfit phone", `  phone_number_hashed: { column: x, hash: phone_e164 }`, "phone_e164", "does not fit"},
		{"hash kind misfit e164", `  phone_number_e164_hashed: { column: x, hash: phone }`, "phone }", "does not fit"},
		{"hash kind misfit name", `  first_name_hashed: { column: x, hash: email }`, "email", "does not fit"},
		{"unknown hash", `  email_hashed: { column: x, hash: md5 }`, "md5", "hash must be"},
		{"format off timestamp", `  ip: { column: x, format: rfc3339 }`, "format", "timestamp only"},
		{"empty format", `  timestamp: { column: x, format: "" }`, `""`, "format must name"},
		{"bad format", `  timestamp: { column: x, format: "15:04" }`, `"15`, "no year element"},
		{"type on timestamp", `  timestamp: { column: x, type: integer }`, "integer", "does not fit"},
		{"type misfit", `  event_revenue: { column: x, type: string }`, "string", "does not fit"},
		{"unknown type", `  ip: { column: x, type: text }`, "text", "type must be"},
		{"region on email", `  email_hashed: { column: x, hash: email, region: US }`, "region", "phone or phone_e164 only"},
		{"region_column on name", `  first_name_hashed: { column: x, hash: name, region_column: c }`, "region_column", "phone or phone_e164 only"},
		{"region without hash", `  phone_number_hashed: { column: x, region: US }`, "region", "phone or phone_e164 only"},
		{"invalid region", `  phone_number_hashed: { column: x, hash: phone, region: ZZ }`, "ZZ", "ISO 3166-1"},
		{"alpha-3 region", `  phone_number_hashed: { column: x, hash: phone, region: USA }`, "USA", "ISO 3166-1"},
		{"optional not bool", `  ip: { column: x, optional: maybe }`, "maybe", "true or false"},
		{"on_invalid", `  ip: { column: x, on_invalid: skip }`, "skip", "reject or omit"},
		{"empty column", `  ip: { column: "" }`, `""`, "column must name"},
		{"null value", `  ip: { value: null }`, "null", "must not be null"},
		{"bad constant", `  ip: { value: "999.1.1.1" }`, `"999`, "rule ip"},
		{"bad default", `  ip: { column: x, default: not-an-ip }`, "not-an-ip", "rule ip"},
		{"template unclosed", `  event_url: { template: "https://x/{plan" }`, `"https`, "unclosed"},
		{"template stray brace", `  event_url: { template: "https://x/}" }`, `"https`, "unmatched"},
		{"template empty placeholder", `  event_url: { template: "https://x/{}" }`, `"https`, "empty placeholder"},
		{"event_value not object", `  event_value: { value: [1, 2] }`, "[1", "rule object"},
		{"inf constant", `  event_revenue: { value: .inf }`, ".inf", "finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := head + tt.line + "\n"
			assertPositions(t, src, configErrs(t, src), []pos{{6, tt.at, tt.msg}})
		})
	}
}

func TestMappingConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []pos
	}{
		{"unknown zone", "app_id: a\nendpoint: event\ntimezone: Mars/Olympus\nfields:\n  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n",
			[]pos{{3, "Mars", "unknown IANA time zone"}}},
		{"local input zone", "app_id: a\nendpoint: event\ninput_timezone: Local\nfields:\n  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n",
			[]pos{{3, "Local", "unknown IANA time zone"}}},
		{"unknown top-level key", "app_id: a\nendpoint: event\nfeilds: {}\nfields:\n  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n",
			[]pos{{3, "feilds", `unknown top-level key "feilds"`}}},
		{"bad endpoint", "app_id: a\nendpoint: events\nfields:\n  user_id.customer_user_id: { column: u }\n",
			[]pos{{2, "events", "event or visit"}}},
		{"bad dedup", "app_id: a\nendpoint: event\ndedup: yes\nfields:\n  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n",
			[]pos{{3, "yes", "auto or none"}}},
		{"empty app_id", "app_id: ''\nendpoint: event\nfields:\n  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n",
			[]pos{{1, "''", "non-empty"}}},
		{"missing everything", "tests: []\n",
			[]pos{{1, "tests", "app_id is required"}, {1, "tests", "endpoint is required"}, {1, "tests", "fields is required"}}},
		{"fields not a mapping", "app_id: a\nendpoint: event\nfields: [x]\n",
			[]pos{{3, "fields", "fields must be a mapping"}}},
		{"no user id", "app_id: a\nendpoint: event\nfields:\n  event_name: { value: x }\n",
			[]pos{{3, "fields", "user_id.customer_user_id or user_id.appsflyer_id"}}},
		{"event without event_name", "app_id: a\nendpoint: event\nfields:\n  user_id.appsflyer_id: { column: a }\n",
			[]pos{{3, "fields", "must map event_name"}}},
		{"visit without event_url", "app_id: a\nendpoint: visit\nfields:\n  user_id.appsflyer_id: { column: a }\n",
			[]pos{{3, "fields", "must map event_url"}}},
		{"visit with event fields", "app_id: a\nendpoint: visit\nfields:\n  user_id.appsflyer_id: { column: a }\n  event_url: { column: u }\n  event_name: { value: x }\n  event_revenue: { column: r }\n  event_revenue_currency: { value: USD }\n",
			[]pos{{6, "event_name", "does not apply to visits"}, {7, "event_revenue", "does not apply to visits"}, {8, "event_revenue_currency", "does not apply to visits"}}},
		{"event_value whole and by path", "app_id: a\nendpoint: event\nfields:\n  user_id.appsflyer_id: { column: a }\n  event_name: { value: x }\n  event_value: { column: ev }\n  event_value.plan: { column: p }\n",
			[]pos{{7, "event_value.plan", "both whole and by path"}}},
		{"event_value path conflict", "app_id: a\nendpoint: event\nfields:\n  user_id.appsflyer_id: { column: a }\n  event_name: { value: x }\n  event_value.a: { column: p }\n  event_value.a.b: { column: q }\n",
			[]pos{{7, "event_value.a.b", "conflicts with event_value.a"}}},
		{"syntax error", "app_id: a\nendpoint: [event\n",
			[]pos{{2, "[", "YAML syntax"}}},
		{"duplicate key", "app_id: a\napp_id: b\n",
			[]pos{{2, "app_id", "already defined"}}},
		{"not a mapping", "- a\n- b\n", []pos{{1, "-", "must be a YAML mapping"}}},
		{"two documents", "app_id: a\nendpoint: event\nfields:\n  user_id.appsflyer_id: { column: a }\n  event_name: { value: x }\n---\nx: 1\n",
			[]pos{{7, "x", "one YAML document"}}},
		{"every mistake in file order", "app_id: a\nendpoint: event\ntimezone: Nowhere\nfields:\n  user_id.customer_user_id: { column: u, colour: red }\n  event_name: { value: bad-name }\n  bogus: { column: b }\nextra: 1\n",
			[]pos{{3, "Nowhere", "time zone"}, {5, "colour", "unknown key"}, {6, "bad-name", "rule event_name"}, {7, "bogus", "unknown target"}, {8, "extra", "unknown top-level key"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertPositions(t, tt.src, configErrs(t, tt.src), tt.want)
		})
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "---\n"} {
		ces := configErrs(t, src)
		require.Len(t, ces, 1)
		assert.Equal(t, 1, ces[0].Line)
		assert.Equal(t, 1, ces[0].Column)
	}
}

func TestParseAcceptsOptions(t *testing.T) {
	src := `app_id: a
endpoint: visit
input_timezone: Asia/Kolkata
dedup: none
tests:
  - name: the phone is required
    row: { afid: x, plan: gold, ref: crm }
    expect: { error: { field: phone_number_hashed, rule: required } }
fields:
  user_id.appsflyer_id: { column: afid, optional: true }
  user_id.customer_user_id: { column: cuid, optional: true, on_invalid: omit }
  event_url: { template: "https://example.com/{{plans}}/{plan}?ref={ref}" }
  event_value: { value: { a: 1, b: [true, null, "x"] } }
  phone_number_hashed: { column: phone, hash: phone, region: us, region_column: cc }
`
	m, err := Parse([]byte(src), "m.yaml")
	require.NoError(t, err)
	assert.Equal(t, EndpointVisit, m.Endpoint)
	assert.Equal(t, DedupNone, m.Dedup)
	assert.Equal(t, "Asia/Kolkata", m.InputTimezone.String())
	assert.Equal(t, "UTC", m.TimezoneName)
	assert.Equal(t, []string{"afid", "cuid", "plan", "ref", "phone", "cc"}, m.Columns())
	res := m.RunTests()
	require.Len(t, res, 1)
	assert.True(t, res[0].Pass, res[0].Diff)
	assert.Equal(t, 6, res[0].Line)
}
