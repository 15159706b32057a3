package readers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MissingInputError is returned by Expand when inputs are not there: a
// path that does not exist, a folder without a data file, a glob that
// matches none. For a nightly run it means the export did not arrive, not
// that the command is wrong. It lists every such input.
type MissingInputError struct {
	Missing []MissingInput
}

// MissingInput is one input that is not there, and why.
type MissingInput struct {
	Input  string
	Reason string
}

func (e *MissingInputError) Error() string {
	parts := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		parts[i] = fmt.Sprintf("expand %s: %s", m.Input, m.Reason)
	}
	return strings.Join(parts, "; ")
}

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
// Inputs that are not there (see MissingInputError) are all listed in one
// *MissingInputError; any other problem is returned at once.
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
	var missing []MissingInput
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
				missing = append(missing, MissingInput{in, "the pattern matches no data file"})
			}
		default:
			st, err := os.Stat(in)
			if errors.Is(err, fs.ErrNotExist) {
				missing = append(missing, MissingInput{in, unwrapPathError(err).Error()})
				continue
			}
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
				missing = append(missing, MissingInput{in, "the folder holds no data file"})
			}
			for _, f := range files {
				add(f)
			}
		}
	}
	if missing != nil {
		return nil, &MissingInputError{Missing: missing}
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
