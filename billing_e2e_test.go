package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer/s2stest"
)

// billingRow is one generated invoice and what the import must make of it.
type billingRow struct {
	rec []string // invoice_id, customer_id, user_id, site, kind, status, amount_paid, currency, paid_at, email, is_test
	// want: "accepted" (then app and revenue), "filtered" (then reason) or
	// "invalid" (then rule).
	want, app, revenue, reason, rule string
}

var billingHeader = []string{"invoice_id", "customer_id", "user_id", "site", "kind", "status", "amount_paid", "currency", "paid_at", "email", "is_test"}

// billingExponents are ISO 4217's minor units of the generated currencies,
// written here independently of mappings' table.
var billingExponents = map[string]int{"USD": 2, "EUR": 2, "JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3}

// genBilling makes n invoices of testdata/billing.yaml's export: 0-, 2-
// and 3-decimal currencies, refunds, voids, drafts, test accounts, an
// unknown kind, rows missing one or both user ids, two sites and a few
// rows of a third one the mapping does not know.
func genBilling(n int, now time.Time) []billingRow {
	rnd := rand.New(rand.NewPCG(14, 2026))
	currencies := []string{"USD", "EUR", "JPY", "KRW", "KWD", "BHD"}
	kinds := map[string]string{"renewal": "af_subscription_renewal", "trial_conversion": "af_start_subscription", "upgrade": "af_subscription_upgrade"}
	kindNames := []string{"renewal", "trial_conversion", "upgrade"}
	apps := map[string]string{"www.example.com": "website-www.example.com", "shop.example.com": "website-shop.example.com"}
	rows := make([]billingRow, n)
	for i := range rows {
		r := &rows[i]
		site := "www.example.com"
		if rnd.IntN(2) == 0 {
			site = "shop.example.com"
		}
		cur := currencies[rnd.IntN(len(currencies))]
		amount := rnd.Int64N(5_000_000) + 1
		if rnd.IntN(20) == 0 {
			amount = -amount // a paid credit note stays negative
		}
		kind := kindNames[rnd.IntN(len(kindNames))]
		status, isTest := "paid", "false"
		cust, user := fmt.Sprintf("cus_%d", i), fmt.Sprintf("u%d", i)
		switch rnd.IntN(40) {
		case 0:
			status = "refunded"
		case 1:
			status = "void"
		case 2:
			status = "draft"
		case 3:
			isTest = "true"
		case 4:
			kind = "gift" // not in the map
		case 5:
			cust = "" // user_id stands in
		case 6:
			cust, user = "", ""
		case 7:
			site = "blog.example.com" // a site without an app
		}
		// Within the last minute: in the acceptance window whatever the
		// time of day (hours back, after 00:30 UTC, were yesterday's and
		// late).
		paid := now.Add(-time.Duration(rnd.IntN(50)+1) * time.Second).UTC().Format(time.RFC3339)
		id := fmt.Sprintf("in_%05d", i)
		r.rec = []string{id, cust, user, site, kind, status, fmt.Sprint(amount), cur, paid, fmt.Sprintf("buyer%d@example.com", i), isTest}
		switch {
		case status != "paid":
			r.want, r.reason = "filtered", "skip[0]: status not in [paid]"
		case isTest == "true":
			r.want, r.reason = "filtered", "skip[1]: is_test in [true]"
		case apps[site] == "":
			r.want, r.rule = "invalid", "app_id"
		case cust == "" && user == "":
			r.want, r.rule = "invalid", "required"
		case kinds[kind] == "":
			r.want, r.rule = "invalid", "map"
		default:
			e := billingExponents[cur]
			scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(e)), nil)
			r.want, r.app = "accepted", apps[site]
			r.revenue = new(big.Rat).SetFrac(big.NewInt(amount), scale).FloatString(e)
		}
	}
	return rows
}

// received is what a recording mock saw: per customer_dedup_id, the app
// of the URL and the event_revenue exactly as written in the body.
type received struct {
	mu   sync.Mutex
	apps map[string][]string
	rev  map[string]string
}

func recordingMock(t *testing.T, token string) (*httptest.Server, *s2stest.Handler, *received) {
	h := s2stest.NewHandler(s2stest.Config{Token: token, KnownApps: []string{"website-www.example.com", "website-shop.example.com"}})
	rec := &received{apps: map[string][]string{}, rev: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			var b struct {
				Dedup   string          `json:"customer_dedup_id"`
				Revenue json.RawMessage `json:"event_revenue"`
			}
			if json.Unmarshal(body, &b) == nil {
				rec.mu.Lock()
				rec.apps[b.Dedup] = append(rec.apps[b.Dedup], strings.TrimPrefix(r.URL.Path, s2stest.EventPath))
				rec.rev[b.Dedup] = string(b.Revenue)
				rec.mu.Unlock()
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, h, rec
}

// TestBillingExportEndToEnd imports a generated billing export through
// testdata/billing.yaml against the mock: every paid row is delivered
// once to its own app with the exact revenue, every skipped row is
// filtered, every unmappable row is invalid with its rule; a resume sends
// nothing again and judges the filtered rows again.
func TestBillingExportEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rows := genBilling(5000, time.Now())
	in := filepath.Join(dir, "billing.csv")
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	require.NoError(t, w.Write(billingHeader))
	for _, r := range rows {
		require.NoError(t, w.Write(r.rec))
	}
	w.Flush()
	require.NoError(t, os.WriteFile(in, buf.Bytes(), 0o644))

	srv, h, rec := recordingMock(t, "t0ken-billing")
	cli := withToken("t0ken-billing")
	metrics := filepath.Join(dir, "afimport.prom")
	args := []string{"afimport", "import", "--quiet", "--mapping", filepath.Join("testdata", "billing.yaml"),
		"--endpoint", srv.URL, "--rate", "0", "--metrics-file", metrics, in}
	code, stderr := cli.runArgs(t, args)
	assert.Equal(t, exitRowsFailed, code, "invalid rows make the run exit 1: %s", stderr)

	got, _ := readReport(t, filepath.Join(dir, "billing.report.csv"))
	require.Len(t, got, len(rows))
	counts := map[string]int{}
	perApp := map[string]int{}
	for i, r := range rows {
		line := got[i+1]
		id := r.rec[0]
		require.NotNil(t, line, "row %d", i+1)
		counts[r.want]++
		assert.Equal(t, r.want, line["status"], "row %d: %s", i+1, line["reason"])
		switch r.want {
		case "accepted":
			perApp[r.app]++
			assert.Equal(t, []string{r.app}, rec.apps[id], "row %d delivered once, to its own app", i+1)
			assert.Equal(t, r.revenue, rec.rev[id], "row %d: the exact revenue (%s %s)", i+1, r.rec[6], r.rec[7])
		case "filtered":
			assert.Equal(t, r.reason, line["reason"], "row %d", i+1)
			assert.Empty(t, rec.apps[id], "row %d is never sent", i+1)
		case "invalid":
			assert.Contains(t, line["reason"], ": "+r.rule+": ", "row %d", i+1)
			assert.Empty(t, rec.apps[id], "row %d is never sent", i+1)
		}
		assert.NotContains(t, line["reason"], r.rec[9], "no raw email in reasons")
	}
	for _, want := range []string{"accepted", "filtered", "invalid"} {
		require.Greater(t, counts[want], 50, "the generator makes enough %s rows", want)
	}
	require.Len(t, perApp, 2)
	st := h.Stats()
	assert.EqualValues(t, counts["accepted"], st.Accepted)
	assert.Empty(t, st.Duplicates())
	assert.Contains(t, stderr, fmt.Sprintf("filtered %d", counts["filtered"]))
	for app, n := range perApp {
		assert.Contains(t, stderr, fmt.Sprintf("app %s: accepted %d", app, n))
	}
	prom, err := os.ReadFile(metrics)
	require.NoError(t, err)
	assert.Contains(t, string(prom), fmt.Sprintf(`afimport_rows{status="filtered"} %d`, counts["filtered"]))
	for app, n := range perApp {
		assert.Contains(t, string(prom), fmt.Sprintf(`afimport_app_rows{app_id=%q,status="accepted"} %d`, app, n))
	}

	// Resume: accepted rows are skipped, filtered rows judged again.
	code, stderr = cli.runArgs(t, append(args[:len(args)-1], "--resume", in))
	assert.Equal(t, exitRowsFailed, code, stderr)
	assert.EqualValues(t, counts["accepted"], h.Stats().Accepted, "a resume sends nothing again")
	f, err := os.Open(filepath.Join(dir, "billing.report.csv"))
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 1+2*len(rows), "the resume appends one line per row")
	second := map[string]string{} // row -> status, of the resume's lines
	for _, rec := range recs[1+len(rows):] {
		second[rec[1]] = rec[2]
	}
	require.Len(t, second, len(rows))
	for i, r := range rows {
		switch r.want {
		case "filtered":
			assert.Equal(t, "filtered", second[fmt.Sprint(i+1)], "row %d is judged again", i+1)
		case "accepted":
			assert.Equal(t, "skipped", second[fmt.Sprint(i+1)], "row %d", i+1)
		}
	}
}

// TestFilteredRowsExitZero: rows left out by skip: are not failures.
func TestFilteredRowsExitZero(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "b.csv")
	now := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	text := strings.Join(billingHeader, ",") + "\n" +
		"in_1,c1,,www.example.com,renewal,paid,1999,USD," + now + ",,false\n" +
		"in_2,c2,,shop.example.com,renewal,refunded,1999,USD," + now + ",,false\n" +
		"in_3,,,nowhere,,draft,x,,,,\n"
	require.NoError(t, os.WriteFile(in, []byte(text), 0o644))
	srv, _, rec := recordingMock(t, "tok")
	cli := withToken("tok")
	code, stderr := cli.runArgs(t, []string{"afimport", "import", "--quiet", "--mapping", filepath.Join("testdata", "billing.yaml"), "--endpoint", srv.URL, in})
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "accepted 1, filtered 2")
	assert.Equal(t, []string{"website-www.example.com"}, rec.apps["in_1"])
	assert.Equal(t, "19.99", rec.rev["in_1"])
}

func TestImportRefusesTimezonePlaceholder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "r.csv")
	writeCSV(t, in, goodRows(3))
	text := strings.Replace(e2eMapping, "timezone: America/New_York", "timezone: TODO_timezone", 1)
	require.NotEqual(t, e2eMapping, text)
	m := mappingFile(t, dir, text)
	srv, _, rec := recordingMock(t, "tok")
	cli := withToken("tok")
	code, stderr := cli.runArgs(t, []string{"afimport", "import", "--quiet", "--endpoint", srv.URL, "--mapping", m, in})
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "timezone is still the placeholder TODO_timezone")
	assert.Empty(t, rec.apps, "nothing is sent")
	code, stderr = cli.runArgs(t, []string{"afimport", "import", "--quiet", "--endpoint", srv.URL, "--app-timezone", "America/New_York", "--overwrite", "--mapping", m, in})
	assert.Equal(t, exitOK, code, "--app-timezone stands in for the placeholder: %s", stderr)
}

// explain and preview show a filtered row as import reports it, and it
// does not make them exit non-zero.
func TestExplainAndPreviewFilteredRow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "b.csv")
	require.NoError(t, os.WriteFile(in, []byte(strings.Join(billingHeader, ",")+"\n"+
		"in_2,c2,,shop.example.com,renewal,refunded,1999,USD,2026-12-01T10:00:00Z,,false\n"+
		"in_1,,u1,shop.example.com,renewal,paid,1900,JPY,2026-12-01T10:00:00Z,,false\n"), 0o644))
	code, stdout, stderr := runCLI(t, "explain", "--mapping", "testdata/billing.yaml", "--row", "1", in)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "verdict: FILTERED, not sent\n  skip[0]: status not in [paid]")
	code, stdout, stderr = runCLI(t, "explain", "--mapping", "testdata/billing.yaml", "--row", "2", "--now", "2026-12-01T12:00:00Z", in)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, `(app website-shop.example.com (from column "site")`)
	assert.Contains(t, stdout, `first of columns "customer_id", "user_id", used "user_id"`)
	assert.Contains(t, stdout, `"event_revenue": 1900,`)
	code, stdout, stderr = runCLI(t, "preview", "--mapping", "testdata/billing.yaml", "--json", "--now", "2026-12-01T12:00:00Z", in)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, `"status":"filtered","reason":"skip[0]: status not in [paid]"`)
}
