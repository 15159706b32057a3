// Package pii normalizes personal data the way AppsFlyer's S2S API expects
// before hashing, and hashes it with SHA-256.
//
// The API asks for "lowercase, trimmed" text hashed with SHA-256 and sent as
// 64 hex digits. Two rows that a person would call the same value must hash
// the same, so every normalizer here also applies Unicode NFC: "José" typed
// on a Mac (NFD, e + combining acute) and on Windows (NFC, é) give one hash.
//
// Every function is pure and safe for concurrent use. No error returned by
// this package contains the input value, because the input is personal data
// and errors end up in reports and logs: errors say what is wrong, never
// what was given.
package pii

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
)

// Sentinel errors, for errors.Is. Errors from Email wrap ErrNotEmail, errors
// from Phone and PhoneE164 wrap ErrNotPhone or ErrRegion. ErrEmpty and
// ErrInvalidUTF8 are wrapped in addition to the function's own sentinel, so
// a caller can tell a missing value from a malformed one.
var (
	ErrNotEmail    = errors.New("not an email address")
	ErrNotPhone    = errors.New("not a valid phone number")
	ErrRegion      = errors.New("unknown region")
	ErrEmpty       = errors.New("empty value")
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
)

const (
	maxEmailLen = 254 // RFC 5321 path limit minus the angle brackets, in octets
	maxLocalLen = 64  // RFC 5321 local-part limit, in octets
	maxLabelLen = 63  // RFC 1035 label limit, in octets
	// maxPhoneLen bounds the work done on a phone field. E.164 numbers have
	// at most 15 digits; 64 leaves room for punctuation and an extension.
	maxPhoneLen = 64
	// maxE164Digits is E.164's limit on a whole number, country code
	// included (ITU-T E.164 section 6.1).
	maxE164Digits = 15
)

// isTrimmed reports whether r is removed from both ends of a value: Unicode
// white space (including NBSP and the ideographic space) plus the invisible
// zero-width space and byte-order mark that spreadsheets and CRMs leave behind.
func isTrimmed(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
}

// normalizeText trims, applies NFC, lowercases, and applies NFC again.
// The second NFC is needed because lowercasing can turn a composed form into
// a sequence that NFC composes differently; without it the result would not
// be a fixed point and normalizing twice could change a hash.
func normalizeText(s string) string {
	if isASCII(s) {
		// NFC leaves ASCII as it is and the only trimmed ASCII runes are
		// white space: the same result for far less work.
		return strings.ToLower(strings.TrimFunc(s, isASCIISpace))
	}
	s = strings.TrimFunc(s, isTrimmed)
	s = norm.NFC.String(s)
	s = strings.ToLower(s)
	return norm.NFC.String(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isASCIISpace is unicode.IsSpace for ASCII.
func isASCIISpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ':
		return true
	}
	return false
}

// localClass sorts ASCII bytes for checkLocal: 0 allowed, else the rule
// they break, in checkLocal's order (white space before control).
var localClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range utf8.RuneSelf {
		switch {
		case isASCIISpace(rune(c)):
			t[c] = 1
		case c < 0x20 || c == 0x7f:
			t[c] = 2
		case strings.ContainsRune(`(),:;<>[]\"`, rune(c)):
			t[c] = 3
		}
	}
	return t
}()

// Email returns the normalized form of an email address: surrounding Unicode
// white space removed, NFC, lowercase. Plus-addressing ("a+tag@x.com") and
// dots in the local part are kept as they are, because the API normalizes
// only case and white space and a provider-specific rewrite would produce
// hashes the other side never computes.
//
// Email refuses, with an error wrapping ErrNotEmail, a value that is not an
// address: invalid UTF-8 (also ErrInvalidUTF8), empty after trimming (also
// ErrEmpty), not exactly one '@', an empty local part or one longer than 64
// octets, a local part containing white space, control or format characters
// or one of ( ) , : ; < > [ ] \ " (quoted local parts are not supported), a
// domain without a dot, an empty label, a label longer than 63 octets or
// starting or ending with '-', a label with characters other than letters,
// marks, digits and '-' (Unicode letters are accepted for IDN domains), a
// top-level label shorter than two characters or made only of digits (this
// also refuses IP addresses), or more than 254 octets in total.
func Email(raw string) (string, error) {
	if !utf8.ValidString(raw) {
		return "", fmt.Errorf("%w: %w", ErrNotEmail, ErrInvalidUTF8)
	}
	s := normalizeText(raw)
	if s == "" {
		return "", fmt.Errorf("%w: %w", ErrNotEmail, ErrEmpty)
	}
	if len(s) > maxEmailLen {
		return "", fmt.Errorf("%w: longer than %d octets", ErrNotEmail, maxEmailLen)
	}
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return "", fmt.Errorf("%w: no '@'", ErrNotEmail)
	}
	if strings.IndexByte(s[at+1:], '@') >= 0 {
		return "", fmt.Errorf("%w: more than one '@'", ErrNotEmail)
	}
	if err := checkLocal(s[:at]); err != nil {
		return "", err
	}
	if err := checkDomain(s[at+1:]); err != nil {
		return "", err
	}
	return s, nil
}

func checkLocal(local string) error {
	if local == "" {
		return fmt.Errorf("%w: empty local part", ErrNotEmail)
	}
	if len(local) > maxLocalLen {
		return fmt.Errorf("%w: local part longer than %d octets", ErrNotEmail, maxLocalLen)
	}
	for _, r := range local {
		if r < utf8.RuneSelf {
			switch localClass[r] {
			case 0:
				continue
			case 1:
				return fmt.Errorf("%w: white space in local part", ErrNotEmail)
			case 2:
				return fmt.Errorf("%w: control character in local part", ErrNotEmail)
			default:
				return fmt.Errorf("%w: character not allowed in an unquoted local part", ErrNotEmail)
			}
		}
		switch {
		case unicode.IsSpace(r) || unicode.Is(unicode.Zs, r):
			return fmt.Errorf("%w: white space in local part", ErrNotEmail)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return fmt.Errorf("%w: control character in local part", ErrNotEmail)
		case strings.ContainsRune(`(),:;<>[]\"`, r):
			return fmt.Errorf("%w: character not allowed in an unquoted local part", ErrNotEmail)
		}
	}
	return nil
}

func checkDomain(domain string) error {
	if domain == "" {
		return fmt.Errorf("%w: empty domain", ErrNotEmail)
	}
	if strings.IndexByte(domain, '.') < 0 {
		return fmt.Errorf("%w: domain has no dot", ErrNotEmail)
	}
	var last string
	for label := range strings.SplitSeq(domain, ".") {
		if err := checkLabel(label); err != nil {
			return err
		}
		last = label
	}
	if utf8.RuneCountInString(last) < 2 {
		return fmt.Errorf("%w: top-level domain shorter than two characters", ErrNotEmail)
	}
	allDigits := true
	for _, r := range last {
		if !unicode.IsDigit(r) {
			allDigits = false
			break
		}
	}
	if allDigits {
		return fmt.Errorf("%w: numeric top-level domain", ErrNotEmail)
	}
	return nil
}

// checkLabel validates one domain label. For a Unicode label the 63-octet
// limit is checked on its UTF-8 form: the real limit applies to the Punycode
// (xn--) form, which this package does not compute, and UTF-8 is never
// shorter than that for the scripts seen in practice, so this errs on the
// side of refusing only what cannot be a domain label.
func checkLabel(label string) error {
	if label == "" {
		return fmt.Errorf("%w: empty domain label", ErrNotEmail)
	}
	if len(label) > maxLabelLen {
		return fmt.Errorf("%w: domain label longer than %d octets", ErrNotEmail, maxLabelLen)
	}
	if label[0] == '-' || label[len(label)-1] == '-' {
		return fmt.Errorf("%w: domain label starts or ends with '-'", ErrNotEmail)
	}
	for _, r := range label {
		if r == '-' || r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			continue
		}
		// Upper-case ASCII cannot reach here (the value is lowercased); other
		// ASCII punctuation, spaces and controls are refused.
		if r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)) {
			continue
		}
		return fmt.Errorf("%w: character not allowed in a domain", ErrNotEmail)
	}
	return nil
}

// Name returns the normalized form of a first or last name: surrounding
// Unicode white space removed, NFC, lowercase (Unicode-aware, so "ÉLODIE"
// becomes "élodie"). Inner spaces, hyphens and apostrophes are kept: the API
// asks only for lowercase and trim. Invalid UTF-8 returns an error wrapping
// ErrInvalidUTF8; a value that is empty after trimming returns ErrEmpty.
func Name(raw string) (string, error) {
	if !utf8.ValidString(raw) {
		return "", ErrInvalidUTF8
	}
	s := normalizeText(raw)
	if s == "" {
		return "", ErrEmpty
	}
	return s, nil
}

// Phone returns the number as the API's phone_number field wants it: the
// digits of its E.164 form without the '+', that is country code followed by
// the national significant number, without trunk prefix or leading zeros:
// Phone("(650) 555-1212", "US") == "16505551212". See PhoneE164 for how the
// number is read and which values are refused.
func Phone(raw, region string) (string, error) {
	e164, err := PhoneE164(raw, region)
	if err != nil {
		return "", err
	}
	return e164[1:], nil
}

// PhoneE164 returns the number in E.164 form ("+16505551212").
//
// region is the ISO 3166-1 alpha-2 code (any case) used to read a number
// written in national form; a code the phone-number library does not know
// returns ErrRegion. A number written in international form ("+44 20 ...",
// or "0044 20 ..." with the 00 international prefix) is read as such whatever
// the region. With region "" a number not starting with '+' or "00" is read
// as international digits without the '+' ("16505551212" is +1 650 555 1212),
// which is also what makes the output of Phone read back to itself.
//
// The number must be valid for the region its country code belongs to
// (phonenumbers.IsValidNumber: right length and a range in use) and have at
// most the 15 digits E.164 allows, otherwise the error wraps ErrNotPhone. An extension ("ext. 12", "x12") is dropped:
// E.164 has no extensions and the line itself identifies the person.
// Invalid UTF-8 and empty values also wrap ErrInvalidUTF8 and ErrEmpty.
func PhoneE164(raw, region string) (string, error) {
	if e164, err, ok := phoneE164Fast(raw, region); ok {
		return e164, err
	}
	if len(raw) > maxPhoneLen*2 {
		return phoneE164(raw, region)
	}
	k := phoneKey{raw, region}
	phoneCache.mu.Lock()
	r, ok := phoneCache.m[k]
	phoneCache.mu.Unlock()
	if ok {
		return r.e164, r.err
	}
	e164, err := phoneE164(raw, region)
	k.raw, k.region = strings.Clone(raw), strings.Clone(region)
	phoneCache.mu.Lock()
	if len(phoneCache.m) >= phoneCacheSize {
		clear(phoneCache.m) // crude, but bounded and rarely hit
	}
	phoneCache.m[k] = phoneResult{e164, err}
	phoneCache.mu.Unlock()
	return e164, err
}

// phoneCache remembers recent answers of the library for the values the
// fast path leaves to it: parsing a number costs the library tens of
// microseconds, and exports repeat numbers (one customer, many renewals).
// The fast path answers in less time than a cache takes, so it has none.
// The answer is a pure function of (raw, region); errors are fixed texts
// that never hold the value, so sharing them is safe.
var phoneCache = struct {
	mu sync.Mutex
	m  map[phoneKey]phoneResult
}{m: make(map[phoneKey]phoneResult)}

const phoneCacheSize = 4096

type phoneKey struct{ raw, region string }

type phoneResult struct {
	e164 string
	err  error
}

// phoneInput checks and trims a phone value and its region, the part of
// PhoneE164 before the number is read.
func phoneInput(raw, region string) (s, reg string, err error) {
	if !utf8.ValidString(raw) {
		return "", "", fmt.Errorf("%w: %w", ErrNotPhone, ErrInvalidUTF8)
	}
	s = strings.TrimFunc(raw, isTrimmed)
	if s == "" {
		return "", "", fmt.Errorf("%w: %w", ErrNotPhone, ErrEmpty)
	}
	region = strings.ToUpper(strings.TrimSpace(region))
	if region != "" && !phonenumbers.GetSupportedRegions()[region] {
		return "", "", fmt.Errorf("%w: want an ISO 3166-1 alpha-2 code the phone library knows, such as US", ErrRegion)
	}
	if len(s) > maxPhoneLen {
		return "", "", fmt.Errorf("%w: longer than %d bytes", ErrNotPhone, maxPhoneLen)
	}
	return s, region, nil
}

// phoneE164Fast is PhoneE164 by the fast path; ok false: the value is left
// to the library.
func phoneE164Fast(raw, region string) (e164 string, err error, ok bool) {
	s, region, err := phoneInput(raw, region)
	if err != nil {
		return "", err, true
	}
	defer func() {
		if recover() != nil { // a bug, never an answer: the library decides
			e164, err, ok = "", nil, false
		}
	}()
	return readPhone(s, region, true)
}

// phoneE164 is PhoneE164 by the library, without the cache.
func phoneE164(raw, region string) (e164 string, err error) {
	s, region, err := phoneInput(raw, region)
	if err != nil {
		return "", err
	}
	// The library is a port of a large Java code base; a panic on some odd
	// input must become a row error, not a crashed import.
	defer func() {
		if recover() != nil {
			e164, err = "", fmt.Errorf("%w: unparseable", ErrNotPhone)
		}
	}()
	e164, err, _ = readPhone(s, region, false)
	return e164, err
}

// libraryPhone is Parse followed by IsValidNumber and Format(E164): the
// library's reading of a number, which the fast path must equal.
func libraryPhone(s, region string) (e164 string, valid bool, err error, ok bool) {
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", false, err, true
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", false, nil, true
	}
	return phonenumbers.Format(num, phonenumbers.E164), true, nil, true
}

// fastPhone is libraryPhone by the fast path (phonefast.go), using buf for
// the digits. ok false: the fast path does not cover this value.
func fastPhone(s, region string, buf []byte) (e164 string, valid bool, err error, ok bool) {
	n, err, ok := fastParse(s, region, buf)
	if !ok || err != nil {
		return "", false, err, ok
	}
	valid, ok = fastValid(n)
	if !ok || !valid {
		return "", false, nil, ok
	}
	var e [1 + 3 + maxNSN]byte
	return string(append(strconv.AppendInt(append(e[:0], '+'), int64(n.cc), 10), n.nsn...)), true, nil, true
}

// readPhone applies PhoneE164's rules around the reading of a trimmed value
// s in a known or empty region, by the fast path or by the library. ok
// false: the fast path does not cover this value.
func readPhone(s, region string, fast bool) (e164 string, err error, ok bool) {
	var buf [maxPhoneLen]byte
	read := func(s string) (string, bool, error, bool) {
		if fast {
			return fastPhone(s, region, buf[:])
		}
		return libraryPhone(s, region)
	}
	intl := ""
	switch {
	case strings.HasPrefix(s, "00"):
		// "00" is the international prefix in most of the world but not in
		// NANP countries (011) or with region "" (no IDD known), so read it
		// as '+' ourselves when the library alone would not.
		intl = "+" + s[2:]
	case region == "" && s[0] >= '0' && s[0] <= '9':
		intl = "+" + s
	}
	if region == "" && intl != "" {
		s, intl = intl, ""
	}
	e164, valid, perr, ok := read(s)
	if !ok {
		return "", nil, false
	}
	if (perr != nil || !valid) && intl != "" {
		if e164, valid, perr, ok = read(intl); !ok {
			return "", nil, false
		}
	}
	if perr != nil {
		// The library's errors are fixed strings that never quote the input.
		return "", fmt.Errorf("%w: %v", ErrNotPhone, perr), true
	}
	if !valid {
		return "", fmt.Errorf("%w: not a number in use for its country code", ErrNotPhone), true
	}
	// The library's metadata admits some national numbers that are longer
	// than E.164 allows once the country code is added (German numbers of
	// 14 digits: +49 and 14 digits is 16). Such a value is not E.164, and
	// the API's phone fields refuse it.
	if len(e164)-1 > maxE164Digits {
		return "", fmt.Errorf("%w: more than the %d digits of an E.164 number", ErrNotPhone, maxE164Digits), true
	}
	return e164, nil, true
}

// SHA256Hex returns the lowercase hex SHA-256 of s, 64 characters.
func SHA256Hex(s string) string {
	var buf [sha256.Size * 2]byte
	return string(AppendSHA256Hex(buf[:0], s))
}

const hexDigits = "0123456789abcdef"

// AppendSHA256Hex appends the lowercase hex SHA-256 of s to dst and returns
// the extended slice. It does not allocate when dst has 64 bytes of spare
// capacity, which is what the per-row hot path relies on.
func AppendSHA256Hex(dst []byte, s string) []byte {
	// Viewing the string's bytes without a copy is safe: Sum256 only reads
	// them, and the copy []byte(s) would be the one allocation of this call.
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(s), len(s)))
	for _, b := range sum {
		dst = append(dst, hexDigits[b>>4], hexDigits[b&0x0f])
	}
	return dst
}

// IsSHA256Hex reports whether s is exactly 64 hex digits in either case, the
// API's ^[a-fA-F0-9]{64}$: a value that is already hashed passes through.
func IsSHA256Hex(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
