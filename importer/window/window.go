// Package window computes AppsFlyer's late acceptance window.
// PLACEHOLDER: replaced by the real implementation.
package window

import "time"

// Verdict is where a timestamp stands against the window.
type Verdict uint8

const (
	InWindow Verdict = iota
	Late
	Future
)

// Deadline is the last instant the API accepts a row stamped t: 00:30 on
// the calendar day after t's date in loc.
func Deadline(t time.Time, loc *time.Location) time.Time { return t }

// Check places t against the window at now.
func Check(t, now time.Time, loc *time.Location, skew time.Duration) (Verdict, time.Time) {
	return InWindow, Deadline(t, loc)
}
