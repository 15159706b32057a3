package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"sync"
)

// stdinName is how readers name standard input.
const stdinName = "-"

// FileID identifies an input file in a report whatever its spelling: 16
// hex digits of the SHA-256 of its canonical path (absolute, cleaned,
// symbolic links resolved). m/in.csv, ./m/in.csv, /data/m/in.csv, a link
// to it, or the same file found through its folder or a glob all have the
// same id; two files with the same content in two folders do not.
// Standard input ("-") has one fixed id, so a resume under --report
// matches its rows by row number.
//
// The id depends on where the file is, not on what it holds: a file moved
// to another path (another host, another mount point) is a new file to a
// resume. Its content is vouched for by each line's row_hash.
func FileID(name string) string {
	canon := name
	if name != stdinName {
		canon = canonicalPath(name)
	}
	sum := sha256.Sum256([]byte(canon))
	return hex.EncodeToString(sum[:8])
}

// canonicalPath resolves name as far as the filesystem allows: a file that
// vanished keeps its absolute, cleaned name.
func canonicalPath(name string) string {
	abs, err := filepath.Abs(name)
	if err != nil {
		return filepath.Clean(name)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	// The file itself may be gone while its folder is not.
	dir, base := filepath.Split(abs)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(real, base)
	}
	return abs
}

// idCache memoizes an identity function: a run has few files and many
// rows. It is safe for concurrent use.
type idCache struct {
	fn func(string) string
	m  sync.Map // name -> id
}

func newIDCache(fn func(string) string) *idCache {
	if fn == nil {
		fn = FileID
	}
	return &idCache{fn: fn}
}

func (c *idCache) id(name string) string {
	if v, ok := c.m.Load(name); ok {
		return v.(string)
	}
	id := c.fn(name)
	c.m.Store(name, id)
	return id
}
