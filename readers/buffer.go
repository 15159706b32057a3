package readers

import (
	"bytes"
	"io"
)

// readBuf is the read buffer the CSV and NDJSON scanners share: buf[r:w]
// is read and not yet consumed; err is the source's sticky error (io.EOF
// at the end), returned once the buffer is drained. base is the offset in
// the input of buf[0], so base+r is that of the next byte.
type readBuf struct {
	src  io.Reader
	buf  []byte
	r, w int
	base int64
	err  error
}

func newReadBuf(src io.Reader) readBuf {
	return readBuf{src: src, buf: make([]byte, readBufferSize)}
}

// fill replaces the buffer's contents with at least one new byte, or
// returns the source's error.
func (b *readBuf) fill() error {
	if b.err != nil {
		return b.err
	}
	b.base += int64(b.w)
	b.r, b.w = 0, 0
	for {
		n, err := b.src.Read(b.buf)
		b.w = n
		if err != nil {
			b.err = err
		}
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// skipBOM drops a UTF-8 byte order mark at the start of the input. Call it
// before the first fill.
func (b *readBuf) skipBOM() {
	for b.w < 3 && b.err == nil {
		n, err := b.src.Read(b.buf[b.w:])
		b.w += n
		if err != nil {
			b.err = err
		}
	}
	if bytes.HasPrefix(b.buf[:b.w], utf8BOM) {
		b.r = 3
	}
}
