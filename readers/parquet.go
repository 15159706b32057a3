package readers

import "errors"

// openParquet is replaced by the Parquet reader.
func openParquet(path string, opts Options) (Reader, error) {
	return nil, errors.New("parquet: not supported yet")
}
