package guess

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/mappings"
	"afimport/readers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sample is a header and its rows, as a reader would hand them over.
type sample struct {
	header []string
	rows   [][]readers.Value
}

func s(v string) readers.Value { return readers.String(v) }

// renewals is a CSV export of subscription renewals: every value is text.
func renewals() sample {
	firsts := []string{"Augusta", "Grace", "Katherine", "Margaret", "Hedy"}
	lasts := []string{"Lovelace", "Hopper", "Johnson", "Hamilton", "Lamarr"}
	sm := sample{header: []string{"renewal_id", "user_id", "email", "phone", "country", "first_name", "last_name",
		"plan", "amount", "currency", "renewed_at", "ip", "user_agent", "page_url", "cookie"}}
	for i := 0; i < 20; i++ {
		country, phone, cur, amount := "US", fmt.Sprintf("+1 415-555-26%02d", 10+i), "USD", "9.99"
		if i%3 == 1 {
			country, phone, cur, amount = "GB", fmt.Sprintf("020 7946 0%03d", 100+i), "GBP", "119.00"
		}
		if i == 4 || i == 11 {
			phone = "" // not every customer left a phone number
		}
		ip := fmt.Sprintf("203.0.113.%d", 20+i)
		if i%4 == 3 {
			ip = fmt.Sprintf("2001:db8::%x", 0xa0+i)
		}
		cookie := fmt.Sprintf("_ga=GA1.2.%d.1712000000; afUserId=8d1c7e3a-54b0-4f7e-9a51-%012d", 700+i, 31337+i)
		if i == 7 {
			cookie = "_ga=GA1.2.9999.1712000000" // the Web SDK never ran for this visitor
		}
		sm.rows = append(sm.rows, []readers.Value{
			s(fmt.Sprintf("RN-%05d", 40000+i)),
			s(fmt.Sprintf("usr-%08x", 0xbeef00+i)),
			s(fmt.Sprintf("subscriber.%02d@example.org", i)),
			s(phone),
			s(country),
			s(firsts[i%5]),
			s(lasts[i%5]),
			s([]string{"gold-monthly", "silver-annual"}[i%2]),
			s(amount),
			s(cur),
			s(fmt.Sprintf("2024-05-%02dT%02d:%02d:07+01:00", 1+i, 8+i%10, i)),
			s(ip),
			s(fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_%d) AppleWebKit/605.1.15 Version/17.%d Safari/605.1.15", i%8, i%5)),
			s(fmt.Sprintf("https://www.example.com/account/renew?session=%04d", 3000+i)),
			s(cookie),
		})
	}
	return sm
}

// typed is an NDJSON or Parquet export: numbers, typed times, JSON, booleans.
func typed() sample {
	sm := sample{header: []string{"customerId", "appsflyer_id", "email", "mobile", "revenue", "currency",
		"event_time", "created_at", "ua", "items", "is_trial", "order_id", "notes"}}
	base := time.Date(2024, 6, 1, 9, 30, 0, 0, time.UTC)
	for i := 0; i < 12; i++ {
		email := s(fmt.Sprintf("buyer%03d@shop.example.net", 500+i))
		if i == 5 {
			email = readers.Null()
		}
		sm.rows = append(sm.rows, []readers.Value{
			readers.Number(fmt.Sprintf("%d", 7700100+i)),
			s(fmt.Sprintf("1712000000000-%019d", 4242424242+int64(i))),
			email,
			readers.Number(fmt.Sprintf("1415555%04d", 2700+i)),
			readers.Number(fmt.Sprintf("%d.%02d", 10+i, 50+i)),
			s([]string{"usd", "eur"}[i%2]),
			readers.NaiveTime(base.Add(time.Duration(i) * 97 * time.Minute)),
			readers.Time(base.Add(-time.Duration(i+1) * 24 * time.Hour)),
			s(fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64; rv:12%d.0) Gecko/20100101 Firefox/12%d.0", i, i)),
			readers.JSON(fmt.Sprintf(`[{"sku":"SKU-%04d","qty":%d}]`, 8000+i, 1+i%3)),
			readers.Bool(i%2 == 0),
			readers.Number(fmt.Sprintf("%d", 91000000+i)),
			readers.Null(),
		})
	}
	return sm
}

// visits is a page-view log for the visit endpoint.
func visits() sample {
	sm := sample{header: []string{"uid", "page_url", "referrer", "client_ip", "user_agent", "visited_at", "af_cookie", "amount", "currency"}}
	for i := 0; i < 15; i++ {
		ref := fmt.Sprintf("https://search.example.net/results?q=term%03d", 100+i)
		if i%5 == 2 {
			ref = "" // direct traffic
		}
		sm.rows = append(sm.rows, []readers.Value{
			s(fmt.Sprintf("visitor-%06d", 123400+i)),
			s(fmt.Sprintf("https://shop.example.com/products/item-%03d", 200+i)),
			s(ref),
			s(fmt.Sprintf("198.51.100.%d", 100+i)),
			s(fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0.%d.0", 6300+i)),
			s(fmt.Sprintf("%d", int64(1714000000000)+int64(i)*61234)),
			s(fmt.Sprintf("afUserId=0f9e8d7c-%04d-4abc-8def-%012d; theme=dark", 1000+i, 987650+i)),
			s(fmt.Sprintf("%d.95", 20+i)),
			s("EUR"),
		})
	}
	return sm
}

// nothing has no column a guess could use.
func nothing() sample {
	sm := sample{header: []string{"alpha", "bravo", "charlie"}}
	for i := 0; i < 6; i++ {
		sm.rows = append(sm.rows, []readers.Value{s(fmt.Sprintf("word%03d", i)), readers.Number(fmt.Sprintf("%d", 31+i)), readers.Bool(i%2 == 0)})
	}
	return sm
}

// load parses the output and maps every sample row with it, so a test shows
// the guesses are not only valid YAML but read the sample as intended.
func load(t *testing.T, out []byte, sm sample) *mappings.Mapping {
	t.Helper()
	m, err := mappings.Parse(out, "starter.yaml")
	require.NoError(t, err, "output must load:\n%s", out)
	return m
}

func applyAll(t *testing.T, m *mappings.Mapping, sm sample) {
	t.Helper()
	idx := map[string]int{}
	for i, h := range sm.header {
		idx[h] = i
	}
	for r, row := range sm.rows {
		vals := make([]readers.Value, len(m.Columns()))
		for j, c := range m.Columns() {
			i, ok := idx[c]
			require.True(t, ok, "mapping reads column %q, not in the sample", c)
			vals[j] = row[i]
		}
		_, err := m.Apply(vals)
		assert.NoError(t, err, "sample row %d", r+1)
	}
}

// assertNoValues fails when any sample value of 4 characters or more shows
// up in the output. Shorter values (country and currency codes, "9.9") are
// too common as substrings of fixed text to test this way.
func assertNoValues(t *testing.T, out []byte, sm sample) {
	t.Helper()
	for r, row := range sm.rows {
		for i, v := range row {
			var texts []string
			switch v.Kind {
			case readers.KindString, readers.KindNumber, readers.KindJSON:
				texts = append(texts, strings.TrimSpace(v.S))
				// parts of composite values that carry data (a digit): a
				// cookie's afUserId, a URL's path; not fixed words like afUserId=.
				for _, part := range strings.FieldsFunc(v.S, func(r rune) bool { return strings.ContainsRune(" ;=/?", r) }) {
					if len(part) >= 8 && strings.ContainsAny(part, "0123456789") {
						texts = append(texts, part)
					}
				}
			case readers.KindTime:
				texts = append(texts, v.T.Format(time.RFC3339Nano), v.T.Format("2006-01-02 15:04:05"), fmt.Sprint(v.T.UnixMilli()))
			}
			for _, x := range texts {
				if len(x) >= 4 {
					assert.False(t, bytes.Contains(out, []byte(x)), "row %d column %q: sample value copied into the output", r+1, sm.header[i])
				}
			}
		}
	}
}

// fieldsOf reads the output's fields as plain YAML, so tests can ask what
// a column was mapped to without depending on the layout.
func fieldsOf(t *testing.T, out []byte) map[string]map[string]any {
	t.Helper()
	var doc struct {
		InputTimezone string                    `yaml:"input_timezone"`
		Fields        map[string]map[string]any `yaml:"fields"`
	}
	require.NoError(t, yaml.Unmarshal(out, &doc))
	return doc.Fields
}

func TestStarterGolden(t *testing.T) {
	tests := []struct {
		name  string
		sm    sample
		opts  Options
		apply bool // every sample row must map without error
	}{
		{"renewals", renewals(), Options{Source: "renewals.csv"}, true},
		{"typed", typed(), Options{Source: "orders.parquet", AppID: "website-shop.example.net"}, true},
		{"visit", visits(), Options{Source: "visits.ndjson", Endpoint: "visit"}, true},
		{"nothing", nothing(), Options{Source: "mystery.csv"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Starter(tt.sm.header, tt.sm.rows, tt.opts)
			require.NoError(t, err)
			m := load(t, out, tt.sm)
			if tt.apply {
				applyAll(t, m, tt.sm)
			}
			assertNoValues(t, out, tt.sm)

			again, err := Starter(tt.sm.header, tt.sm.rows, tt.opts)
			require.NoError(t, err)
			assert.Equal(t, string(out), string(again), "output must be deterministic")

			golden := filepath.Join("testdata", tt.name+".golden.yaml")
			if *update {
				require.NoError(t, os.WriteFile(golden, out, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./mappings/guess/ -update")
			assert.Equal(t, string(want), string(out),
				"golden differs; after an intended change rerun with -update")
		})
	}
}

func TestStarterRenewalsGuesses(t *testing.T) {
	sm := renewals()
	out, err := Starter(sm.header, sm.rows, Options{})
	require.NoError(t, err)
	f := fieldsOf(t, out)
	col := func(target string) any { return f[target]["column"] }

	assert.Equal(t, "user_id", col("user_id.customer_user_id"))
	assert.Equal(t, "renewal_id", col("customer_dedup_id"))
	assert.Equal(t, "email", col("email_hashed"))
	assert.Equal(t, "email", f["email_hashed"]["hash"])
	assert.Equal(t, "phone", col("phone_number_e164_hashed"))
	assert.Equal(t, "phone_e164", f["phone_number_e164_hashed"]["hash"])
	assert.Equal(t, "country", f["phone_number_e164_hashed"]["region_column"])
	assert.Equal(t, true, f["phone_number_e164_hashed"]["optional"], "2 phones are empty")
	assert.Nil(t, f["email_hashed"]["optional"], "no email is empty")
	assert.Equal(t, "first_name", col("first_name_hashed"))
	assert.Equal(t, "name", f["last_name_hashed"]["hash"])
	assert.Equal(t, "amount", col("event_revenue"))
	assert.Equal(t, "number", f["event_revenue"]["type"])
	assert.Equal(t, "currency", col("event_revenue_currency"))
	assert.Equal(t, "renewed_at", col("timestamp"))
	assert.Equal(t, "rfc3339", f["timestamp"]["format"])
	assert.Equal(t, "ip", col("ip"))
	assert.Equal(t, "user_agent", col("user_agent"))
	assert.Equal(t, "page_url", col("event_url"))
	assert.Equal(t, PlaceholderEventName, f["event_name"]["value"])
	assert.Contains(t, string(out), "# unmapped: plan (e.g. event_value.custom_parameters.plan: { column: plan })")
	assert.Contains(t, string(out), "app_id: TODO_app_id  # TODO")
	assert.Contains(t, string(out), "timezone: TODO_timezone  # TODO: your app's timezone in AppsFlyer")
	assert.NotContains(t, string(out), "input_timezone", "RFC 3339 values carry their offset")
	assert.Contains(t, string(out), "# 20/20 sample values look like email addresses\n")
	assert.Equal(t, "cookie", col("user_id.appsflyer_id"))
	assert.Equal(t, "af_user_id_cookie", f["user_id.appsflyer_id"]["extract"])
}

func TestStarterContentBeatsName(t *testing.T) {
	sm := sample{header: []string{"contact", "email", "notes", "user_id", "created"}}
	for i := 0; i < 5; i++ {
		sm.rows = append(sm.rows, []readers.Value{
			s(fmt.Sprintf("someone%d@example.com", i)), // named like nothing: emails
			s(fmt.Sprintf("+44 20 7946 0%03d", 200+i)), // named email: phones
			s("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)"),
			s(fmt.Sprintf("member%d@example.com", i)), // named user id: raw emails must not go out as customer_user_id
			s(fmt.Sprintf("2024-03-%02d 12:00:00", 10+i)),
		})
	}
	out, err := Starter(sm.header, sm.rows, Options{})
	require.NoError(t, err)
	load(t, out, sm)
	assertNoValues(t, out, sm)
	f := fieldsOf(t, out)
	assert.Equal(t, "contact", f["email_hashed"]["column"])
	assert.Equal(t, "email", f["phone_number_e164_hashed"]["column"])
	assert.Equal(t, "US", f["phone_number_e164_hashed"]["region"], "no country column: default region")
	assert.Contains(t, string(out), "TODO: no country column")
	assert.Equal(t, "notes", f["user_agent"]["column"])
	assert.Equal(t, PlaceholderUserID, f["user_id.customer_user_id"]["column"], "emails are not a customer_user_id")
	assert.Contains(t, string(out), "# unmapped: user_id ")
	assert.Equal(t, "created", f["timestamp"]["column"])
	assert.Equal(t, "2006-01-02 15:04:05", f["timestamp"]["format"])
	assert.Contains(t, string(out), "input_timezone: UTC  # TODO", "values without offset need a zone")
}

func TestStarterTimestampFormats(t *testing.T) {
	tests := []struct {
		name, col string
		vals      []readers.Value
		format    any // nil: no format key; "-": not a timestamp
		naive     bool
	}{
		{"rfc3339", "ts", []readers.Value{s("2024-01-02T03:04:05Z"), s("2024-01-02T03:04:05.123+02:00")}, "rfc3339", false},
		{"naive layout", "paid_at", []readers.Value{s("2024-01-02 03:04:05"), s("2024-12-31 23:59:59")}, "2006-01-02 15:04:05", true},
		{"naive T", "paid_at", []readers.Value{s("2024-01-02T03:04:05"), s("2024-12-31T23:59:59")}, "2006-01-02T15:04:05", true},
		{"space offset", "paid_at", []readers.Value{s("2024-01-02 03:04:05+01:00"), s("2024-12-31 23:59:59Z")}, "rfc3339", false}, // RFC 3339 allows the space
		{"postgres offset", "paid_at", []readers.Value{s("2024-01-02 03:04:05+01"), s("2024-12-31 23:59:59+00")}, "auto", false},
		{"unix s", "paid_at", []readers.Value{s("1712000000"), readers.Number("1712000123")}, "unix_s", false},
		{"unix ms", "event_time", []readers.Value{s("1712000000000"), readers.Number("1712000000123")}, "unix_ms", false},
		{"unix us", "event_time", []readers.Value{s("1712000000000000")}, "unix_us", false},
		{"day first", "paid_on", []readers.Value{s("31/01/2024"), s("15/02/2024")}, "02/01/2006", true},
		{"month first", "paid_on", []readers.Value{s("01/31/2024"), s("02/15/2024")}, "01/02/2006", true},
		{"mixed forms", "paid_at", []readers.Value{s("2024-01-02T03:04:05Z"), s("2024-01-02 03:04:05")}, "auto", true},
		{"typed", "paid_at", []readers.Value{readers.Time(time.Unix(1712000000, 0))}, nil, false},
		{"typed naive", "paid_at", []readers.Value{readers.NaiveTime(time.Unix(1712000000, 0).UTC())}, nil, true},
		{"one bad value", "paid_at", []readers.Value{s("2024-01-02T03:04:05Z"), s("yesterday")}, "-", false},
		{"numbers without a time name", "quantity", []readers.Value{s("1712000000"), s("1712000123")}, "-", false},
		{"numbers out of range", "paid_at", []readers.Value{s("12"), s("7")}, "-", false},
		{"date of birth", "date_of_birth", []readers.Value{s("1990-01-02"), s("1985-03-04")}, "-", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := sample{header: []string{"user_id", tt.col}}
			for i, v := range tt.vals {
				sm.rows = append(sm.rows, []readers.Value{s(fmt.Sprintf("u%d", i)), v})
			}
			out, err := Starter(sm.header, sm.rows, Options{})
			require.NoError(t, err)
			m := load(t, out, sm)
			f := fieldsOf(t, out)
			if tt.format == "-" {
				assert.NotContains(t, f, "timestamp")
				assert.Contains(t, string(out), "# unmapped: "+tt.col)
				return
			}
			require.Contains(t, f, "timestamp")
			assert.Equal(t, tt.col, f["timestamp"]["column"])
			assert.Equal(t, tt.format, f["timestamp"]["format"])
			assert.Equal(t, tt.naive, strings.Contains(string(out), "input_timezone: UTC  # TODO"))
			applyAll(t, m, sm)
		})
	}
}

func TestStarterVisitSkipsEventTargets(t *testing.T) {
	sm := visits()
	out, err := Starter(sm.header, sm.rows, Options{Endpoint: "visit"})
	require.NoError(t, err)
	f := fieldsOf(t, out)
	for _, target := range []string{"event_name", "event_revenue", "event_revenue_currency"} {
		assert.NotContains(t, f, target)
	}
	assert.Contains(t, string(out), "# unmapped: amount (e.g. event_value.custom_parameters.amount: { column: amount }); looks like event_revenue, which visits do not take")
	assert.Equal(t, "page_url", f["event_url"]["column"])
	assert.Equal(t, "referrer", f["http_referrer"]["column"])
	assert.Equal(t, true, f["http_referrer"]["optional"])
	assert.Equal(t, "client_ip", f["ip"]["column"])
	assert.Equal(t, "unix_ms", f["timestamp"]["format"])
	assert.Equal(t, "uid", f["user_id.customer_user_id"]["column"])
}

func TestStarterPlaceholders(t *testing.T) {
	t.Run("no user id, event", func(t *testing.T) {
		sm := nothing()
		out, err := Starter(sm.header, sm.rows, Options{})
		require.NoError(t, err)
		m := load(t, out, sm)
		// The placeholder column is not in the file: opening it fails by name.
		assert.Contains(t, m.Columns(), PlaceholderUserID)
		f := fieldsOf(t, out)
		assert.Equal(t, PlaceholderEventName, f["event_name"]["value"])
		for _, c := range sm.header {
			assert.Contains(t, string(out), "# unmapped: "+c+" (e.g. event_value.custom_parameters."+c+": { column: "+c+" })")
		}
	})
	t.Run("no url, visit", func(t *testing.T) {
		sm := nothing()
		out, err := Starter(sm.header, sm.rows, Options{Endpoint: "visit"})
		require.NoError(t, err)
		m := load(t, out, sm)
		assert.Contains(t, m.Columns(), PlaceholderPageURL)
		assert.NotContains(t, fieldsOf(t, out), "event_name")
	})
	t.Run("header only", func(t *testing.T) {
		out, err := Starter([]string{"email", "user_id", "signup_ts"}, nil, Options{})
		require.NoError(t, err)
		f := fieldsOf(t, out)
		assert.Equal(t, "email", f["email_hashed"]["column"])
		assert.Equal(t, "user_id", f["user_id.customer_user_id"]["column"])
		assert.Equal(t, "auto", f["timestamp"]["format"])
		assert.Contains(t, string(out), "no sample rows to check; guessed from the name")
	})
}

func TestStarterOddColumnNames(t *testing.T) {
	names := []string{"E-mail Address", "user\nid", "a: b", "#hash", "true", "naïve", `quote"d`, "tab\there", "{x}"}
	sm := sample{header: names}
	for i := 0; i < 3; i++ {
		row := make([]readers.Value, len(names))
		for j := range row {
			row[j] = s(fmt.Sprintf("filler%d%d", i, j))
		}
		row[0] = s(fmt.Sprintf("person%d@example.com", i))
		row[1] = s(fmt.Sprintf("cust-%d", i))
		sm.rows = append(sm.rows, row)
	}
	out, err := Starter(sm.header, sm.rows, Options{AppID: "website-www.example.com"})
	require.NoError(t, err)
	m := load(t, out, sm)
	assert.Equal(t, []string{"user\nid", "E-mail Address"}, m.Columns(), "quoted names read back exactly")
	applyAll(t, m, sm)
	for _, n := range names[2:] {
		assert.Contains(t, string(out), "# unmapped: "+scalar(n))
	}
	// No name broke out of its comment or value onto a line of its own.
	for i, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		ok := strings.HasPrefix(l, "#") || strings.HasPrefix(l, "  ") ||
			strings.HasPrefix(l, "app_id: ") || strings.HasPrefix(l, "endpoint: ") ||
			strings.HasPrefix(l, "timezone: ") || strings.HasPrefix(l, "input_timezone: ") || l == "fields:"
		assert.True(t, ok, "line %d is stray: %q", i+1, l)
	}
}

func TestStarterErrors(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		opts   Options
		want   error
	}{
		{"no columns", nil, Options{}, ErrNoColumns},
		{"blank name", []string{"a", " "}, Options{}, ErrHeader},
		{"duplicate", []string{"a", "b", "a"}, Options{}, ErrHeader},
		{"bad utf8", []string{"a\xff"}, Options{}, ErrHeader},
		{"endpoint", []string{"a"}, Options{Endpoint: "events"}, ErrOptions},
		{"app id", []string{"a"}, Options{AppID: "website/x"}, ErrOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Starter(tt.header, nil, tt.opts)
			assert.ErrorIs(t, err, tt.want)
			assert.Nil(t, out)
		})
	}
}

// FuzzStarter: whatever the header and values, Starter either refuses the
// input with one of its documented errors or writes a mapping that loads
// (Starter reports a mapping that does not load as an error of its own).
func FuzzStarter(f *testing.F) {
	f.Add("email", "phone", "a@b.co", "+1 415 555 2671", "event")
	f.Add("user id", "ts", "x", "2024-01-02 03:04:05", "visit")
	f.Add("a:b", "#c", "\n", "Mozilla/5.0", "event")
	f.Add("cookie", "amount", "afUserId=x", "1e3", "event")
	f.Fuzz(func(t *testing.T, h1, h2, v1, v2, endpoint string) {
		rows := [][]readers.Value{{s(v1), s(v2)}, {readers.Number(v2), s(v1)}}
		out, err := Starter([]string{h1, h2}, rows, Options{Endpoint: endpoint})
		if err != nil {
			if !errors.Is(err, ErrHeader) && !errors.Is(err, ErrOptions) && !errors.Is(err, ErrNoColumns) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if _, err := mappings.Parse(out, "fuzz.yaml"); err != nil {
			t.Fatalf("output does not load: %v\n%s", err, out)
		}
	})
}

// TestStarterCookie: a cookie column is mapped with extract:
// af_user_id_cookie, and being a user id, no placeholder is needed.
func TestStarterCookie(t *testing.T) {
	sm := sample{header: []string{"cookie", "page"}}
	for i := 0; i < 4; i++ {
		sm.rows = append(sm.rows, []readers.Value{
			s(fmt.Sprintf("afUserId=11112222-%04d", 5000+i)),
			s(fmt.Sprintf("https://www.example.com/p/%04d", 6000+i)),
		})
	}
	out, err := Starter(sm.header, sm.rows, Options{Endpoint: "visit"})
	require.NoError(t, err)
	m := load(t, out, sm)
	assertNoValues(t, out, sm)
	f := fieldsOf(t, out)
	assert.Equal(t, "page", f["event_url"]["column"])
	assert.Equal(t, "af_user_id_cookie", f["user_id.appsflyer_id"]["extract"])
	assert.NotContains(t, f, "user_id.customer_user_id")
	applyAll(t, m, sm)
}

func TestStarterMinorUnits(t *testing.T) {
	// Whole amounts may be minor units: the guess asks (a TODO on the
	// line) rather than send revenue 100 times too high, or divide it.
	for _, tt := range []struct {
		name    string
		amounts []readers.Value
		todo    string // "" when no TODO is expected
	}{
		{"cents", []readers.Value{s("1999"), s("499"), s("12500"), s("-1999")}, "4/4 sample values are whole numbers, 3 end like prices in cents"},
		{"whole, no price endings", []readers.Value{s("20"), s("1500"), s("300")}, "3/3 sample values are whole numbers: if"},
		{"typed numbers", []readers.Value{readers.Number("1999"), readers.Number("2500"), readers.Number("10")}, "3/3 sample values are whole numbers"},
		{"decimals", []readers.Value{s("19.99"), s("20"), s("5.5")}, ""},
		{"an exponent", []readers.Value{s("2e3"), s("20"), s("5")}, ""},
		{"too few to tell", []readers.Value{s("1999"), s("20")}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sm := sample{header: []string{"order_id", "user_id", "amount", "currency"}}
			for i, a := range tt.amounts {
				sm.rows = append(sm.rows, []readers.Value{s(fmt.Sprintf("o%d", i)), s(fmt.Sprintf("u%d", i)), a, s("USD")})
			}
			out, err := Starter(sm.header, sm.rows, Options{})
			require.NoError(t, err)
			load(t, out, sm)
			assertNoValues(t, out, sm)
			var line string
			for _, l := range strings.Split(string(out), "\n") {
				if strings.Contains(l, "event_revenue:") {
					line = l
				}
			}
			require.NotEmpty(t, line, "amount is guessed as event_revenue")
			spec, _, _ := strings.Cut(line, "#")
			assert.NotContains(t, spec, "minor_units", "never guessed, only asked")
			if tt.todo == "" {
				assert.NotContains(t, line, "minor units")
				return
			}
			assert.Contains(t, line, "TODO: "+tt.todo)
			assert.Contains(t, line, "add minor_units: true")
		})
	}
}
