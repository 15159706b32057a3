package pii

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"afimport/internal/benchdata"
)

func BenchmarkEmailSHA256(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		e, err := Email("  John_Smith+News@Gmail.COM ")
		if err != nil {
			b.Fatal(err)
		}
		buf = AppendSHA256Hex(buf[:0], e)
	}
}

func BenchmarkPhoneE164(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PhoneE164("(650) 555-1212", "US"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendSHA256Hex(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendSHA256Hex(buf[:0], "john_smith@gmail.com")
	}
}

// distinctPhones are n valid numbers from every region with example fixed
// line and mobile numbers, each written as exports hold it: national form
// with its region, or international form, no two alike.
func distinctPhones(tb testing.TB, n int) (raws, regions []string) {
	var bases []*phonenumbers.PhoneNumber
	for _, region := range slices.Sorted(maps.Keys(phonenumbers.GetSupportedRegions())) {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE} {
			if num := phonenumbers.GetExampleNumberForType(region, typ); num != nil {
				bases = append(bases, num)
			}
		}
	}
	seen := map[string]bool{}
	used := map[string]bool{}
	for i := 0; len(raws) < n && i < 200*n; i++ {
		base := bases[i%len(bases)]
		nsn := phonenumbers.GetNationalSignificantNumber(base)
		if len(nsn) < 6 {
			continue
		}
		nsn = fmt.Sprintf("%s%03d", nsn[:len(nsn)-3], (i/len(bases))%1000)
		num, err := phonenumbers.Parse("+"+strconv.Itoa(int(base.GetCountryCode()))+nsn, "")
		if err != nil || !phonenumbers.IsValidNumber(num) {
			continue
		}
		region := phonenumbers.GetRegionCodeForNumber(num)
		raw := phonenumbers.Format(num, phonenumbers.NATIONAL)
		if i%3 == 0 {
			raw = phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
		}
		if e, err, _ := readPhone(raw, region, false); seen[raw+region] || err != nil || e != phonenumbers.Format(num, phonenumbers.E164) {
			continue
		}
		seen[raw+region] = true
		used[region] = true
		raws, regions = append(raws, raw), append(regions, region)
	}
	if len(raws) < n || len(used) < 50 {
		tb.Fatalf("%d numbers from %d regions, want %d from at least 50", len(raws), len(used), n)
	}
	return raws, regions
}

// BenchmarkPhoneDistinct is the cost of one distinct number, by PhoneE164
// (the fast path: it has no cache) and by the library alone (uncached).
func BenchmarkPhoneDistinct(b *testing.B) {
	raws, regions := distinctPhones(b, 20000)
	for i := range raws { // build the regions' automata once, outside the timing
		if _, err, ok := phoneE164Fast(raws[i], regions[i]); err != nil || !ok {
			b.Fatal(err, ok)
		}
	}
	runtime.GC()
	for _, fast := range []bool{true, false} {
		name := map[bool]string{true: "fast", false: "library"}[fast]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu0 := benchdata.ProcessCPU()
			for b.Loop() {
				var err error
				if fast {
					_, err = PhoneE164(raws[i], regions[i])
				} else {
					_, err = phoneE164(raws[i], regions[i])
				}
				if err != nil {
					b.Fatal(err)
				}
				i = (i + 1) % len(raws)
			}
			// The machine is shared: CPU time says more than wall time.
			b.ReportMetric(float64(benchdata.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkPhoneRegionsBuild is the one-time cost of the fast path: every
// region's automata (a run builds only the regions its numbers need).
func BenchmarkPhoneRegionsBuild(b *testing.B) {
	x := phoneIndex()
	b.ReportAllocs()
	for b.Loop() {
		digitDFAs.mu.Lock()
		digitDFAs.m = map[string]*digitDFA{} // from nothing, as a run starts
		digitDFAs.mu.Unlock()
		for _, l := range x.regions {
			if buildFastRegion(l.md) == nil {
				b.Fatal("region not built")
			}
		}
	}
}
