package mappings

import (
	_ "embed"
	"strconv"
	"strings"
)

// iso4217List is ISO 4217 list one with each currency's minor unit; see
// the file's header for its source and publication date. It is ISO's
// table on purpose: golang.org/x/text/currency carries CLDR's display
// digits, which differ (0 for IDR, COP, IQD, RSD, where ISO says 2 or 3).
//
//go:embed iso4217.tsv
var iso4217List string

// isoExponents maps an alphabetic code to its ISO 4217 minor unit. Codes
// whose minor unit is N.A. are absent.
var isoExponents = parseISO4217(iso4217List)

func parseISO4217(s string) map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(s, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		code, unit, ok := strings.Cut(line, "\t")
		if !ok {
			panic("mappings: iso4217.tsv: malformed line " + strconv.Quote(line))
		}
		if unit == "N.A." {
			continue
		}
		e, err := strconv.Atoi(unit)
		if err != nil {
			panic("mappings: iso4217.tsv: malformed line " + strconv.Quote(line))
		}
		out[code] = e
	}
	return out
}

// ISOMinorUnit returns the ISO 4217 minor unit (the exponent of the minor
// currency unit: 2 for USD, 0 for JPY, 3 for KWD) of an upper-case
// alphabetic code, and false when ISO defines none or the code is unknown.
func ISOMinorUnit(code string) (int, bool) {
	e, ok := isoExponents[code]
	return e, ok
}

// shiftMinor writes the integer text s (an optional '-' then digits)
// divided by 10^e, exactly and keeping e decimals: ("1900", 2) -> "19.00",
// ("1900", 0) -> "1900", ("-1999", 3) -> "-1.999", ("5", 2) -> "0.05".
// Leading zeros are dropped. It reports false when s is not such an
// integer.
func shiftMinor(s string, e int) (string, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return "", false
		}
	}
	s = strings.TrimLeft(s, "0")
	if s == "" {
		neg = false // no "-0.00"
	}
	if len(s) <= e {
		s = strings.Repeat("0", e-len(s)+1) + s
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	if neg {
		b.WriteByte('-')
	}
	if e == 0 {
		b.WriteString(s)
		return b.String(), true
	}
	b.WriteString(s[:len(s)-e])
	b.WriteByte('.')
	b.WriteString(s[len(s)-e:])
	return b.String(), true
}
