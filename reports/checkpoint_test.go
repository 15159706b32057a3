package reports

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer"
	"afimport/readers"
)

func TestReadCheckpoint(t *testing.T) {
	const h = Header + "\n"
	ok1 := "a.csv,1,accepted,,202,1,5,,,0123456789abcdef," + idA + "," + mapA + "\n"
	ok2 := "a.csv,2,failed,\"multi\nline, \"\"quoted\"\"\",503,3,9,,,," + idA + ",\n"
	ok3 := "b.csv,7,rejected,,400,1,9,,,00000000000000AB," + idB + "," + mapA + "\n"
	const lh = legacyHeader + "\n"
	legacy1 := "a.csv,1,accepted,,202,1,5,,,0123456789abcdef\n"
	tests := []struct {
		name    string
		input   string
		rows    int
		torn    bool
		errIs   error
		errLine int
	}{
		{"empty", "", 0, false, nil, 0},
		{"header only", h, 0, false, nil, 0},
		{"three rows", h + ok1 + ok2 + ok3, 3, false, nil, 0},
		{"torn last line", h + ok1 + ok2 + ok3[:12], 2, true, nil, 0},
		{"torn inside quoted field", h + ok1 + "a.csv,2,failed,\"multi\n", 1, true, nil, 0},
		{"unparsable terminated last line", h + ok1 + "a.csv,x,accepted,,,1,0,,,," + idA + ",\n", 1, true, nil, 0},
		{"legacy report", lh + legacy1 + legacy1, 1, false, nil, 0},
		{"legacy line in a new report", h + legacy1 + ok1, 0, false, ErrBadLine, 2},
		{"bad file id", h + "a.csv,1,accepted,,,1,0,,,,xyz,\n" + ok1, 0, false, ErrBadLine, 2},
		{"blank file id", h + "a.csv,1,accepted,,,1,0,,,,,\n" + ok1, 0, false, ErrBadLine, 2},
		{"bad mapping id", h + "a.csv,1,accepted,,,1,0,,,," + idA + ",0123\n" + ok1, 0, false, ErrBadLine, 2},
		{"last line parses but lacks newline", h + ok1 + strings.TrimSuffix(ok3, "\n"), 1, true, nil, 0},
		{"torn header", h[:10], 0, true, nil, 0},
		// ok2 spans lines 3-4, so the bad record starts at line 5.
		{"corrupt middle line", h + ok1 + ok2 + "a.csv,3,acepted,,,1,0,,,," + idA + ",\n" + ok3, 0, false, ErrBadLine, 5},
		{"wrong field count", h + "a.csv,1,accepted\n" + ok1, 0, false, ErrBadLine, 2},
		{"bad hash", h + "a.csv,1,accepted,,,1,0,,,0123," + idA + ",\n" + ok1, 0, false, ErrBadLine, 2},
		{"negative row", h + "a.csv,-1,accepted,,,1,0,,,," + idA + ",\n" + ok1, 0, false, ErrBadLine, 2},
		{"bare quote", h + "a.c\"sv,1,accepted,,,1,0,,,," + idA + ",\n" + ok1, 0, false, ErrBadLine, 2},
		{"foreign csv", "id,email\n1,x\n", 0, false, ErrNotReport, 1},
		{"second header in the middle", h + ok1 + h + ok3, 0, false, ErrBadLine, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.csv")
			require.NoError(t, os.WriteFile(path, []byte(tt.input), 0o644))
			cp, err := ReadCheckpoint(path)
			if tt.errIs != nil {
				require.ErrorIs(t, err, tt.errIs)
				assert.Nil(t, cp)
				var le *LineError
				require.True(t, errors.As(err, &le))
				assert.Equal(t, tt.errLine, le.Line)
				assert.Contains(t, err.Error(), path+":")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.rows, cp.Rows())
			assert.Equal(t, tt.torn, cp.Torn())
		})
	}
}

func TestReadCheckpointNDJSON(t *testing.T) {
	l := func(row, status, hash string) string {
		return `{"file":"a.csv","row":` + row + `,"status":"` + status + `","reason":"","attempts":1,"latency_ms":0,"dedup_id":"","message_id":"","row_hash":"` + hash + `","file_id":"` + idA + `","mapping_id":""}` + "\n"
	}
	good := l("1", "accepted", "0123456789abcdef") + l("2", "failed", "")
	legacy := `{"file":"a.csv","row":1,"status":"accepted","reason":"","attempts":1,"latency_ms":0,"dedup_id":"","message_id":"","row_hash":""}` + "\n"
	tests := []struct {
		name    string
		input   string
		rows    int
		torn    bool
		errIs   error
		errLine int
	}{
		{"two rows", good, 2, false, nil, 0},
		{"torn", good + l("3", "accepted", "")[:40], 2, true, nil, 0},
		{"garbage last", good + "}{\n", 2, true, nil, 0},
		{"bad middle", good + "not json\n" + l("3", "accepted", ""), 0, false, ErrBadLine, 3},
		{"missing row", good + `{"file":"a.csv","status":"accepted","attempts":1,"latency_ms":0}` + "\n" + good, 0, false, ErrBadLine, 3},
		{"row not a number", good + l(`"3"`, "accepted", "") + good, 0, false, ErrBadLine, 3},
		{"foreign first line", "hello\n" + good, 0, false, ErrNotReport, 1},
		{"legacy report", legacy + legacy, 1, false, nil, 0},
		{"legacy line in a new report", good + legacy + good, 0, false, ErrBadLine, 3},
		{"new line in a legacy report", legacy + good, 0, false, ErrBadLine, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.ndjson")
			require.NoError(t, os.WriteFile(path, []byte(tt.input), 0o644))
			cp, err := ReadCheckpoint(path)
			if tt.errIs != nil {
				require.ErrorIs(t, err, tt.errIs)
				var le *LineError
				require.True(t, errors.As(err, &le))
				assert.Equal(t, tt.errLine, le.Line)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.rows, cp.Rows())
			assert.Equal(t, tt.torn, cp.Torn())
		})
	}
}

func TestReadCheckpointMissingFile(t *testing.T) {
	_, err := ReadCheckpoint(filepath.Join(t.TempDir(), "nope.csv"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestCheckpointTornMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	require.NoError(t, os.WriteFile(path, []byte(Header+"\na.csv,1,accepted,,,1,0,,,,"+idA+",\na.csv,2,acc"), 0o644))
	cp, err := ReadCheckpoint(path)
	require.NoError(t, err)
	assert.Equal(t, "resuming: 1 accepted earlier, 0 to retry (ignored a torn last line 3)", cp.String())
}

// Rows far apart go to the sparse map; a row the dense range later grows
// over is still found and counted once.
func TestCheckpointSparseRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	var rs []*importer.Result
	rs = append(rs, res("a.csv", 1_000_000_000_000, importer.StatusAccepted, "0000000000000001"))
	rs = append(rs, res("a.csv", 70_000, importer.StatusFailed, "0000000000000002"))
	for row := int64(1); row <= 70_001; row++ {
		if row == 70_000 {
			continue
		}
		rs = append(rs, res("a.csv", row, importer.StatusAccepted, ""))
	}
	rs = append(rs, res("a.csv", 70_000, importer.StatusAccepted, "0000000000000003"))
	writeAll(t, path, Options{}, rs)
	cp, err := ReadCheckpoint(path)
	require.NoError(t, err)
	assert.Equal(t, 70_002, cp.Rows())
	assert.Equal(t, 70_002, cp.Count(importer.StatusAccepted))
	assert.Equal(t, 0, cp.Count(importer.StatusFailed))
	st, hash, ok := cp.Lookup(readers.Pos{File: "a.csv", Row: 70_000})
	require.True(t, ok)
	assert.Equal(t, importer.StatusAccepted, st)
	assert.Equal(t, "0000000000000003", hash)
	_, hash, ok = cp.Lookup(readers.Pos{File: "a.csv", Row: 1_000_000_000_000})
	require.True(t, ok)
	assert.Equal(t, "0000000000000001", hash)
	_, _, ok = cp.Lookup(readers.Pos{File: "a.csv", Row: 0})
	assert.False(t, ok)
	_, _, ok = cp.Lookup(readers.Pos{File: "other.csv", Row: 1})
	assert.False(t, ok)
}

func TestCheckpointNDJSONInvalidUTF8FileName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.ndjson")
	pos := readers.Pos{File: "bad\xffname.csv", Row: 3}
	writeAll(t, path, Options{}, []*importer.Result{{Pos: pos, Status: importer.StatusAccepted, RowHash: "0123456789abcdef"}})
	cp, err := ReadCheckpoint(path)
	require.NoError(t, err)
	st, _, ok := cp.Lookup(pos)
	require.True(t, ok)
	assert.Equal(t, importer.StatusAccepted, st)
}

// About 9 bytes a row, not a map entry per line.
func TestCheckpointMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200k rows")
	}
	path := filepath.Join(t.TempDir(), "r.csv")
	w, err := Create(path, Options{})
	require.NoError(t, err)
	r := res("a.csv", 0, importer.StatusAccepted, "0123456789abcdef")
	const n = 200_000
	for i := int64(1); i <= n; i++ {
		r.Pos.Row = i
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close())
	allocs := testing.AllocsPerRun(1, func() {
		cp, err := ReadCheckpoint(path)
		require.NoError(t, err)
		require.Equal(t, n, cp.Rows())
	})
	assert.Less(t, allocs, 200.0, "allocations do not grow per line")
}
