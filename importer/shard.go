package importer

import (
	"fmt"
	"hash/fnv"
	"strconv"
)

// Shard selects a deterministic subset of rows, so that n hosts (cron
// machines, a Kubernetes Indexed Job, an Airflow mapped task) can split
// one export without coordinating. The zero value means "all rows".
type Shard struct {
	Index, Count int
}

// ParseShard reads "i/n" (0 <= i < n).
func ParseShard(s string) (Shard, error) {
	var sh Shard
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.Index, &sh.Count); err != nil || sh.Count < 1 ||
		sh.Index < 0 || sh.Index >= sh.Count || fmt.Sprintf("%d/%d", sh.Index, sh.Count) != s {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return sh, nil
}

// ShardOf is the shard, out of n, of a row: FNV-1a (64-bit) of its
// customer_dedup_id, or of its decimal row number when it has none (an
// invalid row, or dedup: none), modulo n. It depends on nothing but the
// row, so it is the same on every host and in every run.
func ShardOf(dedupID string, row int64, n int) int {
	h := fnv.New64a()
	if dedupID != "" {
		h.Write([]byte(dedupID))
	} else {
		h.Write([]byte("row:"))
		h.Write(strconv.AppendInt(nil, row, 10))
	}
	return int(h.Sum64() % uint64(n))
}

func (s Shard) owns(dedupID string, row int64) bool {
	return s.Count <= 1 || ShardOf(dedupID, row, s.Count) == s.Index
}
