package mappings

import (
	"encoding/json"
	"hash/maphash"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// appendNumber appends s as a JSON number, or reports false when s is not a
// finite decimal. Text that already is a JSON number is kept exactly as
// written ("123456.789012" stays so; no float64 round trip). Other decimal
// spellings are rewritten digit by digit: "+5" -> "5", "05.10" -> "5.10",
// ".5" -> "0.5", "5." -> "5", "1E+05" stays an exponent. NaN, Inf, hex,
// digit separators and values beyond float64's range ("1e400") are refused
// because the API reads event_revenue as a double.
func appendNumber(dst []byte, s string) ([]byte, bool) {
	neg, intPart, frac, exp, ok := splitDecimal(s)
	if !ok {
		return dst, false
	}
	start := len(dst)
	if isJSONNumber(s) {
		dst = append(dst, s...)
	} else {
		if neg {
			dst = append(dst, '-')
		}
		i := 0
		for i < len(intPart)-1 && intPart[i] == '0' {
			i++
		}
		if intPart == "" {
			dst = append(dst, '0')
		} else {
			dst = append(dst, intPart[i:]...)
		}
		if frac != "" {
			dst = append(dst, '.')
			dst = append(dst, frac...)
		}
		if exp != "" {
			dst = append(dst, 'e')
			dst = append(dst, exp...)
		}
	}
	// Only an exponent or more than 308 integer digits can leave float64's
	// range; skip the parse for the usual short decimal.
	if exp != "" || len(intPart) > 308 {
		if _, err := strconv.ParseFloat(string(dst[start:]), 64); err != nil {
			return dst[:start], false
		}
	}
	return dst, true
}

// splitDecimal parses [+-]digits[.digits][(e|E)[+-]digits] with at least
// one mantissa digit; exp keeps its sign.
func splitDecimal(s string) (neg bool, intPart, frac, exp string, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	intPart = s[i:j]
	if j < len(s) && s[j] == '.' {
		k := j + 1
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		frac = s[j+1 : k]
		j = k
	}
	if intPart == "" && frac == "" {
		return false, "", "", "", false
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		d := k
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k == d {
			return false, "", "", "", false
		}
		exp = s[j+1 : k]
		j = k
	}
	return neg, intPart, frac, exp, j == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isJSONNumber reports whether s follows JSON's number grammar exactly.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}

func validJSON(s string) bool {
	return s != "" && json.Valid([]byte(s))
}

// appendCompactJSON appends valid JSON without insignificant whitespace.
func appendCompactJSON(dst []byte, s string) []byte {
	inStr, esc := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// validURL reports whether s is an absolute URL with a host; httpOnly
// restricts the scheme to http and https. Whitespace and control
// characters are refused even where net/url would tolerate them.
func validURL(s string, httpOnly bool) bool {
	if len(s) > maxCachedURL {
		return checkURL(s, httpOnly)
	}
	h := maphash.String(urlSeed, s)
	i := h % uint64(len(urlCache))
	slot := &urlCache[i]
	if e := slot.Load(); e != nil && e.s == s && e.httpOnly == httpOnly {
		return e.ok
	}
	ok := checkURL(s, httpOnly)
	// A URL is cached on its second sighting: an export of distinct URLs
	// (one per row) would otherwise copy every one into the table for
	// nothing.
	if urlSeen[i].Swap(h) == h {
		slot.Store(&urlEntry{s: strings.Clone(s), httpOnly: httpOnly, ok: ok})
	}
	return ok
}

// urlCache remembers recent answers of validURL in a direct-mapped table:
// an export repeats its page URLs, and url.Parse is among the dearest
// checks of a row. An entry is immutable; a slot is replaced whole.
var (
	urlCache [1024]atomic.Pointer[urlEntry]
	urlSeen  [1024]atomic.Uint64 // the hash last seen in each slot
	urlSeed  = maphash.MakeSeed()
)

const maxCachedURL = 512

type urlEntry struct {
	s        string
	httpOnly bool
	ok       bool
}

func checkURL(s string, httpOnly bool) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	if !utf8.ValidString(s) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Scheme == "" {
		return false
	}
	if httpOnly {
		sc := strings.ToLower(u.Scheme)
		return sc == "http" || sc == "https"
	}
	return true
}

// isHex64 is the spec's ^[a-fA-F0-9]{64}$.
func isHex64[T string | []byte](s T) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !hexDigit[s[i]] {
			return false
		}
	}
	return true
}

var hexDigit = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()
