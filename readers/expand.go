package readers

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Expand turns command-line inputs into the list of files to read, in the
// order given, each path once.
//
//   - "-" (standard input) stays as is.
//   - A glob (containing *, ? or [) lists its matches in name order; a
//     glob that matches no data file is an error.
//   - A folder lists the data files directly inside it (not recursively),
//     in name order; a folder without one is an error.
//   - Any other path is a file and is kept even if its extension is
//     unknown (a format option may name it); it must exist.
//
// Globs and folders keep only data files: a known extension (.csv, .tsv,
// .ndjson, .jsonl, .parquet, .pq, optionally + .gz/.zst/.zstd) and not
// hidden (.*), not a marker or side file (_SUCCESS, _*, *.crc), which is
// what Spark and Hadoop leave next to their part files. Directories a glob
// matches are listed like folders.
func Expand(inputs []string) ([]string, error) {
	var out []string
	seen := make(map[string]bool)
	add := func(p string) {
		key := p
		if p != StdinPath {
			key = filepath.Clean(p)
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	for _, in := range inputs {
		switch {
		case in == StdinPath:
			add(in)
		case hasGlobMeta(in):
			matches, err := filepath.Glob(in)
			if err != nil {
				return nil, fmt.Errorf("expand %s: %w", in, err)
			}
			n := 0
			for _, m := range matches {
				st, err := os.Stat(m)
				if err != nil {
					return nil, fmt.Errorf("expand %s: %w", in, err)
				}
				if st.IsDir() {
					files, err := listDataFiles(m)
					if err != nil {
						return nil, fmt.Errorf("expand %s: %w", in, err)
					}
					for _, f := range files {
						add(f)
					}
					n += len(files)
					continue
				}
				if isDataFile(filepath.Base(m)) {
					add(m)
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("expand %s: the pattern matches no data file", in)
			}
		default:
			st, err := os.Stat(in)
			if err != nil {
				return nil, fmt.Errorf("expand %s: %w", in, unwrapPathError(err))
			}
			if !st.IsDir() {
				add(in)
				continue
			}
			files, err := listDataFiles(in)
			if err != nil {
				return nil, fmt.Errorf("expand %s: %w", in, err)
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("expand %s: the folder holds no data file", in)
			}
			for _, f := range files {
				add(f)
			}
		}
	}
	return out, nil
}

func hasGlobMeta(p string) bool { return strings.ContainsAny(p, "*?[") }

// listDataFiles lists the data files directly inside dir, sorted by name.
func listDataFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return nil, unwrapPathError(err)
	}
	var files []string
	for _, e := range entries {
		if e.IsDir() || !isDataFile(e.Name()) {
			continue
		}
		if e.Type()&os.ModeSymlink != 0 {
			// A link to a folder is not a file to read.
			if st, err := os.Stat(filepath.Join(dir, e.Name())); err != nil || st.IsDir() {
				continue
			}
		}
		files = append(files, filepath.Join(dir, e.Name()))
	}
	sort.Strings(files)
	return files, nil
}

// isDataFile says whether a file name found in a folder or by a glob is
// an input: known extension, not hidden, not a marker or checksum.
func isDataFile(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || strings.HasSuffix(strings.ToLower(name), ".crc") {
		return false
	}
	_, base := splitCompressionExt(name)
	f, _ := formatByExt(base)
	return f != FormatAuto
}
