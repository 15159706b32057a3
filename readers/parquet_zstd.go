package readers

import (
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// lowMemZstd is arrow-go's zstd codec with a streaming reader that keeps no
// more history than a frame's window needs (WithDecoderLowmem) and decodes
// on the calling goroutine. arrow-go's own keeps a ring of block buffers per
// stream, ~2 MB per projected column on top of the page, which is most of
// the reader's memory on a file of large pages.
type lowMemZstd struct{ compress.Codec }

var lowMemZstdPool = sync.Pool{New: func() any {
	d, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	return d
}}

type lowMemZstdReader struct{ d *zstd.Decoder }

func (r *lowMemZstdReader) Read(p []byte) (int, error) { return r.d.Read(p) }

func (r *lowMemZstdReader) Close() error {
	if r.d != nil {
		_ = r.d.Reset(nil)
		lowMemZstdPool.Put(r.d)
		r.d = nil
	}
	return nil
}

func (lowMemZstd) NewReader(r io.Reader) io.ReadCloser {
	d := lowMemZstdPool.Get().(*zstd.Decoder)
	if err := d.Reset(r); err != nil {
		return io.NopCloser(errReader{err})
	}
	return &lowMemZstdReader{d}
}

func (z lowMemZstd) NewWriter(w io.Writer) io.WriteCloser {
	return z.Codec.(compress.StreamingCodec).NewWriter(w)
}

func (z lowMemZstd) NewWriterLevel(w io.Writer, level int) (io.WriteCloser, error) {
	return z.Codec.(compress.StreamingCodec).NewWriterLevel(w, level)
}

func (z lowMemZstd) DecodeWithError(dst, src []byte) ([]byte, error) {
	return compress.Decode(z.Codec, dst, src)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func init() {
	if c, err := compress.GetCodec(compress.Codecs.Zstd); err == nil {
		if _, ok := c.(compress.StreamingCodec); ok {
			compress.RegisterCodec(compress.Codecs.Zstd, lowMemZstd{c})
		}
	}
}
