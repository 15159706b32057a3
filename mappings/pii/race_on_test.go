//go:build race

package pii

// raceEnabled: the race detector slows the library tenfold; the long
// differential test samples regions instead of walking them all.
const raceEnabled = true
