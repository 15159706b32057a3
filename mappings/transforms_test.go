package mappings

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/readers"
)

// TestBillingFixtures runs the tests: of the README's billing mapping:
// one case per new key (skip, map, column lists, minor_units,
// currency_exponents, a per-row app_id).
func TestBillingFixtures(t *testing.T) {
	m, err := Load(filepath.Join("..", "testdata", "billing.yaml"))
	require.NoError(t, err)
	res := m.RunTests()
	require.Len(t, res, 11)
	for _, r := range res {
		assert.True(t, r.Pass, "%s: %s", r.Name, r.Diff)
	}
	assert.True(t, m.PerRowAppID())
	assert.Equal(t, "site", m.AppIDColumn)
	assert.Empty(t, m.AppID)
	assert.Equal(t, []string{"website-shop.example.com", "website-www.example.com"}, m.AppIDs())
}

// billingRow builds a row for testdata/billing.yaml from column: value.
func billingRow(m *Mapping, kv map[string]string) []readers.Value {
	vals := make([]readers.Value, len(m.Columns()))
	for i, c := range m.Columns() {
		if v, ok := kv[c]; ok {
			vals[i] = readers.String(v)
		} else {
			vals[i] = readers.Null()
		}
	}
	return vals
}

func TestTransformsApply(t *testing.T) {
	m, err := Load(filepath.Join("..", "testdata", "billing.yaml"))
	require.NoError(t, err)
	base := map[string]string{"invoice_id": "in_1", "customer_id": " c1 ", "user_id": "u1", "site": "www.example.com",
		"kind": "renewal", "status": "paid", "amount_paid": "1999", "currency": "USD", "paid_at": "2026-12-01T10:00:00Z"}
	with := func(kv map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range kv {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name      string
		row       map[string]string
		revenue   string // the exact text in the body
		appID     string
		skip      string
		rule, col string
	}{
		{name: "cents", row: base, revenue: `"event_revenue":19.99,`, appID: "website-www.example.com"},
		{name: "whole cents keep their digits", row: with(map[string]string{"amount_paid": "1900"}), revenue: `"event_revenue":19.00,`},
		{name: "yen", row: with(map[string]string{"amount_paid": "1900", "currency": "JPY"}), revenue: `"event_revenue":1900,`},
		{name: "won", row: with(map[string]string{"amount_paid": "5000", "currency": "KRW"}), revenue: `"event_revenue":5000,`},
		{name: "dinar refund", row: with(map[string]string{"amount_paid": "-1999", "currency": "KWD"}), revenue: `"event_revenue":-1.999,`},
		{name: "one fils", row: with(map[string]string{"amount_paid": "1", "currency": "BHD"}), revenue: `"event_revenue":0.001,`},
		{name: "leading zeros", row: with(map[string]string{"amount_paid": "007"}), revenue: `"event_revenue":0.07,`},
		{name: "zero", row: with(map[string]string{"amount_paid": "-0"}), revenue: `"event_revenue":0.00,`},
		{name: "beyond float64's exact integers", row: with(map[string]string{"amount_paid": "123456789012345678901"}), revenue: `"event_revenue":1234567890123456789.01,`},
		{name: "second site", row: with(map[string]string{"site": " shop.example.com "}), appID: "website-shop.example.com"},
		{name: "not paid", row: with(map[string]string{"status": "void"}), skip: "skip[0]: status not in [paid]"},
		{name: "missing status is not paid", row: with(map[string]string{"status": ""}), skip: "skip[0]: status not in [paid]"},
		{name: "skip wins over invalid fields", row: map[string]string{"status": "draft", "amount_paid": "x"}, skip: "skip[0]: status not in [paid]"},
		{name: "test account", row: with(map[string]string{"is_test": " true "}), skip: `skip[1]: is_test in [true]`},
		{name: "decimal amount", row: with(map[string]string{"amount_paid": "19.99"}), rule: "minor_units", col: "amount_paid"},
		{name: "exponent form", row: with(map[string]string{"amount_paid": "1e3"}), rule: "minor_units", col: "amount_paid"},
		{name: "no ISO minor unit", row: with(map[string]string{"currency": "XAU"}), rule: "minor_units", col: "amount_paid"},
		{name: "no currency", row: with(map[string]string{"currency": ""}), rule: "required", col: "currency"},
		{name: "unknown kind", row: with(map[string]string{"kind": "gift"}), rule: "map", col: "kind"},
		{name: "unknown site", row: with(map[string]string{"site": "blog.example.com"}), rule: "app_id", col: "site"},
		{name: "no site", row: with(map[string]string{"site": " "}), rule: "app_id", col: "site"},
		{name: "second user id column", row: with(map[string]string{"customer_id": "", "user_id": "u1"})},
		{name: "no user id", row: with(map[string]string{"customer_id": "", "user_id": ""}), rule: "required", col: "customer_id,user_id"},
		{name: "the used column is named", row: with(map[string]string{"customer_id": "", "user_id": strings.Repeat("x", 65)}), rule: "max_length", col: "user_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vals := billingRow(m, tc.row)
			p, err := m.Apply(vals)
			cp, cerr := m.Check(vals)
			_, _, terr := m.Timestamp(vals)
			ex := m.Explain(vals)
			switch {
			case tc.skip != "":
				var se *SkipError
				require.True(t, errors.As(err, &se), "%v", err)
				assert.Equal(t, tc.skip, se.Reason)
				assert.Equal(t, err, cerr)
				assert.Equal(t, err, terr)
				assert.Equal(t, err, ex.Err)
			case tc.rule != "":
				var fe *FieldError
				require.True(t, errors.As(err, &fe), "%v", err)
				assert.Equal(t, tc.rule, fe.Rule)
				assert.Equal(t, tc.col, fe.Column)
				assert.NotContains(t, fe.Error(), "blog.example.com", "the reason never quotes the value")
				assert.Equal(t, err.Error(), cerr.Error())
				assert.Equal(t, err.Error(), ex.Err.Error())
			default:
				require.NoError(t, err)
				require.NoError(t, cerr)
				assert.Contains(t, string(p.Body), tc.revenue)
				if tc.appID != "" {
					assert.Equal(t, tc.appID, p.AppID)
					assert.Equal(t, tc.appID, ex.AppID)
				}
				assert.Equal(t, p.DedupID, cp.DedupID)
				assert.Equal(t, p.AppID, cp.AppID)
				assert.Equal(t, string(p.Body), string(ex.Payload.Body), "Explain runs Apply's code")
			}
		})
	}
}

// The derived customer_dedup_id of a per-row app id hashes the row's app
// id, as a constant app_id's does: the same row for the same app derives
// the same id whichever way the app id was written.
func TestPerRowAppIDDedup(t *testing.T) {
	constant := mustParse(t, "app_id: website-a\nendpoint: event\nfields:\n  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n")
	perRow := mustParse(t, "app_id: { column: site, map: { a: website-a } }\nendpoint: event\nfields:\n  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n")
	p1, err := constant.Apply([]readers.Value{readers.String("u1")})
	require.NoError(t, err)
	assert.Equal(t, "website-a", p1.AppID)
	require.Equal(t, []string{"site", "u"}, perRow.Columns())
	p2, err := perRow.Apply([]readers.Value{readers.String("a"), readers.String("u1")})
	require.NoError(t, err)
	assert.Equal(t, p1.DedupID, p2.DedupID)
	assert.Equal(t, string(p1.Body), string(p2.Body))
}

func TestTransformConfigErrors(t *testing.T) {
	head := "app_id: a\nendpoint: event\n"
	fields := "fields:\n  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n"
	tests := []struct{ name, src, want string }{
		{"skip not a list", head + "skip: { column: s }\n" + fields, "3:1: skip must be a list"},
		{"skip both", head + "skip:\n  - { column: s, in: [a], not_in: [b] }\n" + fields, "4:27: skip[0]: give one of in and not_in"},
		{"skip no op", head + "skip:\n  - { column: s }\n" + fields, "4:7: skip[0]: needs in: [...] or not_in: [...]"},
		{"skip no column", head + "skip:\n  - { in: [a] }\n" + fields, "4:7: skip[0]: column is required"},
		{"skip unknown key", head + "skip:\n  - { column: s, is: [a] }\n" + fields, `4:18: skip[0]: unknown key "is"`},
		{"skip nested value", head + "skip:\n  - { column: s, in: [[a]] }\n" + fields, "skip[0]: in: entries must be scalars"},
		{"app_id map bad id", "app_id: { column: s, map: { a: \"x/y\" } }\nendpoint: event\n" + fields, "1:32: app_id: map: an app id must not"},
		{"app_id no column", "app_id: { map: { a: b } }\nendpoint: event\n" + fields, "app_id: { column: C } needs column"},
		{"app_id unknown key", "app_id: { column: s, default: b }\nendpoint: event\n" + fields, `app_id: unknown key "default"`},
		{"map on a value", head + "fields:\n  user_id.customer_user_id: { value: u, map: { a: b } }\n  event_name: { value: x }\n", "user_id.customer_user_id: map translates a column or a template"},
		{"map empty", head + "fields:\n  user_id.customer_user_id: { column: u, map: {} }\n  event_name: { value: x }\n", "map must be a non-empty mapping"},
		{"map empty value", head + "fields:\n  user_id.customer_user_id: { column: u, map: { a: \"\" } }\n  event_name: { value: x }\n", "map value is empty"},
		{"minor_units on a string", head + "fields:\n  user_id.customer_user_id: { column: u, minor_units: true }\n  event_name: { value: x }\n", "minor_units applies to event_revenue"},
		{"minor_units without currency", head + "fields:\n  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n  event_revenue: { column: a, minor_units: true }\n", "minor_units needs event_revenue_currency mapped"},
		{"minor_units on a string member", head + "fields:\n  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n  event_revenue_currency: { column: c }\n  event_value.a: { column: a, minor_units: true }\n", "minor_units needs type: number"},
		{"minor_units on a constant", head + "fields:\n  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n  event_revenue_currency: { column: c }\n  event_revenue: { value: 100, minor_units: true }\n", "minor_units converts a column or a template"},
		{"exponent not an integer", head + "currency_exponents: { ISK: two }\n" + fields, "3:28: currency_exponents: ISK: the exponent must be an integer from 0 to 9"},
		{"exponent code", head + "currency_exponents: { isk: 2 }\n" + fields, `currency_exponents: "isk" is not an upper-case ISO 4217 code`},
		{"column list empty", head + "fields:\n  user_id.customer_user_id: { column: [] }\n  event_name: { value: x }\n", "names no column"},
		{"column list twice", head + "fields:\n  user_id.customer_user_id: { column: [a, a] }\n  event_name: { value: x }\n", `column "a" is listed twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "m.yaml")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
