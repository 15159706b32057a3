package readers

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// compression is how an input is compressed on disk.
type compression int

const (
	compressNone compression = iota
	compressGzip
	compressZstd
)

func (c compression) String() string {
	switch c {
	case compressGzip:
		return "gzip"
	case compressZstd:
		return "zstd"
	}
	return "none"
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// splitCompressionExt returns the compression named by the file's last
// extension and the name without it ("a.csv.gz" -> gzip, "a.csv").
func splitCompressionExt(name string) (compression, string) {
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".gz", ".gzip":
		return compressGzip, strings.TrimSuffix(name, name[len(name)-len(ext):])
	case ".zst", ".zstd":
		return compressZstd, strings.TrimSuffix(name, name[len(name)-len(ext):])
	}
	return compressNone, name
}

// sniffCompression looks at the first bytes without consuming them, so a
// plain file costs nothing but a Peek into a buffer that is read anyway.
func sniffCompression(br *bufio.Reader) compression {
	head, _ := br.Peek(len(zstdMagic)) // a short file returns fewer bytes and an error we do not need
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return compressGzip
	case bytes.HasPrefix(head, zstdMagic):
		return compressZstd
	}
	return compressNone
}

// decompress wraps r in a decompressor. The returned close function
// releases the decompressor (the zstd decoder owns goroutines), not r.
func decompress(c compression, r io.Reader) (io.Reader, func() error, error) {
	switch c {
	case compressGzip:
		// klauspost's gzip reads concatenated members by default
		// (multistream), like gzip(1) does.
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return &labelErrors{r: zr, label: "gzip"}, zr.Close, nil
	case compressZstd:
		// Concurrency 1: no background block decoding; the machine is
		// shared and the reader is never the bottleneck after the API.
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return &labelErrors{r: zr, label: "zstd"}, func() error { zr.Close(); return nil }, nil
	}
	return r, func() error { return nil }, nil
}

// labelErrors prefixes decompression errors with the codec, so that a
// truncated archive reads "gzip: unexpected EOF" rather than a bare
// "unexpected EOF". io.EOF passes through untouched.
type labelErrors struct {
	r     io.Reader
	label string
}

func (l *labelErrors) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF && !strings.HasPrefix(err.Error(), l.label) {
		err = fmt.Errorf("%s: %w", l.label, err)
	}
	return n, err
}

// countingReader counts the bytes read from the file on disk. The count is
// atomic because a progress display polls it from another goroutine.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
