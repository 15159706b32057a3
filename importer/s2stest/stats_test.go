package s2stest

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPerSecondCounts(t *testing.T) {
	c := newCounters(0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				c.arrived(int64(1_700_000_000 + (g*1000+i)%3)) // three seconds, interleaved
			}
		}()
	}
	wg.Wait()
	s := c.snapshot()
	assert.EqualValues(t, 8000, s.Requests)
	var sum int64
	for _, sc := range s.PerSecond {
		sum += sc.Requests
	}
	assert.EqualValues(t, 8000, sum, "no arrival lost at a bucket's move to a new second")
	assert.Len(t, s.PerSecond, 3)
	assert.Less(t, s.PerSecond[0].Unix, s.PerSecond[2].Unix, "oldest first")

	// An hour later the ring's buckets are reused; the old seconds go.
	c.arrived(1_700_000_000 + secondsKept)
	s = c.snapshot()
	assert.Equal(t, SecondCount{Unix: 1_700_000_000 + secondsKept, Requests: 1}, s.PerSecond[len(s.PerSecond)-1])
	for _, sc := range s.PerSecond {
		assert.Greater(t, sc.Unix, int64(1_700_000_000), "a second over an hour old is still listed")
	}

	c.reset()
	assert.Empty(t, c.snapshot().PerSecond)
}
