package readers

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	day := filepath.Join(dir, "2026-11-26")
	require.NoError(t, os.MkdirAll(filepath.Join(day, "nested"), 0o755))
	for _, f := range []string{
		"part-0002.parquet", "part-0001.snappy.parquet", "_SUCCESS", "_metadata", ".part-0001.parquet.crc",
		"part-0001.parquet.crc", ".hidden.csv", "notes.txt", "b.csv.gz", "a.ndjson", "c.jsonl.zst",
		"nested/deep.csv",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(day, f), nil, 0o644))
	}
	other := filepath.Join(dir, "other.csv")
	require.NoError(t, os.WriteFile(other, nil, 0o644))
	odd := filepath.Join(dir, "export.dat")
	require.NoError(t, os.WriteFile(odd, nil, 0o644))
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(empty, "_SUCCESS"), nil, 0o644))

	in := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = filepath.Join(day, n)
		}
		return out
	}
	folder := in("a.ndjson", "b.csv.gz", "c.jsonl.zst", "part-0001.snappy.parquet", "part-0002.parquet")

	tests := []struct {
		name    string
		inputs  []string
		want    []string
		wantErr string
	}{
		{"folder: data files only, sorted, not recursive", []string{day}, folder, ""},
		{"glob", []string{filepath.Join(day, "*.parquet")}, in("part-0001.snappy.parquet", "part-0002.parquet"), ""},
		{"glob skips side files, lists the folders it matches", []string{filepath.Join(day, "*")},
			in("a.ndjson", "b.csv.gz", "c.jsonl.zst", "nested/deep.csv", "part-0001.snappy.parquet", "part-0002.parquet"), ""},
		{"order kept, duplicates dropped", []string{other, filepath.Join(day, "*.parquet"), "-", filepath.Join(day, "part-0002.parquet"), filepath.Join(dir, ".", "other.csv"), "-"},
			append(append([]string{other}, in("part-0001.snappy.parquet", "part-0002.parquet")...), "-"), ""},
		{"explicit file with unknown extension is kept", []string{odd}, []string{odd}, ""},
		{"glob matching a folder lists it", []string{filepath.Join(dir, "2026-11-*")}, folder, ""},
		{"glob matching nothing", []string{filepath.Join(dir, "*.tsv")}, nil, "matches no data file"},
		{"glob matching only side files", []string{filepath.Join(day, "_*")}, nil, "matches no data file"},
		{"bad pattern", []string{filepath.Join(dir, "[")}, nil, "syntax error in pattern"},
		{"missing file", []string{filepath.Join(dir, "nope.csv")}, nil, "expand " + filepath.Join(dir, "nope.csv") + ": no such file"},
		{"folder without data", []string{empty}, nil, "no data file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(tt.inputs)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				var me *MissingInputError
				assert.Equal(t, tt.name != "bad pattern", errors.As(err, &me),
					"an input that is not there is a *MissingInputError; a bad pattern is not")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestExpandListsEveryMissingInput(t *testing.T) {
	dir := t.TempDir()
	here := filepath.Join(dir, "here.csv")
	require.NoError(t, os.WriteFile(here, nil, 0o644))
	_, err := Expand([]string{filepath.Join(dir, "2026-12-05"), here, filepath.Join(dir, "*.parquet")})
	var me *MissingInputError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, []MissingInput{
		{filepath.Join(dir, "2026-12-05"), "no such file or directory"},
		{filepath.Join(dir, "*.parquet"), "the pattern matches no data file"},
	}, me.Missing)
}
