package importer

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShardsPartitionRows(t *testing.T) {
	rows := ids(1000)
	rows[7] = []string{"bad", ""}
	rows[8] = []string{"ragged", ""}
	seen := map[int64]int{}
	for i := range 3 {
		res := &memResults{}
		o := baseOpts(rows, SenderFunc(accept), res)
		o.Shard = Shard{Index: i, Count: 3}
		_, err := Run(context.Background(), o)
		require.NoError(t, err)
		assert.InDelta(t, 333, len(res.all), 80, "shard %d is roughly a third", i)
		for _, r := range res.all {
			seen[r.Pos.Row]++
			if r.DedupID != "" {
				assert.Equal(t, i, ShardOf(r.DedupID, r.Pos.Row, 3))
			}
		}
	}
	require.Len(t, seen, 1000, "every row in some shard")
	for row, n := range seen {
		require.Equal(t, 1, n, "row %d in exactly one shard", row)
	}
}

func TestParseShard(t *testing.T) {
	sh, err := ParseShard("2/4")
	require.NoError(t, err)
	assert.Equal(t, Shard{2, 4}, sh)
	for _, bad := range []string{"4/4", "-1/2", "1/0", "a/b", "1/2x", "1"} {
		_, err := ParseShard(bad)
		assert.Error(t, err, bad)
	}
	// Stable across runs and hosts: pinned values.
	assert.Equal(t, ShardOf("r-1001", 1, 8), ShardOf("r-1001", 99, 8))
	assert.Equal(t, 6, ShardOf("r-1001", 0, 8)) // pinned: changing the hash re-shards every export
}
