package mappings

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestURLCacheAdmitsOnSecondSighting: a URL seen once is checked but not
// copied into the cache; seen again, it is cached and answered from there
// with the same verdict.
func TestURLCacheAdmitsOnSecondSighting(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://example.com/cache-test/a?x=1", true},
		{"not a url cache-test", false},
		{"ftp://example.com/cache-test", false}, // http(s) only
	} {
		first := validURL(tt.url, true)
		assert.Equal(t, tt.ok, first, tt.url)
		assert.Equal(t, tt.ok, validURL(tt.url, true), tt.url)
		assert.Equal(t, tt.ok, validURL(tt.url, true), tt.url, "from the cache")
	}
	// Distinct URLs allocate what checking them does, and no cache entry.
	// The cache outlives the test: the nonce keeps a run under -count from
	// meeting the URLs of the run before it.
	nonce := time.Now().UnixNano()
	urls := make([]string, 1000)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://example.com/cache-test/%d/distinct/%d?utm_source=x", nonce, i)
	}
	i := 0
	checking := testing.AllocsPerRun(500, func() {
		checkURL(urls[i%len(urls)], true)
		i++
	})
	i = 500 // URLs not seen by validURL yet
	distinct := testing.AllocsPerRun(400, func() {
		validURL(urls[i%len(urls)], true)
		i++
	})
	assert.Equal(t, checking, distinct)
	j := 0
	repeated := testing.AllocsPerRun(500, func() {
		validURL(urls[j%4], true)
		j++
	})
	assert.Zero(t, repeated, "a repeated URL is answered from the cache")
}
