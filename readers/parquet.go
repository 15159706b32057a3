package readers

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// Parquet value mapping (the contract the mappings stage reads against):
//
//	parquet type                               Value
//	-----------------------------------------  ----------------------------------------------
//	NULL at any level, NULL/UNKNOWN type       KindNull
//	STRING/UTF8, ENUM, JSON (BYTE_ARRAY)       KindString (text that is not UTF-8 is a RowError
//	                                             wrapping ErrInvalidUTF8)
//	INT8..INT64, UINT8..UINT64                 KindNumber, exact decimal text
//	FLOAT, DOUBLE, FLOAT16                     KindNumber, shortest fixed-point text that
//	                                             round-trips in the column's own precision;
//	                                             "NaN", "Inf", "-Inf" for the specials
//	DECIMAL (INT32/INT64/FLBA/BYTE_ARRAY)      KindNumber, exact text with the column's scale
//	BOOLEAN                                    KindBool
//	TIMESTAMP (ms/us/ns)                       KindTime; Naive when isAdjustedToUTC=false
//	INT96                                      KindTime (UTC), any Julian day (no ns overflow)
//	DATE                                       KindTime, Naive, midnight
//	TIME (ms/us/ns)                            KindString "15:04:05.999999" (ns truncated to us)
//	UUID                                       KindString canonical 8-4-4-4-12, lower case
//	BYTE_ARRAY/FLBA without a text annotation, KindString: the bytes as text when they are
//	  BSON, GEOMETRY/GEOGRAPHY (WKB)             valid UTF-8 (legacy writers such as parquet-mr,
//	                                             Impala and Hive store strings unannotated),
//	                                             else "0x" + lower-case hex of the bytes
//	INTERVAL (FLBA 12)                         KindJSON {"months":M,"days":D,"millis":MS}
//	LIST, STRUCT, MAP, bare repeated fields    KindJSON compact JSON (see parquet_nested.go)
//
// Nested values use the same rules inside JSON: numbers as JSON numbers (NaN and
// infinities as the strings "NaN", "Inf", "-Inf"), timestamps as RFC 3339 strings
// (with Z when UTC-adjusted, without a zone when naive), dates "2006-01-02", binary
// as hex strings, maps as objects when their keys are strings and as arrays of
// {"key":k,"value":v} otherwise.
//
// The reader uses arrow-go's low-level column chunk readers (parquet/file):
// each projected leaf column is read page by page in batches of
// parquetBatchRows levels into buffers reused for the whole file. Memory is
// bounded by one page per projected column plus its dictionary while its
// pages use it, whatever the row-group size; PLAIN pages of chunks with a
// page over parquetStreamPage are decoded as a stream (see parquet_chunk.go).
// A page larger than parquetMaxPageSize is refused before it is allocated.

// parquetBatchRows is how many levels (values and nulls) one read of a column
// takes from its current page.
const parquetBatchRows = 1024

// parquetBufferSize is the read buffer per column chunk: pages are read
// through it from the file instead of loading whole column chunks.
const parquetBufferSize = 64 << 10

// parquetMaxPageSize is the hard bound on one page, compressed or not: a
// page header claiming more is an error naming the file and column, never
// an allocation of the declared size.
const parquetMaxPageSize = 256 << 20

// parquetLimits bound what one reader allocates for a file, whatever its
// footer and page headers claim.
type parquetLimits struct {
	bufferSize          int64 // read buffer per column chunk (capped again by the file size)
	maxUncompressedPage int64 // largest uncompressed page body accepted
	batchRows           int   // levels per column read
}

// defaultParquetLimits are the limits of openParquet. A compressed page is
// also never accepted larger than the file it is in.
var defaultParquetLimits = parquetLimits{
	bufferSize:          parquetBufferSize,
	maxUncompressedPage: parquetMaxPageSize,
	batchRows:           parquetBatchRows,
}

// parquetReader streams a Parquet file as rows. It is not safe for concurrent use.
type parquetReader struct {
	path   string
	src    parquet.ReaderAtSeeker // closed by Close when it is an io.Closer
	lim    parquetLimits
	pf     *file.Reader
	props  *parquet.ReaderProperties // pf's; openChunk sets its streaming switch per chunk
	mem    memory.Allocator
	header []string
	cols   []parquetColumn // the projection, in output order
	fields []*pqField      // distinct top-level fields read
	leaves []*pqLeaf       // every leaf column read

	rg       int                  // next row group to open
	rgReader *file.RowGroupReader // the open row group (rg-1)
	rgLeft   int64                // rows left in the open row group
	rowsDone int64                // rows returned so far
	reopens  int                  // column chunks reopened without their dictionary

	totalRows int64
	size      int64
	err       error // sticky fatal error
	closed    bool
}

// parquetColumn is one projected output column.
type parquetColumn struct {
	name  string
	field int // index into parquetReader.fields
}

// pqField is one top-level field: a flat leaf, or a nested tree of leaves
// assembled into JSON.
type pqField struct {
	name   string
	flat   *pqLeaf // a top-level primitive that is not repeated
	nested *nestedField
	val    Value // the current row's value
	err    error // the current row's value error
}

var _ Reader = (*parquetReader)(nil)
var _ Progresser = (*parquetReader)(nil)

// openParquet opens a Parquet file for streaming. It reads the footer, checks
// the projection against the top-level columns (a missing one is a
// *MissingColumnError) and prepares readers for the projected columns only.
func openParquet(path string, opts Options) (Reader, error) {
	return newParquetReader(path, opts, memory.DefaultAllocator)
}

// newParquetReader is openParquet with an explicit allocator, so tests can use
// a checked allocator to prove that Close releases every buffer.
func newParquetReader(path string, opts Options, mem memory.Allocator) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return newParquetReaderFrom(path, f, st.Size(), opts, mem, defaultParquetLimits)
}

// newParquetReaderFrom reads the size bytes of src as the Parquet file path
// (the name in errors and positions), within the limits lim. It takes src
// over: Close, or a failed open, closes it when it is an io.Closer.
func newParquetReaderFrom(path string, src parquet.ReaderAtSeeker, size int64, opts Options, mem memory.Allocator, lim parquetLimits) (rd Reader, err error) {
	r := &parquetReader{path: path, src: src, size: size, lim: lim}
	defer func() {
		// The library panics on some malformed or exotic files (an unknown
		// logical type in the footer, for one): a bad file must be an error.
		if p := recover(); p != nil {
			err = fmt.Errorf("open %s: parquet library panic: %v", path, p)
		}
		if err != nil {
			r.Close()
			rd = nil
		}
	}()
	if err := r.open(opts, mem); err != nil {
		var missing *MissingColumnError
		if errors.As(err, &missing) {
			return nil, err
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return r, nil
}

// parquetReaderProps are the read properties of every Parquet file read:
// buffered streams (pages are read through a small buffer, not whole column
// chunks), streamed decoding of large PLAIN pages, and page sizes capped by
// the hard bound and by the file size.
func parquetReaderProps(mem memory.Allocator, lim parquetLimits, size int64) *parquet.ReaderProperties {
	props := parquet.NewReaderProperties(mem)
	props.BufferedStreamEnabled = true
	props.PageStreamingEnabled = true
	props.BufferSize = max(1, min(lim.bufferSize, size))
	props.MaxCompressedPageSize = max(1, min(lim.maxUncompressedPage, size))
	props.MaxUncompressedPageSize = lim.maxUncompressedPage
	return props
}

func (r *parquetReader) open(opts Options, mem memory.Allocator) error {
	var err error
	r.mem = mem
	r.props = parquetReaderProps(mem, r.lim, r.size)
	r.pf, err = file.NewParquetReader(r.src, file.WithReadProps(r.props))
	if err != nil {
		return err
	}
	// The rows are those of the row groups; some writers leave the file's
	// own count at 0 (parquet-testing's repeated_no_annotation.parquet).
	r.totalRows = r.pf.NumRows()
	var sum int64
	for i := range r.pf.NumRowGroups() {
		n := r.pf.MetaData().RowGroup(i).NumRows()
		if n < 0 || sum+n < sum {
			return fmt.Errorf("row group %d claims %d rows", i, n)
		}
		sum += n
	}
	r.totalRows = max(r.totalRows, sum)
	descr := r.pf.MetaData().Schema
	root := descr.Root()
	r.header = make([]string, root.NumFields())
	byName := make(map[string]int, root.NumFields())
	for i := range root.NumFields() {
		name := root.Field(i).Name()
		r.header[i] = name
		if _, dup := byName[name]; !dup {
			byName[name] = i
		}
	}
	// The first leaf of each top-level field, in schema (depth-first) order.
	firstLeaf := make([]int, root.NumFields()+1)
	for i := range root.NumFields() {
		firstLeaf[i+1] = firstLeaf[i] + countLeaves(root.Field(i))
	}
	if firstLeaf[root.NumFields()] != descr.NumColumns() {
		return fmt.Errorf("schema has %d leaf columns, the tree %d", descr.NumColumns(), firstLeaf[root.NumFields()])
	}
	// Check every field's shape, projected or not, as the schema conversion
	// did before: a file whose schema breaks the spec is refused at open.
	for i := range root.NumFields() {
		if _, err := newNestNode(root.Field(i), 0, 0, new(int)); err != nil {
			return fmt.Errorf("column %q: %w", root.Field(i).Name(), err)
		}
	}

	names := opts.Columns
	if names == nil {
		names = r.header
	}
	var missing []string
	fieldOf := make(map[int]int) // top-level index -> r.fields index
	r.cols = make([]parquetColumn, len(names))
	for k, name := range names {
		fi, ok := byName[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		idx, done := fieldOf[fi]
		if !done {
			f, err := r.newField(root.Field(fi), firstLeaf[fi], descr)
			if err != nil {
				return fmt.Errorf("column %q: %w", name, err)
			}
			idx = len(r.fields)
			r.fields = append(r.fields, f)
			fieldOf[fi] = idx
		}
		r.cols[k] = parquetColumn{name: name, field: idx}
	}
	if missing != nil {
		return &MissingColumnError{File: r.path, Columns: missing}
	}
	return nil
}

func countLeaves(n schema.Node) int {
	g, ok := n.(*schema.GroupNode)
	if !ok {
		return 1
	}
	c := 0
	for i := range g.NumFields() {
		c += countLeaves(g.Field(i))
	}
	return c
}

// newField prepares the readers of one top-level field whose first leaf
// column is first.
func (r *parquetReader) newField(n schema.Node, first int, descr *schema.Schema) (*pqField, error) {
	f := &pqField{name: n.Name()}
	if _, ok := n.(*schema.PrimitiveNode); ok && n.RepetitionType() != parquet.Repetitions.Repeated {
		f.flat = r.newLeaf(first, descr)
		return f, nil
	}
	next := 0
	tree, err := newNestNode(n, 0, 0, &next)
	if err != nil {
		return nil, err
	}
	nf := &nestedField{root: tree}
	for k := range next {
		nf.leaves = append(nf.leaves, r.newLeaf(first+k, descr))
	}
	nf.recs = make([]leafRecord, next)
	f.nested = nf
	return f, nil
}

func (r *parquetReader) newLeaf(col int, descr *schema.Schema) *pqLeaf {
	c := descr.Column(col)
	l := &pqLeaf{
		r:       r,
		col:     col,
		descr:   c,
		name:    c.Path(),
		maxDef:  c.MaxDefinitionLevel(),
		maxRep:  c.MaxRepetitionLevel(),
		conv:    newLeafConv(c),
		batch:   r.lim.batchRows,
		scratch: make([]byte, 0, 64),
	}
	n := r.lim.batchRows
	if l.maxDef > 0 {
		l.defs = make([]int16, n)
	}
	if l.maxRep > 0 {
		l.reps = make([]int16, n)
	}
	switch c.PhysicalType() {
	case parquet.Types.Boolean:
		l.bools = make([]bool, n)
	case parquet.Types.Int32:
		l.i32 = make([]int32, n)
	case parquet.Types.Int64:
		l.i64 = make([]int64, n)
	case parquet.Types.Int96:
		l.i96 = make([]parquet.Int96, n)
	case parquet.Types.Float:
		l.f32 = make([]float32, n)
	case parquet.Types.Double:
		l.f64 = make([]float64, n)
	case parquet.Types.ByteArray:
		l.ba = make([]parquet.ByteArray, n)
	case parquet.Types.FixedLenByteArray:
		l.fl = make([]parquet.FixedLenByteArray, n)
	}
	r.leaves = append(r.leaves, l)
	return l
}

// Header lists the file's top-level columns in schema order.
func (r *parquetReader) Header() []string { return r.header }

// Progress reports how far the reader is as the fraction of rows returned,
// scaled to the file size (Parquet has no meaningful byte offset per row).
func (r *parquetReader) Progress() (done, total int64) {
	if r.totalRows <= 0 {
		return r.size, r.size
	}
	return int64(float64(r.size) * float64(r.rowsDone) / float64(r.totalRows)), r.size
}

// Next returns the next row, io.EOF after the last one, or a fatal error
// naming the file. After a fatal error every call returns that error.
func (r *parquetReader) Next() (row Row, err error) {
	if r.err != nil {
		return Row{}, r.err
	}
	if r.closed {
		return Row{}, fmt.Errorf("read %s: reader is closed", r.path)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("read %s: parquet library panic near row %d: %v", r.path, r.rowsDone+1, p)
			r.err = err
			row = Row{}
		}
	}()
	for r.rgLeft == 0 {
		if err := r.nextRowGroup(); err != nil {
			if err != io.EOF {
				r.err = err
			}
			return Row{}, err
		}
	}
	for _, f := range r.fields {
		var ferr error
		if f.flat != nil {
			f.val, f.err, ferr = f.flat.nextFlat()
		} else {
			f.val, f.err, ferr = f.nested.next()
		}
		if ferr != nil {
			r.err = fmt.Errorf("read %s: column %q, row group %d, row %d: %w", r.path, f.name, r.rg-1, r.rowsDone+1, ferr)
			return Row{}, r.err
		}
	}
	r.rgLeft--
	r.rowsDone++
	row.Pos = Pos{File: r.path, Row: r.rowsDone}
	for k := range r.cols {
		if f := r.fields[r.cols[k].field]; f.err != nil {
			row.Err = &RowError{Pos: row.Pos, Column: r.cols[k].name, Err: f.err}
			return row, nil
		}
	}
	values := make([]Value, len(r.cols))
	for k := range r.cols {
		values[k] = r.fields[r.cols[k].field].val
	}
	row.Values = values
	return row, nil
}

// nextRowGroup opens the column chunks of the next row group, or
// returns io.EOF after the last one. A file that ends short of the row count
// in its footer is an error, never a silent end.
func (r *parquetReader) nextRowGroup() error {
	for _, l := range r.leaves {
		l.closeChunk()
	}
	if r.rg >= r.pf.NumRowGroups() {
		if r.rowsDone < r.totalRows {
			return fmt.Errorf("read %s: file ended after %d of %d rows", r.path, r.rowsDone, r.totalRows)
		}
		return io.EOF
	}
	rg := r.pf.RowGroup(r.rg)
	r.rgReader = rg
	r.rg++
	n := rg.NumRows()
	for _, l := range r.leaves {
		pages, err := r.openChunk(rg, l.col)
		if err != nil {
			return fmt.Errorf("read %s: column %q, row group %d: %w", r.path, l.name, r.rg-1, err)
		}
		l.pages = pages
		l.cr = newColumnReader(l, pages, r.mem)
	}
	r.rgLeft = n
	return nil
}

// Close releases the column readers and the file. It is safe to call twice.
func (r *parquetReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	for _, l := range r.leaves {
		l.closeChunk()
	}
	// file.Reader.Close closes the source it was given when it can.
	if r.pf != nil {
		return r.pf.Close()
	}
	if c, ok := r.src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// pqLeaf reads one leaf column chunk by chunk, a batch of levels at a time
// from the current page, into typed buffers reused for the whole file.
type pqLeaf struct {
	r              *parquetReader
	col            int
	descr          *schema.Column
	name           string
	maxDef, maxRep int16
	conv           leafConv
	cr             file.ColumnChunkReader // nil between row groups
	pages          *chunkPages            // cr's page reader
	reopened       bool                   // cr was reopened without the dictionary in this chunk
	batch          int

	// The batch: one of the value buffers (by physical type), the levels,
	// how many levels it holds, the next level and the next value. Byte
	// values alias the page and are valid until the next fill.
	bools      []bool
	i32        []int32
	i64        []int64
	i96        []parquet.Int96
	f32        []float32
	f64        []float64
	ba         []parquet.ByteArray
	fl         []parquet.FixedLenByteArray
	defs, reps []int16
	n, pos, v  int

	scratch []byte // number text before it becomes a string
}

func (l *pqLeaf) closeChunk() {
	if l.cr != nil {
		l.cr.Close()
		l.cr = nil
	}
	l.pages, l.reopened = nil, false
	l.n, l.pos, l.v = 0, 0, 0
}

// fill reads the next batch of levels from the column chunk. It reports
// false at the end of the chunk.
func (l *pqLeaf) fill() (bool, error) {
	l.n, l.pos, l.v = 0, 0, 0
	if l.cr == nil {
		return false, nil
	}
	var defs, reps []int16
	if l.maxDef > 0 {
		defs = l.defs
	}
	if l.maxRep > 0 {
		reps = l.reps
	}
	b := int64(l.batch)
	for stalls := 0; ; stalls++ {
		if stalls > 1 {
			// A page that has levels left yields none (corrupt levels):
			// an error, not a loop without end.
			return false, errors.New("a page yields no values")
		}
		if !l.cr.HasNext() {
			return false, l.cr.Err()
		}
		// Look at a new page before its first values are read.
		if l.pages.fresh {
			if err := l.checkPage(); err != nil {
				return false, err
			}
		}
		var total int64
		var err error
		switch cr := l.cr.(type) {
		case *file.BooleanColumnChunkReader:
			total, _, err = cr.ReadBatchInPage(b, l.bools, defs, reps)
		case *file.Int32ColumnChunkReader:
			total, _, err = cr.ReadBatchInPage(b, l.i32, defs, reps)
		case *file.Int64ColumnChunkReader:
			total, _, err = cr.ReadBatchInPage(b, l.i64, defs, reps)
		case *file.Int96ColumnChunkReader:
			total, _, err = cr.ReadBatchInPage(b, l.i96, defs, reps)
		case *file.Float32ColumnChunkReader:
			total, _, err = cr.ReadBatchInPage(b, l.f32, defs, reps)
		case *file.Float64ColumnChunkReader:
			total, _, err = cr.ReadBatchInPage(b, l.f64, defs, reps)
		case *file.ByteArrayColumnChunkReader:
			total, _, err = cr.ReadBatchInPage(b, l.ba, defs, reps)
		case *file.FixedLenByteArrayColumnChunkReader:
			total, _, err = cr.ReadBatchInPage(b, l.fl, defs, reps)
		default:
			return false, fmt.Errorf("unsupported column reader %T", cr)
		}
		if err != nil {
			return false, err
		}
		if total > 0 {
			l.n = int(total)
			return true, nil
		}
	}
}

// nextFlat returns the next value of a flat column: the value, an error
// that makes the row a RowError, or a fatal error.
func (l *pqLeaf) nextFlat() (Value, error, error) {
	if l.pos >= l.n {
		ok, err := l.fill()
		if err != nil {
			return Value{}, nil, err
		}
		if !ok {
			return Value{}, nil, errors.New("column chunk ended before the row group")
		}
	}
	if l.maxDef > 0 {
		def := l.defs[l.pos]
		l.pos++
		if def < l.maxDef {
			return Null(), nil, nil
		}
	} else {
		l.pos++
	}
	i := l.v
	l.v++
	v, err := l.conv.value(l, i)
	return v, err, nil
}
