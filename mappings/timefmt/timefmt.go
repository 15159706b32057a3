// Package timefmt parses timestamps in the formats a mapping may declare and
// converts them to the Unix milliseconds the S2S API expects.
//
// A Parser is built once per mapping field with New and used for every row.
// Its errors never quote the value being parsed (rows may carry personal
// data next to the timestamp, and reports must stay free of it): they say
// which rule failed.
//
// # Formats
//
//   - "rfc3339": RFC 3339 with a mandatory offset, "2006-01-02T15:04:05Z" or
//     "...+05:30", fractional seconds of 1 to 9 digits after a '.'. As RFC 3339
//     section 5.6 allows, 't' and a space are accepted in place of 'T' and 'z'
//     in place of 'Z'. A leap second (:60) is refused: Go cannot represent it.
//     Offsets are ±HH:MM with HH at most 23.
//   - "unix_s", "unix_ms", "unix_us", "unix_ns": a non-negative decimal number
//     of that unit, optionally with a fractional part ("1712000000.123" in
//     unix_s). It is read with integer arithmetic, never float64, so no digit
//     is rounded away; fractional digits finer than a nanosecond must be
//     zeros. Signs, exponents ("1.7e9") and values outside 1970..9999 are
//     refused.
//   - "auto" (or ""): see Parse.
//   - anything else is a Go time layout ("2006-01-02 15:04:05", "02/01/2006"),
//     checked at New: it must carry a year, a month (or day of year) and a
//     day. It is parsed with time.ParseInLocation, so a layout without a zone
//     reads the wall time in the parser's location, never in time.Local.
//
// Format names are case-insensitive. Surrounding white space of the value is
// ignored for every format (for a Go layout, unless the layout itself starts
// or ends with white space).
//
// # Wall times and daylight saving time
//
// A timestamp written without an offset is a wall-clock time in the parser's
// location and is converted with time.Date's rules (time.ParseInLocation
// uses the same), which this package does not override; Go documents the
// choice as unspecified, and the tests pin what Go does today:
//
//   - In a spring-forward gap the wall time does not exist. Go reads it with
//     the offset in effect after the change, which lands an hour earlier in
//     real time: 2024-03-10 02:30 in America/New_York is read as 02:30-04:00,
//     that is 06:30Z, shown as 01:30 EST.
//   - In a fall-back overlap the wall time happens twice and Go picks the
//     first occurrence, still on daylight time: 2024-11-03 01:30 is 01:30 EDT
//     (05:30Z), not 01:30 EST (06:30Z).
//
// Neither case is an error. Exports that must be exact around these hours
// should carry an offset.
package timefmt

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Sentinel errors, for errors.Is.
var (
	// ErrFormat: New was given a format that is neither a known name nor a
	// usable Go layout.
	ErrFormat = errors.New("invalid timestamp format")
	// ErrEmpty: the value is empty or only white space.
	ErrEmpty = errors.New("empty timestamp")
	// ErrSyntax: the value does not have the declared format.
	ErrSyntax = errors.New("malformed timestamp")
	// ErrRange: the value has the format but names an impossible date or
	// time, or an instant outside the supported range.
	ErrRange = errors.New("timestamp out of range")
	// ErrAmbiguous: in auto format, an all-digit value whose digit count does
	// not tell seconds, milliseconds, microseconds and nanoseconds apart.
	ErrAmbiguous = errors.New("ambiguous unix timestamp")
)

type kind uint8

const (
	kindAuto kind = iota
	kindRFC3339
	kindUnix
	kindLayout
)

// Parser parses timestamps of one declared format. It is immutable after New
// and safe for concurrent use. The zero Parser parses the auto format in UTC.
type Parser struct {
	kind      kind
	name      string // canonical format name, or the layout
	layout    string
	nsPerUnit int64 // unix formats: nanoseconds in one unit
	trim      bool
	loc       *time.Location
}

// New returns a parser for format: "rfc3339", "unix_s", "unix_ms", "unix_us",
// "unix_ns", "auto" or "" (auto), or else a Go layout. loc is the location
// that reads timestamps written without an offset; nil means UTC. The error
// wraps ErrFormat when a layout has no year, month or day, or cannot parse
// what it formats.
func New(format string, loc *time.Location) (*Parser, error) {
	if loc == nil {
		loc = time.UTC
	}
	p := &Parser{loc: loc, trim: true}
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "", "auto":
		p.kind, p.name = kindAuto, "auto"
	case "rfc3339":
		p.kind, p.name = kindRFC3339, "rfc3339"
	case "unix_s":
		p.kind, p.name, p.nsPerUnit = kindUnix, "unix_s", int64(time.Second)
	case "unix_ms":
		p.kind, p.name, p.nsPerUnit = kindUnix, "unix_ms", int64(time.Millisecond)
	case "unix_us":
		p.kind, p.name, p.nsPerUnit = kindUnix, "unix_us", int64(time.Microsecond)
	case "unix_ns":
		p.kind, p.name, p.nsPerUnit = kindUnix, "unix_ns", 1
	default:
		if err := checkLayout(format); err != nil {
			return nil, err
		}
		p.kind, p.name, p.layout = kindLayout, format, format
		p.trim = strings.TrimSpace(format) == format
	}
	return p, nil
}

// checkLayout refuses a layout that cannot identify a calendar date. It
// formats pairs of instants that differ in exactly one field (with the same
// weekday, so "Monday" alone does not pass for a date) and requires the
// outputs to differ, then requires each output to parse back.
func checkLayout(layout string) error {
	base := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC) // a Saturday
	others := []struct {
		field string
		t     time.Time
	}{
		{"year", time.Date(2007, 2, 3, 4, 5, 6, 0, time.UTC)},  // 2007 has 2001's calendar
		{"month", time.Date(2001, 3, 3, 4, 5, 6, 0, time.UTC)}, // Feb 2001 has 28 days: same weekday
		{"day", time.Date(2001, 2, 10, 4, 5, 6, 0, time.UTC)},  // one week later
	}
	formatted := base.Format(layout)
	for _, o := range others {
		out := o.t.Format(layout)
		if out == formatted {
			return fmt.Errorf("%w: layout %q has no %s element (a layout is written with Go's reference time 2006-01-02 15:04:05)", ErrFormat, layout, o.field)
		}
		if _, err := time.ParseInLocation(layout, out, time.UTC); err != nil {
			return fmt.Errorf("%w: layout %q cannot parse its own output", ErrFormat, layout)
		}
	}
	return nil
}

// Format returns the declared format for display: a canonical name ("auto",
// "rfc3339", "unix_ms", ...) or the Go layout as given.
func (p *Parser) Format() string {
	if p == nil || p.name == "" {
		return "auto"
	}
	return p.name
}

func (p *Parser) location() *time.Location {
	if p.loc == nil {
		return time.UTC
	}
	return p.loc
}

// Parse returns the instant s denotes, expressed in the parser's location
// (only the instant comes from the value; the offset it was written with is
// not kept). It returns a time or an error, never both.
//
// In auto format the attempts are, in order:
//
//  1. RFC 3339: "2006-01-02T15:04:05[.fraction](Z|±07:00)", 't'/'z' allowed;
//  2. "2006-01-02 15:04:05[.fraction][offset]", where offset is Z, ±07:00,
//     ±0700 or ±07 (PostgreSQL's form); without an offset, a wall time in loc;
//  3. "2006-01-02T15:04:05[.fraction]" without offset: a wall time in loc;
//  4. "2006-01-02": midnight in loc;
//  5. a number of digits, optionally with a fractional part, read by the
//     digit count of its integer part: up to 10 digits is seconds, 13 is
//     milliseconds, 16 microseconds, 19 nanoseconds; any other count wraps
//     ErrAmbiguous. A compact date such as "20240102" is read as seconds:
//     declare a layout for such columns.
//
// The forms are distinguishable by shape, so at most one applies.
func (p *Parser) Parse(s string) (time.Time, error) {
	if p == nil {
		return time.Time{}, fmt.Errorf("%w: nil parser", ErrFormat)
	}
	if p.trim {
		s = strings.TrimFunc(s, unicode.IsSpace)
	}
	if s == "" {
		return time.Time{}, ErrEmpty
	}
	switch p.kind {
	case kindRFC3339:
		return parseISO(s, false, p.location())
	case kindUnix:
		return parseUnix(s, p.nsPerUnit, p.location())
	case kindLayout:
		return p.parseLayout(s)
	default:
		return parseAuto(s, p.location())
	}
}

func parseAuto(s string, loc *time.Location) (time.Time, error) {
	if len(s) >= 10 && s[4] == '-' {
		return parseISO(s, true, loc)
	}
	intDigits, ok := numberShape(s)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: not a date, date-time or unix timestamp", ErrSyntax)
	}
	var ns int64
	switch {
	case intDigits <= 10:
		ns = int64(time.Second)
	case intDigits == 13:
		ns = int64(time.Millisecond)
	case intDigits == 16:
		ns = int64(time.Microsecond)
	case intDigits == 19:
		ns = 1
	default:
		return time.Time{}, fmt.Errorf("%w: %d digits is none of seconds (up to 10), ms (13), µs (16) or ns (19)", ErrAmbiguous, intDigits)
	}
	return parseUnix(s, ns, loc)
}

// numberShape reports whether s is digits with an optional '.' and digits,
// and how many digits precede the point.
func numberShape(s string) (intDigits int, ok bool) {
	dot := strings.IndexByte(s, '.')
	intPart, frac := s, ""
	if dot >= 0 {
		intPart, frac = s[:dot], s[dot+1:]
		if frac == "" {
			return 0, false
		}
	}
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) {
		return 0, false
	}
	return len(intPart), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maxUnixSec is 9999-12-31T23:59:59Z, the last second the API can receive
// (see ToUnixMilli).
const maxUnixSec = 253402300799

// parseUnix reads a non-negative decimal number of units of nsPerUnit
// nanoseconds. Integer and fraction are kept apart so that no arithmetic
// overflows: the integer part is at most 19 significant digits (< 2^64) and
// is split into seconds and a sub-second remainder before scaling.
func parseUnix(s string, nsPerUnit int64, loc *time.Location) (time.Time, error) {
	if s[0] == '-' {
		return time.Time{}, fmt.Errorf("%w: negative unix timestamp (before 1970)", ErrRange)
	}
	intPart, frac := s, ""
	if dot := strings.IndexByte(s, '.'); dot >= 0 {
		intPart, frac = s[:dot], s[dot+1:]
		if frac == "" {
			return time.Time{}, fmt.Errorf("%w: no digits after the decimal point", ErrSyntax)
		}
	}
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) {
		return time.Time{}, fmt.Errorf("%w: want a non-negative decimal number without sign or exponent", ErrSyntax)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 19 {
		return time.Time{}, fmt.Errorf("%w: unix timestamp after year 9999", ErrRange)
	}
	var v uint64
	for i := 0; i < len(intPart); i++ {
		v = v*10 + uint64(intPart[i]-'0') // 19 digits cannot overflow uint64
	}
	unitsPerSec := uint64(int64(time.Second) / nsPerUnit)
	sec := v / unitsPerSec
	if sec > maxUnixSec {
		return time.Time{}, fmt.Errorf("%w: unix timestamp after year 9999", ErrRange)
	}
	nsec := int64(v%unitsPerSec) * nsPerUnit

	// The fraction is in units of the declared unit; fracDigits of them
	// reach the nanosecond (9 for seconds, 6 for ms, 3 for µs, 0 for ns).
	fracDigits := 0
	for n := nsPerUnit; n > 1; n /= 10 {
		fracDigits++
	}
	if len(frac) > fracDigits {
		if strings.Trim(frac[fracDigits:], "0") != "" {
			return time.Time{}, fmt.Errorf("%w: fractional part finer than a nanosecond", ErrSyntax)
		}
		frac = frac[:fracDigits]
	}
	var f int64
	for i := 0; i < fracDigits; i++ {
		f *= 10
		if i < len(frac) {
			f += int64(frac[i] - '0')
		}
	}
	nsec += f
	return time.Unix(int64(sec), nsec).In(loc), nil
}

// parseISO reads the RFC 3339 family described on Parse. With lenient false
// it accepts exactly the "rfc3339" format (offset required, ±HH:MM only);
// with lenient true, the auto forms 1 to 4.
func parseISO(s string, lenient bool, loc *time.Location) (time.Time, error) {
	bad := func(what string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("%w: %s (want %s)", ErrSyntax, what, isoShape(lenient))
	}
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return bad("no YYYY-MM-DD date")
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return bad("no YYYY-MM-DD date")
	}
	if month < 1 || month > 12 {
		return time.Time{}, fmt.Errorf("%w: month not in 01..12", ErrRange)
	}
	if day < 1 || day > daysIn(month, year) {
		return time.Time{}, fmt.Errorf("%w: day does not exist in that month", ErrRange)
	}
	if len(s) == 10 {
		if !lenient {
			return bad("date without time")
		}
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, loc), nil
	}
	if c := s[10]; c != 'T' && c != 't' && c != ' ' {
		return bad("no 'T' between date and time")
	}
	if len(s) < 19 || s[13] != ':' || s[16] != ':' {
		return bad("no hh:mm:ss time")
	}
	hour, ok1 := digits(s[11:13])
	minute, ok2 := digits(s[14:16])
	second, ok3 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 {
		return bad("no hh:mm:ss time")
	}
	if hour > 23 || minute > 59 || second > 59 {
		if second == 60 {
			return time.Time{}, fmt.Errorf("%w: leap seconds are not supported", ErrRange)
		}
		return time.Time{}, fmt.Errorf("%w: time of day not in 00:00:00..23:59:59", ErrRange)
	}
	rest := s[19:]
	nsec := 0
	if rest != "" && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return bad("fractional seconds need 1 to 9 digits")
		}
		for i := 1; i < 10; i++ {
			nsec *= 10
			if i < n {
				nsec += int(rest[i] - '0')
			}
		}
		rest = rest[n:]
	}

	if rest == "" {
		if !lenient {
			return bad("no UTC offset")
		}
		return time.Date(year, time.Month(month), day, hour, minute, second, nsec, loc), nil
	}
	offset, err := parseOffset(rest, lenient)
	if err != nil {
		return time.Time{}, err
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second).In(loc), nil
}

func isoShape(lenient bool) string {
	if lenient {
		return "YYYY-MM-DD, or YYYY-MM-DD[T ]hh:mm:ss[.fraction][Z|±hh:mm|±hhmm|±hh], or a unix timestamp"
	}
	return "YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)"
}

// parseOffset reads a UTC offset and returns it in seconds east of UTC.
func parseOffset(s string, lenient bool) (int, error) {
	if s == "Z" || s == "z" {
		return 0, nil
	}
	if s[0] != '+' && s[0] != '-' {
		return 0, badOffset(lenient)
	}
	var hh, mm string
	switch {
	case len(s) == 6 && s[3] == ':':
		hh, mm = s[1:3], s[4:6]
	case lenient && len(s) == 5:
		hh, mm = s[1:3], s[3:5]
	case lenient && len(s) == 3:
		hh, mm = s[1:3], "00"
	default:
		return 0, badOffset(lenient)
	}
	h, ok1 := digits(hh)
	m, ok2 := digits(mm)
	if !ok1 || !ok2 {
		return 0, badOffset(lenient)
	}
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("%w: UTC offset beyond ±23:59", ErrRange)
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off, nil
}

func badOffset(lenient bool) error {
	if lenient {
		return fmt.Errorf("%w: UTC offset is not Z, ±hh:mm, ±hhmm or ±hh", ErrSyntax)
	}
	return fmt.Errorf("%w: UTC offset is not Z or ±hh:mm", ErrSyntax)
}

// digits parses a short all-digit string.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	default:
		return 31
	}
}

// parseLayout parses with the Go layout and rewrites time's errors, which
// quote the value, into ones that name only the layout element that failed.
func (p *Parser) parseLayout(s string) (time.Time, error) {
	t, err := time.ParseInLocation(p.layout, s, p.location())
	if err == nil {
		return t.In(p.location()), nil
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		switch {
		case strings.Contains(pe.Message, "out of range"), strings.Contains(pe.Message, "does not match"):
			return time.Time{}, fmt.Errorf("%w: %s (layout %q)", ErrRange, strings.TrimPrefix(pe.Message, ": "), p.layout)
		case strings.HasPrefix(pe.Message, ": extra text"):
			return time.Time{}, fmt.Errorf("%w: text after the timestamp (layout %q)", ErrSyntax, p.layout)
		case pe.LayoutElem != "":
			return time.Time{}, fmt.Errorf("%w: does not match layout %q at element %q", ErrSyntax, p.layout, pe.LayoutElem)
		}
	}
	return time.Time{}, fmt.Errorf("%w: does not match layout %q", ErrSyntax, p.layout)
}

// minInstant and endInstant bound what the S2S timestamp field can carry: the
// API takes Unix milliseconds and the rest of the pipeline formats dates
// with four-digit years.
var (
	minInstant = time.Unix(0, 0)
	endInstant = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// ToUnixMilli returns t as Unix milliseconds (sub-millisecond digits are
// truncated, so the largest result is 9999-12-31T23:59:59.999Z). It refuses,
// with an error wrapping ErrRange, an instant before 1970-01-01T00:00:00Z or
// at or after 10000-01-01T00:00:00Z: year 0, the zero time.Time and year
// 10000 are errors, whatever t's location.
func ToUnixMilli(t time.Time) (int64, error) {
	if t.Before(minInstant) {
		return 0, fmt.Errorf("%w: before 1970-01-01T00:00:00Z", ErrRange)
	}
	if !t.Before(endInstant) {
		return 0, fmt.Errorf("%w: after 9999-12-31T23:59:59.999Z", ErrRange)
	}
	return t.UnixMilli(), nil
}
