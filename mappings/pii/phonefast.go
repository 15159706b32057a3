package pii

import (
	"bytes"
	"regexp"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// The phone fast path.
//
// phonenumbers.Parse and IsValidNumber cost tens of microseconds per number,
// nearly all of it in Go's regexp running the library's metadata patterns
// (and building the keys of the library's regexp cache). The fast path below
// is the same algorithm, step by step in the library's order
// (parseHelper, maybeExtractCountryCode, maybeStripNationalPrefixAndCarrierCode,
// testNumberLength, GetRegionCodeForNumber, getNumberTypeHelper), for the
// shapes real exports hold: ASCII digits with spaces, dashes, dots and
// parentheses, and at most one '+' before the first digit. Each pattern
// question the library asks is answered by a digitDFA compiled, on first use
// of a region, from the pattern text in the library's own metadata
// (phonenumbers.MetadataCollection), so upgrading the library re-derives
// everything and no table is typed here.
//
// A DFA answers exactly what the library's regexps answer where the answer
// is a property of the pattern's language: a full match, or whether some
// prefix matches. Where the library uses where a match ends (the
// international and national prefixes) the DFA is used only when a single
// prefix length matches, so that the end is the same whatever the engine
// prefers; otherwise the national prefix is stripped with the library's own
// regexp and code, and an ambiguous international prefix is left to the
// library. Everything else (letters, extensions, RFC 3966, other Unicode,
// a '+' not in front, two digits or fewer, unknown country codes behind a
// '+', regions whose metadata lacks a description) is answered by the
// library: the fast path says so and PhoneE164 takes the slow path.
// TestPhoneFastPathMatchesLibrary and FuzzPhoneFastPath hold it to that.

// fastRegion is one PhoneMetadata (a region, or a non-geographical entity)
// with its patterns compiled.
type fastRegion struct {
	cc          int
	ccDigits    string
	idd         *digitDFA
	npfp        *digitDFA      // nil: no national prefix for parsing
	npfpRe      *regexp.Regexp // the library's own "^(?:npfp)", for ambiguous or transformed prefixes
	transform   string
	general     descMatcher
	types       []descMatcher // premium rate to fixed line, the library's order (only "any of them" matters)
	mobile      descMatcher
	sameMobile  bool
	leading     *digitDFA          // nil: no leading digits
	all         *productDFA        // general, types, mobile in one walk (nil: too big, walk each)
	allLengths  [maxNSN + 1]uint16 // bit i: the i-th of general, types, mobile allows the length
	lengths     []int32            // general desc possible lengths
	localLength []int32            // general desc local-only lengths
}

// descMatcher is isNumberMatchingDesc for one PhoneNumberDesc.
type descMatcher struct {
	anyLength bool   // no possible lengths listed
	lengths   uint64 // bit n: length n is possible
	pattern   *digitDFA
}

func (m *descMatcher) match(nsn []byte) bool {
	if !m.anyLength && (len(nsn) >= 64 || m.lengths&(1<<len(nsn)) == 0) {
		return false
	}
	return m.pattern.matches(nsn)
}

func newDescMatcher(d *phonenumbers.PhoneNumberDesc) (descMatcher, bool) {
	if d == nil {
		return descMatcher{}, false // the library dereferences it: leave it the panic
	}
	p, err := sharedDigitDFA(d.GetNationalNumberPattern())
	if err != nil {
		return descMatcher{}, false
	}
	m := descMatcher{anyLength: len(d.PossibleLength) == 0, pattern: p}
	for _, l := range d.PossibleLength {
		if l >= 0 && l < 64 {
			m.lengths |= 1 << l
		}
	}
	return m, true
}

// digitDFAs holds the automata built so far by pattern text: regions and
// number types share many patterns (fewer than half of the metadata's
// patterns are distinct), and an automaton is never changed once built.
var digitDFAs = struct {
	mu sync.Mutex
	m  map[string]*digitDFA
}{m: map[string]*digitDFA{}}

func sharedDigitDFA(pattern string) (*digitDFA, error) {
	digitDFAs.mu.Lock()
	d, ok := digitDFAs.m[pattern]
	digitDFAs.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := compileDigitDFA(pattern)
	if err != nil {
		return nil, err
	}
	digitDFAs.mu.Lock()
	digitDFAs.m[pattern] = d
	digitDFAs.mu.Unlock()
	return d, nil
}

// lazyRegion builds its fastRegion on first use; r is nil when the metadata
// holds something the fast path does not model.
type lazyRegion struct {
	once   sync.Once
	md     *phonenumbers.PhoneMetadata
	nonGeo bool // region code "001"
	r      *fastRegion
}

func (l *lazyRegion) get() *fastRegion {
	if l == nil {
		return nil
	}
	l.once.Do(func() { l.r = buildFastRegion(l.md) })
	return l.r
}

func buildFastRegion(md *phonenumbers.PhoneMetadata) *fastRegion {
	r := &fastRegion{
		cc:         int(md.GetCountryCode()),
		transform:  md.GetNationalPrefixTransformRule(),
		sameMobile: md.GetSameMobileAndFixedLinePattern(),
	}
	r.ccDigits = strconv.Itoa(r.cc)
	var err error
	if r.idd, err = sharedDigitDFA(md.GetInternationalPrefix()); err != nil {
		return nil
	}
	if p := md.GetNationalPrefixForParsing(); p != "" {
		if r.npfp, err = sharedDigitDFA(p); err != nil {
			return nil
		}
		if r.npfpRe, err = regexp.Compile("^(?:" + p + ")"); err != nil {
			return nil
		}
	}
	if ld := md.GetLeadingDigits(); ld != "" {
		if r.leading, err = sharedDigitDFA(ld); err != nil {
			return nil
		}
	}
	gen := md.GetGeneralDesc()
	if gen == nil || len(gen.PossibleLength) == 0 {
		return nil
	}
	r.lengths, r.localLength = gen.PossibleLength, gen.PossibleLengthLocalOnly
	var ok bool
	if r.general, ok = newDescMatcher(gen); !ok {
		return nil
	}
	for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(),
		md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetFixedLine()} {
		m, ok := newDescMatcher(d)
		if !ok {
			return nil
		}
		r.types = append(r.types, m)
	}
	if r.mobile, ok = newDescMatcher(md.GetMobile()); !ok {
		return nil
	}
	descs := append(append([]descMatcher{r.general}, r.types...), r.mobile)
	dfas := make([]*digitDFA, len(descs))
	for i, m := range descs {
		dfas[i] = m.pattern
		for l := range r.allLengths {
			if m.anyLength || m.lengths&(1<<l) != 0 {
				r.allLengths[l] |= 1 << i
			}
		}
	}
	if r.all, err = newProductDFA(dfas); err != nil {
		r.all = nil
	}
	return r
}

// validType is getNumberTypeHelper(nsn) != UNKNOWN.
func (r *fastRegion) validType(nsn []byte) bool {
	if r.all != nil && len(nsn) <= maxNSN {
		m := r.all.matches(nsn) & r.allLengths[len(nsn)]
		mobile := uint16(1) << (1 + len(r.types))
		return m&1 != 0 && (m&^(1|mobile) != 0 || !r.sameMobile && m&mobile != 0)
	}
	if !r.general.match(nsn) {
		return false
	}
	for i := range r.types {
		if r.types[i].match(nsn) {
			return true
		}
	}
	return !r.sameMobile && r.mobile.match(nsn)
}

// lengthResult is testNumberLength(number, metadata, UNKNOWN).
func (r *fastRegion) lengthResult(n int) phonenumbers.ValidationResult {
	pl := r.lengths
	if pl[0] == -1 {
		return phonenumbers.INVALID_LENGTH
	}
	l := int32(n)
	for _, x := range r.localLength {
		if x == l {
			return phonenumbers.IS_POSSIBLE_LOCAL_ONLY
		}
	}
	switch {
	case pl[0] == l:
		return phonenumbers.IS_POSSIBLE
	case pl[0] > l:
		return phonenumbers.TOO_SHORT
	case pl[len(pl)-1] < l:
		return phonenumbers.TOO_LONG
	}
	for _, x := range pl[1:] {
		if x == l {
			return phonenumbers.IS_POSSIBLE
		}
	}
	return phonenumbers.INVALID_LENGTH
}

// stripNationalPrefix is maybeStripNationalPrefixAndCarrierCode without the
// carrier code. ok is false when the answer needs the library.
func (r *fastRegion) stripNationalPrefix(number []byte) (out []byte, ok bool) {
	if len(number) == 0 || r.npfp == nil {
		return number, true
	}
	count, end := r.npfp.prefixes(number)
	if count == 0 {
		return number, true // the prefix pattern does not match
	}
	viableOriginal := r.general.pattern.matches(number)
	if count == 1 && r.transform == "" {
		if viableOriginal && !r.general.pattern.matches(number[end:]) {
			return number, true
		}
		return number[end:], true
	}
	// The library's code, on the library's own pattern (on a copy: regexp
	// keeps its input reachable, which would put every caller's buffer on
	// the heap).
	cp := bytes.Clone(number)
	groups := r.npfpRe.FindSubmatchIndex(cp)
	if groups == nil {
		return nil, false // cannot happen: the DFA said it matches
	}
	numOfGroups := len(groups)/2 - 1
	if r.transform == "" || groups[numOfGroups*2] < 0 {
		if viableOriginal && !r.general.pattern.matches(cp[groups[1]:]) {
			return number, true
		}
		return cp[groups[1]:], true
	}
	transformed := []byte(r.npfpRe.ReplaceAllString(string(cp), r.transform))
	if !isDigits(transformed) {
		return nil, false
	}
	if viableOriginal && !r.general.pattern.matches(transformed) {
		return number, true
	}
	return transformed, true
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// callingCode is one country calling code: its regions in the library's
// order (the first is the main one), or its non-geographical entity.
type callingCode struct {
	regions []*lazyRegion
}

type phoneTables struct {
	regions map[string]*lazyRegion
	codes   [1000]*callingCode
}

// phoneIndex maps region codes and calling codes to lazily built regions;
// built once, on the first number, from the library's metadata.
var phoneIndex = sync.OnceValue(func() *phoneTables {
	x := &phoneTables{regions: map[string]*lazyRegion{}}
	nonGeo := map[int]*lazyRegion{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return x // no fast path: everything goes to the library
	}
	for _, md := range coll.GetMetadata() {
		if md.GetId() == "001" {
			nonGeo[int(md.GetCountryCode())] = &lazyRegion{md: md, nonGeo: true}
		} else {
			x.regions[md.GetId()] = &lazyRegion{md: md}
		}
	}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		if cc <= 0 || cc >= len(x.codes) {
			continue
		}
		c := &callingCode{}
		for _, rc := range phonenumbers.GetRegionCodesForCountryCode(cc) {
			l := x.regions[rc]
			if rc == "001" {
				l = nonGeo[cc]
			}
			if l == nil {
				c = nil // the library would find no metadata: leave it the answer
				break
			}
			c.regions = append(c.regions, l)
		}
		if c != nil && len(c.regions) > 0 {
			x.codes[cc] = c
		}
	}
	return x
})

// fastNumber is a parsed number: country calling code and national
// significant number (leading zeros included, as GetNationalSignificantNumber
// gives it back).
type fastNumber struct {
	cc  int
	nsn []byte
}

const minNSN, maxNSN = 2, 17 // phonenumbers.MIN_LENGTH_FOR_NSN, MAX_LENGTH_FOR_NSN

// fastParse is phonenumbers.Parse(s, region) for the shapes the fast path
// covers. region is "" or a region the library supports. ok is false when
// the library must answer; otherwise err is the error Parse returns.
func fastParse(s, region string, buf []byte) (n fastNumber, err error, ok bool) {
	// buildNationalNumberForParsing, isViablePhoneNumber, maybeStripExtension
	// and normalize, for ASCII digits and the punctuation below: the digits
	// in order, and whether a '+' came before them.
	digits := buf[:0]
	plus, started := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			if started {
				return n, nil, false
			}
			plus, started = true, true
		case ' ', '-', '.', '(', ')':
		default:
			if c < '0' || c > '9' {
				return n, nil, false
			}
			digits = append(digits, c)
			started = true
		}
	}
	if len(digits) < 3 {
		return n, nil, false
	}
	x := phoneIndex()
	var def *fastRegion // defaultRegionMetadata
	if region != "" {
		if def = x.regions[region].get(); def == nil {
			return n, nil, false
		}
	} else if !plus {
		return n, nil, false // checkRegionForParsing refuses it; rare, left to the library
	}

	// maybeExtractCountryCode
	var md *fastRegion // regionMetadata
	intl := plus
	if !plus {
		count, end := def.idd.prefixes(digits)
		if count > 1 {
			return n, nil, false
		}
		if count == 1 && (end == len(digits) || digits[end] != '0') {
			digits, intl = digits[end:], true
		}
	}
	switch {
	case intl:
		if len(digits) <= minNSN {
			return n, phonenumbers.ErrTooShortAfterIDD, true
		}
		var c *callingCode
		for i := 1; i <= 3 && i <= len(digits) && digits[0] != '0'; i++ {
			cc, _ := strconv.Atoi(string(digits[:i]))
			if c = x.codes[cc]; c != nil {
				n.cc, digits = cc, digits[i:]
				break
			}
		}
		if c == nil {
			if plus {
				return n, nil, false // the library retries without the '+'
			}
			return n, phonenumbers.ErrInvalidCountryCode, true
		}
		if md = c.regions[0].get(); md == nil {
			return n, nil, false
		}
	default:
		n.cc, md = def.cc, def
		if bytes.HasPrefix(digits, []byte(def.ccDigits)) {
			pot, ok := def.stripNationalPrefix(digits[len(def.ccDigits):])
			if !ok {
				return n, nil, false
			}
			fullValid := def.general.pattern.matches(digits)
			nationalValid := def.general.pattern.matches(pot)
			if !fullValid && nationalValid || def.lengthResult(len(digits)) == phonenumbers.TOO_LONG {
				digits = pot
				c := x.codes[def.cc]
				if c == nil {
					return n, nil, false
				}
				if md = c.regions[0].get(); md == nil {
					return n, nil, false
				}
			}
		}
	}

	// parseHelper, after the country code
	if len(digits) < minNSN {
		return n, phonenumbers.ErrTooShortNSN, true
	}
	pot, ok := md.stripNationalPrefix(digits)
	if !ok {
		return n, nil, false
	}
	if v := md.lengthResult(len(pot)); v == phonenumbers.IS_POSSIBLE || v == phonenumbers.TOO_LONG {
		digits = pot
	}
	if len(digits) < minNSN {
		return n, phonenumbers.ErrTooShortNSN, true
	}
	if len(digits) > maxNSN {
		return n, phonenumbers.ErrNumTooLong, true
	}
	n.nsn = digits
	return n, nil, true
}

// fastValid is phonenumbers.IsValidNumber.
func fastValid(n fastNumber) (valid, ok bool) {
	if n.cc <= 0 || n.cc >= 1000 {
		return false, false
	}
	c := phoneIndex().codes[n.cc]
	if c == nil {
		return false, false
	}
	// GetRegionCodeForNumber
	region := c.regions[0]
	if len(c.regions) > 1 {
		region = nil
		for _, l := range c.regions {
			r := l.get()
			if r == nil || l.nonGeo {
				return false, false
			}
			if r.leading != nil {
				if r.leading.hasPrefix(n.nsn) {
					region = l
					break
				}
			} else if r.validType(n.nsn) {
				region = l
				break
			}
		}
		if region == nil {
			return false, true
		}
	}
	// IsValidNumberForRegion
	r := region.get()
	if r == nil {
		return false, false
	}
	if !region.nonGeo && r.cc != n.cc {
		return false, true
	}
	return r.validType(n.nsn), true
}
