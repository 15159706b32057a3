package pii

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// phoneTypes are the types GetExampleNumberForType knows.
var phoneTypes = []phonenumbers.PhoneNumberType{
	phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE,
	phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER,
	phonenumbers.UAN, phonenumbers.VOICEMAIL,
}

// phoneDiff compares the fast path with the library on one value, as
// PhoneE164 reads it. It reports whether the fast path answered; a
// disagreement fails t.
type phoneDiff struct {
	compared, asked int
}

func (d *phoneDiff) check(t testing.TB, raw, region string) bool {
	t.Helper()
	d.asked++
	s := strings.TrimFunc(raw, isTrimmed)
	region = strings.ToUpper(strings.TrimSpace(region))
	if s == "" || len(s) > maxPhoneLen || (region != "" && !phonenumbers.GetSupportedRegions()[region]) {
		return false
	}
	var buf [maxPhoneLen]byte
	got, gotErr, ok := readPhone(s, region, true)
	if !ok {
		return false
	}
	d.compared++
	want, wantErr, panicked := libraryAnswer(s, region)
	if panicked || got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Errorf("PhoneE164(%q, %q): fast path %q, %v; library %q, %v (panicked %v)", raw, region, got, gotErr, want, wantErr, panicked)
	}
	// One level down: the parsed number and the verdict, not only the answer.
	for _, in := range []string{s, "+" + strings.TrimPrefix(s, "00")} {
		n, err, ok := fastParse(in, region, buf[:])
		if !ok {
			continue
		}
		num, perr := phonenumbers.Parse(in, region)
		if fmt.Sprint(err) != fmt.Sprint(perr) {
			t.Errorf("Parse(%q, %q): fast path error %v, library %v", in, region, err, perr)
			continue
		}
		if err != nil {
			continue
		}
		if n.cc != int(num.GetCountryCode()) || string(n.nsn) != phonenumbers.GetNationalSignificantNumber(num) {
			t.Errorf("Parse(%q, %q): fast path +%d %s, library +%d %s", in, region, n.cc, n.nsn, num.GetCountryCode(), phonenumbers.GetNationalSignificantNumber(num))
			continue
		}
		if valid, ok := fastValid(n); ok && valid != phonenumbers.IsValidNumber(num) {
			t.Errorf("IsValidNumber(Parse(%q, %q)): fast path %v, library %v", in, region, valid, !valid)
		}
	}
	return true
}

func libraryAnswer(s, region string) (e164 string, err error, panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	e164, err, _ = readPhone(s, region, false)
	return e164, err, false
}

// phoneVariants writes one number the ways exports hold it, and the near
// misses: one digit more or less, the last digit changed, a wrong first
// digit, national prefixes added, 00 and bare country code forms.
func phoneVariants(num *phonenumbers.PhoneNumber, region string) []string {
	cc := strconv.Itoa(int(num.GetCountryCode()))
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	national := phonenumbers.Format(num, phonenumbers.NATIONAL)
	ndd := phonenumbers.GetNddPrefixForRegion(region, true)
	last := nsn[len(nsn)-1]
	flip := string(rune('0' + (last-'0'+1)%10))
	v := []string{
		phonenumbers.Format(num, phonenumbers.E164),
		phonenumbers.Format(num, phonenumbers.INTERNATIONAL),
		phonenumbers.Format(num, phonenumbers.RFC3966),
		national,
		nsn,
		cc + nsn,
		cc + nsn[:len(nsn)-1],
		cc + nsn + "0",
		cc + "0" + nsn,
		"00" + cc + nsn,
		"00 " + cc + " " + nsn,
		"+" + cc + " (0)" + nsn,
		"+" + cc + nsn + "1",
		"+" + cc + nsn[:len(nsn)-1],
		"+" + cc + nsn[:len(nsn)-1] + flip,
		"+" + cc + flip + nsn[1:],
		nsn + "1",
		nsn[:len(nsn)-1],
		"0" + nsn,
		ndd + nsn,
		ndd + " " + nsn + "5",
		strings.ReplaceAll(national, " ", "-"),
		strings.ReplaceAll(national, " ", "."),
		"+" + cc + "-" + nsn,
		"(" + nsn[:min(3, len(nsn))] + ") " + nsn[min(3, len(nsn)):],
		"+" + cc + " " + nsn + " ext. 12",
		"0011" + cc + nsn,
		"011 " + cc + " " + nsn,
	}
	return v
}

// TestPhoneFastPathMatchesLibrary is the differential test: the library's
// example numbers for every region and type, their variants and near
// misses, read with their region, with no region and with others, and the
// hostile cases of the other phone tests and the fuzz corpus.
func TestPhoneFastPathMatchesLibrary(t *testing.T) {
	var d phoneDiff
	regions := slices.Sorted(func(yield func(string) bool) {
		for r := range phonenumbers.GetSupportedRegions() {
			if !yield(r) {
				return
			}
		}
	})
	examples, step := 0, 1
	if raceEnabled || testing.Short() {
		step = 9 // every 9th region: the same code, a ninth of the time
	}
	if raceEnabled {
		step = 27
	}
	for i, region := range regions {
		if i%step != 0 {
			continue
		}
		others := []string{region, "", "US", regions[(i+7)%len(regions)]}
		for _, typ := range phoneTypes {
			num := phonenumbers.GetExampleNumberForType(region, typ)
			if num == nil {
				continue
			}
			examples++
			for _, v := range phoneVariants(num, region) {
				for _, r := range others {
					d.check(t, v, r)
				}
			}
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		if num := phonenumbers.GetExampleNumberForNonGeoEntity(cc); num != nil {
			examples++
			for _, v := range phoneVariants(num, "001") {
				d.check(t, v, "")
				d.check(t, v, "GB")
			}
		}
	}
	for _, c := range hostilePhones(t) {
		d.check(t, c[0], c[1])
	}
	t.Logf("phone fast path: %d examples; %d inputs, %d compared with the library (%.0f%%)",
		examples, d.asked, d.compared, 100*float64(d.compared)/float64(d.asked))
	if os.Getenv("PHONE_DIFF_COUNTS") != "" {
		fmt.Printf("phone differential test: %d inputs, %d compared\n", d.asked, d.compared)
	}
	// A fast path that stopped answering would pass every comparison.
	assert.Greater(t, d.compared, d.asked*3/4, "the fast path answers too few inputs")
}

// hostilePhones are the values of the other phone tests and the FuzzPhone
// corpus, each with its region.
func hostilePhones(t *testing.T) [][2]string {
	cases := [][2]string{
		{"(650) 555-1212", "US"}, {"1-650-555-1212", "US"}, {"+1 650 555 1212", "DE"}, {"020 7946 0958", "GB"},
		{"07911 123456", "GB"}, {"+44 (0)20 7946 0958", "GB"}, {"030 12345678", "DE"}, {"0049 30 12345678", "DE"},
		{"098765 43210", "IN"}, {"+91 98765 43210", "IN"}, {"(11) 91234-5678", "BR"}, {"06 1234 5678", "IT"},
		{"0044 20 7946 0958", "US"}, {"+44 20 7946 0958", ""}, {"0044 20 7946 0958", ""}, {"16505551212", ""},
		{"442079460958", "GB"}, {"555-1212", "US"}, {"(123) 555-1212", "US"}, {"650555121212345", "US"},
		{strings.Repeat("1", 200), "US"}, {"020 7946 0958", ""}, {"(650) 555-1212", ""}, {"+999 1234 5678", ""},
		{"030 1", "DE"}, {"+4921000000000000", ""}, {"021000000000000", "DE"}, {"++44 20 7946 0958", ""},
		{"+0 123 4567", ""}, {"00", "US"}, {"+", ""}, {"+1", "US"}, {"+12", ""}, {"0001234", "GB"},
		{"(((650))) 555--1212..", "US"}, {"+(44) 20 7946 0958", "FR"}, {"0 0 4 4 2 0 7 9 4 6 0 9 5 8", "DE"},
		{"15 1234 5678", "AR"}, {"011 15 1234 5678", "AR"}, {"0 11 15 1234-5678", "AR"}, {"044 55 1234 5678", "MX"},
		{"8 800 555 35 35", "RU"}, {"8 (727) 123 45 67", "KZ"}, {"+7 727 123 45 67", ""}, {"0 800 123 4567", "TR"},
		{"+800 1234 5678", ""}, {"+882 1234 5678", "US"}, {"1 242 357 1234", "BS"}, {"1 (242) 357-1234", "US"},
	}
	files, err := filepath.Glob("testdata/fuzz/FuzzPhone/*")
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var vals []string
		for _, line := range strings.Split(string(b), "\n")[1:] {
			if v, ok := strings.CutPrefix(line, "string("); ok {
				s, err := strconv.Unquote(strings.TrimSuffix(v, ")"))
				require.NoError(t, err)
				vals = append(vals, s)
			}
		}
		if len(vals) == 2 {
			cases = append(cases, [2]string{vals[0], vals[1]})
		}
	}
	return cases
}

// FuzzPhoneFastPath: whenever the fast path answers, it answers what the
// library answers.
func FuzzPhoneFastPath(f *testing.F) {
	for _, c := range [][2]string{
		{"(650) 555-1212", "US"}, {"0044 20 7946 0958", ""}, {"+49 30 12345678", "DE"}, {"16505551212", ""},
		{"(11) 91234-5678", "BR"}, {"06 1234 5678", "IT"}, {"0 11 15 1234-5678", "AR"}, {"8 800 555 35 35", "RU"},
		{"+7 727 123 45 67", "KZ"}, {"1 242 357 1234", "BS"}, {"+800 1234 5678", ""}, {"011 44 20 7946 0958", "US"},
	} {
		f.Add(c[0], c[1])
	}
	// PHONE_FUZZ_COUNTS=dir: each fuzzing process writes how many inputs it
	// tried and how many the fast path answered (and so compared) to
	// dir/<pid>, for the record of how much the fuzzer compared.
	dir := os.Getenv("PHONE_FUZZ_COUNTS")
	regions := slices.Sorted(maps.Keys(phonenumbers.GetSupportedRegions()))
	var d phoneDiff
	f.Fuzz(func(t *testing.T, raw, region string) {
		d.check(t, raw, region)
		// The same bytes as a number the fast path covers, in a region the
		// library knows: most random strings are not, and would only test
		// the fallback.
		const alphabet = "0123456789012345678901234567890123456789 -()."
		shaped := []byte(raw)
		for i, c := range shaped {
			shaped[i] = alphabet[int(c)%len(alphabet)]
			if i == 0 && c&1 == 0 {
				shaped[i] = '+'
			}
		}
		r := ""
		if len(region) > 0 {
			r = regions[(int(region[0])<<8|int(region[len(region)-1]))%len(regions)]
		}
		d.check(t, string(shaped), r)
		if dir != "" && d.asked%500 == 0 {
			line := fmt.Sprintf("%d %d\n", d.asked, d.compared)
			_ = os.WriteFile(filepath.Join(dir, strconv.Itoa(os.Getpid())), []byte(line), 0o644)
		}
	})
}

func TestDigitDFA(t *testing.T) {
	d, err := compileDigitDFA(`0(?:1[2-4]|5)?|7\d{2,3}|8.`)
	require.NoError(t, err)
	for s, want := range map[string]bool{"0": true, "012": true, "05": true, "01": false, "7": false, "712": true, "7123": true, "71234": false, "": false, "80": true, "89": true, "8": false} {
		assert.Equal(t, want, d.matches([]byte(s)), s)
	}
	n, first := d.prefixes([]byte("0129"))
	assert.Equal(t, 2, n)
	assert.Equal(t, 1, first)
	n, first = d.prefixes([]byte("9"))
	assert.Equal(t, 0, n)
	assert.Equal(t, -1, first)
	_, err = compileDigitDFA(`^1`)
	assert.Error(t, err, "empty-width assertions other than $ are refused")
}
