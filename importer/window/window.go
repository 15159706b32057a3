// Package window decides whether a row's timestamp is still inside
// AppsFlyer's late acceptance window, so the importer never sends a row the
// API would silently re-date to its receive time.
//
// The S2S spec: events and visits must be received no later than 00:30 on
// the next calendar day in the app's timezone. For a timestamp t and the
// app's location loc:
//
//	d        = the calendar date of t in loc (t's own wall clock, so an
//	           instant in a repeated hour gets the date it really showed)
//	deadline = 00:30 on d+1 in loc, where d+1 is the next calendar date
//	           (never d + 24h: local days last 23, 24 or 25 hours)
//
// A row is InWindow when now <= deadline and t <= now + skew, Late when
// now > deadline, Future when t > now + skew. Late wins when both hold; with
// skew >= 0 that cannot happen, since t < deadline < now <= now + skew.
//
// # When 00:30 does not exist, or exists twice
//
// Some zones change their clocks at midnight, so the wall clock "00:30 on
// d+1" can be missing or ambiguous:
//
//	gap      America/Havana 2026-03-08: 00:00 CST jumps to 01:00 CDT.
//	         00:30 never shows. The deadline for rows dated 2026-03-07 is
//	         the transition instant, 05:00:00Z (shown as 01:00 CDT).
//	overlap  America/Havana 2026-11-01: 01:00 CDT falls back to 00:00 CST.
//	         00:30 shows twice, at 04:30Z (CDT) and 05:30Z (CST). The
//	         deadline for rows dated 2026-10-31 is the earlier, 04:30Z.
//	25h day  America/Santiago 2026-04-05: 00:00 -03 falls back to 23:00 -04
//	         on the 4th. 00:30 on the 5th shows once (04:30Z); the 4th
//	         simply lasts 25 hours.
//
// Both special cases follow from one conservative rule: the deadline is the
// first instant at or after t whose wall clock in loc reads 00:30 on d+1 or
// later. In a gap that is the instant the gap starts; in an overlap, the
// earlier 00:30. afimport would rather refuse a row the API might still have
// taken than send one it might silently re-date.
//
// The rule is computed explicitly from the zone's transitions
// (time.Time.ZoneBounds), not by time.Date's normalization, whose choice in
// a gap or an overlap is documented as not guaranteed.
//
// Every function here is pure: the caller injects now (the importer's
// clock, or --now in a dry run).
package window

import (
	"fmt"
	"strings"
	"time"
)

// Verdict is where a timestamp stands against the window.
type Verdict uint8

const (
	// InWindow: now <= deadline and t <= now + skew; the row may be sent.
	InWindow Verdict = iota
	// Late: now > deadline; the API would re-date the row, so it is not sent.
	Late
	// Future: t > now + skew; the row is not sent.
	Future
)

// String returns "in_window", "late" or "future".
func (v Verdict) String() string {
	switch v {
	case InWindow:
		return "in_window"
	case Late:
		return "late"
	case Future:
		return "future"
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// Deadline is the last instant the API accepts a row stamped t: 00:30 on
// the calendar day after t's date in loc, or, when that wall clock does not
// exist or exists twice, the first instant after t whose wall clock is at or
// past it (see the package doc). The result is in loc and always after t.
// loc must not be nil.
func Deadline(t time.Time, loc *time.Location) time.Time {
	// Each zone lookup costs (for dates past a zone's last listed
	// transition Go evaluates its POSIX rule), so read the offset once and
	// derive the local date from it in UTC arithmetic.
	lt := t.In(loc)
	_, off := lt.Zone()
	y, m, d := time.Unix(t.Unix()+int64(off), 0).UTC().Date()
	// The target wall clock as a count of seconds, read as if it were UTC.
	// time.Date with UTC normalizes day d+1 on the calendar (month and year
	// ends) and has no gaps or overlaps, so this is exact.
	wall := time.Date(y, m, d+1, 0, 30, 0, 0, time.UTC).Unix()

	// Walk loc's zone periods forward from t. Within a period [start, end)
	// with offset off, the wall clock of instant u is u+off and rises with
	// u, so the period reaches wall at u = wall-off if that is before end.
	// A later period whose very first instant already shows wall or past
	// means the clocks jumped over it: a gap, and the deadline is that
	// jump. The first period cannot: it reaches t, whose wall clock is on
	// day d, so before wall; this also makes every result later than t.
	// The loop visits the periods between t and the deadline, at most
	// ~50h apart: one or two in practice.
	cur := lt
	for {
		start, end := cur.ZoneBounds()
		o := int64(off)
		if !start.IsZero() && start.Unix()+o >= wall {
			return start
		}
		u := wall - o
		if end.IsZero() || u < end.Unix() {
			return time.Unix(u, 0).In(loc)
		}
		cur = end // end is already in loc
		_, off = cur.Zone()
	}
}

// Check places t against the window at now and returns the verdict with
// t's deadline. skew is how far ahead of now a timestamp may be (clocks of
// the exporting system and of this host disagree a little); Late takes
// precedence over Future.
func Check(t, now time.Time, loc *time.Location, skew time.Duration) (Verdict, time.Time) {
	deadline := Deadline(t, loc)
	switch {
	case now.After(deadline):
		return Late, deadline
	case t.After(now.Add(skew)):
		return Future, deadline
	}
	return InWindow, deadline
}

// Reason explains a verdict for the report, e.g.
//
//	late: deadline was 2026-11-27 00:30 America/New_York (EST)
//	future: timestamp 2026-11-28 10:00 America/New_York (EST) is beyond now + 5m skew
//	in window: deadline 2026-11-27 00:30 America/New_York (EST), in 3h30m
//
// Late and future reasons do not depend on now, so rows of one day share
// one reason and a summary can count them together. It holds timestamps
// only, never row data, so it is safe for reports.
// It allocates; call it for rows you report, not on the hot path.
func Reason(v Verdict, t, now, deadline time.Time, loc *time.Location, skew time.Duration) string {
	switch v {
	case Late:
		return "late: deadline was " + formatWall(deadline, loc)
	case Future:
		return "future: timestamp " + formatWall(t, loc) + " is beyond now + " + formatDuration(skew) + " skew"
	case InWindow:
		return "in window: deadline " + formatWall(deadline, loc) + ", in " + formatDuration(deadline.Sub(now))
	}
	return v.String()
}

// formatWall shows t on loc's wall clock with the zone name, and the
// abbreviation when it adds something: in an overlap "00:30 (CDT)" and
// "00:30 (CST)" are different instants.
func formatWall(t time.Time, loc *time.Location) string {
	lt := t.In(loc)
	layout := "2006-01-02 15:04"
	if lt.Second() != 0 || lt.Nanosecond() != 0 {
		layout = "2006-01-02 15:04:05.999"
	}
	s := lt.Format(layout) + " " + loc.String()
	if abbr, _ := lt.Zone(); abbr != loc.String() {
		s += " (" + abbr + ")"
	}
	return s
}

// formatDuration is time.Duration.String at the API's millisecond
// resolution, without a trailing "0s": 1h12m, 5m, 7.25s, 1ms. Below a
// millisecond it keeps full precision, so a row late by a hair does not
// read "0s ago".
func formatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + formatDuration(-d)
	}
	if d < time.Millisecond {
		return d.String()
	}
	s := d.Truncate(time.Millisecond).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return s
}
