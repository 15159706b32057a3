package window_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // the zones below must resolve on every CI host

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer/window"
)

// zones are the time zones every test runs through: whole, half and
// three-quarter hour offsets, DST in both hemispheres, DST at midnight
// (Santiago, Havana, Beirut) and the +14 edge of the world.
var zones = []string{
	"UTC", "America/New_York", "Europe/London", "America/Santiago", "America/Havana",
	"Asia/Beirut", "Asia/Kolkata", "Australia/Adelaide", "Asia/Kathmandu",
	"Pacific/Chatham", "Pacific/Kiritimati",
}

func mustLoad(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(tb, err)
	return loc
}

func mustParse(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(tb, err)
	return t
}

func utc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// deadlineCases pin the deadline of rows dated before, on and after each
// zone's 2026 clock changes (transition instants read from tzdata and
// written out here), plus historical skipped days. t carries the local
// offset it shows, so a repeated hour says which occurrence it means; want
// is the deadline in UTC, worked out by hand.
var deadlineCases = []struct {
	name, zone, t, want string
}{
	{"plain day", "UTC", "2026-06-15T12:00:00Z", "2026-06-16T00:30:00Z"},
	{"first instant of the day", "UTC", "2026-06-15T00:00:00Z", "2026-06-16T00:30:00Z"},
	{"last instant of the year", "UTC", "2026-12-31T23:59:59.999Z", "2027-01-01T00:30:00Z"},
	{"leap day", "UTC", "2028-02-28T10:00:00Z", "2028-02-29T00:30:00Z"},

	// DST 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
	{"day before spring forward", "America/New_York", "2026-03-07T12:00:00-05:00", "2026-03-08T05:30:00Z"},
	{"spring forward day", "America/New_York", "2026-03-08T12:00:00-04:00", "2026-03-09T04:30:00Z"},
	{"day after spring forward", "America/New_York", "2026-03-09T12:00:00-04:00", "2026-03-10T04:30:00Z"},
	{"day before fall back", "America/New_York", "2026-10-31T12:00:00-04:00", "2026-11-01T04:30:00Z"},
	{"repeated 01:30, first (EDT)", "America/New_York", "2026-11-01T01:30:00-04:00", "2026-11-02T05:30:00Z"},
	{"repeated 01:30, second (EST)", "America/New_York", "2026-11-01T01:30:00-05:00", "2026-11-02T05:30:00Z"},
	{"day after fall back", "America/New_York", "2026-11-02T12:00:00-05:00", "2026-11-03T05:30:00Z"},

	// DST 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT.
	{"day before spring forward", "Europe/London", "2026-03-28T12:00:00Z", "2026-03-29T00:30:00Z"},
	{"spring forward day", "Europe/London", "2026-03-29T12:00:00+01:00", "2026-03-29T23:30:00Z"},
	{"day before fall back", "Europe/London", "2026-10-24T12:00:00+01:00", "2026-10-24T23:30:00Z"},
	{"repeated 01:30, first (BST)", "Europe/London", "2026-10-25T01:30:00+01:00", "2026-10-26T00:30:00Z"},
	{"repeated 01:30, second (GMT)", "Europe/London", "2026-10-25T01:30:00Z", "2026-10-26T00:30:00Z"},

	// 2026-04-05 00:00 -03 falls back to 2026-04-04 23:00 -04 (04-04 lasts 25h);
	// 2026-09-06 00:00 -04 jumps to 01:00 -03 (00:30 on 09-06 never shows).
	{"day before fall back", "America/Santiago", "2026-04-03T12:00:00-03:00", "2026-04-04T03:30:00Z"},
	{"25h day", "America/Santiago", "2026-04-04T12:00:00-03:00", "2026-04-05T04:30:00Z"},
	{"25h day, repeated 23:30 first (-03)", "America/Santiago", "2026-04-04T23:30:00-03:00", "2026-04-05T04:30:00Z"},
	{"25h day, repeated 23:30 second (-04)", "America/Santiago", "2026-04-04T23:30:00-04:00", "2026-04-05T04:30:00Z"},
	{"day after fall back", "America/Santiago", "2026-04-05T12:00:00-04:00", "2026-04-06T04:30:00Z"},
	{"gap: day before spring forward", "America/Santiago", "2026-09-05T12:00:00-04:00", "2026-09-06T04:00:00Z"},
	{"gap: last ms before the jump", "America/Santiago", "2026-09-05T23:59:59.999-04:00", "2026-09-06T04:00:00Z"},
	{"spring forward day, first instant", "America/Santiago", "2026-09-06T01:00:00-03:00", "2026-09-07T03:30:00Z"},
	{"day after spring forward", "America/Santiago", "2026-09-07T12:00:00-03:00", "2026-09-08T03:30:00Z"},

	// 2026-03-08 00:00 CST jumps to 01:00 CDT; 2026-11-01 01:00 CDT falls
	// back to 00:00 CST, so 00:30 on 11-01 shows at 04:30Z and 05:30Z.
	{"two days before spring forward", "America/Havana", "2026-03-06T12:00:00-05:00", "2026-03-07T05:30:00Z"},
	{"gap: day before spring forward", "America/Havana", "2026-03-07T12:00:00-05:00", "2026-03-08T05:00:00Z"},
	{"spring forward day, first instant", "America/Havana", "2026-03-08T01:00:00-04:00", "2026-03-09T04:30:00Z"},
	{"two days before fall back", "America/Havana", "2026-10-30T12:00:00-04:00", "2026-10-31T04:30:00Z"},
	{"overlap: day before fall back, earlier 00:30", "America/Havana", "2026-10-31T12:00:00-04:00", "2026-11-01T04:30:00Z"},
	{"repeated 00:15, first (CDT)", "America/Havana", "2026-11-01T00:15:00-04:00", "2026-11-02T05:30:00Z"},
	{"repeated 00:30, second (CST)", "America/Havana", "2026-11-01T00:30:00-05:00", "2026-11-02T05:30:00Z"},
	{"day after fall back", "America/Havana", "2026-11-02T12:00:00-05:00", "2026-11-03T05:30:00Z"},

	// 2026-03-29 00:00 EET jumps to 01:00 EEST; 2026-10-25 00:00 EEST
	// falls back to 2026-10-24 23:00 EET (10-24 lasts 25h).
	{"day before the gap day", "Asia/Beirut", "2026-03-27T12:00:00+02:00", "2026-03-27T22:30:00Z"},
	{"gap: day before spring forward", "Asia/Beirut", "2026-03-28T12:00:00+02:00", "2026-03-28T22:00:00Z"},
	{"day after spring forward", "Asia/Beirut", "2026-03-29T12:00:00+03:00", "2026-03-29T21:30:00Z"},
	{"day before the 25h day", "Asia/Beirut", "2026-10-23T12:00:00+03:00", "2026-10-23T21:30:00Z"},
	{"25h day", "Asia/Beirut", "2026-10-24T12:00:00+03:00", "2026-10-24T22:30:00Z"},
	{"25h day, repeated 23:30 first (EEST)", "Asia/Beirut", "2026-10-24T23:30:00+03:00", "2026-10-24T22:30:00Z"},
	{"25h day, repeated 23:30 second (EET)", "Asia/Beirut", "2026-10-24T23:30:00+02:00", "2026-10-24T22:30:00Z"},
	{"day after fall back", "Asia/Beirut", "2026-10-25T12:00:00+02:00", "2026-10-25T22:30:00Z"},

	{"half hour offset", "Asia/Kolkata", "2026-03-08T12:00:00+05:30", "2026-03-08T19:00:00Z"},
	{"half hour offset, last minute", "Asia/Kolkata", "2026-03-08T23:59:00+05:30", "2026-03-08T19:00:00Z"},
	{"half hour offset, local midnight", "Asia/Kolkata", "2026-03-09T00:00:00+05:30", "2026-03-09T19:00:00Z"},

	// DST 2026-04-05 03:00 ACDT -> 02:00 ACST; 2026-10-04 02:00 ACST -> 03:00 ACDT.
	{"day before fall back", "Australia/Adelaide", "2026-04-04T12:00:00+10:30", "2026-04-04T14:00:00Z"},
	{"repeated 02:30, second (ACST)", "Australia/Adelaide", "2026-04-05T02:30:00+09:30", "2026-04-05T15:00:00Z"},
	{"fall back day", "Australia/Adelaide", "2026-04-05T12:00:00+09:30", "2026-04-05T15:00:00Z"},
	{"day before spring forward", "Australia/Adelaide", "2026-10-03T12:00:00+09:30", "2026-10-03T15:00:00Z"},
	{"spring forward day", "Australia/Adelaide", "2026-10-04T12:00:00+10:30", "2026-10-04T14:00:00Z"},

	{"three quarter offset", "Asia/Kathmandu", "2026-06-15T12:00:00+05:45", "2026-06-15T18:45:00Z"},
	{"three quarter offset, local midnight", "Asia/Kathmandu", "2026-06-15T00:00:00+05:45", "2026-06-15T18:45:00Z"},

	// DST 2026-04-05 03:45 +1345 -> 02:45 +1245; 2026-09-27 02:45 +1245 -> 03:45 +1345.
	{"day before fall back", "Pacific/Chatham", "2026-04-04T12:00:00+13:45", "2026-04-04T10:45:00Z"},
	{"fall back day", "Pacific/Chatham", "2026-04-05T12:00:00+12:45", "2026-04-05T11:45:00Z"},
	{"day before spring forward", "Pacific/Chatham", "2026-09-26T12:00:00+12:45", "2026-09-26T11:45:00Z"},
	{"spring forward day", "Pacific/Chatham", "2026-09-27T12:00:00+13:45", "2026-09-27T10:45:00Z"},

	{"plus fourteen", "Pacific/Kiritimati", "2026-06-15T12:00:00+14:00", "2026-06-15T10:30:00Z"},
	{"plus fourteen, new year", "Pacific/Kiritimati", "2026-12-31T23:00:00+14:00", "2026-12-31T10:30:00Z"},
	// 1979-10-01 00:00 -10:40 jumped to 00:40 -10:00: 00:30 never showed.
	{"gap: 1979 offset change", "Pacific/Kiritimati", "1979-09-30T12:00:00-10:40", "1979-10-01T10:40:00Z"},
	// 1994-12-31 never happened: 1994-12-30 24:00 -10 became 1995-01-01 00:00 +14.
	{"gap: the skipped day 1994-12-31", "Pacific/Kiritimati", "1994-12-30T12:00:00-10:00", "1994-12-31T10:00:00Z"},
}

func TestDeadline(t *testing.T) {
	for _, tc := range deadlineCases {
		t.Run(tc.zone+"/"+tc.name, func(t *testing.T) {
			loc := mustLoad(t, tc.zone)
			ts := mustParse(t, tc.t)

			got := window.Deadline(ts, loc)

			assert.Equal(t, tc.want, utc(got))
			assert.Same(t, loc, got.Location(), "the deadline is reported in the app's zone")
		})
	}
}

// TestCheckEdges probes every deadline case to the millisecond on both
// sides: the deadline itself is still in the window, and a timestamp
// exactly at now + skew is not yet in the future.
func TestCheckEdges(t *testing.T) {
	const skew = 5 * time.Minute
	ms := time.Millisecond
	for _, tc := range deadlineCases {
		t.Run(tc.zone+"/"+tc.name, func(t *testing.T) {
			loc := mustLoad(t, tc.zone)
			ts := mustParse(t, tc.t)
			deadline := mustParse(t, tc.want)

			for _, probe := range []struct {
				name string
				now  time.Time
				want window.Verdict
			}{
				{"now at deadline", deadline, window.InWindow},
				{"now 1ms before deadline", deadline.Add(-ms), window.InWindow},
				{"now 1ms after deadline", deadline.Add(ms), window.Late},
				{"t at now+skew", ts.Add(-skew), window.InWindow},
				{"t 1ms beyond now+skew", ts.Add(-skew - ms), window.Future},
				{"now at t", ts, window.InWindow},
			} {
				t.Run(probe.name, func(t *testing.T) {
					v, d := window.Check(ts, probe.now, loc, skew)
					assert.Equal(t, probe.want, v)
					assert.Equal(t, tc.want, utc(d))
				})
			}
		})
	}
}

func TestCheckPrecedence(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	ts := mustParse(t, "2026-11-26T15:00:00-05:00") // deadline 2026-11-27T05:30:00Z
	for _, tc := range []struct {
		name string
		now  string
		skew time.Duration
		want window.Verdict
	}{
		{"zero skew, t equals now", "2026-11-26T15:00:00-05:00", 0, window.InWindow},
		{"zero skew, t 1ms ahead", "2026-11-26T14:59:59.999-05:00", 0, window.Future},
		// Only a negative skew makes a row both late and future: the
		// deadline is permanent, so Late wins.
		{"late and future, late wins", "2026-11-27T05:30:00.001Z", -24 * time.Hour, window.Late},
		{"negative skew, future", "2026-11-26T20:00:00Z", -time.Hour, window.Future},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := window.Check(ts, mustParse(t, tc.now), ny, tc.skew)
			assert.Equal(t, tc.want, v)
		})
	}
}

func TestVerdictString(t *testing.T) {
	assert.Equal(t, "in_window", window.InWindow.String())
	assert.Equal(t, "late", window.Late.String())
	assert.Equal(t, "future", window.Future.String())
	assert.Equal(t, "Verdict(9)", window.Verdict(9).String())
}

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		name, zone, t, now string
		skew               time.Duration
		want               string
	}{
		{
			"late", "America/New_York", "2026-11-26T15:00:00-05:00", "2026-11-27T01:42:00-05:00", 5 * time.Minute,
			"late: deadline was 2026-11-27 00:30 America/New_York (EST)",
		},
		{
			"late by a millisecond", "America/New_York", "2026-11-26T15:00:00-05:00", "2026-11-27T00:30:00.001-05:00", 0,
			"late: deadline was 2026-11-27 00:30 America/New_York (EST)",
		},
		{
			"future", "America/New_York", "2026-11-28T10:00:00-05:00", "2026-11-28T07:55:00-05:00", 5 * time.Minute,
			"future: timestamp 2026-11-28 10:00 America/New_York (EST) is beyond now + 5m skew",
		},
		{
			"future with seconds", "UTC", "2026-11-28T10:00:07.25Z", "2026-11-28T10:00:00Z", 0,
			"future: timestamp 2026-11-28 10:00:07.25 UTC is beyond now + 0s skew",
		},
		{
			"in window", "Asia/Kathmandu", "2026-06-15T12:00:00+05:45", "2026-06-15T21:00:00+05:45", time.Minute,
			"in window: deadline 2026-06-16 00:30 Asia/Kathmandu (+0545), in 3h30m",
		},
		{
			// The gap deadline shows the wall clock the zone jumped to.
			"late in a gap", "America/Havana", "2026-03-07T12:00:00-05:00", "2026-03-08T01:10:00-04:00", 0,
			"late: deadline was 2026-03-08 01:00 America/Havana (CDT)",
		},
		{
			// In an overlap the abbreviation tells the two 00:30s apart.
			"late in an overlap", "America/Havana", "2026-10-31T12:00:00-04:00", "2026-11-01T00:10:00-05:00", 0,
			"late: deadline was 2026-11-01 00:30 America/Havana (CDT)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := mustLoad(t, tc.zone)
			ts, now := mustParse(t, tc.t), mustParse(t, tc.now)
			v, deadline := window.Check(ts, now, loc, tc.skew)
			assert.Equal(t, tc.want, window.Reason(v, ts, now, deadline, loc, tc.skew))
		})
	}
}

// wallOf reads t's wall clock in its own location as if it were UTC, so
// wall clocks can be compared and subtracted without offsets.
func wallOf(t time.Time) time.Time {
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	return time.Date(y, m, d, hh, mm, ss, t.Nanosecond(), time.UTC)
}

func offsetOf(t time.Time) time.Duration {
	_, off := t.Zone()
	return time.Duration(off) * time.Second
}

// transitions lists every instant in [from, to) where loc's zone changes,
// straight from tzdata.
func transitions(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	for u := from; ; {
		_, end := u.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			return out
		}
		out = append(out, end)
		u = end
	}
}

// propertyStats counts which branch of the rule the samples exercised, so
// the property test can insist each one was actually reached.
type propertyStats struct{ exact, gap, overlap int }

// checkDeadline asserts the rule on one sample without reusing the
// implementation's arithmetic:
//   - the deadline is after t;
//   - its wall clock is 00:30 on the calendar day after t's local date, and
//     deadline - t equals the wall-clock distance from t to that 00:30
//     minus the change in UTC offset between them (24h30m from t's local
//     midnight, adjusted by the DST shift); or else (gap rule) it is a zone
//     transition the clocks jumped across 00:30 at;
//   - it is the earliest such instant: no instant in [t, deadline) shows
//     00:30 on d+1 or later. Within one zone period the wall clock rises,
//     so checking the last nanosecond of each period suffices; this is what
//     picks the earlier 00:30 in an overlap.
func checkDeadline(t *testing.T, loc *time.Location, ts time.Time, st *propertyStats) {
	t.Helper()
	dl := window.Deadline(ts, loc)
	msg := fmt.Sprintf("%s t=%s (%s) deadline=%s (%s)", loc, utc(ts), ts.In(loc), utc(dl), dl.In(loc))
	require.True(t, dl.After(ts), msg)

	lt := ts.In(loc)
	y, m, d := lt.Date()
	want := time.Date(y, m, d+1, 0, 30, 0, 0, time.UTC) // 00:30 on d+1, as a wall clock
	ldl := dl.In(loc)

	if wallOf(ldl).Equal(want) {
		st.exact++
		midnight := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		require.Equal(t, 24*time.Hour+30*time.Minute, want.Sub(midnight), msg)
		shift := offsetOf(ldl) - offsetOf(lt)
		require.Equal(t, want.Sub(wallOf(lt))-shift, dl.Sub(ts), msg)
		// Overlap: the same wall clock shows again later, under the offset
		// in force an hour or two on; the deadline must be the first one.
		for _, later := range []time.Duration{time.Hour, 2 * time.Hour} {
			alt := want.Add(-offsetOf(dl.Add(later))) // wall clock minus offset = instant
			if !alt.Equal(dl) && wallOf(alt.In(loc)).Equal(want) {
				require.True(t, dl.Before(alt), msg)
				st.overlap++
				break
			}
		}
	} else {
		st.gap++
		require.True(t, wallOf(ldl).After(want), "gap deadline shows a later wall clock: "+msg)
		start, _ := ldl.ZoneBounds()
		require.True(t, start.Equal(dl), "gap deadline is a zone transition: "+msg)
		require.True(t, wallOf(dl.Add(-time.Nanosecond).In(loc)).Before(want), "clocks jump across 00:30: "+msg)
		require.False(t, wallOf(ldl).Before(time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)), msg)
	}

	for _, e := range transitions(loc, ts, dl) {
		require.True(t, wallOf(e.Add(-time.Nanosecond).In(loc)).Before(want), "reached 00:30 before the deadline: "+msg)
	}
	require.True(t, wallOf(dl.Add(-time.Nanosecond).In(loc)).Before(want), msg)
}

func TestDeadlineProperties(t *testing.T) {
	const seed = 20260101
	rng := rand.New(rand.NewPCG(seed, seed))
	lo := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	hi := time.Date(2037, 12, 31, 0, 0, 0, 0, time.UTC)
	span := hi.Sub(lo).Milliseconds()
	var total propertyStats

	for _, name := range zones {
		t.Run(name, func(t *testing.T) {
			loc := mustLoad(t, name)
			var st propertyStats

			// Random instants at the API's millisecond resolution, plus a
			// second instant a random step later for monotonicity.
			for range 1000 {
				ts := lo.Add(time.Duration(rng.Int64N(span)) * time.Millisecond)
				checkDeadline(t, loc, ts, &st)
				step := time.Duration(rng.Int64N(int64(72 * time.Hour)))
				if rng.IntN(2) == 0 {
					step = time.Duration(rng.Int64N(int64(time.Second)))
				}
				a, b := window.Deadline(ts, loc), window.Deadline(ts.Add(step), loc)
				require.False(t, b.Before(a), "seed %d: %s t=%s step=%s", seed, name, utc(ts), step)
			}

			// Around every real transition: the samples that hit the gap
			// and overlap branches, and a dense sweep for monotonicity.
			for _, e := range transitions(loc, lo, hi) {
				for _, dt := range []time.Duration{
					-25 * time.Hour, -24*time.Hour - 30*time.Minute, -24 * time.Hour, -2 * time.Hour, -time.Hour,
					-30 * time.Minute, -time.Millisecond, 0, time.Millisecond, 30 * time.Minute, time.Hour, 24 * time.Hour,
				} {
					checkDeadline(t, loc, e.Add(dt), &st)
				}
				var prev time.Time
				for dt := -26 * time.Hour; dt <= 26*time.Hour; dt += 15 * time.Minute {
					for _, u := range []time.Time{e.Add(dt - time.Nanosecond), e.Add(dt)} {
						cur := window.Deadline(u, loc)
						require.False(t, cur.Before(prev), "%s: not monotonic at %s", name, utc(u))
						prev = cur
					}
				}
			}
			t.Logf("%s: %d exact, %d gap, %d overlap", name, st.exact, st.gap, st.overlap)
			total.exact += st.exact
			total.gap += st.gap
			total.overlap += st.overlap
		})
	}
	assert.Positive(t, total.gap, "no sample exercised the gap rule")
	assert.Positive(t, total.overlap, "no sample exercised the overlap rule")
}

func TestCheckDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	loc := mustLoad(t, "America/Havana")
	ts := mustParse(t, "2026-10-31T12:00:00-04:00")
	now := mustParse(t, "2026-11-01T00:10:00-04:00")
	allocs := testing.AllocsPerRun(100, func() { window.Check(ts, now, loc, time.Minute) })
	assert.Zero(t, allocs)
}

func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct{ zone, t string }{
		{"UTC", "2026-06-15T12:00:00Z"},
		{"America/New_York", "2026-06-15T12:00:00-04:00"},
		{"America/Havana", "2026-03-07T12:00:00-05:00"}, // gap: walks two zone periods
		{"Pacific/Chatham", "2026-09-26T12:00:00+12:45"},
	} {
		b.Run(bc.zone, func(b *testing.B) {
			loc := mustLoad(b, bc.zone)
			ts := mustParse(b, bc.t)
			now := ts.Add(3 * time.Hour)
			b.ReportAllocs()
			for b.Loop() {
				window.Check(ts, now, loc, 5*time.Minute)
			}
		})
	}
}
