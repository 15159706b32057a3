package mappings

import (
	"encoding/json"
	"errors"
	"regexp"
	"testing"
	"time"

	"afimport/readers"
)

// FuzzParse: the loader never panics, and every failure is ConfigErrors
// with positions.
func FuzzParse(f *testing.F) {
	f.Add([]byte(designExample))
	f.Add([]byte("app_id: a\nendpoint: visit\nfields:\n  user_id.appsflyer_id: { column: a }\n  event_url: { template: \"https://x/{p}{{\" }\n"))
	f.Add([]byte("app_id: a\nendpoint: event\nfields:\n  event_value.a.b: { value: {x: [1, 2.5, null]} }\n  event_name: { value: x, default: &a y }\n"))
	f.Add([]byte("- *x\n"))
	f.Add([]byte(designExample + "tests:\n  - { name: a, row: { user_id: u, amount: 1.50, plan: [1, {b: null}] }, expect: { payload: { a: [1, {b: null}] } } }\n  - { name: b, row: {}, expect: { error: { rule: required } } }\n"))
	f.Add([]byte("app_id: a\nendpoint: visit\nfields:\n  user_id.appsflyer_id: { column: c, extract: af_user_id_cookie }\n  event_url: { value: \"https://x/\" }\ntests:\n  - { name: a, row: { c: \"afUserId=1\" }, expect: { omitted: [event_url] } }\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, "f.yaml")
		if err == nil {
			if m == nil {
				t.Fatal("nil mapping without error")
			}
			for _, r := range m.RunTests() {
				if r.Pass != (r.Diff == "") || r.Line < 1 {
					t.Fatalf("inconsistent test result %+v", r)
				}
			}
			return
		}
		var ces ConfigErrors
		if !errors.As(err, &ces) || len(ces) == 0 {
			t.Fatalf("error %T is not ConfigErrors: %v", err, err)
		}
		for _, ce := range ces {
			if ce.Line < 1 || ce.Column < 0 {
				t.Fatalf("bad position: %v", ce)
			}
		}
	})
}

var hashedRe = regexp.MustCompile(`"(email|phone_number|phone_number_e164|first_name|last_name)_hashed":"([^"]*)"`)
var hex64Re = regexp.MustCompile(`^[a-fA-F0-9]{64}$`)

// fuzzMapping reads every kind of target from columns c0..c12.
const fuzzMapping = `app_id: a
endpoint: event
input_timezone: America/New_York
fields:
  user_id.customer_user_id: { column: c0, optional: true }
  user_id.appsflyer_id: { column: c1, optional: true }
  event_name: { column: c2, default: af_default }
  event_revenue: { column: c3, on_invalid: omit, optional: true }
  event_revenue_currency: { column: c4, on_invalid: omit, optional: true }
  event_value.custom_parameters.x: { column: c5, optional: true }
  event_value.j: { column: c6, type: json, on_invalid: omit, optional: true }
  event_url: { template: "https://example.com/{c7}", on_invalid: omit, optional: true }
  timestamp: { column: c8, on_invalid: omit, optional: true }
  ip: { column: c9, on_invalid: omit, optional: true }
  email_hashed: { column: c10, hash: email, on_invalid: omit, optional: true }
  phone_number_hashed: { column: c11, hash: phone, region_column: c12, region: US, on_invalid: omit, optional: true }
  first_name_hashed: { column: c12, hash: name, optional: true }
`

// FuzzApply: random values through a full mapping never panic; every body
// is valid JSON and every *_hashed member is 64 hex digits.
func FuzzApply(f *testing.F) {
	m, err := Parse([]byte(fuzzMapping), "fuzz.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("u1", "", "af_x", "12.5", "usd", "gold", `{"a":1}`, "p/1", "2024-04-01T10:00:00Z", "1.2.3.4", "a@b.co", "650 555 1212", "US", uint8(0), int64(0))
	f.Add("", "af", "a-b", "1e400", "xx", "\xff", "[", "{", "17", "::1", "no", "+44 20 7946 0018", "zz", uint8(255), int64(-1))
	f.Fuzz(func(t *testing.T, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12 string, kinds uint8, sec int64) {
		strs := []string{c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12}
		vals := make([]readers.Value, len(m.Columns()))
		for i, c := range m.Columns() {
			var idx int
			for j := range strs {
				if c == "c"+itoa(j) {
					idx = j
				}
			}
			// Vary kinds by the bits of kinds so every Kind meets every field.
			switch (int(kinds) + idx) % 6 {
			case 0:
				vals[i] = readers.String(strs[idx])
			case 1:
				vals[i] = readers.Number(strs[idx])
			case 2:
				vals[i] = readers.JSON(strs[idx])
			case 3:
				vals[i] = readers.Bool(len(strs[idx])%2 == 0)
			case 4:
				vals[i] = readers.NaiveTime(time.Unix(sec, 0).UTC())
			default:
				vals[i] = readers.Null()
			}
		}
		p, err := m.Apply(vals)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FieldError", err)
			}
			return
		}
		if !json.Valid(p.Body) {
			t.Fatalf("invalid JSON body: %q", p.Body)
		}
		for _, mm := range hashedRe.FindAllSubmatch(p.Body, -1) {
			if !hex64Re.Match(mm[2]) {
				t.Fatalf("hashed field %s is not 64 hex: %q", mm[1], mm[2])
			}
		}
	})
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return string(rune('0'+i/10)) + string(rune('0'+i%10))
}
