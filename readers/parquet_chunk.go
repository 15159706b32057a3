package readers

import (
	"bytes"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// How a column chunk is opened, and what that costs in memory.
//
// Page streaming: arrow-go can decode a large PLAIN page as a stream instead
// of decompressing it whole. With zstd, the codec of nearly every export,
// that saves little: a page is one zstd frame whose window is the page, so
// the streaming decoder keeps a page-sized history ring (plus two blocks)
// where the whole-page path keeps the page and its compressed copy. On
// ~1 MB pages the ring comes on top of the page buffer the chunk already
// holds, so a chunk streams only when one of its pages is larger than
// parquetStreamPage (DuckDB's one page per column per row group), where not
// holding the compressed copy does count.
//
// The dictionary: arrow-go keeps a chunk's dictionary page, and the decoded
// dictionary (24 bytes per entry, grown by append), for the whole chunk,
// although writers stop using it as soon as it is full and write PLAIN pages
// from then on (a 1 MB dictionary and one dictionary-encoded page, then
// PLAIN, for every column of distinct values). When a flat column's first
// PLAIN page follows dictionary-encoded ones, the leaf reopens the chunk at
// that page without the dictionary (once per chunk, see reopenWithoutDict).
// Fixing it in arrow-go would mean dropping the dictionary decoder in
// columnChunkReader.initDataDecoder and shrinking
// serializedPageReader.dictPageBuffer (parquet/file/column_reader.go,
// page_reader.go).

// parquetStreamPage is the page size above which a column chunk's pages are
// decoded as a stream.
const parquetStreamPage = 4 << 20

// parquetStreamHeaders bounds the page headers read to decide whether a
// chunk streams; past it the chunk streams.
const parquetStreamHeaders = 4096

// chunkPages is the page reader of one column chunk as its column reader
// sees it: it notes each new page for the leaf, and can hand the column
// reader, once, the page it is already on (after a reopen).
type chunkPages struct {
	file.PageReader
	replay bool // Next returns the current page again, once
	fresh  bool // Next has read a page the leaf has not looked at yet
	dict   bool // a dictionary-encoded data page was read through this reader
}

func (p *chunkPages) Next() bool {
	if p.replay {
		p.replay = false
	} else if !p.PageReader.Next() {
		return false
	}
	p.fresh = true
	return true
}

func isDictEncoding(e parquet.Encoding) bool {
	return e == parquet.Encodings.RLEDict || e == parquet.Encodings.PlainDict
}

// openChunk opens the page reader of leaf column col in row group rg,
// streaming its pages only when one of them is larger than
// parquetStreamPage.
func (r *parquetReader) openChunk(rg *file.RowGroupReader, col int) (*chunkPages, error) {
	cc, err := rg.MetaData().ColumnChunk(col)
	if err != nil {
		return nil, err
	}
	stream := cc.TotalUncompressedSize() > parquetStreamPage
	if stream {
		budget := parquetStreamHeaders
		_, largest := chunkPageMemory(r.src, r.size, cc, &budget)
		stream = largest > parquetStreamPage
	}
	// The row group reader reads the streaming switch of the shared
	// properties when it makes the page reader, and only then.
	r.props.PageStreamingEnabled = stream
	pr, err := rg.GetColumnPageReader(col)
	if err != nil {
		return nil, err
	}
	return &chunkPages{PageReader: pr}, nil
}

// newColumnReader is the typed column reader of a leaf over its pages.
func newColumnReader(l *pqLeaf, pages *chunkPages, mem memory.Allocator) file.ColumnChunkReader {
	//lint:ignore SA1019 the one public way to read a chunk through our own page reader
	return file.NewColumnReader(l.descr, pages, mem, nil) //nolint:staticcheck
}

// checkPage looks at the page the column reader has just read, before any
// of its values are taken, and reopens the chunk without its dictionary when
// it is the first PLAIN page after dictionary-encoded ones.
func (l *pqLeaf) checkPage() error {
	p := l.pages
	p.fresh = false
	dp, ok := p.Page().(file.DataPage)
	if !ok {
		return nil
	}
	if isDictEncoding(parquet.Encoding(dp.Encoding())) {
		p.dict = true
		return nil
	}
	if !p.dict || l.maxRep > 0 || l.reopened {
		return nil
	}
	l.reopened = true
	return l.reopenWithoutDict(dp)
}

// reopenWithoutDict replaces the leaf's column reader, which holds the
// chunk's dictionary and has just read the PLAIN page dp (none of its values
// taken yet), by a new one on a new page reader positioned on the same page,
// which never reads the dictionary page (that one page is decoded twice).
// It is done at most once per chunk: a file that goes back to the dictionary
// later reads it again through the new reader, which is correct, only
// slower. When the new page reader cannot be put on the same page (an offset
// index that disagrees with the page headers, say), the old reader is kept.
func (l *pqLeaf) reopenWithoutDict(dp file.DataPage) error {
	r := l.r
	first := dp.FirstRowIndex()
	if first <= 0 {
		return nil
	}
	pages, err := r.openChunk(r.rgReader, l.col)
	if err != nil {
		return nil // the old reader still works
	}
	ok := pages.SeekToPageWithRow(first) == nil
	// Without an offset index the seek stops on the page that ends at first.
	for ok {
		cur, isData := pages.Page().(file.DataPage)
		if !isData || cur.FirstRowIndex() >= first {
			// The same page: the same place, header and bytes (the whole
			// page, or its levels when it streams), so that an offset
			// index that points elsewhere can never change a value.
			ok = isData && cur.FirstRowIndex() == first && cur.NumValues() == dp.NumValues() &&
				cur.Encoding() == dp.Encoding() && cur.UncompressedSize() == dp.UncompressedSize() &&
				bytes.Equal(cur.Data(), dp.Data())
			break
		}
		ok = pages.PageReader.Next()
	}
	if !ok {
		pages.Close()
		return nil
	}
	pages.replay = true
	old := l.cr
	l.cr = newColumnReader(l, pages, r.mem)
	l.pages = pages
	r.reopens++
	return old.Close()
}
