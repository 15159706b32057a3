package mappings

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/readers"
)

// explainMapping hashes email, phone and names, and also reads the email
// column into an unhashed event_value member and a template, so masking
// must follow the column, not just the target.
const explainMapping = `app_id: website-www.example.com
endpoint: event
timezone: America/New_York
input_timezone: America/New_York
fields:
  user_id.customer_user_id: { column: user_id }
  user_id.appsflyer_id: { column: cookie, extract: af_user_id_cookie, optional: true }
  event_name: { value: af_purchase }
  event_revenue: { column: amount, type: number }
  event_revenue_currency: { column: currency, default: USD }
  timestamp: { column: ts, format: "2006-01-02 15:04:05" }
  email_hashed: { column: email, hash: email }
  phone_number_e164_hashed: { column: phone, hash: phone_e164, region_column: country, region: US }
  first_name_hashed: { column: first, hash: name }
  last_name_hashed: { column: last, hash: name, optional: true }
  ip: { column: ip, on_invalid: omit }
  event_url: { template: "https://example.com/u/{email}" , optional: true }
  event_value.contact: { column: email, optional: true }
  event_value.plan: { column: plan }
`

const (
	rawEmail = "Jane.Doe@Example.com"
	rawPhone = "(650) 555-1212"
	rawFirst = "Jane"
)

func explainRow(t *testing.T, m *Mapping, over map[string]readers.Value) []readers.Value {
	in := map[string]readers.Value{
		"user_id": s("u-1"), "cookie": s("a=1; afUserId=af-9; sid=secret-session"), "amount": readers.Number("49.99"), "currency": s(" "),
		"ts": s("2024-04-01 09:30:00"), "email": s(rawEmail), "phone": s(rawPhone), "country": s("US"), "first": s(rawFirst),
		"last": readers.Null(), "ip": s("not-an-ip"), "plan": s("annual"),
	}
	for k, v := range over {
		in[k] = v
	}
	return row(t, m, in)
}

// explainStrings returns every string reachable from the explanation,
// including the body and the error text.
func explainStrings(ex Explanation) []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			out = append(out, v.String())
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				out = append(out, string(v.Bytes()))
				return
			}
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		}
	}
	walk(reflect.ValueOf(ex))
	if ex.Err != nil {
		out = append(out, ex.Err.Error())
	}
	return out
}

func assertNoPII(t *testing.T, ex Explanation, raws ...string) {
	t.Helper()
	for _, str := range explainStrings(ex) {
		low := strings.ToLower(str)
		for _, raw := range raws {
			assert.NotContains(t, low, strings.ToLower(raw), "explanation string leaks PII: %q", str)
		}
	}
}

func TestExplainGoodRowMatchesApply(t *testing.T) {
	m := mustParse(t, strings.Replace(explainMapping, "  event_value.contact: { column: email, optional: true }\n", "", 1))
	vals := explainRow(t, m, nil)
	want, err := m.Apply(vals)
	require.NoError(t, err)

	ex := m.Explain(vals)
	require.NoError(t, ex.Err)
	require.NotNil(t, ex.Payload)
	assert.Equal(t, want, ex.Payload, "Explain's payload is Apply's")

	// Fields are in body order, and every sent Result is the member of
	// the body, byte for byte.
	var names []string
	for _, f := range ex.Fields {
		names = append(names, f.Field)
	}
	assert.Equal(t, []string{"user_id.customer_user_id", "user_id.appsflyer_id", "event_name", "event_revenue", "event_revenue_currency",
		"event_value.plan", "event_url", "timestamp", "ip", "email_hashed", "phone_number_e164_hashed", "first_name_hashed", "last_name_hashed"}, names)
	var body map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(want.Body, &body))
	byField := map[string]FieldExplanation{}
	for _, f := range ex.Fields {
		byField[f.Field] = f
		if f.Omitted || f.Masked && !strings.HasSuffix(f.Field, "_hashed") {
			continue
		}
		if member, ok := body[f.Field]; ok {
			assert.Equal(t, string(member), f.Result, f.Field)
		}
	}

	cuid := byField["user_id.customer_user_id"]
	assert.Equal(t, `column "user_id"`, cuid.Source)
	assert.Equal(t, `"u-1"`, cuid.Input)
	assert.Equal(t, `"u-1"`, cuid.Result)
	assert.Equal(t, "trim, 1-64 characters", cuid.Rules)

	afid := byField["user_id.appsflyer_id"]
	assert.Equal(t, `column "cookie", extract af_user_id_cookie`, afid.Source)
	assert.Equal(t, `"af-9"`, afid.Input, "the extracted cookie, not the whole header")
	assert.Equal(t, `"af-9"`, afid.Result)
	assert.True(t, strings.HasPrefix(afid.Rules, "cookie afUserId, percent-decode"), afid.Rules)

	name := byField["event_name"]
	assert.Equal(t, "constant", name.Source)
	assert.Equal(t, `"af_purchase"`, name.Result)

	cur := byField["event_revenue_currency"]
	assert.True(t, cur.Default)
	assert.Equal(t, `"USD"`, cur.Result)
	assert.Contains(t, cur.Rules, "default")

	ts := byField["timestamp"]
	assert.Equal(t, "trim, 2006-01-02 15:04:05 in America/New_York, unix ms, range 1970..9999", ts.Rules)
	assert.Equal(t, "1711978200000", ts.Result)

	assert.Equal(t, "type number", strings.TrimPrefix(byField["event_revenue"].Rules, "trim, "))

	ip := byField["ip"]
	assert.True(t, ip.Omitted)
	assert.Equal(t, "invalid (rule ip); on_invalid: omit", ip.Why)
	assert.Equal(t, `"not-an-ip"`, ip.Input)
	assert.Empty(t, ip.Result)

	last := byField["last_name_hashed"]
	assert.True(t, last.Omitted)
	assert.Equal(t, "missing; optional: true", last.Why)

	email := byField["email_hashed"]
	assert.True(t, email.Masked)
	assert.Equal(t, "J***@E***.com", email.Input)
	assert.Equal(t, "trim, email (NFC, lowercase), sha256", email.Rules)
	assert.Equal(t, `"`+sha("jane.doe@example.com")+`"`, email.Result)

	phone := byField["phone_number_e164_hashed"]
	assert.Equal(t, "<redacted, 14 chars>", phone.Input)
	assert.Contains(t, phone.Rules, `phone E.164 (region from column "country", else US)`)

	url := byField["event_url"]
	assert.True(t, url.Masked, "the template reads the email column")
	assert.Equal(t, `template "https://example.com/u/{email}"`, url.Source)
	assert.Equal(t, "<redacted, 44 chars>", url.Result)

	// The PII check covers every string, the body included.
	strip := strings.Replace(explainMapping, "  event_url: { template: \"https://example.com/u/{email}\" , optional: true }\n  event_value.contact: { column: email, optional: true }\n", "", 1)
	m2 := mustParse(t, strip)
	ex2 := m2.Explain(explainRow(t, m2, nil))
	require.NoError(t, ex2.Err)
	assertNoPII(t, ex2, rawEmail, rawPhone, "5551212", rawFirst, "secret-session")
}

// TestExplainUnhashedPIIColumn: a member that sends the email unhashed is
// masked in the explanation (the body itself is what the mapping asked for).
func TestExplainUnhashedPIIColumn(t *testing.T) {
	m := mustParse(t, explainMapping)
	ex := m.Explain(explainRow(t, m, nil))
	require.NoError(t, ex.Err)
	for _, f := range ex.Fields {
		if f.Field == "event_value.contact" {
			assert.True(t, f.Masked)
			assert.Equal(t, "J***@E***.com", f.Input)
			assert.Equal(t, "<redacted, 22 chars>", f.Result)
		}
		for _, str := range []string{f.Input, f.Result, f.Error, f.Rules, f.Source, f.Why} {
			assert.NotContains(t, strings.ToLower(str), strings.ToLower(rawEmail))
		}
	}
}

// TestSafeBody: the body preview and explain print hides what the mapping
// sends unhashed, and keeps every other byte as sent.
func TestSafeBody(t *testing.T) {
	m := mustParse(t, explainMapping)
	row := explainRow(t, m, nil)
	ex := m.Explain(row)
	require.NoError(t, ex.Err)
	p, err := m.Apply(row)
	require.NoError(t, err)
	require.Contains(t, strings.ToLower(string(p.Body)), strings.ToLower(rawEmail), "the body sends it unhashed")
	safe, hidden := ex.SafeBody(p.Body)
	assert.Contains(t, hidden, "event_value.contact")
	assert.NotContains(t, strings.ToLower(string(safe)), strings.ToLower(rawEmail))
	assert.Contains(t, string(safe), `"<redacted, 22 chars>"`)
	assert.True(t, json.Valid(safe))
	// Without anything to hide, the body is returned as is.
	plain, none := (&Explanation{}).SafeBody(p.Body)
	assert.Equal(t, p.Body, plain)
	assert.Empty(t, none)
}

func TestExplainInvalidRow(t *testing.T) {
	m := mustParse(t, explainMapping)
	vals := explainRow(t, m, map[string]readers.Value{"email": s("jane.doe at example"), "phone": s("555")})
	_, applyErr := m.Apply(vals)
	require.Error(t, applyErr)

	ex := m.Explain(vals)
	assert.Nil(t, ex.Payload)
	assert.Equal(t, applyErr, ex.Err, "Explain's error is Apply's")
	var fe *FieldError
	require.ErrorAs(t, ex.Err, &fe)
	assert.Equal(t, "email_hashed", fe.Field)

	var withErr []string
	for _, f := range ex.Fields {
		if f.Error != "" && !f.Omitted {
			withErr = append(withErr, f.Field)
		}
		switch f.Field {
		case "email_hashed":
			assert.Equal(t, applyErr.Error(), f.Error)
			assert.Empty(t, f.Result)
			assert.Equal(t, "<redacted, 19 chars>", f.Input)
		case "phone_number_e164_hashed":
			assert.Contains(t, f.Error, `(column "phone"): phone: `, "later fields are still explained")
		case "user_id.customer_user_id":
			assert.Equal(t, `"u-1"`, f.Result)
		}
	}
	assert.Equal(t, []string{"event_url", "email_hashed", "phone_number_e164_hashed"}, withErr, "body order")
	assertNoPII(t, ex, "jane.doe", "doe at", rawFirst)
}

func TestExplainRowRules(t *testing.T) {
	src := `app_id: a
endpoint: event
fields:
  user_id.customer_user_id: { column: cuid, optional: true }
  event_name: { column: n, on_invalid: omit }
`
	m := mustParse(t, src)

	// user_id: no field to pin it on; Err carries it.
	vals := row(t, m, map[string]readers.Value{"n": s("af_x")})
	_, applyErr := m.Apply(vals)
	ex := m.Explain(vals)
	assert.Equal(t, applyErr, ex.Err)
	var fe *FieldError
	require.ErrorAs(t, ex.Err, &fe)
	assert.Equal(t, "user_id", fe.Rule)

	// event_name dropped by on_invalid, then required by the row rule:
	// both show on the field.
	vals = row(t, m, map[string]readers.Value{"cuid": s("u"), "n": s("af-x")})
	_, applyErr = m.Apply(vals)
	ex = m.Explain(vals)
	assert.Equal(t, applyErr, ex.Err)
	require.Len(t, ex.Fields, 2)
	en := ex.Fields[1]
	assert.Equal(t, "event_name", en.Field)
	assert.True(t, en.Omitted)
	assert.Contains(t, en.Why, "rule event_name")
	assert.Contains(t, en.Error, "event_name: must not contain")
	assert.Contains(t, en.Error, "required: a value is required", "the row rule it then broke")

	// Wrong width: Apply's error.
	ex = m.Explain(nil)
	require.ErrorAs(t, ex.Err, &fe)
	assert.Equal(t, "columns", fe.Rule)
	assert.Empty(t, ex.Fields)
}

func TestExplainInputDisplay(t *testing.T) {
	at := time.Date(2024, 4, 1, 9, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		v      readers.Value
		masked bool
		want   string
	}{
		{s("abc"), false, `"abc"`},
		{s(strings.Repeat("x", 100)), false, `"` + strings.Repeat("x", 80) + `… (100 chars)"`},
		{readers.Number("12.50"), false, "12.50"},
		{readers.Bool(true), false, "true"},
		{readers.JSON(`{"a":1}`), false, `{"a":1}`},
		{readers.Time(at), false, "2024-04-01T09:30:00Z"},
		{readers.NaiveTime(at), false, "2024-04-01T09:30:00 (no zone)"},
		{readers.Null(), false, "<missing>"},
		{s("  "), false, `<missing> "  "`},
		{s("  "), true, "<missing>"},
		{s("john@gmail.com"), true, "j***@g***.com"},
		{s("élodie@exämple.fr"), true, "é***@e***.fr"},
		{s("john@localhost"), true, "<redacted, 14 chars>"},
		{s("a@b@c.com"), true, "<redacted, 9 chars>"},
		{s("john@example.verylongtld"), true, "<redacted, 24 chars>"},
		{s("John"), true, "<redacted, 4 chars>"},
		{readers.Number("6505551212"), true, "<redacted, 10 chars>"},
		{s(" " + strings.ToUpper(sha("x")) + " "), true, `"` + strings.ToUpper(sha("x")) + `"`},
	} {
		assert.Equal(t, tt.want, showInput(tt.v, tt.masked), "%+v", tt.v)
	}
}
