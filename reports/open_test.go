package reports

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer"
	"afimport/readers"
)

const (
	mapOld  = "1111111122222222"
	mapApp2 = "3333333322222222" // another app, the same rest
	mapNew  = "1111111144444444"
)

func TestOpenModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")

	w, cp, err := Open(path, OpenOptions{Mode: New, Options: Options{MappingID: mapOld}})
	require.NoError(t, err)
	assert.Nil(t, cp, "nothing to resume in a new report")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, Header+"\n", string(data), "the header reaches the file before Open returns")
	require.NoError(t, w.Write(res("a.csv", 1, importer.StatusAccepted, "0123456789abcdef")))
	require.NoError(t, w.Close())
	written, err := os.ReadFile(path)
	require.NoError(t, err)

	_, _, err = Open(path, OpenOptions{Mode: New, Options: Options{MappingID: mapOld}})
	require.ErrorIs(t, err, ErrExists)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "--resume")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, written, after, "a refused report is untouched")

	w, cp, err = Open(path, OpenOptions{Mode: Resume, Options: Options{MappingID: mapOld}})
	require.NoError(t, err)
	require.NotNil(t, cp)
	st, _, ok := cp.Lookup(readers.Pos{File: "a.csv", Row: 1})
	require.True(t, ok)
	assert.Equal(t, importer.StatusAccepted, st)
	require.NoError(t, w.Close())

	w, cp, err = Open(path, OpenOptions{Mode: Overwrite, Options: Options{MappingID: mapNew}})
	require.NoError(t, err)
	assert.Nil(t, cp)
	require.NoError(t, w.Close())
	data, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, Header+"\n", string(data))

	// Resume of a report that does not exist yet: a new report.
	other := filepath.Join(dir, "other.ndjson")
	w, cp, err = Open(other, OpenOptions{Mode: Resume, Options: Options{MappingID: mapOld}})
	require.NoError(t, err)
	assert.Nil(t, cp)
	require.NoError(t, w.Close())
}

// One writer per report: a second Open fails at once, naming the holder;
// once the first is closed the report is free again.
func TestOpenLocksTheReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	w, _, err := Open(path, OpenOptions{Mode: New})
	require.NoError(t, err)
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, mode := range []Mode{New, Resume, Overwrite} {
		_, _, err = Open(path, OpenOptions{Mode: mode})
		var le *LockedError
		require.ErrorAs(t, err, &le, "mode %d", mode)
		assert.Equal(t, path, le.Path)
		if runtime.GOOS == "linux" {
			assert.Equal(t, os.Getpid(), le.PID)
			assert.Contains(t, err.Error(), "another afimport (pid ")
		}
	}
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "a refused Open (Overwrite included) does not touch the report")
	require.NoError(t, w.Close())
	w, _, err = Open(path, OpenOptions{Mode: Resume})
	require.NoError(t, err)
	require.NoError(t, w.Close())
}

func TestOpenResumeChecksTheMapping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	writeAll(t, path, Options{MappingID: mapOld}, []*importer.Result{
		res("a.csv", 1, importer.StatusAccepted, "0123456789abcdef"),
		res("a.csv", 2, importer.StatusFailed, "0123456789abcdee"),
	})
	written, err := os.ReadFile(path)
	require.NoError(t, err)

	tests := []struct {
		name    string
		mapping string
		appOnly bool
	}{
		{"another app", mapApp2, true},
		{"a changed mapping", mapNew, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Open(path, OpenOptions{Mode: Resume, MappingName: "m2.yaml", Options: Options{MappingID: tt.mapping}})
			var me *MappingError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tt.appOnly, me.AppOnly)
			for _, want := range []string{path, "m2.yaml", "--report", "--overwrite", "--mapping-changed"} {
				assert.Contains(t, err.Error(), want)
			}
			if tt.appOnly {
				assert.Contains(t, err.Error(), "only the app id differs")
			}
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, written, after, "a refused resume does not touch the report")
		})
	}

	// A deliberate fix: accepted rows stay settled; new lines carry the new
	// mapping, which the next resume then expects.
	w, cp, err := Open(path, OpenOptions{Mode: Resume, MappingChanged: true, Options: Options{MappingID: mapNew}})
	require.NoError(t, err)
	st, hash, ok := cp.Lookup(readers.Pos{File: "a.csv", Row: 1})
	require.True(t, ok)
	assert.Equal(t, importer.StatusAccepted, st)
	assert.Empty(t, hash, "the row hash covers the old mapping's columns: not compared")
	require.NoError(t, w.Write(res("a.csv", 1, importer.StatusSkipped, "0123456789abcdef")))
	require.NoError(t, w.Write(res("a.csv", 2, importer.StatusAccepted, "0123456789abcdee")))
	require.NoError(t, w.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(data), ","+mapNew+"\n"), "%s", data)

	w, _, err = Open(path, OpenOptions{Mode: Resume, Options: Options{MappingID: mapNew}})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	_, _, err = Open(path, OpenOptions{Mode: Resume, Options: Options{MappingID: mapOld}})
	require.ErrorAs(t, err, new(*MappingError), "the report now belongs to the new mapping")
}

// The same file spelled five ways is one file; two files with the same
// name and content in two folders are two.
func TestCheckpointFileIdentity(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, os.MkdirAll(filepath.Join("m", "sub"), 0o755))
	require.NoError(t, os.MkdirAll("n", 0o755))
	for _, p := range []string{"m/in.csv", "n/in.csv"} {
		require.NoError(t, os.WriteFile(p, []byte("a\n1\n"), 0o644))
	}
	require.NoError(t, os.Symlink(filepath.Join(dir, "m", "in.csv"), "link.csv"))
	report := filepath.Join(dir, "r.csv")
	writeAll(t, report, Options{}, []*importer.Result{res("m/in.csv", 1, importer.StatusAccepted, "0123456789abcdef")})
	cp, err := ReadCheckpoint(report)
	require.NoError(t, err)
	for _, name := range []string{"m/in.csv", "./m/in.csv", filepath.Join(dir, "m/in.csv"), "link.csv", "m/sub/../in.csv", "m//in.csv"} {
		st, _, ok := cp.Lookup(readers.Pos{File: name, Row: 1})
		assert.True(t, ok, name)
		assert.Equal(t, importer.StatusAccepted, st, name)
	}
	_, _, ok := cp.Lookup(readers.Pos{File: "n/in.csv", Row: 1})
	assert.False(t, ok, "a file of the same name and content in another folder is another file")
	assert.Equal(t, FileID("-"), FileID("-"))
	assert.NotEqual(t, FileID("-"), FileID("m/in.csv"))
}

// A legacy report (before file_id and mapping_id) still reads back, by
// the file name as written; it cannot be resumed.
func TestLegacyReportReadsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	require.NoError(t, os.WriteFile(path, []byte(legacyHeader+"\na.csv,1,accepted,,202,1,5,,,0123456789abcdef\n"), 0o644))
	cp, err := ReadCheckpoint(path)
	require.NoError(t, err)
	st, _, ok := cp.Lookup(readers.Pos{File: "a.csv", Row: 1})
	require.True(t, ok)
	assert.Equal(t, importer.StatusAccepted, st)
	_, _, err = Open(path, OpenOptions{Mode: Resume, Options: Options{MappingID: mapOld}})
	require.ErrorIs(t, err, ErrOldReport)
	assert.Contains(t, err.Error(), "--overwrite")
}

// A report that cannot be written fails in Open, before anything could be
// sent: /dev/full takes the open and fails the header.
func TestOpenUnwritableReportFailsUpFront(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	_, _, err := Open("/dev/full", OpenOptions{Mode: Overwrite})
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	assert.Contains(t, err.Error(), "/dev/full")
}

// The report is opened with O_APPEND: a line someone else appended meanwhile
// is not overwritten.
func TestOpenAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	writeAll(t, path, Options{}, []*importer.Result{res("a.csv", 1, importer.StatusAccepted, "0123456789abcdef")})
	w, _, err := Open(path, OpenOptions{Mode: Resume})
	require.NoError(t, err)
	other, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	extra := "a.csv,9,failed,,,1,0,,,0123456789abcdef," + FileID("a.csv") + ",\n"
	_, err = other.WriteString(extra)
	require.NoError(t, err)
	require.NoError(t, other.Close())
	require.NoError(t, w.Write(res("a.csv", 2, importer.StatusAccepted, "0123456789abcdef")))
	require.NoError(t, w.Close())
	cp, err := ReadCheckpoint(path)
	require.NoError(t, err)
	assert.Equal(t, 3, cp.Rows())
}

// A write error is sticky and comes back from every later call, so the
// run stops at the first one.
func TestWriterWriteErrorIsSticky(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	w, err := Create(path, Options{})
	require.NoError(t, err)
	require.NoError(t, w.f.Close()) // the descriptor goes away under the Writer
	require.NoError(t, w.Write(res("a.csv", 1, importer.StatusAccepted, "0123456789abcdef")))
	err = w.Flush()
	require.Error(t, err)
	assert.True(t, errors.Is(err, os.ErrClosed), "%v", err)
	assert.ErrorIs(t, w.Write(res("a.csv", 2, importer.StatusAccepted, "0123456789abcdef")), os.ErrClosed)
	assert.Error(t, w.Sync())
	assert.Error(t, w.Close())
}
