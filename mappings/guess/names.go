package guess

import (
	"strings"
	"unicode"
)

// hint is what a column's name suggests it holds, before its values are
// looked at.
type hint uint8

const (
	hNone hint = iota
	hCookie
	hAFID
	hCUID
	hDedup
	hEmail
	hPhone
	hFirst
	hLast
	hCurrency
	hReferrer
	hURL
	hIP
	hUA
	hCountry
	hEventName
	hAmount
	hTimestamp
	hBirth // a date of birth: personal data, never an event time
)

var hintDesc = [...]string{
	hNone: "", hCookie: "a cookie header", hAFID: "an AppsFlyer id", hCUID: "a user id",
	hDedup: "a per-event id", hEmail: "an email column", hPhone: "a phone column",
	hFirst: "a first name", hLast: "a last name", hCurrency: "a currency", hReferrer: "a referrer",
	hURL: "a URL", hIP: "an IP address", hUA: "a user agent", hCountry: "a country",
	hEventName: "an event name", hAmount: "an amount", hTimestamp: "a timestamp", hBirth: "a date of birth",
}

// normalize turns a column name into lower snake case: "afUserId" →
// "af_user_id", "HTTPReferrer" → "http_referrer", "Order Total" →
// "order_total". Only used to match names, never written out.
func normalize(name string) string {
	rs := []rune(name)
	var b strings.Builder
	sep := true // at the start or just after a separator
	for i, r := range rs {
		switch {
		case unicode.IsUpper(r):
			if !sep && i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(unicode.IsUpper(rs[i-1]) && i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			sep = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			sep = false
		default:
			if !sep {
				b.WriteByte('_')
				sep = true
			}
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

func tokens(norm string) []string {
	ts := strings.Split(norm, "_")
	for i, t := range ts {
		ts[i] = strings.TrimRight(t, "0123456789") // email2 → email
	}
	return ts
}

func hasToken(ts []string, words ...string) bool {
	for _, t := range ts {
		for _, w := range words {
			if t == w {
				return true
			}
		}
	}
	return false
}

func oneOf(s string, words ...string) bool {
	for _, w := range words {
		if s == w {
			return true
		}
	}
	return false
}

// nameHint classifies a normalized name. The order of the checks settles
// names that fit several: "referrer_url" is a referrer, "amount_currency" a
// currency, "event_id" a per-event id rather than an event name.
func nameHint(norm string) hint {
	ts := tokens(norm)
	last := ts[len(ts)-1]
	prev := ""
	if len(ts) > 1 {
		prev = ts[len(ts)-2]
	}
	switch {
	case hasToken(ts, "birth", "dob", "birthday", "birthdate"):
		return hBirth
	case hasToken(ts, "cookie", "cookies"):
		return hCookie
	case oneOf(norm, "af_user_id", "appsflyer_id", "apps_flyer_id", "af_id", "afid", "appsflyer_user_id", "af_uid"):
		return hAFID
	case oneOf(norm, "user_id", "userid", "uid", "cuid", "customer_id", "customerid", "customer_user_id",
		"member_id", "account_id", "client_user_id") ||
		strings.HasSuffix(norm, "_user_id") || strings.HasSuffix(norm, "_customer_id"):
		return hCUID
	case (last == "id" || last == "uuid" || last == "number" || last == "no") &&
		oneOf(prev, "renewal", "order", "event", "transaction", "txn", "purchase", "invoice", "payment",
			"charge", "dedup", "receipt", "conversion"):
		return hDedup
	case hasToken(ts, "email", "mail", "e_mail", "emailaddress"):
		return hEmail
	case hasToken(ts, "phone", "mobile", "msisdn", "tel", "telephone", "cell", "cellphone", "phonenumber"):
		return hPhone
	case oneOf(norm, "first_name", "firstname", "fname", "given_name", "givenname", "forename", "first"):
		return hFirst
	case oneOf(norm, "last_name", "lastname", "lname", "surname", "family_name", "familyname", "last"):
		return hLast
	case hasToken(ts, "currency", "ccy", "curr"):
		return hCurrency
	case hasToken(ts, "referrer", "referer"):
		return hReferrer
	case hasToken(ts, "url", "uri", "link", "href", "page", "landing"):
		return hURL
	case hasToken(ts, "ip", "ipv4", "ipv6", "ipaddress") || norm == "remote_addr":
		return hIP
	case oneOf(norm, "user_agent", "useragent", "ua", "http_user_agent", "browser_user_agent") || last == "agent":
		return hUA
	case hasToken(ts, "country") || oneOf(norm, "cc", "region", "country_code", "geo"):
		return hCountry
	case oneOf(norm, "event_name", "event", "event_type", "eventname", "action"):
		return hEventName
	case hasToken(ts, "amount", "revenue", "price", "total", "value"):
		return hAmount
	case hasToken(ts, "timestamp", "ts", "time", "datetime", "date") || last == "at" || last == "on":
		return hTimestamp
	}
	return hNone
}

// amountRank orders several amount-like columns: the one named revenue is
// the likeliest event_revenue.
func amountRank(ts []string) int {
	for i, w := range []string{"revenue", "amount", "price", "total", "value"} {
		if hasToken(ts, w) {
			return 5 - i
		}
	}
	return 0
}

// metaTime reports names of bookkeeping times (row created, updated...),
// which make a worse event timestamp than e.g. renewed_at.
func metaTime(ts []string) bool {
	return hasToken(ts, "created", "updated", "modified", "inserted", "deleted", "loaded", "ingested",
		"expires", "expiry", "expiration", "signup", "registered")
}
