package readers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/apache/thrift/lib/go/thrift"
)

// ParquetMemory is what reading a Parquet file holds at once, estimated from
// its layout: the reader keeps one page per projected column (compressed and
// uncompressed) plus the column's dictionary while its pages use it, so its
// peak is the row group whose projected columns have the largest such pages.
// The estimate counts each dictionary with the column's largest page, which
// is what the start of a chunk holds when its first pages are dictionary-
// encoded and the dictionary is decoded (an upper bound once it is dropped).
type ParquetMemory struct {
	File      string
	Bytes     int64  // estimated page memory at the peak
	RowGroup  int    // the row group of the peak (0-based)
	Rows      int64  // rows in that row group
	RowGroups int    // row groups in the file
	Column    string // the projected column with the largest page there
	Page      int64  // that page's uncompressed size
	CreatedBy string // the writer, from the footer
}

// parquetMaxHeaders bounds the page headers read per file; past it the
// remaining chunks are estimated from the footer alone.
const parquetMaxHeaders = 200_000

// EstimateParquetMemory estimates, from the footer and the page headers
// (a few bytes each, read without the page bodies), the page memory needed
// to read the columns of a Parquet file (nil: every column).
func EstimateParquetMemory(path string, columns []string) (ParquetMemory, error) {
	f, err := os.Open(path)
	if err != nil {
		return ParquetMemory{File: path}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ParquetMemory{File: path}, err
	}
	return estimateParquetMemory(path, f, st.Size(), columns)
}

// estimateParquetMemory is EstimateParquetMemory over size bytes of f.
func estimateParquetMemory(path string, f parquet.ReaderAtSeeker, size int64, columns []string) (ParquetMemory, error) {
	m := ParquetMemory{File: path}
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("parquet library panic: %v", p)
			}
		}()
		props := parquetReaderProps(memory.DefaultAllocator, defaultParquetLimits, size)
		pf, err := file.NewParquetReader(f, file.WithReadProps(props))
		if err != nil {
			return err
		}
		md := pf.MetaData()
		m.CreatedBy = md.GetCreatedBy()
		m.RowGroups = md.NumRowGroups()
		leaves, err := projectedLeaves(md.Schema, columns)
		if err != nil {
			return err
		}
		budget := parquetMaxHeaders
		for rg := range md.NumRowGroups() {
			rgm := md.RowGroup(rg)
			var sum, page int64
			var col string
			for _, leaf := range leaves {
				cc, err := rgm.ColumnChunk(leaf)
				if err != nil {
					return err
				}
				need, largest := chunkPageMemory(f, size, cc, &budget)
				sum += need
				if largest > page {
					page, col = largest, md.Schema.Column(leaf).Path()
				}
			}
			if sum > m.Bytes || rg == 0 {
				m.Bytes, m.RowGroup, m.Rows, m.Column, m.Page = sum, rg, rgm.NumRows(), col, page
			}
		}
		return nil
	}()
	if err != nil {
		return m, fmt.Errorf("estimate read memory of %s: %w", path, err)
	}
	return m, nil
}

// projectedLeaves lists the leaf columns under the named top-level fields.
func projectedLeaves(s *schema.Schema, columns []string) ([]int, error) {
	root := s.Root()
	want := map[string]bool{}
	for _, c := range columns {
		want[c] = true
	}
	var leaves []int
	first := 0
	for i := range root.NumFields() {
		n := countLeaves(root.Field(i))
		if columns == nil || want[root.Field(i).Name()] {
			for k := range n {
				leaves = append(leaves, first+k)
			}
		}
		first += n
	}
	if first != s.NumColumns() {
		return nil, errors.New("schema tree and leaf columns disagree")
	}
	return leaves, nil
}

// chunkPageMemory is what reading one column chunk holds at once: its
// largest data page, compressed and uncompressed, plus its dictionary page;
// and the largest uncompressed page. It reads the page headers while the
// budget lasts, and falls back to the chunk's totals (one page per chunk)
// when they cannot be read.
func chunkPageMemory(r io.ReaderAt, size int64, cc *metadata.ColumnChunkMetaData, budget *int) (need, largest int64) {
	fallback := max(0, cc.TotalUncompressedSize()) + max(0, cc.TotalCompressedSize())
	start := cc.DataPageOffset()
	if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
		start = cc.DictionaryPageOffset()
	}
	end := start + cc.TotalCompressedSize()
	if start < 4 || end > size || end <= start {
		return fallback, cc.TotalUncompressedSize()
	}
	var dict, data int64
	buf := make([]byte, 0, 4<<10)
	for off := start; off < end; {
		if *budget <= 0 {
			return fallback, cc.TotalUncompressedSize()
		}
		*budget--
		h, n, err := readPageHeader(r, off, end, &buf)
		if err != nil || h.compressed < 0 || h.uncompressed < 0 {
			return fallback, cc.TotalUncompressedSize()
		}
		cost := int64(h.uncompressed) + int64(h.compressed)
		if h.typ == 2 { // DICTIONARY_PAGE
			dict += cost
		} else {
			data = max(data, cost)
		}
		largest = max(largest, int64(h.uncompressed))
		off += int64(n) + int64(h.compressed)
	}
	return dict + data, largest
}

type pageHeader struct {
	typ, uncompressed, compressed int32
}

// readPageHeader decodes the Thrift page header at off: the page type and
// sizes, and the header's own length.
func readPageHeader(r io.ReaderAt, off, end int64, buf *[]byte) (pageHeader, int, error) {
	for want := int64(4 << 10); ; want *= 8 {
		n := min(want, end-off)
		if int64(cap(*buf)) < n {
			*buf = make([]byte, n)
		}
		b := (*buf)[:n]
		if _, err := r.ReadAt(b, off); err != nil && err != io.EOF {
			return pageHeader{}, 0, err
		}
		h, used, err := decodePageHeader(b)
		if err == nil {
			return h, used, nil
		}
		if n >= end-off || want >= 16<<20 {
			return pageHeader{}, 0, err
		}
	}
}

func decodePageHeader(b []byte) (h pageHeader, used int, err error) {
	ctx := context.Background()
	mb := &thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(b)}
	p := thrift.NewTCompactProtocolConf(mb, &thrift.TConfiguration{MaxMessageSize: int32(min(len(b), 1<<30))})
	if _, err := p.ReadStructBegin(ctx); err != nil {
		return h, 0, err
	}
	for {
		_, t, id, err := p.ReadFieldBegin(ctx)
		if err != nil {
			return h, 0, err
		}
		if t == thrift.STOP {
			break
		}
		var v int32
		switch {
		case t == thrift.I32 && id >= 1 && id <= 3:
			if v, err = p.ReadI32(ctx); err != nil {
				return h, 0, err
			}
			switch id {
			case 1:
				h.typ = v
			case 2:
				h.uncompressed = v
			case 3:
				h.compressed = v
			}
		default:
			if err := p.Skip(ctx, t); err != nil {
				return h, 0, err
			}
		}
		if err := p.ReadFieldEnd(ctx); err != nil {
			return h, 0, err
		}
	}
	if err := p.ReadStructEnd(ctx); err != nil {
		return h, 0, err
	}
	return h, len(b) - mb.Len(), nil
}

// Advice names the writer setting that would make the file cheaper to read.
func (m ParquetMemory) Advice() string {
	w := strings.ToLower(m.CreatedBy)
	switch {
	case strings.Contains(w, "duckdb"):
		return "DuckDB writes one page per column per row group: rewrite it with a smaller ROW_GROUP_SIZE, e.g. COPY … TO 'f.parquet' (FORMAT PARQUET, ROW_GROUP_SIZE 100000)"
	case strings.Contains(w, "spark") || strings.Contains(w, "parquet-mr") || strings.Contains(w, "parquet-java"):
		return "write it with smaller pages and row groups (parquet.page.size 1 MB, parquet.block.size)"
	}
	return "write it with ~1 MB data pages and smaller row groups (pyarrow/Arrow: data_page_size, row_group_size; DuckDB: ROW_GROUP_SIZE)"
}
