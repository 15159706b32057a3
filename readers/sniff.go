package readers

import (
	"errors"
	"io"
)

// sniffRows is how many rows SniffDelimiter reads with each candidate.
const sniffRows = 50

// SniffDelimiter guesses the delimiter of a CSV file the way Python's
// csv.Sniffer and DuckDB's sniffer do: it reads the header and the first
// rows with each candidate (, ; tab |) and keeps the one that gives the
// most columns with every row as wide as the header. It returns 0 when
// it cannot tell, when the input is not CSV, is a .tsv, or is standard
// input (which can be read only once); ',' wins ties. Compression and
// quoting are handled as Open handles them.
func SniffDelimiter(path string, opts Options) rune {
	if path == StdinPath {
		return 0
	}
	_, base := splitCompressionExt(path)
	format, tsv := formatByExt(base)
	if opts.Format != FormatAuto {
		format = opts.Format
	}
	if format != FormatCSV || tsv {
		return 0
	}
	opts.Columns = nil
	var best rune
	bestCols := 1
	for _, d := range []rune{',', ';', '\t', '|'} {
		opts.CSV.Delimiter = d
		if n := consistentColumns(path, opts); n > bestCols {
			best, bestCols = d, n
		}
	}
	return best
}

// consistentColumns is the header's width when at least 4 in 5 of the
// first sniffRows rows have it (a sample may hold a broken row), 0
// otherwise.
func consistentColumns(path string, opts Options) int {
	r, err := Open(path, opts)
	if err != nil {
		return 0
	}
	defer r.Close()
	var rows, ragged int
	for range sniffRows {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0
		}
		rows++
		if errors.Is(row.Err, ErrFieldCount) {
			ragged++
		}
	}
	if ragged*5 > rows {
		return 0
	}
	return len(r.Header())
}
