package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testedMapping = "testdata/golden/renewals_tested.yaml"

func TestCheckGolden(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCLI(t, "check", "--mapping", testedMapping, "testdata/renewals.csv")
	require.Equal(t, exitOK, code, stderr)
	assertGolden(t, "check_renewals.txt", stdout)
	assertNoPII(t, stdout+stderr)
}

// failingFixture breaks the first case of the tested mapping: a wrong
// expected revenue and currency.
func failingFixture(t *testing.T) string {
	b, err := os.ReadFile(testedMapping)
	require.NoError(t, err)
	s := strings.Replace(string(b), "event_revenue: 49.99\n", "event_revenue: 19.99\n", 1)
	s = strings.Replace(s, "event_revenue_currency: USD\n        event_url", "event_revenue_currency: EUR\n        event_url", 1)
	require.NotEqual(t, string(b), s)
	return mappingFile(t, t.TempDir(), s)
}

func TestCheckExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badYAML := mappingFile(t, filepath.Join(dir), strings.Replace(e2eMapping, "event_name:  ", "event_nmae:  ", 1)+"  ip: { column: ip, hash: email }\n")
	noCol := filepath.Join(dir, "nocol.csv")
	require.NoError(t, os.WriteFile(noCol, []byte("renewal_id,user_id,amount\nr-1,u-1,1\n"), 0o644))
	placeholder := filepath.Join(dir, "p.yaml")
	require.NoError(t, os.WriteFile(placeholder, []byte("app_id: TODO_app_id\nendpoint: event\nfields:\n"+
		"  user_id.customer_user_id: { column: TODO_user_id_column }\n  event_name: { value: TODO_event_name }\n"), 0o644))

	tzPlaceholder := filepath.Join(dir, "tz.yaml")
	require.NoError(t, os.WriteFile(tzPlaceholder, []byte("app_id: a\nendpoint: event\ntimezone: TODO_timezone\nfields:\n"+
		"  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n"), 0o644))
	noCurrency := filepath.Join(dir, "cur.yaml")
	require.NoError(t, os.WriteFile(noCurrency, []byte("app_id: a\nendpoint: event\ntimezone: UTC\nfields:\n"+
		"  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n  event_revenue: { column: r }\n"+
		"  event_revenue_currency: { column: c, optional: true }\n"), 0o644))
	currencyDefault := filepath.Join(dir, "curdef.yaml")
	require.NoError(t, os.WriteFile(currencyDefault, []byte("app_id: a\nendpoint: event\ntimezone: UTC\nfields:\n"+
		"  user_id.customer_user_id: { column: u }\n  event_name: { value: x }\n  event_revenue: { column: r }\n"+
		"  event_revenue_currency: { column: c, optional: true, default: USD }\n"), 0o644))
	billingCSV := filepath.Join(dir, "billing.csv")
	require.NoError(t, os.WriteFile(billingCSV, []byte(strings.Join(billingHeader, ",")+"\n"+
		"in_1,c1,,www.example.com,renewal,paid,1999,USD,2026-12-01T10:00:00Z,,false\n"+
		"in_2,c2,,www.example.com,renewal,void,1999,USD,2026-12-01T10:00:00Z,,false\n"+
		"in_3,c3,,www.example.com,gift,paid,1999,USD,2026-12-01T10:00:00Z,,false\n"), 0o644))

	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    []string
		stderr    []string
		notStdout []string
	}{
		{name: "all good", args: []string{"--mapping", testedMapping, "testdata/renewals.csv"}, code: exitOK,
			stdout: []string{"PASS a renewal (line 19)", "tests: 3 passed, 0 failed", "all 15 rows: 9 valid, 6 invalid", "\nok\n"}},
		{name: "no inputs: mapping and tests only", args: []string{"--mapping", testedMapping}, code: exitOK,
			stdout: []string{"tests: 3 passed"}, notStdout: []string{"rows:"}},
		{name: "a failing fixture is a mapping problem", args: []string{"--mapping", failingFixture(t)}, code: exitUsage,
			stdout: []string{"FAIL a renewal (line 19)", "event_revenue: want 19.99, got 49.99", `event_revenue_currency: want "EUR", got "USD"`,
				"PASS an unknown currency is rejected", "tests: 2 passed, 1 failed"},
			stderr: []string{"1 of 3 tests failed"}},
		{name: "every load error with line:column", args: []string{"--mapping", badYAML}, code: exitUsage,
			stderr: []string{"m.yaml:4:1: ", "m.yaml:6:3: ", "m.yaml:13:21: "}, notStdout: []string{"PASS"}},
		{name: "an input without the mapping's columns", args: []string{"--mapping", testedMapping, noCol}, code: exitUsage,
			stdout: []string{"nocol.csv: missing column(s)", `"email"`, `"currency"`, "(the file has: renewal_id, user_id, amount)"},
			stderr: []string{"nocol.csv lacks column(s)"}},
		{name: "placeholders warn", args: []string{"--mapping", placeholder}, code: exitOK,
			stdout: []string{"warning: app_id is still the placeholder TODO_app_id", `warning: column "TODO_user_id_column" is a placeholder`,
				`warning: event_name is still the placeholder "TODO_event_name"`, "ok, with 3 warning(s)"}},
		{name: "placeholders fail with --strict", args: []string{"--strict", "--mapping", placeholder}, code: exitUsage,
			stderr: []string{"3 placeholder(s)"}},
		{name: "the timezone placeholder warns", args: []string{"--mapping", tzPlaceholder}, code: exitOK,
			stdout: []string{"warning: timezone is still the placeholder TODO_timezone", "ok, with 1 warning(s)"}},
		{name: "the timezone placeholder fails with --strict", args: []string{"--strict", "--mapping", tzPlaceholder}, code: exitUsage,
			stderr: []string{"1 placeholder(s)"}},
		{name: "revenue without a currency warns", args: []string{"--mapping", noCurrency}, code: exitOK,
			stdout: []string{"warning: event_revenue can be sent without event_revenue_currency", "ok, with 1 warning(s)"}},
		{name: "revenue without a currency fails with --strict", args: []string{"--strict", "--mapping", noCurrency}, code: exitUsage,
			stderr: []string{"revenue can be sent without a currency (--strict)"}},
		{name: "a currency with a default is fine", args: []string{"--strict", "--mapping", currencyDefault}, code: exitOK,
			stdout: []string{"\nok\n"}, notStdout: []string{"warning"}},
		{name: "filtered rows are counted apart", args: []string{"--mapping", "testdata/billing.yaml", billingCSV}, code: exitOK,
			stdout: []string{"tests: 11 passed, 0 failed", "all 3 rows: 1 valid, 1 filtered, 1 invalid", `field "event_name" (column "kind"): map: the value is not in the field's map`, `(app from column "site",`}},
		{name: "a placeholder column is missing from the input", args: []string{"--mapping", placeholder, "testdata/renewals.csv"}, code: exitUsage,
			stdout: []string{`missing column(s) "TODO_user_id_column"`}},
		{name: "an unreadable input is a data problem", args: []string{"--mapping", testedMapping, "--format", "parquet", "testdata/renewals.csv"}, code: exitRowsFailed,
			stdout: []string{"testdata/renewals.csv: cannot read"}},
		{name: "--rows limits the sample", args: []string{"--rows", "3", "--mapping", testedMapping, "testdata/renewals.csv"}, code: exitOK,
			stdout: []string{"the first 3 rows: 3 valid, 0 invalid"}},
		{name: "--mapping after the input", args: []string{"testdata/renewals.csv", "--mapping", testedMapping}, code: exitUsage, stderr: []string{"put every flag before"}},
		{name: "no --mapping", args: []string{}, code: exitUsage, stderr: []string{"--mapping FILE is required"}},
		{name: "no mapping file", args: []string{"--mapping", filepath.Join(dir, "none.yaml")}, code: exitUsage, stderr: []string{"none.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, append([]string{"check"}, tt.args...)...)
			assert.Equal(t, tt.code, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			for _, s := range tt.stdout {
				assert.Contains(t, stdout, s)
			}
			for _, s := range tt.stderr {
				assert.Contains(t, stderr, s)
			}
			for _, s := range tt.notStdout {
				assert.NotContains(t, stdout, s)
			}
			assertNoPII(t, stdout+stderr)
		})
	}
}

func TestCheckFlagsFromEnvironment(t *testing.T) {
	t.Setenv("AFIMPORT_MAPPING", testedMapping)
	t.Setenv("AFIMPORT_CHECK_ROWS", "2")
	code, stdout, stderr := runCLI(t, "check", "testdata/renewals.csv")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "the first 2 rows")
}
