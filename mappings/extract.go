package mappings

import (
	"errors"
	"strings"

	"afimport/readers"
)

// extractKind is the `extract:` option of a column field: a value pulled
// out of the column's text before the field's rules run.
type extractKind uint8

const (
	extractNone extractKind = iota
	// extractAFUserIDCookie reads the afUserId cookie, which the AppsFlyer
	// Web SDK sets, out of a raw HTTP Cookie header.
	extractAFUserIDCookie
)

var extractNames = map[string]extractKind{
	"af_user_id_cookie": extractAFUserIDCookie,
}

func (k extractKind) String() string {
	if k == extractAFUserIDCookie {
		return "af_user_id_cookie"
	}
	return ""
}

// afUserIDCookie is the name of the Web SDK's cookie. Cookie names are
// case-sensitive.
const afUserIDCookie = "afUserId"

var errCookieEscape = errors.New("the afUserId cookie's value has a malformed %-escape")

// extract applies f.extract to the column value v. It returns the
// extracted value and whether it is missing; an absent cookie or an empty
// value is missing, so optional and default apply.
func (m *Mapping) extract(f *field, v readers.Value) (readers.Value, bool, *FieldError) {
	switch v.Kind {
	case readers.KindNull:
		return v, true, nil
	case readers.KindString:
	default:
		return readers.Value{}, false, f.fail("type", errType)
	}
	raw, ok := cookieValue(v.S, afUserIDCookie)
	if !ok {
		return readers.Value{}, true, nil
	}
	s, ok := percentDecode(raw)
	if !ok {
		return readers.Value{}, false, f.fail("extract", errCookieEscape)
	}
	out := readers.String(s)
	return out, IsMissing(out), nil
}

// cookieValue returns the raw value of the first cookie called name in a
// Cookie request header ("a=1; afUserId=abc; b=2"), with one pair of
// surrounding double quotes removed, and false when there is none.
//
// It is lenient the way servers are with real headers: pairs are split on
// ';', blanks around ';' and '=' are ignored, pairs without '=' or with an
// empty name are skipped, and a leading "Cookie:" header name is allowed.
// The name matches exactly (case-sensitive, so "xafUserId" and "afuserid"
// are other cookies). The first occurrence wins, as browsers send the
// cookie with the most specific path first. RFC 6265 values cannot hold
// ';', so a quoted value is not scanned for it.
func cookieValue(header, name string) (string, bool) {
	h := strings.TrimLeft(header, " \t")
	if len(h) >= 7 && strings.EqualFold(h[:7], "cookie:") {
		h = h[7:]
	}
	for h != "" {
		var pair string
		if i := strings.IndexByte(h, ';'); i >= 0 {
			pair, h = h[:i], h[i+1:]
		} else {
			pair, h = h, ""
		}
		eq := strings.IndexByte(pair, '=')
		if eq < 0 {
			continue
		}
		if strings.Trim(pair[:eq], " \t") != name {
			continue
		}
		val := strings.Trim(pair[eq+1:], " \t")
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		return val, true
	}
	return "", false
}

// percentDecode decodes %xx escapes (URL-encoding as JavaScript's
// encodeURIComponent writes it; '+' stays '+'). It returns s itself when
// there is nothing to decode, and false for a '%' not followed by two hex
// digits.
func percentDecode(s string) (string, bool) {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
