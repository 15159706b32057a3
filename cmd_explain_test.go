package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExplainGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden, row, now string
		code             int
	}{
		{"explain_row1_valid.txt", "1", previewNow, exitOK},           // every hash, a phone in E.164, no timestamp
		{"explain_row4_invalid.txt", "4", previewNow, exitRowsFailed}, // a bad email
		{"explain_row10_late.txt", "10", "2024-03-02T05:31:00Z", exitRowsFailed},
		{"explain_row13_unreadable.txt", "13", previewNow, exitRowsFailed}, // ragged
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, "explain", "--mapping", "testdata/renewals.yaml", "--row", tt.row, "--now", tt.now, "testdata/renewals.csv")
			assert.Equal(t, tt.code, code, stderr)
			assertGolden(t, tt.golden, stdout)
		})
	}
}

// TestExplainNeverPrintsRawPII explains every row of the sample and looks
// for each row's raw personal data (and its E.164 forms) in everything
// printed.
func TestExplainNeverPrintsRawPII(t *testing.T) {
	t.Parallel()
	for row := 1; row <= 15; row++ {
		code, stdout, stderr := runCLI(t, "explain", "--mapping", "testdata/renewals.yaml", "--row", fmt.Sprint(row), "testdata/renewals.csv")
		require.Contains(t, []int{exitOK, exitRowsFailed}, code, stderr)
		require.Contains(t, stdout, fmt.Sprintf("testdata/renewals.csv row %d through", row))
		assertNoPII(t, stdout+stderr)
	}
	// The explanation still says what was done to the hidden values.
	_, stdout, _ := runCLI(t, "explain", "--mapping", "testdata/renewals.yaml", "--row", "1", "testdata/renewals.csv")
	assert.Contains(t, stdout, "J***@G***.com")
	assert.Contains(t, stdout, "<redacted, 14 chars>")
	assert.Contains(t, stdout, "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f", "hashes are shown")
}

func TestExplainWindowInAppZone(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runCLI(t, "explain", "--mapping", "testdata/renewals.yaml", "--row", "10", "--now", previewNow, "testdata/renewals.csv")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "in window: deadline 2024-03-02 00:30 America/New_York (EST), in 17h30m")
	assert.Contains(t, stdout, "verdict: VALID, would be sent")

	code, stdout, _ = runCLI(t, "explain", "--mapping", "testdata/renewals.yaml", "--row", "10", "--app-timezone", "Europe/Paris", "--now", previewNow, "testdata/renewals.csv")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "deadline 2024-03-02T00:30:00+01:00")
}

func TestExplainRedactsUnhashedPII(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := mappingFile(t, dir, e2eMapping+"  event_value.custom_parameters.contact: { column: email }\n")
	in := filepath.Join(dir, "r.csv")
	require.NoError(t, os.WriteFile(in, []byte("renewal_id,user_id,email,amount,currency,renewed_at,plan\n"+
		"r-1,cus_1,Secret.Person@example.com,1,USD,,pro\n"), 0o644))
	code, stdout, stderr := runCLI(t, "explain", "--mapping", m, "--row", "1", in)
	require.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, strings.ToLower(stdout+stderr), "secret.person@example.com")
	assert.Contains(t, stdout, "event_value.custom_parameters.contact sent unhashed, hidden here")
}

func TestExplainUsageErrors(t *testing.T) {
	t.Parallel()
	noCol := filepath.Join(t.TempDir(), "nocol.csv")
	require.NoError(t, os.WriteFile(noCol, []byte("renewal_id,user_id\nr-1,u-1\n"), 0o644))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no such row", []string{"--row", "99", "testdata/renewals.csv"}, "has no row 99 (its last data row is 15)"},
		{"row 0", []string{"--row", "0", "testdata/renewals.csv"}, "numbered from 1"},
		{"no --row", []string{"testdata/renewals.csv"}, "row"},
		{"two inputs", []string{"--row", "1", "testdata/renewals.csv", "testdata/renewals.csv"}, "one INPUT"},
		{"missing column", []string{"--row", "1", noCol}, "lacks"},
		{"flag after input", []string{"testdata/renewals.csv", "--row", "1"}, "put every flag before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, append([]string{"explain", "--mapping", "testdata/renewals.yaml"}, tt.args...)...)
			assert.Equal(t, exitUsage, code, stdout+stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}
