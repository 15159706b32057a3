package timefmt

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // zones resolve whatever the host has installed

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func mustNew(t testing.TB, format string, loc *time.Location) *Parser {
	t.Helper()
	p, err := New(format, loc)
	require.NoError(t, err)
	return p
}

func utc(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
}

// The API's example timestamp 1712000000000 ms.
var apiExample = time.UnixMilli(1712000000000)

func TestRFC3339(t *testing.T) {
	p := mustNew(t, "rfc3339", nil)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-04-01T19:33:20Z", apiExample},
		{"2024-04-01t19:33:20z", apiExample},
		{"2024-04-01 19:33:20Z", apiExample},
		{"  2024-04-01T19:33:20Z\t", apiExample},
		{"2024-04-02T01:03:20+05:30", apiExample},
		{"2024-04-02T01:18:20+05:45", apiExample},
		{"2024-04-01T16:03:20-03:30", apiExample},
		{"2024-04-02T09:33:20+14:00", apiExample},
		{"2024-04-01T19:33:20-00:00", apiExample},
		{"2024-04-01T19:33:20.1Z", apiExample.Add(100 * time.Millisecond)},
		{"2024-04-01T19:33:20.12Z", apiExample.Add(120 * time.Millisecond)},
		{"2024-04-01T19:33:20.123Z", apiExample.Add(123 * time.Millisecond)},
		{"2024-04-01T19:33:20.1234Z", apiExample.Add(123400 * time.Microsecond)},
		{"2024-04-01T19:33:20.12345Z", apiExample.Add(123450 * time.Microsecond)},
		{"2024-04-01T19:33:20.123456Z", apiExample.Add(123456 * time.Microsecond)},
		{"2024-04-01T19:33:20.1234567Z", apiExample.Add(1234567 * 100 * time.Nanosecond)},
		{"2024-04-01T19:33:20.12345678Z", apiExample.Add(12345678 * 10 * time.Nanosecond)},
		{"2024-04-01T19:33:20.123456789Z", apiExample.Add(123456789 * time.Nanosecond)},
		{"2024-04-02T01:03:20.000000001+05:30", apiExample.Add(1)},
		{"2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0, 0)},
		{"0000-01-01T00:00:00Z", utc(0, 1, 1, 0, 0, 0, 0)},
		{"9999-12-31T23:59:59.999999999Z", utc(9999, 12, 31, 23, 59, 59, 999999999)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := p.Parse(tt.in)
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %s want %s", got, tt.want)
			assert.Equal(t, time.UTC, got.Location(), "result is expressed in the parser's location")
		})
	}
	t.Run("matches the standard library", func(t *testing.T) {
		for _, tt := range tests {
			if strings.ContainsAny(tt.in, "tz ") {
				continue
			}
			std, err := time.Parse(time.RFC3339Nano, tt.in)
			require.NoError(t, err)
			got, err := p.Parse(tt.in)
			require.NoError(t, err)
			assert.True(t, std.Equal(got), tt.in)
		}
	})
}

func TestRFC3339Refused(t *testing.T) {
	p := mustNew(t, "rfc3339", nil)
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrEmpty},
		{"   ", ErrEmpty},
		{"2024-04-01T19:33:20", ErrSyntax},    // no offset
		{"2024-04-01", ErrSyntax},             // date only
		{"2024-04-01T19:33Z", ErrSyntax},      // no seconds
		{"2024-04-01T19:33:20.Z", ErrSyntax},  // empty fraction
		{"2024-04-01T19:33:20,5Z", ErrSyntax}, // comma
		{"2024-04-01T19:33:20.1234567891Z", ErrSyntax},
		{"2024-04-01T19:33:20+0530", ErrSyntax}, // ISO basic offset is auto-only
		{"2024-04-01T19:33:20+05", ErrSyntax},
		{"2024-04-01T19:33:20 +05:30", ErrSyntax},
		{"2024-04-01T19:33:20Zjunk", ErrSyntax},
		{"2024-4-01T19:33:20Z", ErrSyntax},
		{"24-04-01T19:33:20Z", ErrSyntax},
		{"2024-04-01X19:33:20Z", ErrSyntax},
		{"1712000000000", ErrSyntax},
		{"2024-13-01T00:00:00Z", ErrRange},
		{"2024-00-01T00:00:00Z", ErrRange},
		{"2023-02-29T00:00:00Z", ErrRange},
		{"2024-04-31T00:00:00Z", ErrRange},
		{"2024-04-01T24:00:00Z", ErrRange},
		{"2024-04-01T23:60:00Z", ErrRange},
		{"2016-12-31T23:59:60Z", ErrRange}, // leap second
		{"2024-04-01T00:00:00+24:00", ErrRange},
		{"2024-04-01T00:00:00+05:60", ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := p.Parse(tt.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.True(t, got.IsZero())
			if len(strings.TrimSpace(tt.in)) > 4 {
				assert.NotContains(t, err.Error(), strings.TrimSpace(tt.in), "error must not quote the value")
			}
		})
	}
}

func TestUnix(t *testing.T) {
	tests := []struct {
		format, in string
		want       time.Time
	}{
		{"unix_s", "1712000000", apiExample},
		{"unix_s", " 1712000000 ", apiExample},
		{"unix_s", "0", time.Unix(0, 0)},
		{"unix_s", "0001712000000", apiExample},
		{"unix_s", "1712000000.123", apiExample.Add(123 * time.Millisecond)},
		{"unix_s", "1712000000.5", apiExample.Add(500 * time.Millisecond)},
		{"unix_s", "1712000000.123456789", apiExample.Add(123456789)},
		{"unix_s", "1712000000.1234567890000", apiExample.Add(123456789)},
		{"unix_s", "253402300799", utc(9999, 12, 31, 23, 59, 59, 0)},
		{"unix_s", "253402300799.999999999", utc(9999, 12, 31, 23, 59, 59, 999999999)},
		{"unix_ms", "1712000000000", apiExample},
		{"unix_ms", "1712000000000.5", apiExample.Add(500 * time.Microsecond)},
		{"unix_ms", "1712000000000.000001", apiExample.Add(1)},
		{"unix_ms", "1712000000999", apiExample.Add(999 * time.Millisecond)},
		{"unix_ms", "253402300799999", utc(9999, 12, 31, 23, 59, 59, 999000000)},
		{"unix_us", "1712000000000000", apiExample},
		{"unix_us", "1712000000123456.789", apiExample.Add(123456789)},
		{"unix_ns", "1712000000000000000", apiExample},
		{"unix_ns", "1712000000123456789", apiExample.Add(123456789)},
		{"unix_ns", "9223372036854775807", time.Unix(0, 1<<63-1)}, // max int64, year 2262
		{"unix_ns", "1712000000123456789.000", apiExample.Add(123456789)},
		{"unix_ns", "9999999999999999999", time.Unix(9999999999, 999999999)}, // beyond int64 ns, still exact
		{"UNIX_MS", "1712000000000", apiExample},
	}
	for _, tt := range tests {
		t.Run(tt.format+" "+tt.in, func(t *testing.T) {
			got, err := mustNew(t, tt.format, nil).Parse(tt.in)
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %s want %s", got.Format(time.RFC3339Nano), tt.want.Format(time.RFC3339Nano))
		})
	}
	t.Run("exact where float64 is not", func(t *testing.T) {
		// 1712000000.123456789 has no exact float64; the nanoseconds must survive.
		got, err := mustNew(t, "unix_s", nil).Parse("1712000000.123456789")
		require.NoError(t, err)
		assert.Equal(t, 123456789, got.Nanosecond())
	})
}

func TestUnixRefused(t *testing.T) {
	tests := []struct {
		format, in string
		want       error
	}{
		{"unix_s", "-1", ErrRange},
		{"unix_ms", "-1712000000000", ErrRange},
		{"unix_s", "253402300800", ErrRange}, // year 10000
		{"unix_ms", "253402300800000", ErrRange},
		{"unix_s", "99999999999999999999", ErrRange},    // 20 digits
		{"unix_ns", "18446744073709551616", ErrRange},   // 2^64
		{"unix_ms", strings.Repeat("9", 400), ErrRange}, // huge
		{"unix_s", "1712000000.1234567891", ErrSyntax},  // finer than 1 ns
		{"unix_ms", "1712000000000.0000001", ErrSyntax},
		{"unix_ns", "1712000000000000000.5", ErrSyntax},
		{"unix_s", "1.712e9", ErrSyntax},
		{"unix_s", "+1712000000", ErrSyntax},
		{"unix_s", "1712000000.", ErrSyntax},
		{"unix_s", ".5", ErrSyntax},
		{"unix_s", "1_712_000_000", ErrSyntax},
		{"unix_s", "0x10", ErrSyntax},
		{"unix_s", "1712000000 1", ErrSyntax},
		{"unix_s", "2024-04-01", ErrSyntax},
		{"unix_ms", "", ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.format+" "+tt.in, func(t *testing.T) {
			got, err := mustNew(t, tt.format, nil).Parse(tt.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.True(t, got.IsZero())
		})
	}
}

func TestAuto(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-04-01T19:33:20Z", apiExample},
		{"2024-04-02T01:03:20.5+05:30", apiExample.Add(500 * time.Millisecond)},
		{"2024-04-01 19:33:20Z", apiExample},
		{"2024-04-01 21:33:20+02", apiExample},       // PostgreSQL
		{"2024-04-01 21:33:20.000+0200", apiExample}, // ISO basic
		{"2024-04-01 21:33:20+02:00", apiExample},
		{"2024-04-01 15:33:20", apiExample}, // naive: New York (EDT)
		{"2024-04-01 15:33:20.250", apiExample.Add(250 * time.Millisecond)},
		{"2024-04-01T15:33:20", apiExample}, // naive with T
		{"2024-04-01", time.Date(2024, 4, 1, 0, 0, 0, 0, ny)},
		{"1712000000", apiExample},
		{"1712000000.25", apiExample.Add(250 * time.Millisecond)},
		{"86400", utc(1970, 1, 2, 0, 0, 0, 0)}, // short counts are seconds
		{"1712000000000", apiExample},
		{"1712000000000.5", apiExample.Add(500 * time.Microsecond)},
		{"1712000000000000", apiExample},
		{"1712000000000000000", apiExample},
	}
	p := mustNew(t, "", ny)
	assert.Equal(t, "auto", p.Format())
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := p.Parse(tt.in)
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %s want %s", got.UTC(), tt.want.UTC())
			assert.Equal(t, ny, got.Location())
		})
	}

	for _, tt := range []struct {
		in   string
		want error
	}{
		{"17120000000", ErrAmbiguous},          // 11 digits
		{"171200000000", ErrAmbiguous},         // 12 digits
		{"17120000000000", ErrAmbiguous},       // 14 digits
		{"17120000000000000000", ErrAmbiguous}, // 20 digits
		{"-1712000000", ErrSyntax},
		{"April 1, 2024", ErrSyntax},
		{"2024/04/01", ErrSyntax},
		{"2024-04-01 15:33", ErrSyntax},
		{"2024-04-01T15:33:20 +02:00", ErrSyntax},
		{"2024-04-31", ErrRange},
	} {
		t.Run("refused "+tt.in, func(t *testing.T) {
			_, err := p.Parse(tt.in)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestLayout(t *testing.T) {
	kolkata := mustLoc(t, "Asia/Kolkata")
	tests := []struct {
		layout string
		loc    *time.Location
		in     string
		want   time.Time
	}{
		{"2006-01-02 15:04:05", nil, "2024-04-01 19:33:20", apiExample},
		{"2006-01-02 15:04:05", kolkata, "2024-04-02 01:03:20", apiExample},
		{"2006-01-02 15:04:05", kolkata, "2024-04-02 01:03:20.5", apiExample.Add(500 * time.Millisecond)},
		{"02/01/2006 15:04", nil, "01/04/2024 19:33", apiExample.Add(-20 * time.Second)},
		{"2006-01-02T15:04:05Z07:00", kolkata, "2024-04-01T19:33:20Z", apiExample}, // offset wins over loc
		{"2006-01-02 15:04:05 -0700", nil, "2024-04-01 16:03:20 -0330", apiExample},
		{"2006-01-02", kolkata, "2024-04-01", time.Date(2024, 4, 1, 0, 0, 0, 0, kolkata)},
		{"2006-002", nil, "2024-092", utc(2024, 4, 1, 0, 0, 0, 0)},
		{"Jan _2 2006 3:04:05PM", nil, "Apr  1 2024 7:33:20PM", apiExample},
		{"20060102150405", nil, "20240401193320", apiExample},
	}
	for _, tt := range tests {
		t.Run(tt.layout+" "+tt.in, func(t *testing.T) {
			p := mustNew(t, tt.layout, tt.loc)
			assert.Equal(t, tt.layout, p.Format())
			got, err := p.Parse(tt.in)
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %s want %s", got.UTC(), tt.want.UTC())
		})
	}

	t.Run("never time.Local", func(t *testing.T) {
		saved := time.Local
		time.Local = mustLoc(t, "Pacific/Kiritimati") // +14:00, far from UTC
		defer func() { time.Local = saved }()
		got, err := mustNew(t, "2006-01-02 15:04:05", nil).Parse("2024-04-01 19:33:20")
		require.NoError(t, err)
		assert.True(t, apiExample.Equal(got))
	})

	t.Run("errors name the layout element, not the value", func(t *testing.T) {
		p := mustNew(t, "2006-01-02 15:04:05", nil)
		for _, in := range []string{"2024-04-01 19:33", "2024-04-01 19:33:20 extra", "2024-13-01 00:00:00", "1712000000000"} {
			_, err := p.Parse(in)
			require.Error(t, err, in)
			assert.NotContains(t, err.Error(), in)
			assert.Contains(t, err.Error(), "2006-01-02 15:04:05")
		}
		_, err := p.Parse("2024-13-01 00:00:00")
		assert.ErrorIs(t, err, ErrRange)
		_, err = p.Parse("2024-04-01 19:33:20 extra")
		assert.ErrorIs(t, err, ErrSyntax)
	})
}

func TestNewRefusesBadLayouts(t *testing.T) {
	for _, layout := range []string{
		"hello",          // no element at all
		"15:04:05",       // time only
		"Monday",         // weekday alone is not a date
		"Jan 2 15:04:05", // no year (syslog)
		"2006-01",        // no day
		"2006",           // year only
		"unix_seconds",   // a misspelt name is a layout without elements
	} {
		t.Run(layout, func(t *testing.T) {
			p, err := New(layout, nil)
			assert.Nil(t, p)
			assert.ErrorIs(t, err, ErrFormat)
		})
	}
	for _, name := range []string{"RFC3339", " unix_ms ", "Auto", "UNIX_NS"} {
		t.Run("name "+name, func(t *testing.T) {
			p, err := New(name, nil)
			require.NoError(t, err)
			assert.Equal(t, strings.ToLower(strings.TrimSpace(name)), p.Format())
		})
	}
}

// The DST behaviour documented in the package comment, pinned so a Go
// upgrade that changes it is noticed.
func TestDSTWallTimes(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	for _, format := range []string{"2006-01-02 15:04:05", "auto"} {
		p := mustNew(t, format, ny)
		t.Run(format+" gap", func(t *testing.T) {
			got, err := p.Parse("2024-03-10 02:30:00") // clocks jump 02:00 -> 03:00
			require.NoError(t, err)
			assert.Equal(t, utc(2024, 3, 10, 6, 30, 0, 0), got.UTC())
			assert.Equal(t, "01:30 EST", got.Format("15:04 MST"))
		})
		t.Run(format+" overlap", func(t *testing.T) {
			got, err := p.Parse("2024-11-03 01:30:00") // 01:00-02:00 happens twice
			require.NoError(t, err)
			assert.Equal(t, utc(2024, 11, 3, 5, 30, 0, 0), got.UTC(), "first occurrence (EDT)")
			assert.Equal(t, "01:30 EDT", got.Format("15:04 MST"))
		})
		t.Run(format+" overlap with explicit offset is exact", func(t *testing.T) {
			if format != "auto" {
				t.Skip("layout has no offset")
			}
			got, err := p.Parse("2024-11-03 01:30:00-05:00")
			require.NoError(t, err)
			assert.Equal(t, utc(2024, 11, 3, 6, 30, 0, 0), got.UTC())
		})
	}
}

func TestToUnixMilli(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want int64
		err  bool
	}{
		{"api example", apiExample, 1712000000000, false},
		{"epoch", time.Unix(0, 0), 0, false},
		{"truncates sub-ms", apiExample.Add(999999), 1712000000000, false},
		{"zone does not matter", apiExample.In(time.FixedZone("", 14*3600)), 1712000000000, false},
		{"last millisecond", utc(9999, 12, 31, 23, 59, 59, 999999999), 253402300799999, false},
		{"1 ns before epoch", time.Unix(0, -1), 0, true},
		{"year 0", utc(0, 1, 1, 0, 0, 0, 0), 0, true},
		{"zero time", time.Time{}, 0, true},
		{"year 10000", utc(10000, 1, 1, 0, 0, 0, 0), 0, true},
		{"year 10000 in a western zone is still year 9999 locally", utc(10000, 1, 1, 3, 0, 0, 0).In(time.FixedZone("", -5*3600)), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ToUnixMilli(tt.in)
			if tt.err {
				assert.ErrorIs(t, err, ErrRange)
				assert.Zero(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	t.Run("year 0 and 10000 parsed then refused", func(t *testing.T) {
		got, err := mustNew(t, "rfc3339", nil).Parse("0000-06-01T00:00:00Z")
		require.NoError(t, err)
		_, err = ToUnixMilli(got)
		assert.ErrorIs(t, err, ErrRange)
		_, err = mustNew(t, "unix_ms", nil).Parse("253402300800000")
		assert.ErrorIs(t, err, ErrRange)
	})
}

func TestZeroAndNilParser(t *testing.T) {
	var zero Parser
	got, err := zero.Parse("1712000000000")
	require.NoError(t, err)
	assert.True(t, apiExample.Equal(got))
	assert.Equal(t, "auto", zero.Format())

	var nilp *Parser
	_, err = nilp.Parse("1712000000000")
	assert.ErrorIs(t, err, ErrFormat)
}

func TestConcurrentUse(t *testing.T) {
	p := mustNew(t, "auto", mustLoc(t, "Europe/Paris"))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				in := fmt.Sprintf("2024-04-01T19:33:%02dZ", (i+j)%60)
				got, err := p.Parse(in)
				if assert.NoError(t, err) {
					assert.Equal(t, (i+j)%60, got.UTC().Second())
				}
			}
		})
	}
	wg.Wait()
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"2024-04-01T19:33:20Z", "2024-04-02T01:03:20.123456789+05:30", "2024-04-01 19:33:20+02",
		"2024-04-01", "1712000000", "1712000000.123", "1712000000000", "99999999999999999999",
		"-1", "2024-02-30T00:00:00Z", "0000-01-01T00:00:00z", "9999-12-31 23:59:59.999999999-23:59",
		"2024-03-10 02:30:00", "1.", ".1", "", "\u00a0",
	} {
		f.Add(s)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	var parsers []*Parser
	for _, format := range []string{"rfc3339", "unix_s", "unix_ms", "unix_us", "unix_ns", "auto", "2006-01-02 15:04:05", "02/01/2006 3:04PM MST"} {
		p, err := New(format, ny)
		if err != nil {
			f.Fatal(err)
		}
		parsers = append(parsers, p)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range parsers {
			got, err := p.Parse(s)
			if err != nil {
				require.True(t, got.IsZero(), "time or error, never both")
				continue
			}
			switch p.Format() {
			case "rfc3339":
				// Whatever we accept reads back as the same instant once
				// written canonically (years Go can format in four digits).
				// The UTC year counts: "9999-12-31 00:01:00-23:59" is
				// year 10000 in UTC, which Go cannot write back.
				if u := got.UTC(); u.Year() < 1 || u.Year() > 9999 {
					continue
				}
				// In UTC: before 1883 New York's offset is LMT -4:56:02, which
				// RFC 3339 cannot write.
				again, err := p.Parse(got.UTC().Format(time.RFC3339Nano))
				require.NoError(t, err)
				require.True(t, got.Equal(again))
			case "unix_s", "unix_ms", "unix_us", "unix_ns":
				ms, err := ToUnixMilli(got)
				require.NoError(t, err, "unix formats only accept instants the API can carry")
				require.Equal(t, got.UnixMilli(), ms)
			}
		}
	})
}

func BenchmarkParseRFC3339(b *testing.B) {
	p := mustNew(b, "rfc3339", nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse("2024-04-02T01:03:20.123+05:30"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseUnixMs(b *testing.B) {
	p := mustNew(b, "unix_ms", nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse("1712000000123"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAuto(b *testing.B) {
	p := mustNew(b, "auto", mustLoc(b, "America/New_York"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse("2024-04-01 15:33:20"); err != nil {
			b.Fatal(err)
		}
	}
}
