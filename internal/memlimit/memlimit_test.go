package memlimit

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const mb = 1 << 20

func TestWorkingSet(t *testing.T) {
	u := Usage{Total: 100 * mb, Released: 10 * mb, Free: 20 * mb, Objects: 50 * mb, Live: 30 * mb}
	// 20 MB of stacks, metadata and such, plus 30 MB of live heap.
	assert.Equal(t, int64(50*mb), u.WorkingSet())
	assert.Equal(t, int64(0), Usage{}.WorkingSet())
	// Counters read at slightly different moments never go negative.
	assert.Equal(t, int64(mb), Usage{Total: 10 * mb, Objects: 20 * mb, Live: mb}.WorkingSet())
}

func TestLimit(t *testing.T) {
	small := Usage{Total: 20 * mb, Objects: 10 * mb, Live: 5 * mb} // working set 15 MB
	big := Usage{Total: 80 * mb, Objects: 40 * mb, Live: 40 * mb}  // working set 80 MB
	tests := []struct {
		name  string
		floor int64
		u     Usage
		share float64
		want  int64
	}{
		{"under the budget: the budget", 40 * mb, small, minShare, 40 * mb},
		{"over it: the working set and an eighth", 40 * mb, big, minShare, 90 * mb},
		{"over it, wider headroom", 40 * mb, big, maxShare, 120 * mb},
		{"never less than 4 MB of headroom", 0, small, minShare, 19 * mb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Limit(tt.floor, tt.u, tt.share))
		})
	}
}

// TestHeadroomFollowsTheCollector drives a governor with a fake runtime: a
// collector busy over a quarter of the CPU widens the headroom step by step
// up to a half, an idle one narrows it back to an eighth, and an idle
// program leaves it as it is.
func TestHeadroomFollowsTheCollector(t *testing.T) {
	u := Usage{Total: 80 * mb, Objects: 40 * mb, Live: 40 * mb} // working set 80 MB
	var set []int64
	g := Governor{Budget: 40 * mb, Outside: func() int64 { return 0 }, Read: func() Usage { return u }, Set: func(l int64) int64 { set = append(set, l); return 0 }}
	s := g.start()
	require.Equal(t, []int64{90 * mb}, set)
	busy := func(gc, user float64) { u.GCCPU += gc; u.UserCPU += user; s.step() }

	busy(0.3, 0.7) // 30% in the collector
	assert.Equal(t, int64(100*mb), s.limit, "a quarter")
	busy(0.3, 0.7)
	busy(0.3, 0.7)
	assert.Equal(t, int64(120*mb), s.limit, "at most a half")
	busy(0.001, 0.002) // idle: no change
	assert.Equal(t, int64(120*mb), s.limit)
	busy(0.15, 0.85) // 15%: between the thresholds, no change
	assert.Equal(t, int64(120*mb), s.limit)
	busy(0.05, 0.95)
	busy(0.05, 0.95)
	busy(0.05, 0.95)
	assert.Equal(t, int64(90*mb), s.limit, "back to an eighth")
	assert.Equal(t, []int64{90 * mb, 100 * mb, 120 * mb, 100 * mb, 90 * mb}, set, "set only on a change")

	u.Live, u.Objects, u.Total = 5*mb, 5*mb, 20*mb // the working set falls under the budget
	busy(0.01, 0.99)
	assert.Equal(t, int64(40*mb), s.limit)
}

// TestRunSetsTheRuntimeLimit runs the real thing briefly: the limit is set
// at once, to at least the budget, and Run returns when its context ends.
func TestRunSetsTheRuntimeLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Governor{Budget: 1 << 40, Outside: func() int64 { return 0 }, Every: time.Millisecond}.Run(ctx)
		close(done)
	}()
	require.Eventually(t, func() bool { return debug.SetMemoryLimit(-1) == 1<<40 }, 5*time.Second, time.Millisecond)
	runtime.GC()
	cancel()
	<-done
	u := Read()
	assert.Positive(t, u.Total)
	assert.Positive(t, u.Live)
	assert.Positive(t, u.WorkingSet())
}

func TestFloorLeavesOutWhatIsOutsideTheRuntime(t *testing.T) {
	outside := int64(24e6)
	g := Governor{Budget: 64e6, Outside: func() int64 { return outside }}
	assert.Equal(t, int64(40e6), g.floor())
	outside = 60e6
	assert.Equal(t, int64(MinFloor), g.floor(), "at least MinFloor")
}

func TestFileRSS(t *testing.T) {
	status := "Name:\tafimport\nVmRSS:\t   60000 kB\nRssAnon:\t   30000 kB\nRssFile:\t   24000 kB\nRssShmem:\t       8 kB\n"
	assert.Equal(t, int64(24008<<10), fileRSS([]byte(status)))
	assert.Equal(t, int64(defaultFileRSS), fileRSS([]byte("Name:\tx\n")), "a kernel that does not say")
	assert.Equal(t, int64(defaultFileRSS), fileRSS([]byte("RssFile:\t12 MB\n")), "an unknown unit")
	if runtime.GOOS == "linux" {
		assert.Positive(t, FileRSS())
	}
}
