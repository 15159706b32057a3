package mappings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtureMapping is the design example with tests: cases that pass and
// cases that fail on purpose, each failing one way.
const fixtureMapping = designExample + `tests:
  - name: renewal
    row:
      user_id: 15667737-366d-4994-ac8b-653fe6b2be4a
      amount: 49.99
      currency: usd
      renewed_at: "2024-04-01T09:30:00-04:00"
      email: John_Smith@gmail.com
      phone: (650) 555-1212
      country: us
      plan: annual
      renewal_id: rn-0001
    expect:
      payload:
        user_id: { customer_user_id: 15667737-366d-4994-ac8b-653fe6b2be4a }
        event_name: af_subscription_renewal
        event_revenue: 49.990
        event_revenue_currency: USD
        event_value: { custom_parameters: { plan: annual } }
        timestamp: 1711978200000
        customer_dedup_id: rn-0001
        email_hashed: 62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f
        phone_number_e164_hashed: 3deff44b4cad1c29e5b6df8f9f40ba4d4e5d6e8e2fe1e7fc5e9d4765d7e63a4e
  - name: bad email
    row: { user_id: u, amount: 1, currency: USD, renewed_at: "2024-04-01T09:30:00Z", email: john.smith, phone: "+16505551212", plan: p, renewal_id: r }
    expect: { error: { field: email_hashed, rule: email } }
  - name: wrong revenue
    row: { user_id: u, amount: "9.99", currency: USD, renewed_at: "2024-04-01T09:30:00Z", email: a@b.co, phone: "+16505551212", plan: p, renewal_id: r }
    expect:
      payload: { user_id: { customer_user_id: u }, event_name: af_subscription_renewal, event_revenue: 19.99, event_revenue_currency: USD,
                 event_value: { custom_parameters: { plan: p } }, timestamp: 1711963800000, customer_dedup_id: r, ip: 1.2.3.4,
                 email_hashed: ` + "0c11b6c4c3ba4d2d7b6f8a0f3c1d5d0a2d1b0c8b7d0b4b3e9e5b1c5f1a9d3e21" + `, phone_number_e164_hashed: x }
  - name: wrong error
    row: { user_id: u, amount: 1, currency: USD, renewed_at: "2024-04-01T09:30:00Z", email: a@b.co, phone: "12", plan: p, renewal_id: r }
    expect: { error: { field: email_hashed, rule: email } }
  - name: unexpected success
    row: { user_id: u, amount: 1, currency: USD, renewed_at: "2024-04-01T09:30:00Z", email: a@b.co, phone: "+16505551212", plan: p, renewal_id: r }
    expect: { error: { rule: required } }
  - name: number kind
    row: { user_id: 42, amount: 5, currency: USD, renewed_at: "2024-04-01T09:30:00Z", email: a@b.co, phone: "+16505551212", plan: true, renewal_id: r }
    expect: { payload: { user_id: { customer_user_id: "42" }, event_name: af_subscription_renewal, event_revenue: 5.0, event_revenue_currency: USD,
                         event_value: { custom_parameters: { plan: true } }, timestamp: 1711963800000, customer_dedup_id: r,
                         email_hashed: ` + "%s" + `, phone_number_e164_hashed: ` + "%s" + ` } }
`

func TestRunTests(t *testing.T) {
	src := strings.Replace(fixtureMapping, "3deff44b4cad1c29e5b6df8f9f40ba4d4e5d6e8e2fe1e7fc5e9d4765d7e63a4e", sha("+16505551212"), 1)
	src = strings.Replace(src, "email_hashed: %s, phone_number_e164_hashed: %s", "email_hashed: "+sha("a@b.co")+", phone_number_e164_hashed: "+sha("+16505551212"), 1)
	m := mustParse(t, src)
	res := m.RunTests()
	require.Len(t, res, 6)
	byName := map[string]TestResult{}
	for _, r := range res {
		byName[r.Name] = r
	}
	lines := strings.Split(src, "\n")
	for _, r := range res {
		assert.Contains(t, lines[r.Line-1], "- name: "+r.Name, "Line points at the case")
	}

	assert.True(t, byName["renewal"].Pass, byName["renewal"].Diff)
	assert.Empty(t, byName["renewal"].Diff)
	assert.True(t, byName["bad email"].Pass, byName["bad email"].Diff)
	assert.True(t, byName["number kind"].Pass, byName["number kind"].Diff)

	wrong := byName["wrong revenue"]
	assert.False(t, wrong.Pass)
	assert.Contains(t, wrong.Diff, "event_revenue: want 19.99, got 9.99")
	assert.Contains(t, wrong.Diff, "ip: missing (want \"1.2.3.4\")")
	assert.Contains(t, wrong.Diff, "email_hashed: want \"0c11b6c4")
	assert.Contains(t, wrong.Diff, "phone_number_e164_hashed: want \"x\", got \""+sha("+16505551212")+"\"")
	assert.NotContains(t, wrong.Diff, "timestamp", "equal keys are not listed")
	assert.NotContains(t, wrong.Diff, "user_id")
	assert.NotContains(t, wrong.Diff, "a@b.co", "the raw email is not printed (only its hash)")

	we := byName["wrong error"]
	assert.False(t, we.Pass)
	assert.Contains(t, we.Diff, `error field: want "email_hashed", got "phone_number_e164_hashed"`)
	assert.Contains(t, we.Diff, `error rule: want "email", got "phone"`)

	us := byName["unexpected success"]
	assert.False(t, us.Pass)
	assert.Equal(t, `want error rule "required", got a payload`, us.Diff)
}

func TestRunTestsDedupAndOmitted(t *testing.T) {
	src := `app_id: a
endpoint: event
fields:
  user_id.customer_user_id: { column: uid }
  event_name: { value: af_x }
  ip: { column: ip, on_invalid: omit }
  event_value.custom_parameters.c: { column: c, optional: true }
tests:
  - name: derived dedup id is ignored unless given
    row: { uid: u, ip: 1.2.3.4 }
    expect: { payload: { user_id: { customer_user_id: u }, event_name: af_x, ip: 1.2.3.4 } }
  - name: a given dedup id is compared
    row: { uid: u, ip: 1.2.3.4 }
    expect: { payload: { user_id: { customer_user_id: u }, event_name: af_x, ip: 1.2.3.4, customer_dedup_id: nope } }
  - name: invalid ip omitted
    row: { uid: u, ip: 999.1.1.1 }
    expect: { omitted: [ip, event_value.custom_parameters.c] }
  - name: omitted but present
    row: { uid: u, ip: 1.2.3.4, c: x }
    expect: { omitted: [ip, event_value.custom_parameters.c] }
  - name: omitted and payload
    row: { uid: u, ip: bad, c: { k: [1, 2] } }
    expect:
      omitted: [ip]
      payload: { user_id: { customer_user_id: u }, event_name: af_x, event_value: { custom_parameters: { c: { k: [1, 3] } } } }
  - name: null row value is missing
    row: { uid: null }
    expect: { error: { field: user_id.customer_user_id, rule: required } }
`
	m := mustParse(t, src)
	res := m.RunTests()
	require.Len(t, res, 6)
	assert.True(t, res[0].Pass, res[0].Diff)
	assert.False(t, res[1].Pass)
	assert.Regexp(t, `^customer_dedup_id: want "nope", got "[0-9a-f]{32}"$`, res[1].Diff)
	assert.True(t, res[2].Pass, res[2].Diff)
	assert.False(t, res[3].Pass)
	assert.Equal(t, `ip: want omitted, got "1.2.3.4"; event_value.custom_parameters.c: want omitted, got "x"`, res[3].Diff)
	assert.False(t, res[4].Pass)
	assert.Equal(t, "event_value.custom_parameters.c.k[1]: want 3, got 2", res[4].Diff)
	assert.True(t, res[5].Pass, res[5].Diff)
}

func TestDiffJSONNumbers(t *testing.T) {
	w, err := decodeObject([]byte(`{"a":5.10,"b":1e3,"c":1,"d":"1","e":[1],"f":null,"g":true}`))
	require.NoError(t, err)
	g, err := decodeObject([]byte(`{"a":5.1,"b":1000,"c":"1","d":1,"e":[1,2],"f":0,"g":true,"h":{}}`))
	require.NoError(t, err)
	assert.Equal(t, []string{
		`c: want 1, got "1"`, `d: want "1", got 1`, `e: want [1], got [1,2]`, `f: want null, got 0`, `h: unexpected (got {})`,
	}, diffJSON(nil, "", w, g))
}

// TestFixtureConfigErrors: a malformed tests: is a load error at its
// position.
func TestFixtureConfigErrors(t *testing.T) {
	const head = "app_id: a\nendpoint: event\nfields:\n  user_id.customer_user_id: { column: uid }\n  event_name: { value: af_x }\n  ip: { column: ip, optional: true }\ntests:\n"
	tests := []struct {
		name, cases string
		want        []pos // lines counted from 8, the first line after tests:
	}{
		{"not a list", "", nil},
		{"case not a mapping", "  - just a string\n", []pos{{8, "just", "a test case is a mapping"}}},
		{"no name", "  - { row: { uid: u }, expect: { omitted: [ip] } }\n", []pos{{8, "row", "name is required"}}},
		{"empty name", "  - { name: '', row: {}, expect: { omitted: [ip] } }\n", []pos{{8, "''", "name must be a non-empty string"}}},
		{"duplicate name", "  - { name: a, row: {}, expect: { omitted: [ip] } }\n  - { name: a, row: {}, expect: { omitted: [ip] } }\n", []pos{{9, "a,", "already named"}}},
		{"no row", "  - { name: a, expect: { omitted: [ip] } }\n", []pos{{8, "name", "row is required"}}},
		{"no expect", "  - { name: a, row: { uid: u } }\n", []pos{{8, "name", "expect is required"}}},
		{"unknown case key", "  - { name: a, row: {}, expect: { omitted: [ip] }, want: 1 }\n", []pos{{8, "want", `unknown key "want"`}}},
		{"row not a mapping", "  - { name: a, row: [u], expect: { omitted: [ip] } }\n", []pos{{8, "[u]", "row must be a mapping"}}},
		{"unknown column", "  - { name: a, row: { usr: u }, expect: { omitted: [ip] } }\n", []pos{{8, "usr", `row column "usr" is not read by the mapping (it reads uid, ip)`}}},
		{"infinite row value", "  - { name: a, row: { uid: .inf }, expect: { omitted: [ip] } }\n", []pos{{8, ".inf", "finite"}}},
		{"expect not a mapping", "  - { name: a, row: {}, expect: ok }\n", []pos{{8, "ok", "expect must be a mapping"}}},
		{"empty expect", "  - { name: a, row: { uid: u }, expect: {} }\n", []pos{{8, "{}", "expect needs payload, error, omitted, filtered or app_id"}}},
		{"unknown expect key", "  - { name: a, row: {}, expect: { body: {} } }\n", []pos{{8, "body", `unknown expect key "body"`}}},
		{"payload not an object", "  - { name: a, row: {}, expect: { payload: [1] } }\n", []pos{{8, "[1]", "payload must be an object"}}},
		{"error and payload", "  - { name: a, row: {}, expect: { payload: {}, error: { rule: required } } }\n", []pos{{8, "error", "cannot be combined"}}},
		{"error not a mapping", "  - { name: a, row: {}, expect: { error: required } }\n", []pos{{8, "required", "error must be a mapping"}}},
		{"empty error", "  - { name: a, row: { uid: u }, expect: { error: {} } }\n", []pos{{8, "{}", "error needs field, rule or both"}}},
		{"error field unknown", "  - { name: a, row: {}, expect: { error: { field: email, rule: x } } }\n", []pos{{8, "email", `error field "email" is not a target`}}},
		{"error unknown key", "  - { name: a, row: {}, expect: { error: { rule: x, column: uid } } }\n", []pos{{8, "column", `unknown error key "column"`}}},
		{"omitted unknown target", "  - { name: a, row: {}, expect: { omitted: [ip, email_hashed] } }\n", []pos{{8, "email_hashed", `"email_hashed" is not a target`}}},
		{"omitted empty", "  - { name: a, row: {}, expect: { omitted: [] } }\n", []pos{{8, "[]", "at least one target"}}},
		{"block style position", "  - name: a\n    row:\n      uid: u\n      bogus: 1\n    expect: { omitted: [ip] }\n", []pos{{11, "bogus", `row column "bogus"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := head + tt.cases
			if tt.want == nil {
				src = strings.TrimSuffix(head, "\n") + " { name: a }\n"
				tt.want = []pos{{7, "tests", "tests must be a list"}}
			}
			assertPositions(t, src, configErrs(t, src), tt.want)
		})
	}
}

func TestNoTests(t *testing.T) {
	for _, src := range []string{designExample, designExample + "tests:\n", designExample + "tests: []\n"} {
		m := mustParse(t, src)
		assert.Empty(t, m.RunTests())
	}
}

// TestDocsFixtureExample keeps the tests: example in docs/mapping.md
// loadable and passing.
func TestDocsFixtureExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "mapping.md"))
	require.NoError(t, err)
	text := string(doc)
	i := strings.Index(text, "## Tests (mapping fixtures)")
	require.GreaterOrEqual(t, i, 0)
	start := strings.Index(text[i:], "```yaml\n")
	require.GreaterOrEqual(t, start, 0)
	block := text[i+start+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	m := mustParse(t, block)
	res := m.RunTests()
	require.Len(t, res, 3)
	for _, r := range res {
		assert.True(t, r.Pass, "%s: %s", r.Name, r.Diff)
	}
}
