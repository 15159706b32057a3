package s2stest

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/currency"
)

// endpoint is which API a request targets.
type endpoint uint8

const (
	eventEndpoint endpoint = iota
	visitEndpoint
)

// fieldError is a 400: the field (dotted path, "" for the body) and the rule
// it breaks. Its text never contains a field value.
type fieldError struct {
	field, rule string
}

func (e *fieldError) Error() string {
	if e.field == "" {
		return e.rule
	}
	return e.field + ": " + e.rule
}

func fieldErr(field, rule string) *fieldError { return &fieldError{field, rule} }

// accepted is what the accounting needs from a valid body.
type accepted struct {
	dedupID      string
	hasDedupID   bool
	timestamp    int64 // Unix ms
	hasTimestamp bool
}

// Top-level fields, as bits for duplicate detection and presence.
const (
	fUserID = iota
	fEventName
	fEventRevenue
	fEventRevenueCurrency
	fEventValue
	fEventURL
	fTimestamp
	fIP
	fUserAgent
	fHTTPReferrer
	fCustomerDedupID
	fEmailHashed
	fPhoneNumberHashed
	fPhoneNumberE164Hashed
	fFirstNameHashed
	fLastNameHashed
)

var fieldNames = [...]string{
	fUserID:                "user_id",
	fEventName:             "event_name",
	fEventRevenue:          "event_revenue",
	fEventRevenueCurrency:  "event_revenue_currency",
	fEventValue:            "event_value",
	fEventURL:              "event_url",
	fTimestamp:             "timestamp",
	fIP:                    "ip",
	fUserAgent:             "user_agent",
	fHTTPReferrer:          "http_referrer",
	fCustomerDedupID:       "customer_dedup_id",
	fEmailHashed:           "email_hashed",
	fPhoneNumberHashed:     "phone_number_hashed",
	fPhoneNumberE164Hashed: "phone_number_e164_hashed",
	fFirstNameHashed:       "first_name_hashed",
	fLastNameHashed:        "last_name_hashed",
}

// topField maps an exact (case-sensitive) key to its field, or -1.
func topField(key []byte) int {
	switch string(key) { // no allocation: the compiler special-cases this
	case "user_id":
		return fUserID
	case "event_name":
		return fEventName
	case "event_revenue":
		return fEventRevenue
	case "event_revenue_currency":
		return fEventRevenueCurrency
	case "event_value":
		return fEventValue
	case "event_url":
		return fEventURL
	case "timestamp":
		return fTimestamp
	case "ip":
		return fIP
	case "user_agent":
		return fUserAgent
	case "http_referrer":
		return fHTTPReferrer
	case "customer_dedup_id":
		return fCustomerDedupID
	case "email_hashed":
		return fEmailHashed
	case "phone_number_hashed":
		return fPhoneNumberHashed
	case "phone_number_e164_hashed":
		return fPhoneNumberE164Hashed
	case "first_name_hashed":
		return fFirstNameHashed
	case "last_name_hashed":
		return fLastNameHashed
	}
	return -1
}

// validate checks body against every rule of the spec for ep. It reads
// numbers from their literal text, so nothing is lost to float64.
func validate(ep endpoint, body []byte) (accepted, *fieldError) {
	var acc accepted
	if !utf8.Valid(body) {
		return acc, fieldErr("", "body is not valid UTF-8")
	}
	if !json.Valid(body) {
		return acc, fieldErr("", "body is not valid JSON")
	}
	if kindOf(body[skipWS(body, 0)]) != "an object" {
		return acc, fieldErr("", "body must be a JSON object, got "+kindOf(body[skipWS(body, 0)]))
	}
	var vals [len(fieldNames)][]byte
	var seen uint32
	err := eachMember(body, func(key []byte, val []byte) *fieldError {
		f := topField(key)
		if f < 0 {
			return fieldErr(jsonKey(key), "unknown field")
		}
		if seen&(1<<f) != 0 {
			return fieldErr(fieldNames[f], "duplicate field")
		}
		seen |= 1 << f
		vals[f] = val
		return nil
	})
	if err != nil {
		return acc, err
	}

	// user_id: required object with at least one identifier.
	if vals[fUserID] == nil {
		return acc, fieldErr("user_id", "required")
	}
	if err := validateUserID(vals[fUserID]); err != nil {
		return acc, err
	}

	if ep == visitEndpoint {
		for _, f := range [...]int{fEventName, fEventRevenue, fEventRevenueCurrency} {
			if vals[f] != nil {
				return acc, fieldErr(fieldNames[f], "not allowed on the visit endpoint")
			}
		}
		if vals[fEventURL] == nil {
			return acc, fieldErr("event_url", "required on the visit endpoint")
		}
	} else {
		v := vals[fEventName]
		if v == nil {
			return acc, fieldErr("event_name", "required")
		}
		s, err := stringField("event_name", v)
		if err != nil {
			return acc, err
		}
		if n := utf8.RuneCount(s); n < 1 || n > 64 {
			return acc, fieldErr("event_name", "must be 1 to 64 characters, got "+strconv.Itoa(n))
		}
		if bytes.ContainsAny(s, "@=+-") {
			return acc, fieldErr("event_name", "must not contain any of @ = + -")
		}
		if v := vals[fEventRevenue]; v != nil {
			if k := kindOf(v[0]); k != "a number" {
				return acc, fieldErr("event_revenue", "must be a number, got "+k)
			}
			if f, err := strconv.ParseFloat(string(v), 64); err != nil || math.IsInf(f, 0) {
				return acc, fieldErr("event_revenue", "out of range for a double")
			}
		}
		if v := vals[fEventRevenueCurrency]; v != nil {
			s, err := stringField("event_revenue_currency", v)
			if err != nil {
				return acc, err
			}
			if !isUpperISO(s) {
				return acc, fieldErr("event_revenue_currency", "must be an ISO-4217 code (3 upper-case letters)")
			}
			if _, err := currency.ParseISO(string(s)); err != nil {
				return acc, fieldErr("event_revenue_currency", "not an ISO-4217 currency code")
			}
		}
	}

	if v := vals[fEventValue]; v != nil {
		if err := validateEventValue(v); err != nil {
			return acc, err
		}
	}
	if v := vals[fEventURL]; v != nil {
		if err := validateURL("event_url", v); err != nil {
			return acc, err
		}
	}
	if v := vals[fTimestamp]; v != nil {
		ts, err := int64Field("timestamp", v)
		if err != nil {
			return acc, err
		}
		acc.timestamp, acc.hasTimestamp = ts, true
	}
	if v := vals[fIP]; v != nil {
		s, err := stringField("ip", v)
		if err != nil {
			return acc, err
		}
		if len(s) > 46 {
			return acc, fieldErr("ip", "must be at most 46 characters")
		}
		if _, err := netip.ParseAddr(string(s)); err != nil {
			return acc, fieldErr("ip", "must be an IPv4 or IPv6 address")
		}
	}
	if v := vals[fUserAgent]; v != nil {
		s, err := stringField("user_agent", v)
		if err != nil {
			return acc, err
		}
		if utf8.RuneCount(s) > 1024 {
			return acc, fieldErr("user_agent", "must be at most 1024 characters")
		}
	}
	if v := vals[fHTTPReferrer]; v != nil {
		if _, err := stringField("http_referrer", v); err != nil {
			return acc, err
		}
	}
	if v := vals[fCustomerDedupID]; v != nil {
		s, err := stringField("customer_dedup_id", v)
		if err != nil {
			return acc, err
		}
		acc.dedupID, acc.hasDedupID = string(s), true
	}
	for f := fEmailHashed; f <= fLastNameHashed; f++ {
		v := vals[f]
		if v == nil {
			continue
		}
		s, err := stringField(fieldNames[f], v)
		if err != nil {
			return acc, err
		}
		if !isHex64(s) {
			return acc, fieldErr(fieldNames[f], "must match ^[a-fA-F0-9]{64}$ (SHA-256 hex)")
		}
	}
	return acc, nil
}

func validateUserID(v []byte) *fieldError {
	if k := kindOf(v[0]); k != "an object" {
		return fieldErr("user_id", "must be an object, got "+k)
	}
	var cuid, afid []byte
	err := eachMember(v, func(key, val []byte) *fieldError {
		switch string(key) {
		case "customer_user_id":
			if cuid != nil {
				return fieldErr("user_id.customer_user_id", "duplicate field")
			}
			cuid = val
		case "appsflyer_id":
			if afid != nil {
				return fieldErr("user_id.appsflyer_id", "duplicate field")
			}
			afid = val
		default:
			return fieldErr("user_id."+jsonKey(key), "unknown field")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if cuid == nil && afid == nil {
		return fieldErr("user_id", "must contain customer_user_id or appsflyer_id")
	}
	if cuid != nil {
		s, err := stringField("user_id.customer_user_id", cuid)
		if err != nil {
			return err
		}
		if n := utf8.RuneCount(s); n < 1 || n > 64 {
			return fieldErr("user_id.customer_user_id", "must be 1 to 64 characters, got "+strconv.Itoa(n))
		}
	}
	if afid != nil {
		s, err := stringField("user_id.appsflyer_id", afid)
		if err != nil {
			return err
		}
		if len(s) == 0 {
			return fieldErr("user_id.appsflyer_id", "must not be empty")
		}
	}
	return nil
}

func validateEventValue(v []byte) *fieldError {
	if k := kindOf(v[0]); k != "an object" {
		return fieldErr("event_value", "must be an object, got "+k)
	}
	return eachMember(v, func(key, val []byte) *fieldError {
		if string(key) == "custom_parameters" {
			if k := kindOf(val[0]); k != "an object" {
				return fieldErr("event_value.custom_parameters", "must be an object, got "+k)
			}
		}
		return nil
	})
}

func validateURL(field string, v []byte) *fieldError {
	s, err := stringField(field, v)
	if err != nil {
		return err
	}
	if utf8.RuneCount(s) > 4096 {
		return fieldErr(field, "must be at most 4096 characters")
	}
	u, perr := url.Parse(string(s))
	if perr != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fieldErr(field, "must be an absolute http(s) URL")
	}
	if sc := strings.ToLower(u.Scheme); sc != "http" && sc != "https" {
		return fieldErr(field, "must be an absolute http(s) URL")
	}
	return nil
}

// stringField returns the content of the JSON string v, unescaped. Without
// escapes it is a sub-slice of v (no allocation).
func stringField(field string, v []byte) ([]byte, *fieldError) {
	if k := kindOf(v[0]); k != "a string" {
		return nil, fieldErr(field, "must be a string, got "+k)
	}
	in := v[1 : len(v)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return in, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, fieldErr(field, "must be a string")
	}
	return []byte(s), nil
}

// int64Field parses the JSON number v as an int64 literal: digits only, no
// fraction, no exponent.
func int64Field(field string, v []byte) (int64, *fieldError) {
	if k := kindOf(v[0]); k != "a number" {
		return 0, fieldErr(field, "must be an integer (int64), got "+k)
	}
	if bytes.ContainsAny(v, ".eE") {
		return 0, fieldErr(field, "must be an integer (int64) without fraction or exponent")
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fieldErr(field, "out of range for int64")
	}
	return n, nil
}

func isHex64(s []byte) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func isUpperISO(s []byte) bool {
	return len(s) == 3 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z' && 'A' <= s[2] && s[2] <= 'Z'
}

// kindOf names the JSON kind of a value by its first byte, for messages.
func kindOf(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonKey renders an object key for a message, bounded so a message never
// carries a large chunk of the body.
func jsonKey(key []byte) string {
	s := string(key)
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}

// The scanner below walks JSON that json.Valid has accepted, so it can skip
// the checks a general parser makes.

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index after the string starting at b[i] == '"'.
func scanString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// scanValue returns the index after the value starting at b[i].
func scanValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return scanString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = scanString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// eachMember calls fn with each key (raw, unescaped if it had escapes) and
// raw value of the valid JSON object obj, stopping at the first error.
func eachMember(obj []byte, fn func(key, val []byte) *fieldError) *fieldError {
	i := skipWS(obj, 0) + 1 // past '{'
	for {
		i = skipWS(obj, i)
		if i >= len(obj) || obj[i] == '}' {
			return nil
		}
		ke := scanString(obj, i)
		key := obj[i+1 : ke-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var u string
			if json.Unmarshal(obj[i:ke], &u) == nil {
				key = []byte(u)
			}
		}
		i = skipWS(obj, ke) + 1 // past ':'
		i = skipWS(obj, i)
		ve := scanValue(obj, i)
		if err := fn(key, obj[i:ve]); err != nil {
			return err
		}
		i = skipWS(obj, ve)
		if i < len(obj) && obj[i] == ',' {
			i++
		}
	}
}
