// Package memlimit keeps the Go runtime's soft memory limit at a memory
// budget without letting the collector thrash.
//
// A soft limit (debug.SetMemoryLimit) makes the collector run before the
// heap reaches twice its live size, so a run stays near its budget instead
// of doubling its live data. But a limit at or below what the run really
// needs (its live heap plus goroutine stacks: a thousand requests in flight
// over HTTP/1.1 hold ~40 MB) leaves the collector no room: it runs back to
// back, up to half the CPU. So the limit is the budget, or the working set
// plus some headroom when that is more, re-read as the run goes. The
// headroom starts at an eighth of the working set and widens (up to a half)
// while the collector takes more than a quarter of the CPU the program uses,
// trading memory back for CPU; it narrows again below a tenth.
package memlimit

import (
	"bytes"
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"time"
)

// Usage is what the runtime holds, in bytes, and the CPU it has used, in
// seconds.
type Usage struct {
	Total    uint64 // mapped by the runtime (/memory/classes/total)
	Released uint64 // returned to the OS (/memory/classes/heap/released)
	Free     uint64 // free heap kept (/memory/classes/heap/free)
	Objects  uint64 // heap objects, live or not yet swept (/memory/classes/heap/objects)
	Live     uint64 // live heap as of the last collection (/gc/heap/live)

	UserCPU float64 // running Go code (/cpu/classes/user)
	GCCPU   float64 // collecting, less the idle time it soaked up (/cpu/classes/gc/...)
}

// WorkingSet is what the run needs whatever the collector does: the
// runtime's memory less free, released and dead heap.
func (u Usage) WorkingSet() int64 {
	held := int64(u.Total) - int64(u.Released) - int64(u.Free) - int64(u.Objects)
	return max(held, 0) + int64(u.Live)
}

const (
	minHeadroom = 4 << 20 // bytes: the least headroom over the working set
	minShare    = 1.0 / 8 // of the working set: the headroom at first
	maxShare    = 1.0 / 2
	gcBusy      = 0.25 // share of the CPU used above which the headroom widens
	gcIdle      = 0.10 // and below which it narrows
)

// Limit is the soft limit for a budget of floor bytes of Go memory, the
// usage u and a headroom of share of the working set: the budget, or the
// working set plus its headroom when that is more.
func Limit(floor int64, u Usage, share float64) int64 {
	ws := u.WorkingSet()
	return max(floor, ws+max(int64(float64(ws)*share), minHeadroom))
}

var sampleNames = [...]string{
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/live:bytes",
	"/cpu/classes/user:cpu-seconds",
	// Not gc/total: it counts the idle CPU the collector takes on a
	// program that mostly waits (a run at 1,000 rows/s), which costs nothing.
	"/cpu/classes/gc/mark/assist:cpu-seconds",
	"/cpu/classes/gc/mark/dedicated:cpu-seconds",
	"/cpu/classes/gc/pause:cpu-seconds",
}

// Read reads the runtime's usage.
func Read() Usage {
	var s [len(sampleNames)]metrics.Sample
	for i, n := range sampleNames {
		s[i].Name = n
	}
	metrics.Read(s[:])
	u64 := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	f64 := func(i int) float64 {
		if s[i].Value.Kind() != metrics.KindFloat64 {
			return 0
		}
		return s[i].Value.Float64()
	}
	return Usage{Total: u64(0), Released: u64(1), Free: u64(2), Objects: u64(3), Live: u64(4),
		UserCPU: f64(5), GCCPU: f64(6) + f64(7) + f64(8)}
}

// Governor sets the soft limit every Every from Read, until the context of
// Run ends. Zero fields take the runtime's own functions.
type Governor struct {
	// Budget is the process's memory budget in bytes. What the process
	// holds outside the Go runtime (Outside) is taken from it, leaving at
	// least MinFloor for the runtime.
	Budget  int64
	Outside func() int64      // default FileRSS
	Every   time.Duration     // default 250 ms
	Read    func() Usage      // default Read
	Set     func(int64) int64 // default debug.SetMemoryLimit
}

// MinFloor is the least Go memory a budget leaves the runtime.
const MinFloor = 16e6

// floor is the Go memory the budget leaves once what the process holds
// outside the runtime is taken out.
func (g Governor) floor() int64 {
	return max(g.Budget-g.Outside(), MinFloor)
}

// Run sets the limit now and then every g.Every until ctx ends, and leaves
// the last limit in place. Run it on its own goroutine.
func (g Governor) Run(ctx context.Context) {
	if g.Every <= 0 {
		g.Every = 250 * time.Millisecond
	}
	t := time.NewTicker(g.Every)
	defer t.Stop()
	s := g.start()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.step()
		}
	}
}

// state is a running governor's memory of the last step.
type state struct {
	g     Governor
	share float64
	last  Usage
	limit int64
}

func (g Governor) start() *state {
	if g.Read == nil {
		g.Read = Read
	}
	if g.Set == nil {
		g.Set = debug.SetMemoryLimit
	}
	if g.Outside == nil {
		g.Outside = FileRSS
	}
	s := &state{g: g, share: minShare, limit: -1}
	s.last = g.Read()
	s.apply(s.last)
	return s
}

// step adapts the headroom to the collector's share of the CPU since the
// last step, and sets the limit.
func (s *state) step() {
	u := s.g.Read()
	gc, user := u.GCCPU-s.last.GCCPU, u.UserCPU-s.last.UserCPU
	if used := gc + user; used > 0.01 { // an idle spell says nothing
		switch share := gc / used; {
		case share > gcBusy:
			s.share = min(s.share*2, maxShare)
		case share < gcIdle:
			s.share = max(s.share/2, minShare)
		}
	}
	s.last = u
	s.apply(u)
}

func (s *state) apply(u Usage) {
	if l := Limit(s.g.floor(), u, s.share); l != s.limit {
		s.g.Set(l)
		s.limit = l
	}
}

// defaultFileRSS is FileRSS where the kernel does not say: about what
// afimport's binary has mapped once it runs.
const defaultFileRSS = 24e6

// FileRSS is the memory of file-backed pages the process has mapped (its
// binary's text and read-only data, /proc/self/status RssFile plus
// RssShmem): part of its RSS, not of the Go runtime's memory. It varies by
// several MB with the page cache's state (two copies of one binary differ),
// which is why it is read rather than assumed.
func FileRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return defaultFileRSS
	}
	return fileRSS(b)
}

func fileRSS(status []byte) int64 {
	var n int64
	found := false
	for line := range bytes.Lines(status) {
		for _, key := range [...]string{"RssFile:", "RssShmem:"} {
			rest, ok := bytes.CutPrefix(line, []byte(key))
			if !ok {
				continue
			}
			f := bytes.Fields(rest)
			if len(f) != 2 || string(f[1]) != "kB" {
				continue
			}
			kb, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				continue
			}
			n += kb << 10
			found = true
		}
	}
	if !found {
		return defaultFileRSS
	}
	return n
}
