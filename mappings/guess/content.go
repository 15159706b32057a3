package guess

import (
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"

	"afimport/mappings/pii"
	"afimport/mappings/timefmt"
	"afimport/readers"
)

// Value predicates. Each looks at one non-empty sample value and answers
// whether it could be fed to one target as the mapping would read it.

func str(v readers.Value) (string, bool) {
	if v.Kind != readers.KindString {
		return "", false
	}
	return strings.TrimSpace(v.S), true
}

// text is a value as a string-typed target reads it (strings and numbers).
func text(v readers.Value) (string, bool) {
	if v.Kind != readers.KindString && v.Kind != readers.KindNumber {
		return "", false
	}
	return strings.TrimSpace(v.S), true
}

func isEmail(v readers.Value) bool {
	s, ok := str(v)
	if !ok || strings.Contains(s, "afUserId=") {
		return false
	}
	_, err := pii.Email(s)
	return err == nil
}

func isIP(v readers.Value) bool {
	s, ok := str(v)
	if !ok || len(s) > 46 {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// isHTTPURL is the event_url rule: an absolute http(s) URL with a host and
// no white space, at most 4096 characters.
func isHTTPURL(v readers.Value) bool {
	s, ok := str(v)
	if !ok || utf8.RuneCountInString(s) > 4096 || strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	sc := strings.ToLower(u.Scheme)
	return sc == "http" || sc == "https"
}

func isMozilla(v readers.Value) bool {
	s, ok := str(v)
	return ok && strings.Contains(s, "Mozilla/") && utf8.RuneCountInString(s) <= 1024
}

func hasAFCookie(v readers.Value) bool {
	s, ok := str(v)
	return ok && strings.Contains(s, "afUserId=")
}

// isCurrency accepts a known ISO-4217 code; upper requires it written in
// capitals, which is what makes three letters convincing without a name.
func isCurrency(v readers.Value, upper bool) bool {
	s, ok := str(v)
	if !ok || len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		c := s[i]
		if upper && !(c >= 'A' && c <= 'Z') || !upper && !((c|0x20) >= 'a' && (c|0x20) <= 'z') {
			return false
		}
	}
	_, err := currency.ParseISO(s)
	return err == nil
}

func isCurrencyUpper(v readers.Value) bool { return isCurrency(v, true) }
func isCurrencyAny(v readers.Value) bool   { return isCurrency(v, false) }

// isCountry is the mapping's region rule: an ISO 3166-1 alpha-2 code.
func isCountry(v readers.Value) bool {
	s, ok := str(v)
	if !ok || len(s) != 2 || !isLetter(s[0]) || !isLetter(s[1]) {
		return false
	}
	r, err := language.ParseRegion(s)
	return err == nil && r.IsCountry()
}

func isLetter(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }

// isPhone reports whether v reads as a phone number in region. strict
// also asks for a '+' or a separator, since bare digits could be any id:
// without a phone-like name, "4155552671" proves nothing.
func isPhone(v readers.Value, region string, strict bool) bool {
	s, ok := text(v)
	if !ok || (strict && v.Kind != readers.KindString) {
		return false
	}
	digits, marks := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case strings.IndexByte("+-(). ", c) >= 0:
			marks++
		default:
			return false
		}
	}
	if digits < 7 || digits > 17 || strict && marks == 0 {
		return false
	}
	_, err := pii.PhoneE164(s, region)
	return err == nil
}

func isHex64(v readers.Value) bool {
	s, ok := str(v)
	return ok && pii.IsSHA256Hex(s)
}

// isWholeNumber is a number written without a fraction or an exponent,
// as minor_units requires.
func isWholeNumber(v readers.Value) bool {
	s, ok := text(v)
	if !ok || !isNumber(v) {
		return false
	}
	return !strings.ContainsAny(s, ".eE")
}

// isNumber is what event_revenue with type: number accepts: a number, or
// text spelling a plain decimal (no separators, currency signs, NaN, Inf,
// hex).
func isNumber(v readers.Value) bool {
	if v.Kind == readers.KindNumber {
		return true
	}
	s, ok := str(v)
	if !ok {
		return false
	}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 || exp > 3 {
			return false
		}
	}
	return i == len(s)
}

// fitsCUID is the customer_user_id rule: 1 to 64 characters.
func fitsCUID(v readers.Value) bool {
	s, ok := text(v)
	return ok && utf8.ValidString(s) && utf8.RuneCountInString(s) <= 64
}

func isText(v readers.Value) bool { _, ok := text(v); return ok }

// fitsEventName is the event_name rule: 1 to 64 characters, none of @ = + -.
func fitsEventName(v readers.Value) bool {
	s, ok := str(v)
	return ok && utf8.RuneCountInString(s) <= 64 && !strings.ContainsAny(s, "@=+-")
}

// tsGuess is the outcome of looking for one timestamp format that reads
// every sample value of a column.
type tsGuess struct {
	ok     bool
	format string // "" when every value is a typed time (Parquet)
	naive  int    // values without a UTC offset: read in input_timezone
	dmy    bool   // a day/month layout where month/day also parsed everything
}

// textFormats are tried in order; the first that parses every text value
// wins. "auto" comes last: it reads a mix of the forms above.
var textFormats = []string{
	"rfc3339",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02",
	"2006/01/02 15:04:05",
	"01/02/2006 15:04:05",
	"01/02/2006 15:04",
	"01/02/2006",
	"auto",
}

// dayFirst is the day/month reading of a month/day layout above.
var dayFirst = map[string]string{
	"01/02/2006 15:04:05": "02/01/2006 15:04:05",
	"01/02/2006 15:04":    "02/01/2006 15:04",
	"01/02/2006":          "02/01/2006",
}

var unixFormats = []string{"unix_s", "unix_ms", "unix_us", "unix_ns"}

// probeZone is a zone no sample is written in; a value that parses to
// another instant there than in UTC has no offset of its own.
var probeZone = time.FixedZone("probe", 5*3600+30*60)

// guessTimestamp finds the format of a column's timestamps. Unix formats
// (and numbers at all, auto reads them as unix too) are tried only when the
// name says time (allowUnix), and must land every value between 2000 and
// 2100: any number parses as some unix time.
func guessTimestamp(vals []readers.Value, allowUnix bool) tsGuess {
	var texts []string
	g := tsGuess{}
	for _, v := range vals {
		switch v.Kind {
		case readers.KindTime:
			if v.Naive {
				g.naive++
			}
		case readers.KindString, readers.KindNumber:
			texts = append(texts, strings.TrimSpace(v.S))
		default:
			return tsGuess{}
		}
	}
	if len(vals) == 0 {
		return tsGuess{}
	}
	if len(texts) == 0 {
		g.ok = true
		return g
	}
	try := func(format string) (int, bool) {
		utc, err1 := timefmt.New(format, time.UTC)
		far, err2 := timefmt.New(format, probeZone)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		naive := 0
		for _, s := range texts {
			numeric := isNumber(readers.String(s))
			if numeric && !allowUnix {
				return 0, false
			}
			t, err := utc.Parse(s)
			if err != nil {
				return 0, false
			}
			if _, err := timefmt.ToUnixMilli(t); err != nil {
				return 0, false
			}
			if numeric && (t.Year() < 2000 || t.Year() >= 2100) {
				return 0, false
			}
			if t2, err := far.Parse(s); err != nil || !t2.Equal(t) {
				naive++
			}
		}
		return naive, true
	}
	formats := textFormats
	if allowUnix {
		formats = append(append([]string{}, unixFormats...), textFormats...)
	}
	for _, f := range formats {
		if n, ok := try(f); ok {
			g.ok, g.format, g.naive = true, f, g.naive+n
			if alt, ok := dayFirst[f]; ok {
				_, g.dmy = try(alt)
			}
			return g
		}
		// A day-first sample (31/01/2024) fails the month-first layout.
		if alt, ok := dayFirst[f]; ok {
			if n, ok := try(alt); ok {
				g.ok, g.format, g.naive = true, alt, g.naive+n
				return g
			}
		}
	}
	return tsGuess{}
}
