package readers

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// Parquet value mapping (the contract the mappings stage reads against):
//
//	parquet / arrow type                       Value
//	-----------------------------------------  ----------------------------------------------
//	NULL at any level                          KindNull
//	STRING/UTF8, ENUM, JSON (BYTE_ARRAY),      KindString (ENUM/JSON text must be UTF-8, else
//	  large/view strings, dictionary strings     a RowError wrapping ErrInvalidUTF8)
//	INT8..INT64, UINT8..UINT64                 KindNumber, exact decimal text
//	FLOAT, DOUBLE, FLOAT16                     KindNumber, shortest fixed-point text that
//	                                             round-trips in the column's own precision;
//	                                             "NaN", "Inf", "-Inf" for the specials
//	DECIMAL (INT32/INT64/FLBA/BYTE_ARRAY)      KindNumber, exact text with the column's scale
//	BOOLEAN                                    KindBool
//	TIMESTAMP (ms/us/ns; s via arrow schema)   KindTime; Naive when isAdjustedToUTC=false
//	INT96                                      KindTime (UTC), any Julian day (no ns overflow)
//	DATE                                       KindTime, Naive, midnight
//	TIME (ms/us/ns)                            KindString "15:04:05.999999" (ns truncated to us)
//	UUID                                       KindString canonical 8-4-4-4-12, lower case
//	BYTE_ARRAY/FLBA without a text annotation, KindString: the bytes as text when they are
//	  BSON, GEOMETRY/GEOGRAPHY (WKB)             valid UTF-8 (legacy writers such as parquet-mr,
//	                                             Impala and Hive store strings unannotated),
//	                                             else "0x" + lower-case hex of the bytes
//	INTERVAL (FLBA 12)                         KindJSON {"months":M,"days":D,"millis":MS}
//	LIST, STRUCT, MAP                          KindJSON compact JSON (see appendJSON)
//	anything else                              KindString, arrow's own text (ValueStr)
//
// Nested values use the same rules inside JSON: numbers as JSON numbers (NaN and
// infinities as the strings "NaN", "Inf", "-Inf"), timestamps as RFC 3339 strings
// (with Z when UTC-adjusted, without a zone when naive), dates "2006-01-02", binary
// as hex strings, maps as objects when their keys are strings and as arrays of
// {"key":k,"value":v} otherwise.

// parquetBatchRows is how many rows one record batch holds. Small enough that a
// batch of wide rows stays in the low megabytes, large enough to amortize the
// per-batch cost of the column readers.
const parquetBatchRows = 8192

// parquetBufferSize is the read buffer per column chunk. The column readers
// stream pages through it instead of loading whole column chunks, so memory is
// bounded by (projected columns x buffer + one batch), independent of the size
// or number of row groups.
const parquetBufferSize = 1 << 20

// parquetLimits bound what one reader allocates for a file, whatever its
// footer and page headers claim.
type parquetLimits struct {
	bufferSize          int64 // read buffer per column chunk (capped again by the file size)
	maxUncompressedPage int64 // largest uncompressed page body accepted
	batchRows           int   // rows per record batch
}

// defaultParquetLimits are the limits of openParquet. A compressed page is
// also never accepted larger than the file it is in.
var defaultParquetLimits = parquetLimits{
	bufferSize:          parquetBufferSize,
	maxUncompressedPage: parquet.DefaultMaxUncompressedPageSize,
	batchRows:           parquetBatchRows,
}

// parquetReader streams a Parquet file as rows. It is not safe for concurrent use.
type parquetReader struct {
	path   string
	src    parquet.ReaderAtSeeker // closed by Close when it is an io.Closer
	lim    parquetLimits
	pf     *file.Reader
	rr     pqarrow.RecordReader // nil when no projected column is read through arrow
	header []string
	cols   []parquetColumn
	i96    []*int96Column // side readers, indexed by parquetColumn.i96

	rec      arrow.RecordBatch // current batch (owned by rr), nil when rr is nil
	batchLen int
	batchPos int

	rowsDone  int64 // rows returned so far
	rowsRead  int64 // rows fetched into batches so far
	totalRows int64
	size      int64
	err       error // sticky fatal error
	closed    bool
}

// parquetColumn is one projected output column.
type parquetColumn struct {
	name   string
	recIdx int // column of the record batch, -1 for an INT96 side-read column
	i96    int // index into parquetReader.i96 when recIdx is -1
	conv   converter
}

// converter turns element i of an array into a Value. The array is never null
// at i (callers check). It returns an error only for a value that cannot be
// represented; the error becomes a RowError.
type converter func(arr arrow.Array, i int) (Value, error)

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

func (r *parquetReader) open(opts Options, mem memory.Allocator) error {
	// No column chunk and no compressed page is larger than the file: cap
	// the read buffers and the page size checks by it, so a corrupt size in
	// a footer or page header cannot make the reader allocate megabytes for
	// a file of a few kilobytes.
	props := parquet.NewReaderProperties(mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = max(1, min(r.lim.bufferSize, r.size))
	props.MaxCompressedPageSize = max(1, min(parquet.DefaultMaxCompressedPageSize, r.size))
	props.MaxUncompressedPageSize = r.lim.maxUncompressedPage
	var err error
	r.pf, err = file.NewParquetReader(r.src, file.WithReadProps(props))
	if err != nil {
		return err
	}
	r.totalRows = r.pf.NumRows()

	fr, err := pqarrow.NewFileReader(r.pf, pqarrow.ArrowReadProperties{BatchSize: int64(r.lim.batchRows)}, mem)
	if err != nil {
		return err
	}
	fields := fr.Manifest.Fields
	byName := make(map[string]int, len(fields))
	r.header = make([]string, len(fields))
	for i := range fields {
		name := fields[i].Field.Name
		r.header[i] = name
		if _, dup := byName[name]; !dup {
			byName[name] = i
		}
	}

	names := opts.Columns
	if names == nil {
		names = r.header
	}
	fieldIdx := make([]int, len(names))
	var missing []string
	for k, name := range names {
		i, ok := byName[name]
		if !ok {
			missing = append(missing, name)
		}
		fieldIdx[k] = i
	}
	if missing != nil {
		return &MissingColumnError{File: r.path, Columns: missing}
	}

	// Decide, per top-level field, how it is read: flat INT96 columns through
	// our own column reader (pqarrow converts INT96 to int64 nanoseconds and
	// fails the whole batch on dates past 2262, such as Spark's 9999-12-31
	// sentinels), everything else through one pqarrow record reader.
	descr := r.pf.MetaData().Schema
	type plan struct {
		recIdx, i96 int
		conv        converter
	}
	plans := make(map[int]*plan)
	var leaves []int
	var arrowFields []int // top-level fields read through arrow, in projection order
	for _, fi := range fieldIdx {
		if _, done := plans[fi]; done {
			continue
		}
		sf := &fields[fi]
		var leaf *schema.Column
		if sf.IsLeaf() {
			leaf = descr.Column(sf.ColIndex)
		}
		if leaf != nil && leaf.PhysicalType() == parquet.Types.Int96 && leaf.MaxRepetitionLevel() == 0 {
			r.i96 = append(r.i96, &int96Column{pf: r.pf, col: sf.ColIndex, maxDef: leaf.MaxDefinitionLevel()})
			plans[fi] = &plan{recIdx: -1, i96: len(r.i96) - 1}
			continue
		}
		plans[fi] = &plan{conv: newConverter(sf.Field.Type, leaf)}
		arrowFields = append(arrowFields, fi)
		leaves = appendLeaves(leaves, sf)
	}
	// pqarrow returns the fields in the order of the leaves asked for; the
	// name check below guards that assumption.
	for j, fi := range arrowFields {
		plans[fi].recIdx = j
	}
	if len(leaves) > 0 {
		r.rr, err = fr.GetRecordReader(context.Background(), leaves, nil)
		if err != nil {
			return err
		}
		got := r.rr.Schema().Fields()
		if len(got) != len(arrowFields) {
			return fmt.Errorf("record reader returned %d columns, want %d", len(got), len(arrowFields))
		}
		for j, fi := range arrowFields {
			if got[j].Name != r.header[fi] {
				return fmt.Errorf("record reader column %d is %q, want %q", j, got[j].Name, r.header[fi])
			}
		}
	}

	r.cols = make([]parquetColumn, len(names))
	for k, fi := range fieldIdx {
		p := plans[fi]
		r.cols[k] = parquetColumn{name: names[k], recIdx: p.recIdx, i96: p.i96, conv: p.conv}
	}
	return nil
}

func appendLeaves(dst []int, sf *pqarrow.SchemaField) []int {
	if sf.IsLeaf() {
		return append(dst, sf.ColIndex)
	}
	for i := range sf.Children {
		dst = appendLeaves(dst, &sf.Children[i])
	}
	return dst
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
	for r.batchPos >= r.batchLen {
		if err := r.nextBatch(); err != nil {
			if err != io.EOF {
				r.err = err
			}
			return Row{}, err
		}
	}
	i := r.batchPos
	r.batchPos++
	r.rowsDone++
	row.Pos = Pos{File: r.path, Row: r.rowsDone}
	values := make([]Value, len(r.cols))
	for k := range r.cols {
		c := &r.cols[k]
		var v Value
		var verr error
		if c.recIdx < 0 {
			cell := r.i96[c.i96].cells[i]
			v, verr = cell.v, cell.err
		} else if arr := r.rec.Column(c.recIdx); !arr.IsNull(i) {
			v, verr = c.conv(arr, i)
		}
		if verr != nil {
			row.Err = &RowError{Pos: row.Pos, Column: c.name, Err: verr}
			return row, nil
		}
		values[k] = v
	}
	row.Values = values
	return row, nil
}

// nextBatch loads the next batch of rows, or returns io.EOF when the file's
// row count has been reached. A reader that stops short of the row count in
// the footer is an error, never a silent end.
func (r *parquetReader) nextBatch() error {
	r.batchPos, r.batchLen = 0, 0
	var n int
	if r.rr != nil {
		if !r.rr.Next() {
			if err := r.rr.Err(); err != nil && err != io.EOF {
				return fmt.Errorf("read %s: rows after %d: %w", r.path, r.rowsRead, err)
			}
			if r.rowsRead < r.totalRows {
				return fmt.Errorf("read %s: file ended after %d of %d rows", r.path, r.rowsRead, r.totalRows)
			}
			return io.EOF
		}
		r.rec = r.rr.RecordBatch()
		n = int(r.rec.NumRows())
	} else {
		if r.rowsRead >= r.totalRows {
			return io.EOF
		}
		n = int(min(int64(r.lim.batchRows), r.totalRows-r.rowsRead))
	}
	for _, c := range r.i96 {
		if err := c.read(n); err != nil {
			return fmt.Errorf("read %s: rows after %d: %w", r.path, r.rowsRead, err)
		}
	}
	r.rowsRead += int64(n)
	r.batchLen = n
	return nil
}

// Close releases the column readers and the file. It is safe to call twice.
func (r *parquetReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.rec = nil
	if r.rr != nil {
		r.rr.Release()
		r.rr = nil
	}
	for _, c := range r.i96 {
		if c.rdr != nil {
			c.rdr.Close()
			c.rdr = nil
		}
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

// int96Column reads one flat INT96 column directly, row group by row group,
// in step with the record reader.
type int96Column struct {
	pf     *file.Reader
	col    int
	maxDef int16
	rg     int // next row group to open
	rdr    *file.Int96ColumnChunkReader
	vals   []parquet.Int96
	defs   []int16
	cells  []int96Cell // the current batch
}

type int96Cell struct {
	v   Value
	err error
}

// errInt96 is why an INT96 value is not a time.
var errInt96 = errors.New("invalid INT96 timestamp")

func (c *int96Column) read(n int) error {
	if cap(c.cells) < n {
		c.cells = make([]int96Cell, n)
		c.vals = make([]parquet.Int96, n)
		c.defs = make([]int16, n)
	}
	c.cells = c.cells[:n]
	got := 0
	for got < n {
		if c.rdr == nil || !c.rdr.HasNext() {
			if c.rg >= c.pf.NumRowGroups() {
				return fmt.Errorf("INT96 column %d ended after %d rows of the batch", c.col, got)
			}
			cr, err := c.pf.RowGroup(c.rg).Column(c.col)
			if err != nil {
				return err
			}
			c.rg++
			if c.rdr != nil {
				c.rdr.Close()
			}
			rdr, ok := cr.(*file.Int96ColumnChunkReader)
			if !ok {
				return fmt.Errorf("column %d is not INT96", c.col)
			}
			c.rdr = rdr
			continue
		}
		total, _, err := c.rdr.ReadBatch(int64(n-got), c.vals, c.defs, nil)
		if err != nil {
			return err
		}
		if total == 0 {
			c.rdr.Close()
			c.rdr = nil
			continue
		}
		vi := 0
		for k := 0; k < int(total); k++ {
			cell := &c.cells[got+k]
			if c.maxDef > 0 && c.defs[k] < c.maxDef {
				*cell = int96Cell{}
				continue
			}
			t, err := int96Time(c.vals[vi])
			vi++
			*cell = int96Cell{v: Time(t), err: err}
		}
		got += int(total)
	}
	return nil
}

// int96Time decodes the Impala/Spark INT96 layout: nanoseconds of the day
// (little-endian uint64) then the Julian day (uint32). time.Time covers every
// Julian day, so far dates (9999-12-31) are exact instead of overflowing.
func int96Time(v parquet.Int96) (time.Time, error) {
	nanos := binary.LittleEndian.Uint64(v[:8])
	if nanos >= 86400*1e9 {
		return time.Time{}, fmt.Errorf("%w: %d nanoseconds of day", errInt96, nanos)
	}
	const julianUnixEpoch = 2440588
	days := int64(binary.LittleEndian.Uint32(v[8:])) - julianUnixEpoch
	return time.Unix(days*86400, int64(nanos)).UTC(), nil
}

// newConverter chooses the conversion for a top-level column once, at open.
// leaf is the Parquet column when the field is a primitive, so annotations
// that arrow drops (ENUM, JSON, INTERVAL) still decide the representation.
func newConverter(dt arrow.DataType, leaf *schema.Column) converter {
	var logical schema.LogicalType = schema.NoLogicalType{}
	var converted schema.ConvertedType = schema.ConvertedTypes.None
	if leaf != nil {
		logical, converted = leaf.LogicalType(), leaf.ConvertedType()
	}
	switch t := dt.(type) {
	case *arrow.BinaryType:
		switch logical.(type) {
		case schema.EnumLogicalType, schema.JSONLogicalType:
			return textConverter
		}
		if converted == schema.ConvertedTypes.Enum || converted == schema.ConvertedTypes.JSON {
			return textConverter
		}
	case *arrow.FixedSizeBinaryType:
		_, isInterval := logical.(schema.IntervalLogicalType)
		if t.ByteWidth == 12 && (isInterval || converted == schema.ConvertedTypes.Interval) {
			return func(arr arrow.Array, i int) (Value, error) {
				return JSON(string(appendInterval(nil, arr.(*array.FixedSizeBinary).Value(i)))), nil
			}
		}
		if _, isUUID := logical.(schema.UUIDLogicalType); isUUID && t.ByteWidth == 16 {
			return func(arr arrow.Array, i int) (Value, error) {
				return String(formatUUID(arr.(*array.FixedSizeBinary).Value(i))), nil
			}
		}
	case *arrow.DictionaryType:
		inner := newConverter(t.ValueType, leaf)
		return func(arr arrow.Array, i int) (Value, error) {
			d := arr.(*array.Dictionary)
			return inner(d.Dictionary(), d.GetValueIndex(i))
		}
	case arrow.ExtensionType:
		if t.ExtensionName() == "arrow.uuid" {
			return func(arr arrow.Array, i int) (Value, error) {
				return String(formatUUID(arr.(array.ExtensionArray).Storage().(*array.FixedSizeBinary).Value(i))), nil
			}
		}
		inner := newConverter(t.StorageType(), leaf)
		return func(arr arrow.Array, i int) (Value, error) {
			return inner(arr.(array.ExtensionArray).Storage(), i)
		}
	}
	return scalarConverter(dt)
}

// textConverter reads a BYTE_ARRAY that the Parquet schema says is text.
func textConverter(arr arrow.Array, i int) (Value, error) {
	b := arr.(*array.Binary).Value(i)
	if !utf8.Valid(b) {
		return Value{}, ErrInvalidUTF8
	}
	return String(string(b)), nil
}

// scalarConverter maps an arrow type to its Value without Parquet hints.
// Strings are copied: arrow's Value(i) aliases buffers that the record reader
// recycles, and Row.Values belongs to the caller.
func scalarConverter(dt arrow.DataType) converter {
	switch t := dt.(type) {
	case *arrow.NullType:
		return func(arrow.Array, int) (Value, error) { return Null(), nil }
	case *arrow.BooleanType:
		return func(arr arrow.Array, i int) (Value, error) { return Bool(arr.(*array.Boolean).Value(i)), nil }
	case *arrow.StringType:
		return func(arr arrow.Array, i int) (Value, error) {
			return String(strings.Clone(arr.(*array.String).Value(i))), nil
		}
	case *arrow.LargeStringType:
		return func(arr arrow.Array, i int) (Value, error) {
			return String(strings.Clone(arr.(*array.LargeString).Value(i))), nil
		}
	case *arrow.StringViewType:
		return func(arr arrow.Array, i int) (Value, error) {
			return String(strings.Clone(arr.(*array.StringView).Value(i))), nil
		}
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
		*arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type,
		*arrow.Float16Type, *arrow.Float32Type, *arrow.Float64Type,
		*arrow.Decimal32Type, *arrow.Decimal64Type, *arrow.Decimal128Type, *arrow.Decimal256Type:
		return func(arr arrow.Array, i int) (Value, error) {
			return Number(string(appendNumber(nil, arr, i))), nil
		}
	case *arrow.TimestampType:
		naive := t.TimeZone == ""
		unit := t.Unit
		return func(arr arrow.Array, i int) (Value, error) {
			tm := timestampTime(int64(arr.(*array.Timestamp).Value(i)), unit)
			return Value{Kind: KindTime, T: tm, Naive: naive}, nil
		}
	case *arrow.Date32Type:
		return func(arr arrow.Array, i int) (Value, error) {
			return NaiveTime(time.Unix(int64(arr.(*array.Date32).Value(i))*86400, 0).UTC()), nil
		}
	case *arrow.Date64Type:
		return func(arr arrow.Array, i int) (Value, error) {
			return NaiveTime(time.UnixMilli(int64(arr.(*array.Date64).Value(i))).UTC()), nil
		}
	case *arrow.Time32Type, *arrow.Time64Type:
		return func(arr arrow.Array, i int) (Value, error) {
			return String(string(appendTimeOfDay(nil, arr, i))), nil
		}
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType, *arrow.FixedSizeBinaryType:
		return func(arr arrow.Array, i int) (Value, error) {
			return String(binaryText(binaryValue(arr, i))), nil
		}
	case *arrow.ListType, *arrow.LargeListType, *arrow.FixedSizeListType, *arrow.ListViewType,
		*arrow.LargeListViewType, *arrow.StructType, *arrow.MapType:
		return func(arr arrow.Array, i int) (Value, error) {
			return JSON(string(appendJSON(nil, arr, i))), nil
		}
	case *arrow.DictionaryType, arrow.ExtensionType:
		return newConverter(dt, nil)
	}
	return func(arr arrow.Array, i int) (Value, error) { return String(arr.ValueStr(i)), nil }
}

func timestampTime(v int64, unit arrow.TimeUnit) time.Time {
	switch unit {
	case arrow.Second:
		return time.Unix(v, 0).UTC()
	case arrow.Millisecond:
		return time.UnixMilli(v).UTC()
	case arrow.Microsecond:
		return time.UnixMicro(v).UTC()
	default:
		return time.Unix(0, v).UTC()
	}
}

func binaryValue(arr arrow.Array, i int) []byte {
	switch a := arr.(type) {
	case *array.Binary:
		return a.Value(i)
	case *array.LargeBinary:
		return a.Value(i)
	case *array.BinaryView:
		return a.Value(i)
	case *array.FixedSizeBinary:
		return a.Value(i)
	}
	return nil
}

// binaryText renders bytes of no declared text type. Unannotated BYTE_ARRAY
// is how older writers store strings, so valid UTF-8 is taken as text (as
// DuckDB and Spark's binaryAsString do); anything else is "0x" + hex so that
// it can never be mistaken for text with the same characters.
func binaryText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return "0x" + hex.EncodeToString(b)
}

// appendNumber writes a numeric element as exact decimal text.
func appendNumber(b []byte, arr arrow.Array, i int) []byte {
	switch a := arr.(type) {
	case *array.Int8:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.AppendInt(b, a.Value(i), 10)
	case *array.Uint8:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10)
	case *array.Uint16:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10)
	case *array.Uint32:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10)
	case *array.Uint64:
		return strconv.AppendUint(b, a.Value(i), 10)
	case *array.Float16:
		// Every float16 is exactly a float32, and float32's shortest text
		// reads back as the same float16.
		return appendFloat(b, float64(a.Value(i).Float32()), 32)
	case *array.Float32:
		return appendFloat(b, float64(a.Value(i)), 32)
	case *array.Float64:
		return appendFloat(b, a.Value(i), 64)
	case *array.Decimal32:
		return appendDecimal(b, big.NewInt(int64(a.Value(i))), a.DataType().(*arrow.Decimal32Type).Scale)
	case *array.Decimal64:
		return appendDecimal(b, big.NewInt(int64(a.Value(i))), a.DataType().(*arrow.Decimal64Type).Scale)
	case *array.Decimal128:
		return appendDecimal(b, a.Value(i).BigInt(), a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Decimal256:
		return appendDecimal(b, a.Value(i).BigInt(), a.DataType().(*arrow.Decimal256Type).Scale)
	}
	return append(b, arr.ValueStr(i)...)
}

// appendFloat writes the shortest fixed-point text that parses back to the
// same value at bitSize, so a float32 0.33333334 stays "0.33333334" rather
// than its float64 widening 0.3333333432674408.
func appendFloat(b []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, f, 'f', -1, bitSize)
}

// appendDecimal writes unscaled×10^-scale exactly, keeping the scale's
// trailing zeros (decimal(18,2) 1.50 stays "1.50").
func appendDecimal(b []byte, unscaled *big.Int, scale int32) []byte {
	digits := unscaled.String()
	neg := strings.HasPrefix(digits, "-")
	if neg {
		digits = digits[1:]
		b = append(b, '-')
	}
	if scale <= 0 {
		b = append(b, digits...)
		if digits != "0" {
			b = append(b, strings.Repeat("0", int(-scale))...)
		}
		return b
	}
	s := int(scale)
	if len(digits) <= s {
		b = append(b, "0."...)
		b = append(b, strings.Repeat("0", s-len(digits))...)
		return append(b, digits...)
	}
	b = append(b, digits[:len(digits)-s]...)
	b = append(b, '.')
	return append(b, digits[len(digits)-s:]...)
}

func appendTimeOfDay(b []byte, arr arrow.Array, i int) []byte {
	var d time.Duration
	switch a := arr.(type) {
	case *array.Time32:
		d = a.Value(i).ToTime(a.DataType().(*arrow.Time32Type).Unit).Sub(time.Unix(0, 0).UTC())
	case *array.Time64:
		d = a.Value(i).ToTime(a.DataType().(*arrow.Time64Type).Unit).Sub(time.Unix(0, 0).UTC())
	}
	return time.Unix(0, 0).UTC().Add(d).AppendFormat(b, "15:04:05.999999")
}

func formatUUID(u []byte) string {
	if len(u) != 16 {
		return hex.EncodeToString(u)
	}
	var buf [36]byte
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], u[10:16])
	return string(buf[:])
}

// appendInterval decodes the Parquet INTERVAL layout: three little-endian
// uint32 counts of months, days and milliseconds.
func appendInterval(b []byte, v []byte) []byte {
	b = append(b, `{"months":`...)
	b = strconv.AppendUint(b, uint64(binary.LittleEndian.Uint32(v[0:4])), 10)
	b = append(b, `,"days":`...)
	b = strconv.AppendUint(b, uint64(binary.LittleEndian.Uint32(v[4:8])), 10)
	b = append(b, `,"millis":`...)
	b = strconv.AppendUint(b, uint64(binary.LittleEndian.Uint32(v[8:12])), 10)
	return append(b, '}')
}

// appendJSON writes element i of arr as compact JSON. Nested values are not
// on the hot path of typical CRM exports, so clarity wins over speed here.
func appendJSON(b []byte, arr arrow.Array, i int) []byte {
	if arr.IsNull(i) {
		return append(b, "null"...)
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return strconv.AppendBool(b, a.Value(i))
	case *array.Int8, *array.Int16, *array.Int32, *array.Int64,
		*array.Uint8, *array.Uint16, *array.Uint32, *array.Uint64,
		*array.Decimal32, *array.Decimal64, *array.Decimal128, *array.Decimal256:
		return appendNumber(b, arr, i)
	case *array.Float16, *array.Float32, *array.Float64:
		n := appendNumber(nil, arr, i)
		if s := string(n); s == "NaN" || s == "Inf" || s == "-Inf" {
			return appendJSONString(b, s)
		}
		return append(b, n...)
	case *array.String:
		return appendJSONString(b, a.Value(i))
	case *array.LargeString:
		return appendJSONString(b, a.Value(i))
	case *array.StringView:
		return appendJSONString(b, a.Value(i))
	case *array.Binary, *array.LargeBinary, *array.BinaryView, *array.FixedSizeBinary:
		return appendJSONString(b, binaryText(binaryValue(arr, i)))
	case *array.Timestamp:
		tt := a.DataType().(*arrow.TimestampType)
		t := timestampTime(int64(a.Value(i)), tt.Unit)
		if tt.TimeZone == "" {
			return appendJSONString(b, t.Format("2006-01-02T15:04:05.999999999"))
		}
		return appendJSONString(b, t.Format(time.RFC3339Nano))
	case *array.Date32:
		return appendJSONString(b, time.Unix(int64(a.Value(i))*86400, 0).UTC().Format(time.DateOnly))
	case *array.Date64:
		return appendJSONString(b, time.UnixMilli(int64(a.Value(i))).UTC().Format(time.DateOnly))
	case *array.Time32, *array.Time64:
		return appendJSONString(b, string(appendTimeOfDay(nil, arr, i)))
	case *array.Map:
		return appendJSONMap(b, a, i)
	case array.ListLike:
		start, end := a.ValueOffsets(i)
		elems := a.ListValues()
		b = append(b, '[')
		for j := start; j < end; j++ {
			if j > start {
				b = append(b, ',')
			}
			b = appendJSON(b, elems, int(j))
		}
		return append(b, ']')
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		b = append(b, '{')
		for f := 0; f < a.NumField(); f++ {
			if f > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, st.Field(f).Name)
			b = append(b, ':')
			b = appendJSON(b, a.Field(f), i)
		}
		return append(b, '}')
	case *array.Dictionary:
		return appendJSON(b, a.Dictionary(), a.GetValueIndex(i))
	case array.ExtensionArray:
		if a.ExtensionType().ExtensionName() == "arrow.uuid" {
			if fsb, ok := a.Storage().(*array.FixedSizeBinary); ok {
				return appendJSONString(b, formatUUID(fsb.Value(i)))
			}
		}
		return appendJSON(b, a.Storage(), i)
	}
	return appendJSONString(b, arr.ValueStr(i))
}

// appendJSONMap writes a map as an object when its keys are text, else as an
// array of {"key":k,"value":v} (JSON object keys must be strings).
func appendJSONMap(b []byte, m *array.Map, i int) []byte {
	start, end := m.ValueOffsets(i)
	keys, items := m.Keys(), m.Items()
	textKeys := false
	switch keys.(type) {
	case *array.String, *array.LargeString, *array.StringView:
		textKeys = true
	}
	if textKeys {
		b = append(b, '{')
		for j := start; j < end; j++ {
			if j > start {
				b = append(b, ',')
			}
			b = appendJSON(b, keys, int(j))
			b = append(b, ':')
			b = appendJSON(b, items, int(j))
		}
		return append(b, '}')
	}
	b = append(b, '[')
	for j := start; j < end; j++ {
		if j > start {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b = appendJSON(b, keys, int(j))
		b = append(b, `,"value":`...)
		b = appendJSON(b, items, int(j))
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does, so the output is always valid JSON.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
