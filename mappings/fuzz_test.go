package mappings

import (
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"strings"
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
	f.Add([]byte(fuzzTransforms))
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

// fuzzTransforms reads a per-row app id, skip rules, a coalesced user id,
// a value map and an amount in minor units.
const fuzzTransforms = `app_id: { column: site, map: { a: website-a, b: website-b } }
endpoint: event
skip:
  - { column: status, not_in: [paid, ""] }
  - { column: kind, in: [void] }
currency_exponents: { ISK: 2 }
fields:
  user_id.customer_user_id: { column: [c0, c1] }
  event_name: { column: kind, map: { r: af_renewal, u: af_upgrade, "7": af_seven } }
  event_revenue: { column: amount, minor_units: true }
  event_revenue_currency: { column: currency }
  event_value.n: { column: n, type: number, minor_units: true, on_invalid: omit, optional: true }
`

// FuzzTransforms: skip, map, column lists, per-row app ids and minor
// units never panic; a row is filtered, invalid with a *FieldError, or
// sent to one of the mapped apps with the exact amount in major units.
func FuzzTransforms(f *testing.F) {
	m, err := Parse([]byte(fuzzTransforms), "fuzz.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("a", "c", "", "paid", "r", "1999", "USD", "5", uint8(0))
	f.Add("b", "", "u", "", "u", "-1999", "KWD", "x", uint8(1))
	f.Add("c", "", "", "void", "void", "1.5", "JPY", "", uint8(2))
	f.Add(" a ", "\xff", "u", "paid", "7", "00012", "ISK", "1e3", uint8(3))
	f.Add("b", "c", "u", "paid", "r", "12", "XAU", "-", uint8(4))
	f.Fuzz(func(t *testing.T, site, c0, c1, status, kind, amount, currency, n string, kinds uint8) {
		src := map[string]string{"site": site, "c0": c0, "c1": c1, "status": status, "kind": kind, "amount": amount, "currency": currency, "n": n}
		vals := make([]readers.Value, len(m.Columns()))
		for i, c := range m.Columns() {
			switch (int(kinds) + i) % 4 {
			case 0, 1:
				vals[i] = readers.String(src[c])
			case 2:
				vals[i] = readers.Number(src[c])
			default:
				vals[i] = readers.Bool(len(src[c])%2 == 0)
			}
		}
		p, err := m.Apply(vals)
		var se *SkipError
		var fe *FieldError
		switch {
		case errors.As(err, &se):
			if se.Index < 0 || se.Index > 1 {
				t.Fatalf("skip index %d", se.Index)
			}
			return
		case errors.As(err, &fe):
			return
		case err != nil:
			t.Fatalf("error %T is neither *SkipError nor *FieldError", err)
		}
		if !json.Valid(p.Body) {
			t.Fatalf("invalid JSON body: %q", p.Body)
		}
		if p.AppID != "website-a" && p.AppID != "website-b" {
			t.Fatalf("app id %q is not one of the map's", p.AppID)
		}
		var body struct {
			Revenue  json.Number `json:"event_revenue"`
			Currency string      `json:"event_revenue_currency"`
		}
		if err := json.Unmarshal(p.Body, &body); err != nil {
			t.Fatal(err)
		}
		e, ok := ISOMinorUnit(body.Currency)
		if body.Currency == "ISK" {
			e, ok = 2, true
		}
		if !ok {
			t.Fatalf("sent %s without an exponent", body.Currency)
		}
		got, ok1 := new(big.Rat).SetString(body.Revenue.String())
		minor, ok2 := new(big.Rat).SetString(strings.TrimSpace(vals[colIndex(m, "amount")].S))
		if !ok1 || !ok2 {
			t.Fatalf("revenue %q from %q", body.Revenue, amount)
		}
		want := new(big.Rat).Quo(minor, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(e)), nil)))
		if got.Cmp(want) != 0 {
			t.Fatalf("revenue %s, want %s (%q %s)", body.Revenue, want.FloatString(e), amount, body.Currency)
		}
		if frac := body.Revenue.String(); e > 0 && (len(frac) < e+1 || frac[len(frac)-e-1] != '.') {
			t.Fatalf("revenue %s does not keep %d decimals", frac, e)
		}
	})
}

func colIndex(m *Mapping, name string) int {
	for i, c := range m.Columns() {
		if c == name {
			return i
		}
	}
	return -1
}
