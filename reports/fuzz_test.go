package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer"
	"afimport/readers"
)

// FuzzReadCheckpoint: arbitrary bytes never panic, in either format, and a
// checkpoint never holds more rows than the input has lines.
func FuzzReadCheckpoint(f *testing.F) {
	for _, name := range []string{"report.csv.golden", "report.ndjson.golden"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(Header + "\na.csv,1,accepted,,,1,0,,,\"\n"))
	f.Add([]byte(Header + "\na.csv,99999999999,accepted,,,1,0,,,\na.csv,1,skipped,,,1,0,,,0123456789abcdef\n"))
	f.Add([]byte(`{"file":"a","row":1,"status":"accepted","attempts":1,"latency_ms":0}` + "\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ndjson := range []bool{false, true} {
			cp, _, err := readCheckpoint(bytes.NewReader(data), "fuzz", ndjson, nil)
			if err != nil {
				assert.Nil(t, cp)
				continue
			}
			assert.LessOrEqual(t, cp.Rows(), bytes.Count(data, []byte{'\n'}))
			total := 0
			for _, st := range importer.Statuses {
				total += cp.Count(st)
			}
			assert.Equal(t, cp.Rows(), total)
		}
	})
}

// FuzzWriteRoundTrip: whatever strings a Result holds, the line written
// reads back as the same row, status and hash, in both formats.
func FuzzWriteRoundTrip(f *testing.F) {
	f.Add("a.csv", int64(1), "reason, \"quoted\"\nline", "d", "m", uint8(0))
	f.Add(" x\r", int64(7), "\x00\xff", "\"", "{}", uint8(3))
	f.Fuzz(func(t *testing.T, file string, row int64, reason, dedup, msg string, st uint8) {
		if row < 1 {
			return
		}
		r := &importer.Result{Pos: readers.Pos{File: file, Row: row}, Reason: reason, DedupID: dedup, MessageID: msg,
			Status: importer.Statuses[int(st)%len(importer.Statuses)], RowHash: "00ff00ff00ff00ff", HTTPStatus: int(st)}
		for _, name := range []string{"r.csv", "r.ndjson"} {
			path := filepath.Join(t.TempDir(), name)
			writeAll(t, path, Options{}, []*importer.Result{r})
			cp, err := ReadCheckpoint(path)
			require.NoError(t, err)
			require.False(t, cp.Torn())
			status, hash, ok := cp.Lookup(r.Pos)
			require.True(t, ok, "%s: %q row %d", name, file, row)
			assert.Equal(t, r.Status, status)
			assert.Equal(t, r.RowHash, hash)
		}
	})
}
