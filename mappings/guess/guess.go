package guess

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"afimport/mappings"
	"afimport/readers"
)

// Options says what Starter cannot learn from the sample.
type Options struct {
	// Source is the sample file's name, for the header comment ("" for none).
	Source string
	// Endpoint is "event" (the default when "") or "visit".
	Endpoint string
	// AppID is the unified app id; "" writes a TODO placeholder.
	AppID string
}

// Errors Starter returns for input it cannot work from, for errors.Is.
var (
	ErrNoColumns = errors.New("the sample has no columns")
	ErrHeader    = errors.New("invalid header")
	ErrOptions   = errors.New("invalid options")
)

// Placeholders written where nothing could be guessed. Each loads (the
// mapping checks no column against a file), but none can be imported
// unnoticed: a placeholder column is not in the file, so opening it fails
// with readers.MissingColumnError naming it, and the placeholder event name
// is spelled to be found and replaced.
const (
	PlaceholderAppID     = mappings.PlaceholderAppID
	PlaceholderEventName = "TODO_event_name"
	PlaceholderUserID    = "TODO_user_id_column"
	PlaceholderPageURL   = "TODO_page_url_column"
)

// Starter writes a commented starter mapping for a sample of rows.
//
// header names the columns; each row holds one value per column (a short
// row's missing values count as empty, extra values are ignored). Every
// column is guessed from its name and its sample values, the values winning
// when the two disagree. The result always loads with mappings.Parse:
// Starter checks that itself and returns an error rather than a mapping
// that does not. It is deterministic: the same input gives the same bytes.
// Sample values never appear in it.
//
// Starter returns an error, never with output, for an empty header, blank,
// duplicate or non-UTF-8 column names, an endpoint other than event or
// visit, and an AppID the mapping would refuse.
func Starter(header []string, rows [][]readers.Value, opts Options) ([]byte, error) {
	endpoint := opts.Endpoint
	switch endpoint {
	case "":
		endpoint = "event"
	case "event", "visit":
	default:
		return nil, fmt.Errorf("%w: endpoint %q: want event or visit", ErrOptions, opts.Endpoint)
	}
	if opts.AppID != "" && (strings.TrimSpace(opts.AppID) == "" || strings.ContainsAny(opts.AppID, "/?#% \t\r\n") || !utf8.ValidString(opts.AppID)) {
		return nil, fmt.Errorf("%w: app id must not contain '/', '?', '#', '%%' or white space (it goes into the request path)", ErrOptions)
	}
	if len(header) == 0 {
		return nil, ErrNoColumns
	}
	seen := make(map[string]int, len(header))
	for i, name := range header {
		switch {
		case strings.TrimSpace(name) == "":
			return nil, fmt.Errorf("%w: column %d has a blank name", ErrHeader, i+1)
		case !utf8.ValidString(name):
			return nil, fmt.Errorf("%w: column %d: name is not valid UTF-8", ErrHeader, i+1)
		}
		if j, dup := seen[name]; dup {
			return nil, fmt.Errorf("%w: columns %d and %d are both named %q", ErrHeader, j+1, i+1, name)
		}
		seen[name] = i
	}

	p := &planner{visit: endpoint == "visit", notes: map[int]string{}}
	p.analyze(header, rows)
	p.plan()
	out := p.render(opts, endpoint, len(rows))
	if _, err := mappings.Parse(out, "starter.yaml"); err != nil {
		return nil, fmt.Errorf("guess: the starter mapping does not load (a bug in package guess): %w", err)
	}
	return out, nil
}

// column is one sample column: its name and its non-empty values.
type column struct {
	idx    int
	name   string
	toks   []string
	hint   hint
	rows   int             // sample rows
	vals   []readers.Value // the non-empty values
	at     []int           // row index of each of vals
	empty  int             // rows - len(vals)
	region *column         // phone columns: the country column read per row
}

func (c *column) count(pred func(readers.Value) bool) int {
	n := 0
	for _, v := range c.vals {
		if pred(v) {
			n++
		}
	}
	return n
}

// all reports a content match on every non-empty value (and at least one).
func (c *column) all(k int) bool { return len(c.vals) > 0 && k == len(c.vals) }

// most is the bar for a guess the name already suggests: at least half the
// non-empty values fit (the rest will be rejected, and the comment says so).
// A column without values is guessed from its name alone.
func (c *column) most(k int) bool { return 2*k >= len(c.vals) }

// evidence is the "why" of a guess, in counts only.
func (c *column) evidence(k int, what string) string {
	if c.rows == 0 {
		return "no sample rows to check; guessed from the name"
	}
	if len(c.vals) == 0 {
		return fmt.Sprintf("all %d sample values empty; guessed from the name", c.rows)
	}
	s := fmt.Sprintf("%d/%d sample values %s", k, c.rows, what)
	if c.empty > 0 {
		s += fmt.Sprintf(", %d empty", c.empty)
	}
	if bad := len(c.vals) - k; bad > 0 {
		s += fmt.Sprintf(", %d %s not (rows like those will be rejected)", bad, doVerb(bad))
	}
	return s
}

// kv is one key of a field's flow mapping, its value already YAML.
type kv struct{ k, v string }

// field is one guessed target.
type field struct {
	target string
	col    *column // nil for constants and placeholders
	spec   []kv
	why    string
	rank   int
	naive  int // timestamp: values without an offset
}

func (f *field) add(k, v string) *field { f.spec = append(f.spec, kv{k, v}); return f }

// planner guesses every column, settles columns competing for a target and
// fills in what the API requires.
type planner struct {
	visit  bool
	cols   []*column
	region *column // the country column, when one holds ISO codes
	cands  []*field
	fields map[string]*field // winners by target
	extra  []string          // commented suggestions after the fields
	notes  map[int]string    // column index → why it is not mapped (or how it is used)
	// regionByRow is the country column's valid codes by sample row.
	regionByRow map[int]string
}

func (p *planner) analyze(header []string, rows [][]readers.Value) {
	for i, name := range header {
		n := normalize(name)
		if n == "" {
			n = "_"
		}
		c := &column{idx: i, name: name, toks: tokens(n), hint: nameHint(n), rows: len(rows)}
		for r, row := range rows {
			if i < len(row) && !mappings.IsMissing(row[i]) {
				c.vals = append(c.vals, row[i])
				c.at = append(c.at, r)
			}
		}
		c.empty = c.rows - len(c.vals)
		p.cols = append(p.cols, c)
	}
	// The country column comes first: phone numbers are read in its regions.
	for _, c := range p.cols {
		if c.hint != hCountry {
			continue
		}
		k := c.count(isCountry)
		if k == 0 || !c.most(k) {
			p.notes[c.idx] = fmt.Sprintf("named like a country, but %d/%d sample values are ISO 3166-1 alpha-2 codes", k, c.rows)
			continue
		}
		if p.region != nil {
			p.notes[c.idx] = fmt.Sprintf("another country column; %s is the phone region", quoteName(p.region.name))
			continue
		}
		p.region = c
	}
	if p.region != nil {
		byRow := make(map[int]string, len(p.region.vals))
		for j, v := range p.region.vals {
			if isCountry(v) {
				s, _ := str(v)
				byRow[p.region.at[j]] = s
			}
		}
		p.regionByRow = byRow
	}
}

// phoneCount counts values that read as phone numbers in their row's
// region (the country column's, else US).
func (p *planner) phoneCount(c *column, strict bool) int {
	n := 0
	for j, v := range c.vals {
		region := "US"
		if r, ok := p.regionByRow[c.at[j]]; ok {
			region = r
		}
		if isPhone(v, region, strict) {
			n++
		}
	}
	return n
}

func (p *planner) plan() {
	for _, c := range p.cols {
		if c == p.region {
			continue
		}
		if _, noted := p.notes[c.idx]; noted {
			continue
		}
		f, why := p.classify(c)
		if f == nil {
			p.notes[c.idx] = why
			continue
		}
		if p.visit && (f.target == "event_name" || f.target == "event_revenue" || f.target == "event_revenue_currency") {
			p.notes[c.idx] = fmt.Sprintf("looks like %s, which visits do not take", f.target)
			continue
		}
		p.cands = append(p.cands, f)
	}

	// One column per target: the best rank, then the first column.
	sort.SliceStable(p.cands, func(i, j int) bool { return p.cands[i].rank > p.cands[j].rank })
	p.fields = map[string]*field{}
	for _, f := range p.cands {
		if w, taken := p.fields[f.target]; taken {
			p.notes[f.col.idx] = fmt.Sprintf("also looks like %s, but %s took %s", f.target, f.target, quoteName(w.col.name))
			continue
		}
		p.fields[f.target] = f
	}
	if p.region != nil {
		if ph := p.fields["phone_number_e164_hashed"]; ph != nil {
			k := p.region.count(isCountry)
			p.notes[p.region.idx] = "region_column of phone_number_e164_hashed; " + p.region.evidence(k, "are ISO 3166-1 alpha-2 codes")
		} else {
			p.notes[p.region.idx] = "a country column; no phone column to read it for"
		}
	}
	p.require()
}

// require fills in what the mapping must have to load: a user id, and
// event_name (events) or event_url (visits).
func (p *planner) require() {
	if p.fields["user_id.customer_user_id"] == nil && p.fields["user_id.appsflyer_id"] == nil {
		f := &field{target: "user_id.customer_user_id",
			why: "TODO: no column looks like a user id; name the column with your customer user id " +
				"(or map user_id.appsflyer_id). Until then the import stops: the file has no such column"}
		f.add("column", PlaceholderUserID)
		p.fields[f.target] = f
	}
	if !p.visit && p.fields["event_name"] == nil {
		p.fields["event_name"] = (&field{target: "event_name",
			why: "TODO: the event name to send, such as af_purchase or af_subscription_renewal " +
				"(1-64 characters, none of @ = + -); this placeholder loads but must not be imported"}).
			add("value", PlaceholderEventName)
	}
	if p.visit && p.fields["event_url"] == nil {
		p.fields["event_url"] = (&field{target: "event_url",
			why: "TODO: visits need the page URL; no column holds http(s) URLs. " +
				"Name that column, or build it with template: \"https://www.example.com/{path}\""}).
			add("column", PlaceholderPageURL)
	}
	if !p.visit && p.fields["event_revenue"] != nil && p.fields["event_revenue_currency"] == nil {
		p.extra = append(p.extra, "# event_revenue_currency: { value: USD }  # TODO: no currency column found; set the ISO-4217 code of event_revenue")
	}
}

// minorUnitsTODO flags an amount column whose sample values are all whole
// numbers: billing systems keep amounts in minor units (1999 for 19.99
// USD), and sent as they are, revenue goes out 100 times too high. Whole
// prices exist too (JPY, or 20 for 20.00), so it asks instead of guessing.
func minorUnitsTODO(c *column, f *field) {
	whole := c.count(isWholeNumber)
	if len(c.vals) < 3 || !c.all(whole) {
		return
	}
	cents := c.count(func(v readers.Value) bool {
		s, _ := text(v)
		return len(s) >= 3 && (strings.HasSuffix(s, "99") || strings.HasSuffix(s, "95") || strings.HasSuffix(s, "49"))
	})
	hint := ""
	if cents > 0 {
		hint = fmt.Sprintf(", %d end like prices in cents", cents)
	}
	// No example amount in the words: a comment never repeats what could
	// be a sample value.
	f.why = fmt.Sprintf("TODO: %d/%d sample values are whole numbers%s: if they are minor units (cents, not dollars), "+
		"add minor_units: true, or revenue goes out a hundredfold too high; ", whole, c.rows, hint) + f.why
}

// currencyField never makes the currency optional silently: revenue sent
// without its currency is almost always a mistake. Empty sample values
// leave optional: true with a TODO, which check --strict fails on.
func currencyField(c *column, f *field) *field {
	if c.empty > 0 {
		f.add("optional", "true")
		f.why = fmt.Sprintf("TODO: %d/%d sample values are empty, so revenue would leave without a currency: "+
			"give default: USD (your currency) or drop optional to refuse such rows; ", c.empty, c.rows) + f.why
	}
	return f
}

// classify guesses one column's target, or says why it has none.
func (p *planner) classify(c *column) (*field, string) {
	col := quoteName(c.name)
	guess := func(target string, matched hint, k int, what string) *field {
		f := &field{target: target, col: c, why: c.evidence(k, what)}
		f.add("column", col)
		if c.hint == matched && c.hint != hNone {
			f.rank += 2
		} else if c.hint != hNone && c.hint != matched {
			f.why += fmt.Sprintf("; the name suggests %s, the values win", hintDesc[c.hint])
		}
		if c.all(k) {
			f.rank++
		}
		return f
	}
	optional := func(f *field) *field {
		if c.empty > 0 {
			f.add("optional", "true")
		}
		return f
	}
	n := len(c.vals)

	// Content first: values that can only be one thing beat the name.
	if k := c.count(hasAFCookie); k > 0 && (c.hint == hCookie || c.all(k)) {
		f := guess("user_id.appsflyer_id", hCookie, n, "")
		f.add("extract", "af_user_id_cookie")
		f.why = fmt.Sprintf("%d/%d sample values hold an afUserId= cookie", k, c.rows)
		if k < c.rows {
			f.add("optional", "true")
			f.why += fmt.Sprintf(", %d %s not (left out: such rows need another user id)", c.rows-k, doVerb(c.rows-k))
		}
		return f, ""
	}
	if k := c.count(isEmail); c.all(k) {
		return optional(guess("email_hashed", hEmail, k, "look like email addresses").add("hash", "email")), ""
	}
	if k := c.count(isIP); c.all(k) {
		return optional(guess("ip", hIP, k, "are IP addresses")), ""
	}
	if k := c.count(isHTTPURL); c.all(k) {
		if c.hint == hReferrer {
			return optional(guess("http_referrer", hReferrer, k, "are http(s) URLs")), ""
		}
		return optional(guess("event_url", hURL, k, "are http(s) URLs")), ""
	}
	if k := c.count(isMozilla); c.all(k) {
		return optional(guess("user_agent", hUA, k, "are browser user agents (Mozilla/...)")), ""
	}
	if c.hint != hBirth {
		if g := guessTimestamp(c.vals, c.hint == hTimestamp); g.ok {
			return p.timestamp(c, g, guess, optional), ""
		}
	}
	if k := c.count(isCurrencyUpper); c.all(k) {
		return currencyField(c, guess("event_revenue_currency", hCurrency, k, "are ISO-4217 currency codes")), ""
	}
	if k := p.phoneCount(c, true); c.all(k) {
		return p.phone(c, guess(phoneTarget, hPhone, k, "are phone numbers"), optional), ""
	}

	// Then the name, with the values as a check.
	named := guess
	guess = func(target string, matched hint, k int, what string) *field {
		f := named(target, matched, k, what)
		f.why = "named like " + hintDesc[c.hint] + "; " + f.why
		return f
	}
	switch c.hint {
	case hBirth:
		return nil, "named like a date of birth: personal data, not an event time"
	case hCookie:
		return nil, "named like a cookie, but no sample value holds afUserId="
	case hAFID:
		return optional(guess("user_id.appsflyer_id", hAFID, c.count(isText), "present")), ""
	case hCUID:
		if k := c.count(fitsCUID); c.most(k) {
			return optional(guess("user_id.customer_user_id", hCUID, k, "fit customer_user_id (1-64 characters)")), ""
		}
		return nil, "named like a user id, but most sample values are longer than 64 characters"
	case hDedup:
		return optional(guess("customer_dedup_id", hDedup, c.count(isText), "present")), ""
	case hEmail:
		if k := c.count(isEmail); c.most(k) && k > 0 || n == 0 {
			return optional(guess("email_hashed", hEmail, k, "look like email addresses").add("hash", "email")), ""
		}
		if k := c.count(isHex64); c.all(k) {
			return optional(guess("email_hashed", hEmail, k, "are SHA-256 hex digests (passed through as already hashed)").add("hash", "email")), ""
		}
		return nil, fmt.Sprintf("named like an email column, but %d/%d sample values look like email addresses", c.count(isEmail), c.rows)
	case hPhone:
		if k := p.phoneCount(c, false); c.most(k) && k > 0 || n == 0 {
			return p.phone(c, guess(phoneTarget, hPhone, k, "are phone numbers"), optional), ""
		}
		if k := c.count(isHex64); c.all(k) {
			f := guess(phoneTarget, hPhone, k, "are SHA-256 hex digests (passed through as already hashed)")
			f.why = "TODO: check the numbers were E.164 (+16505551212) before hashing, else map phone_number_hashed; " + f.why
			return optional(f.add("hash", "phone_e164")), ""
		}
		return nil, fmt.Sprintf("named like a phone column, but %d/%d sample values read as phone numbers", p.phoneCount(c, false), c.rows)
	case hFirst, hLast:
		target := "first_name_hashed"
		if c.hint == hLast {
			target = "last_name_hashed"
		}
		return optional(guess(target, c.hint, c.count(isText), "present").add("hash", "name")), ""
	case hCurrency:
		if k := c.count(isCurrencyAny); c.most(k) && k > 0 || n == 0 {
			return currencyField(c, guess("event_revenue_currency", hCurrency, k, "are ISO-4217 currency codes")), ""
		}
		return nil, fmt.Sprintf("named like a currency, but %d/%d sample values are ISO-4217 codes", c.count(isCurrencyAny), c.rows)
	case hReferrer, hURL:
		target := "event_url"
		if c.hint == hReferrer {
			target = "http_referrer"
		}
		if k := c.count(isHTTPURL); c.most(k) && k > 0 || n == 0 {
			return optional(guess(target, c.hint, k, "are http(s) URLs")), ""
		}
		return nil, fmt.Sprintf("named like a URL, but %d/%d sample values are absolute http(s) URLs", c.count(isHTTPURL), c.rows)
	case hIP:
		if k := c.count(isIP); c.most(k) && k > 0 || n == 0 {
			return optional(guess("ip", hIP, k, "are IP addresses")), ""
		}
		return nil, fmt.Sprintf("named like an IP address, but %d/%d sample values are IP addresses", c.count(isIP), c.rows)
	case hUA:
		return optional(guess("user_agent", hUA, c.count(isText), "present")), ""
	case hEventName:
		if k := c.count(fitsEventName); c.all(k) {
			return optional(guess("event_name", hEventName, k, "fit event_name (1-64 characters, none of @ = + -)")), ""
		}
		return nil, "named like an event name, but not every sample value fits event_name (1-64 characters, none of @ = + -)"
	case hAmount:
		if k := c.count(isNumber); c.most(k) && k > 0 || n == 0 {
			f := optional(guess("event_revenue", hAmount, k, "are numbers").add("type", "number"))
			f.rank += amountRank(c.toks)
			minorUnitsTODO(c, f)
			return f, ""
		}
		return nil, fmt.Sprintf("named like an amount, but %d/%d sample values are plain numbers (currency signs or digit separators?)", c.count(isNumber), c.rows)
	case hTimestamp:
		if n == 0 {
			f := optional(guess("timestamp", hTimestamp, 0, "").add("format", "auto"))
			f.why = "TODO: check the format; " + f.why
			return f, ""
		}
		return nil, fmt.Sprintf("named like a timestamp, but no single format reads all %d non-empty sample values", n)
	}
	if k := c.count(isHex64); c.all(k) {
		return nil, "values are SHA-256 hex digests: map them to the *_hashed target they were hashed for"
	}
	if k := c.count(func(v readers.Value) bool { return v.Kind == readers.KindJSON }); c.all(k) {
		return nil, "nested JSON"
	}
	if n == 0 && c.rows > 0 {
		return nil, fmt.Sprintf("all %d sample values empty", c.rows)
	}
	return nil, ""
}

const phoneTarget = "phone_number_e164_hashed"

func (p *planner) phone(c *column, f *field, optional func(*field) *field) *field {
	f.add("hash", "phone_e164")
	if p.region != nil {
		f.add("region_column", quoteName(p.region.name))
		if p.region.empty > 0 || p.region.count(isCountry) < len(p.region.vals) {
			f.add("region", "US")
			f.why = fmt.Sprintf("TODO: region US is used where %s is empty or not a country code; ", quoteName(p.region.name)) + f.why
		}
	} else {
		f.add("region", "US")
		f.why = "TODO: no country column; numbers written without +country code are read as US; " + f.why
	}
	return optional(f)
}

func (p *planner) timestamp(c *column, g tsGuess, guess func(string, hint, int, string) *field, optional func(*field) *field) *field {
	what := "are typed timestamps"
	if g.format != "" {
		what = "parse as " + g.format
	}
	f := guess("timestamp", hTimestamp, len(c.vals), what)
	if g.format != "" {
		f.add("format", scalar(g.format))
	}
	if g.format == "auto" {
		f.why = "TODO: the values mix forms; auto reads each by its shape; " + f.why
	}
	if g.dmy {
		f.why = "TODO: month/day or day/month? every value parses both ways; " + f.why
	}
	if metaTime(c.toks) {
		f.rank -= 3
	}
	f.naive = g.naive
	return optional(f)
}

func doVerb(n int) string {
	if n == 1 {
		return "does"
	}
	return "do"
}

// quoteName is a column name as the mapping writes it.
func quoteName(name string) string { return scalar(name) }

// Target order: the spec's request-body tables.
var (
	eventTargets = []string{"user_id.customer_user_id", "user_id.appsflyer_id",
		"event_name", "event_revenue", "event_revenue_currency", "event_url", "timestamp", "ip", "user_agent",
		"http_referrer", "customer_dedup_id", "email_hashed", "phone_number_hashed", phoneTarget,
		"first_name_hashed", "last_name_hashed"}
	visitTargets = []string{"user_id.customer_user_id", "user_id.appsflyer_id",
		"event_url", "timestamp", "ip", "user_agent", "http_referrer", "customer_dedup_id",
		"email_hashed", "phone_number_hashed", phoneTarget, "first_name_hashed", "last_name_hashed"}
)

func (p *planner) render(opts Options, endpoint string, nrows int) []byte {
	var b bytes.Buffer
	src := "a sample"
	if opts.Source != "" {
		src = oneLine(opts.Source)
	}
	fmt.Fprintf(&b, "# Starter mapping for %s, guessed by `afimport init` from %d sample rows.\n", src, nrows)
	b.WriteString("# Each guess says why in its trailing comment: check every line and fix every TODO.\n")
	b.WriteString("# Sample values are personal data and are not copied here; comments give counts only.\n")
	b.WriteString("# Keys and rules: docs/mapping.md.\n")
	if opts.AppID != "" {
		fmt.Fprintf(&b, "app_id: %s\n", scalar(opts.AppID))
	} else {
		fmt.Fprintf(&b, "app_id: %s  # TODO: your unified app id in AppsFlyer, such as website-www.example.com\n", PlaceholderAppID)
	}
	fmt.Fprintf(&b, "endpoint: %s\n", endpoint)
	fmt.Fprintf(&b, "timezone: %s  # TODO: your app's timezone in AppsFlyer (IANA name, such as America/New_York or UTC): it sets each row's deadline\n", mappings.PlaceholderTimezone)
	if ts := p.fields["timestamp"]; ts != nil && ts.naive > 0 {
		fmt.Fprintf(&b, "input_timezone: UTC  # TODO: the zone %s is written in (%d/%d sample values carry no UTC offset)\n",
			commentName(ts.col.name), ts.naive, ts.col.rows)
	}
	if p.fields["customer_dedup_id"] == nil {
		b.WriteString("# dedup: auto (the default) derives customer_dedup_id from each row's body, as no column holds one.\n")
	}
	b.WriteString("fields:\n")

	order := eventTargets
	if p.visit {
		order = visitTargets
	}
	type line struct{ key, spec, why string }
	var lines []line
	keyW, specW := 0, 0
	for _, t := range order {
		f := p.fields[t]
		if f == nil {
			continue
		}
		parts := make([]string, len(f.spec))
		for i, e := range f.spec {
			parts[i] = e.k + ": " + e.v
		}
		l := line{key: f.target + ":", spec: "{ " + strings.Join(parts, ", ") + " }", why: f.why}
		keyW, specW = max(keyW, len(l.key)), max(specW, len(l.spec))
		lines = append(lines, l)
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "  %-*s %-*s  # %s\n", keyW, l.key, specW, l.spec, oneLine(l.why))
	}
	for _, e := range p.extra {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	for _, c := range p.cols {
		if c == p.region {
			fmt.Fprintf(&b, "  # %s: %s\n", commentName(c.name), oneLine(p.notes[c.idx]))
			continue
		}
		mapped := false
		for _, f := range p.fields {
			if f.col == c {
				mapped = true
			}
		}
		if mapped {
			continue
		}
		fmt.Fprintf(&b, "  # unmapped: %s (e.g. event_value.custom_parameters.%s: { column: %s })",
			commentName(c.name), paramKey(c.name), quoteName(c.name))
		if why := p.notes[c.idx]; why != "" {
			fmt.Fprintf(&b, "; %s", oneLine(why))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// commentName is a column name fit for a comment: as is when plain, quoted
// otherwise (a newline in a name would end the comment).
func commentName(name string) string { return scalar(name) }

// oneLine keeps text on one comment line.
func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n\u2028\u2029\x00") || !utf8.ValidString(s) {
		q := strconv.Quote(s)
		return q[1 : len(q)-1]
	}
	return s
}
