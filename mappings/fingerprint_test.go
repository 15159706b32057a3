package mappings

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFingerprint(t *testing.T) {
	base := mustParse(t, designExample)
	require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{16}$`), base.Fingerprint())

	same := []struct{ name, text string }{
		{"comments and spacing", strings.ReplaceAll(designExample, "# event | visit", "# a comment") + "# trailing\n"},
		{"key order", strings.Replace(designExample,
			"  event_name:               { value: af_subscription_renewal }\n  event_revenue:            { column: amount, type: number }\n",
			"  event_revenue:            { type: number, column: amount }\n  event_name:               { value: af_subscription_renewal }\n", 1)},
		{"top-level order", "endpoint: event\n" + strings.Replace(designExample, "endpoint: event                 # event | visit\n", "", 1)},
		{"quoting", strings.Replace(designExample, "{ column: plan }", `{ column: "plan" }`, 1)},
		{"block style", strings.Replace(designExample, "  customer_dedup_id:        { column: renewal_id }\n", "  customer_dedup_id:\n    column: renewal_id\n", 1)},
		{"tests added", designExample + "tests:\n  - name: one\n    row: { user_id: u, amount: '1', currency: USD, renewed_at: '2026-11-27T10:00:00Z', email: a@b.co, phone: '', country: US, plan: p, renewal_id: r }\n    expect: { payload: { event_name: af_subscription_renewal } }\n"},
	}
	for _, tt := range same {
		t.Run("same/"+tt.name, func(t *testing.T) {
			m := mustParse(t, tt.text)
			assert.Equal(t, base.Fingerprint(), m.Fingerprint())
		})
	}

	differ := []struct {
		name    string
		text    string
		appOnly bool
	}{
		{"app id", strings.Replace(designExample, "website-www.example.com", "website-other.example.com", 1), true},
		{"a rule", strings.Replace(designExample, "format: rfc3339", "format: rfc3339, optional: true", 1), false},
		{"dedup mode", designExample + "dedup: none\n", false},
		{"a constant", strings.Replace(designExample, "af_subscription_renewal", "af_purchase", 1), false},
		{"a source column", strings.Replace(designExample, "{ column: plan }", "{ column: tier }", 1), false},
		{"a field added", designExample + "  event_value.custom_parameters.tier: { value: gold }\n", false},
		{"the timezone", strings.Replace(designExample, "America/New_York", "Europe/Paris", 1), false},
		{"a hash rule", strings.Replace(designExample, "hash: phone_e164, region_column: country", "hash: phone_e164, region: US", 1), false},
	}
	for _, tt := range differ {
		t.Run("differs/"+tt.name, func(t *testing.T) {
			m := mustParse(t, tt.text)
			assert.NotEqual(t, base.Fingerprint(), m.Fingerprint())
			assert.Equal(t, tt.appOnly, FingerprintAppOnly(base.Fingerprint(), m.Fingerprint()))
		})
	}
}
