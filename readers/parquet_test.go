package readers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The -update flag may also be declared by another test file of this
// package; registering it twice panics, so look it up first.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files and generated fixtures")
	}
}

func updateFlag() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

var (
	renewalsParquet = filepath.Join("testdata", "parquet", "renewals.parquet")
	renewalsCSV     = filepath.Join("testdata", "parquet", "renewals.csv")
)

// renewalRow is one row of the renewals fixture; nil pointers are nulls.
type renewalRow struct {
	id, user  string
	email     *string
	phone     string
	country   string
	plan      string
	cents     int64 // amount × 100, decimal(18,2)
	currency  string
	renewedAt time.Time
}

func renewalRows() []renewalRow {
	plans := []string{"monthly", "annual", "family"}
	countries := []string{"US", "GB", "DE", "IN", "BR"}
	currencies := []string{"USD", "GBP", "EUR", "INR", "BRL"}
	phones := []string{"(650) 555-1212", "+44 20 7946 0958", "030 901820", "+91 98765 43210", "+55 11 91234-5678"}
	base := time.Date(2026, 3, 1, 23, 45, 0, 0, time.UTC)
	var rows []renewalRow
	for i := 0; i < 20; i++ {
		var email *string
		if i%4 != 3 {
			e := strings.Repeat("x", i%3) + "User" + string(rune('A'+i)) + "@Example.com "
			email = &e
		}
		rows = append(rows, renewalRow{
			id:        "ren-" + string(rune('a'+i)) + "-0001",
			user:      "u" + string(rune('0'+i%10)) + string(rune('0'+i/10)),
			email:     email,
			phone:     phones[i%5],
			country:   countries[i%5],
			plan:      plans[i%3],
			cents:     int64(999 + i*1001 - 7*(i%2)), // includes x.00 and odd cents
			currency:  currencies[i%5],
			renewedAt: base.Add(time.Duration(i) * 37 * time.Minute).Add(time.Duration(i*123456) * time.Microsecond),
		})
	}
	// 10^13 with cents: more significant digits than a float32 holds, so any
	// float detour would show.
	rows[7].cents = 1000000000000000
	return rows
}

var renewalsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "renewal_id", Type: arrow.BinaryTypes.String},
	{Name: "user_id", Type: arrow.BinaryTypes.String},
	{Name: "email", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "phone", Type: arrow.BinaryTypes.String},
	{Name: "country", Type: arrow.BinaryTypes.String},
	{Name: "plan", Type: arrow.BinaryTypes.String},
	{Name: "amount", Type: &arrow.Decimal128Type{Precision: 18, Scale: 2}},
	{Name: "currency", Type: arrow.BinaryTypes.String},
	{Name: "renewed_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
}, nil)

// TestGenerateRenewalsParquet rewrites the renewals fixture and its CSV twin:
//
//	go test ./readers -run TestGenerateRenewalsParquet -update
func TestGenerateRenewalsParquet(t *testing.T) {
	if !updateFlag() {
		t.Skip("run with -update to regenerate testdata/parquet/renewals.{parquet,csv}")
	}
	rows := renewalRows()
	b := array.NewRecordBuilder(memory.DefaultAllocator, renewalsSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.id)
		b.Field(1).(*array.StringBuilder).Append(r.user)
		if r.email == nil {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.StringBuilder).Append(*r.email)
		}
		b.Field(3).(*array.StringBuilder).Append(r.phone)
		b.Field(4).(*array.StringBuilder).Append(r.country)
		b.Field(5).(*array.StringBuilder).Append(r.plan)
		b.Field(6).(*array.Decimal128Builder).Append(decimal128.FromI64(r.cents))
		b.Field(7).(*array.StringBuilder).Append(r.currency)
		b.Field(8).(*array.TimestampBuilder).Append(arrow.Timestamp(r.renewedAt.UnixMicro()))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	writeParquet(t, renewalsParquet, rec, 8)

	f, err := os.Create(renewalsCSV)
	require.NoError(t, err)
	w := csv.NewWriter(f)
	var names []string
	for _, f := range renewalsSchema.Fields() {
		names = append(names, f.Name)
	}
	require.NoError(t, w.Write(names))
	for _, r := range rows {
		email := ""
		if r.email != nil {
			email = *r.email
		}
		amount := string(appendDecimal(nil, strconv.FormatInt(r.cents, 10), 2))
		require.NoError(t, w.Write([]string{r.id, r.user, email, r.phone, r.country, r.plan,
			amount, r.currency, r.renewedAt.Format(time.RFC3339Nano)}))
	}
	w.Flush()
	require.NoError(t, w.Error())
	require.NoError(t, f.Close())
}

// writeParquet writes rec to path with row groups of at most rowGroupRows.
func writeParquet(tb testing.TB, path string, rec arrow.RecordBatch, rowGroupRows int64) {
	tb.Helper()
	f, err := os.Create(path)
	require.NoError(tb, err)
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(rowGroupRows),
		parquet.WithCompression(compress.Codecs.Snappy))
	w, err := pqarrow.NewFileWriter(rec.Schema(), f, props, pqarrow.DefaultWriterProps())
	require.NoError(tb, err)
	require.NoError(tb, w.Write(rec))
	require.NoError(tb, w.Close())
}

// TestParquetRenewalsMatchesCSV reads the fixture and its CSV twin and
// checks they carry the same values once kinds are normalized to text.
func TestParquetRenewalsMatchesCSV(t *testing.T) {
	f, err := os.Open(renewalsCSV)
	require.NoError(t, err)
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)

	rows, header, leaked, err := readAllParquet(renewalsParquet)
	require.NoError(t, err)
	assert.Zero(t, leaked)
	require.Equal(t, records[0], header)
	require.Len(t, rows, len(records)-1)
	nulls := 0
	for i, row := range rows {
		require.NoError(t, row.Err)
		assert.Equal(t, Pos{File: renewalsParquet, Row: int64(i + 1)}, row.Pos)
		for k, v := range row.Values {
			var text string
			switch v.Kind {
			case KindNull:
				nulls++
			case KindString, KindNumber:
				text = v.S
			case KindTime:
				assert.False(t, v.Naive, "renewed_at is UTC-adjusted")
				text = v.T.Format(time.RFC3339Nano)
			default:
				t.Fatalf("row %d column %s: unexpected kind %v", i+1, header[k], v.Kind)
			}
			assert.Equal(t, records[i+1][k], text, "row %d column %s", i+1, header[k])
		}
		assert.Equal(t, KindNumber, row.Values[6].Kind, "amount")
		assert.Equal(t, KindTime, row.Values[8].Kind, "renewed_at")
	}
	assert.Equal(t, 5, nulls, "null emails")
	assert.Equal(t, "10000000000000.00", rows[7].Values[6].S, "decimal(18,2) is exact")
}

func TestParquetProjection(t *testing.T) {
	t.Run("subset reordered with a duplicate", func(t *testing.T) {
		r, err := openParquet(renewalsParquet, Options{Columns: []string{"renewed_at", "amount", "renewal_id", "amount"}})
		require.NoError(t, err)
		defer r.Close()
		assert.Len(t, r.Header(), 9, "Header lists every column, not the projection")
		row, err := r.Next()
		require.NoError(t, err)
		require.Len(t, row.Values, 4)
		assert.Equal(t, KindTime, row.Values[0].Kind)
		assert.Equal(t, Number("9.99"), row.Values[1])
		assert.Equal(t, String("ren-a-0001"), row.Values[2])
		assert.Equal(t, row.Values[1], row.Values[3])
		pr := r.(*parquetReader)
		assert.Len(t, pr.fields, 3, "only the projected columns are read")
		assert.Len(t, pr.leaves, 3, "only the projected leaf columns are read")
	})
	t.Run("missing column", func(t *testing.T) {
		_, err := openParquet(renewalsParquet, Options{Columns: []string{"email", "nope", "also_nope"}})
		var missing *MissingColumnError
		require.True(t, errors.As(err, &missing), "got %v", err)
		assert.Equal(t, []string{"nope", "also_nope"}, missing.Columns)
		assert.Equal(t, renewalsParquet, missing.File)
	})
	t.Run("empty projection still counts rows", func(t *testing.T) {
		r, err := openParquet(renewalsParquet, Options{Columns: []string{}})
		require.NoError(t, err)
		defer r.Close()
		n := 0
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			assert.Empty(t, row.Values)
			n++
		}
		assert.Equal(t, 20, n)
	})
}

func TestParquetNotParquet(t *testing.T) {
	for name, content := range map[string]string{
		"empty.parquet": "",
		"csv.parquet":   "a,b\n1,2\n",
		"magic.parquet": "PAR1PAR1",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
			_, err := openParquet(path, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), name)
		})
	}
	_, err := openParquet(filepath.Join(t.TempDir(), "absent.parquet"), Options{})
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestParquetLibraryPanic: arrow-go panics on this footer; Open must not.
func TestParquetLibraryPanic(t *testing.T) {
	_, err := openParquet(filepath.Join("testdata", "parquet", "unknown-logical-type.parquet"), Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown-logical-type.parquet")
	assert.Contains(t, err.Error(), "panic")
}

// TestParquetInt96FarDates: Spark writes 9999-12-31 sentinels as INT96, past
// the int64-nanosecond range that pqarrow converts through.
func TestParquetInt96FarDates(t *testing.T) {
	rows, _, leaked, err := readAllParquet(filepath.Join("testdata", "parquet", "int96_from_spark.parquet"))
	require.NoError(t, err)
	assert.Zero(t, leaked)
	require.Len(t, rows, 6)
	want := []string{"2024-01-01T20:34:56.123456Z", "2024-01-01T01:00:00Z", "9999-12-31T03:00:00Z", "2024-12-30T23:00:00Z"}
	for i, w := range want {
		require.NoError(t, rows[i].Err)
		assert.Equal(t, KindTime, rows[i].Values[0].Kind)
		assert.False(t, rows[i].Values[0].Naive)
		assert.Equal(t, w, rows[i].Values[0].T.Format(time.RFC3339Nano), "row %d", i+1)
	}
	assert.Equal(t, Null(), rows[4].Values[0])
	var rowErr *RowError
	require.ErrorAs(t, rows[5].Err, &rowErr)
	assert.Equal(t, "a", rowErr.Column)
	assert.ErrorIs(t, rows[5].Err, errInt96)
	assert.Equal(t, int64(6), rowErr.Pos.Row)
}

// TestParquetValueMapping writes one row of every supported type with
// arrow-go and checks the Value each becomes.
func TestParquetValueMapping(t *testing.T) {
	mem := memory.NewGoAllocator()
	at := time.Date(2026, 3, 12, 6, 30, 0, 500_000_000, time.UTC)
	dec38, _ := decimal128.FromString("-1234567890123456789012345678.0123456789", 38, 10)
	dec50, _ := decimal256.FromString("123456789012345678901234567890123456789012.3456", 50, 4)
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	mapStr := arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)
	mapInt := arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String)
	structType := arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true})

	type col struct {
		name   string
		typ    arrow.DataType
		append func(b array.Builder)
		want   Value
	}
	cols := []col{
		{"i8", arrow.PrimitiveTypes.Int8, func(b array.Builder) { b.(*array.Int8Builder).Append(-128) }, Number("-128")},
		{"u8", arrow.PrimitiveTypes.Uint8, func(b array.Builder) { b.(*array.Uint8Builder).Append(255) }, Number("255")},
		{"i16", arrow.PrimitiveTypes.Int16, func(b array.Builder) { b.(*array.Int16Builder).Append(-32768) }, Number("-32768")},
		{"u16", arrow.PrimitiveTypes.Uint16, func(b array.Builder) { b.(*array.Uint16Builder).Append(65535) }, Number("65535")},
		{"i32", arrow.PrimitiveTypes.Int32, func(b array.Builder) { b.(*array.Int32Builder).Append(math.MinInt32) }, Number("-2147483648")},
		{"u32", arrow.PrimitiveTypes.Uint32, func(b array.Builder) { b.(*array.Uint32Builder).Append(math.MaxUint32) }, Number("4294967295")},
		{"i64", arrow.PrimitiveTypes.Int64, func(b array.Builder) { b.(*array.Int64Builder).Append(math.MinInt64) }, Number("-9223372036854775808")},
		{"u64", arrow.PrimitiveTypes.Uint64, func(b array.Builder) { b.(*array.Uint64Builder).Append(math.MaxUint64) }, Number("18446744073709551615")},
		{"f32", arrow.PrimitiveTypes.Float32, func(b array.Builder) { b.(*array.Float32Builder).Append(float32(1) / 3) }, Number("0.33333334")},
		{"f64", arrow.PrimitiveTypes.Float64, func(b array.Builder) { b.(*array.Float64Builder).Append(0.1) }, Number("0.1")},
		{"f64big", arrow.PrimitiveTypes.Float64, func(b array.Builder) { b.(*array.Float64Builder).Append(1e21) }, Number("1000000000000000000000")},
		{"nan", arrow.PrimitiveTypes.Float64, func(b array.Builder) { b.(*array.Float64Builder).Append(math.NaN()) }, Number("NaN")},
		{"ninf", arrow.PrimitiveTypes.Float32, func(b array.Builder) { b.(*array.Float32Builder).Append(float32(math.Inf(-1))) }, Number("-Inf")},
		{"f16", arrow.FixedWidthTypes.Float16, func(b array.Builder) { b.(*array.Float16Builder).Append(float16.New(1.5)) }, Number("1.5")},
		{"f16inf", arrow.FixedWidthTypes.Float16, func(b array.Builder) { b.(*array.Float16Builder).Append(float16.Inf()) }, Number("Inf")},
		{"dec18", &arrow.Decimal128Type{Precision: 18, Scale: 6}, func(b array.Builder) {
			b.(*array.Decimal128Builder).Append(decimal128.FromI64(123456789012))
		}, Number("123456.789012")},
		{"dec4", &arrow.Decimal128Type{Precision: 4, Scale: 2}, func(b array.Builder) {
			b.(*array.Decimal128Builder).Append(decimal128.FromI64(-5))
		}, Number("-0.05")},
		{"dec38", &arrow.Decimal128Type{Precision: 38, Scale: 10}, func(b array.Builder) { b.(*array.Decimal128Builder).Append(dec38) },
			Number("-1234567890123456789012345678.0123456789")},
		{"dec50", &arrow.Decimal256Type{Precision: 50, Scale: 4}, func(b array.Builder) { b.(*array.Decimal256Builder).Append(dec50) },
			Number("123456789012345678901234567890123456789012.3456")},
		{"bool", arrow.FixedWidthTypes.Boolean, func(b array.Builder) { b.(*array.BooleanBuilder).Append(true) }, Bool(true)},
		{"ts_ms_utc", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(at.UnixMilli()))
		}, Time(at)},
		{"ts_us_naive", &arrow.TimestampType{Unit: arrow.Microsecond}, func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(at.UnixMicro()))
		}, NaiveTime(at)},
		{"ts_ns_ny", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "America/New_York"}, func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(at.UnixNano() + 7))
		}, Time(at.Add(7))},
		{"ts_s", &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}, func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(at.Unix()))
		}, Time(at.Truncate(time.Second))},
		{"ts_far", &arrow.TimestampType{Unit: arrow.Microsecond}, func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).UnixMicro()))
		}, NaiveTime(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC))},
		{"date", arrow.FixedWidthTypes.Date32, func(b array.Builder) { b.(*array.Date32Builder).Append(arrow.Date32FromTime(at)) },
			NaiveTime(time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC))},
		{"tod", arrow.FixedWidthTypes.Time64us, func(b array.Builder) {
			b.(*array.Time64Builder).Append(arrow.Time64((15*3600+4*60+5)*1e6 + 250))
		}, String("15:04:05.00025")},
		{"str", arrow.BinaryTypes.String, func(b array.Builder) { b.(*array.StringBuilder).Append("héllo ✓") }, String("héllo ✓")},
		{"lstr", arrow.BinaryTypes.LargeString, func(b array.Builder) { b.(*array.LargeStringBuilder).Append("large") }, String("large")},
		{"dict", dictType, func(b array.Builder) { require.NoError(t, b.(*array.BinaryDictionaryBuilder).AppendString("red")) }, String("red")},
		{"blob_text", arrow.BinaryTypes.Binary, func(b array.Builder) { b.(*array.BinaryBuilder).Append([]byte("abc")) }, String("abc")},
		{"blob", arrow.BinaryTypes.Binary, func(b array.Builder) { b.(*array.BinaryBuilder).Append([]byte{0, 0xff, '1'}) }, String("0x00ff31")},
		{"null", arrow.BinaryTypes.String, func(b array.Builder) { b.AppendNull() }, Null()},
		{"list", arrow.ListOf(arrow.PrimitiveTypes.Int64), func(b array.Builder) {
			lb := b.(*array.ListBuilder)
			lb.Append(true)
			vb := lb.ValueBuilder().(*array.Int64Builder)
			vb.Append(1)
			vb.AppendNull()
			vb.Append(3)
		}, JSON("[1,null,3]")},
		{"struct", structType, func(b array.Builder) {
			sb := b.(*array.StructBuilder)
			sb.Append(true)
			sb.FieldBuilder(0).(*array.Int64Builder).Append(7)
			sb.FieldBuilder(1).(*array.StringBuilder).Append(`q"x`)
		}, JSON(`{"a":7,"b":"q\"x"}`)},
		{"map_str", mapStr, func(b array.Builder) {
			mb := b.(*array.MapBuilder)
			mb.Append(true)
			mb.KeyBuilder().(*array.StringBuilder).Append("k1")
			mb.ItemBuilder().(*array.Int64Builder).Append(1)
			mb.KeyBuilder().(*array.StringBuilder).Append("k2")
			mb.ItemBuilder().(*array.Int64Builder).AppendNull()
		}, JSON(`{"k1":1,"k2":null}`)},
		{"map_int", mapInt, func(b array.Builder) {
			mb := b.(*array.MapBuilder)
			mb.Append(true)
			mb.KeyBuilder().(*array.Int32Builder).Append(5)
			mb.ItemBuilder().(*array.StringBuilder).Append("five")
		}, JSON(`[{"key":5,"value":"five"}]`)},
	}

	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true}
	}
	rb := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer rb.Release()
	for i, c := range cols {
		c.append(rb.Field(i))
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "types.parquet")
	writeParquet(t, path, rec, 1024)

	rows, header, leaked, err := readAllParquet(path)
	require.NoError(t, err)
	assert.Zero(t, leaked)
	require.Len(t, rows, 1)
	require.NoError(t, rows[0].Err)
	for i, c := range cols {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.name, header[i])
			got := rows[0].Values[i]
			if c.want.Kind == KindTime {
				assert.Equal(t, KindTime, got.Kind)
				assert.Equal(t, c.want.Naive, got.Naive, "naive")
				assert.True(t, c.want.T.Equal(got.T), "want %v, got %v", c.want.T, got.T)
				assert.Equal(t, time.UTC, got.T.Location())
				return
			}
			assert.Equal(t, c.want, got)
		})
	}
}

// TestParquetRowGroupsAndProgress: row numbers run on across row groups and
// batches, and Progress climbs to the file size.
func TestParquetRowGroupsAndProgress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "many.parquet")
	const n = 3*parquetBatchRows + 17
	writeBenchFile(t, path, n, 5000)
	fi, err := os.Stat(path)
	require.NoError(t, err)

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	r, err := newParquetReader(path, Options{Columns: []string{"renewal_id", "amount"}}, mem)
	require.NoError(t, err)
	p := r.(Progresser)
	done, total := p.Progress()
	assert.Equal(t, int64(0), done)
	assert.Equal(t, fi.Size(), total)
	var last int64
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		require.Equal(t, last+1, row.Pos.Row)
		last = row.Pos.Row
		if last == n/2 {
			d, _ := p.Progress()
			assert.InDelta(t, fi.Size()/2, d, float64(fi.Size())/100)
		}
	}
	assert.Equal(t, int64(n), last)
	done, _ = p.Progress()
	assert.Equal(t, fi.Size(), done)
	_, err = r.Next()
	assert.Equal(t, io.EOF, err, "EOF stays EOF")
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")
	assert.Zero(t, mem.CurrentAlloc(), "Close releases every buffer")
}

// TestParquetFromMemoryWithFuzzLimits: the fixtures read from memory with
// the fuzz limits (tiny buffers, batches of 64 rows) give the same rows as
// from the file with the default limits, so FuzzParquetReader fuzzes the
// reader as it runs in production.
func TestParquetFromMemoryWithFuzzLimits(t *testing.T) {
	many := filepath.Join(t.TempDir(), "many.parquet")
	writeBenchFile(t, many, 3*parquetFuzzLimits.batchRows+5, 70) // across batches and row groups
	for _, path := range []string{renewalsParquet, filepath.Join("testdata", "parquet", "int96_from_spark.parquet"), many} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, header, _, err := readAllParquet(path)
			require.NoError(t, err)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			r, err := newParquetReaderFrom(path, bytes.NewReader(data), int64(len(data)), Options{}, memory.DefaultAllocator, parquetFuzzLimits)
			require.NoError(t, err)
			assert.Equal(t, header, r.Header())
			var got []Row
			for {
				row, err := r.Next()
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				got = append(got, row)
			}
			require.NoError(t, r.Close())
			assert.Equal(t, want, got)
		})
	}
}

// parquetFuzzLimits keep one fuzz execution in the sub-millisecond range:
// small read buffers, pages of at most 1 MiB and small batches, so that a
// mutated footer or page header that claims huge sizes or row counts fails
// or ends early instead of allocating for it.
var parquetFuzzLimits = parquetLimits{bufferSize: 4 << 10, maxUncompressedPage: 1 << 20, batchRows: 64}

const (
	parquetFuzzMaxInput = 64 << 10 // larger inputs are skipped: mutations of small files find the bugs
	parquetFuzzMaxRows  = 4096     // rows read per input; a footer may claim billions
	parquetFuzzMaxAlloc = 64 << 20 // live arrow memory allowed within parquetFuzzLimits
)

// cappedAllocator is a checked allocator that refuses (by panicking, as a
// failed allocation does) to hold more than limit bytes at once, and
// remembers that it did so.
type cappedAllocator struct {
	*memory.CheckedAllocator
	limit    int
	exceeded int // size of the first refused allocation, 0 if none
}

func newCapped() *cappedAllocator {
	return &cappedAllocator{CheckedAllocator: memory.NewCheckedAllocator(memory.NewGoAllocator()), limit: parquetFuzzMaxAlloc}
}

func (a *cappedAllocator) check(size int) {
	if a.CurrentAlloc()+size > a.limit {
		if a.exceeded == 0 {
			a.exceeded = size
		}
		panic(fmt.Sprintf("cappedAllocator: %d bytes on top of %d", size, a.CurrentAlloc()))
	}
}

func (a *cappedAllocator) Allocate(size int) []byte {
	a.check(size)
	return a.CheckedAllocator.Allocate(size)
}

func (a *cappedAllocator) Reallocate(size int, b []byte) []byte {
	a.check(size - len(b))
	return a.CheckedAllocator.Reallocate(size, b)
}

// parquetNumber is the text of a KindNumber from a Parquet file: exact
// fixed-point decimal text or one of the float specials.
var parquetNumber = regexp.MustCompile(`^(-?[0-9]+(\.[0-9]+)?|NaN|Inf|-Inf)$`)

// FuzzParquetReader: arbitrary bytes must give rows, row errors or an error
// naming the file, never a panic (nor from the read-memory estimate). Rows are numbered 1, 2, 3..., carry
// values or a *RowError, and every value keeps the documented contract
// (valid UTF-8 text, plain decimal numbers, valid JSON). A fatal error is
// sticky, io.EOF stays io.EOF, live memory stays within a cap and Close
// succeeds.
//
// The reader reads the bytes in memory (no temporary file) with small
// limits, and only the first parquetFuzzMaxRows rows, so that an execution
// costs well under a millisecond. Seeds: the fixtures under
// testdata/parquet, and small files from the parquet-testing corpus under
// testdata/fuzz/FuzzParquetReader (every encoding, codec, nesting and
// annotation the reader handles).
func FuzzParquetReader(f *testing.F) {
	for _, name := range []string{"renewals.parquet", "int96_from_spark.parquet", "unknown-logical-type.parquet"} {
		seed, err := os.ReadFile(filepath.Join("testdata", "parquet", name))
		require.NoError(f, err)
		f.Add(seed)
	}
	seed, err := os.ReadFile(renewalsParquet)
	require.NoError(f, err)
	f.Add(seed[len(seed)/2:])
	f.Add([]byte("PAR1PAR1"))
	// Dictionary-encoded pages, then PLAIN ones: the chunk reopened without
	// its dictionary (parquet_chunk.go), with and without an offset index.
	for _, index := range []bool{false, true} {
		var buf bytes.Buffer
		dictFallbackParquet(f, &buf, 400, 300, parquet.DataPageV1, index)
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > parquetFuzzMaxInput {
			t.Skip("input too large for the fuzz limits")
		}
		const name = "fuzz.parquet"
		// The layout estimate reads the same footer and page headers: an
		// error or an estimate, never a panic nor a negative size.
		if m, err := estimateParquetMemory(name, bytes.NewReader(data), int64(len(data)), nil); err == nil && m.Bytes < 0 {
			t.Fatalf("negative estimate %+v", m)
		}
		mem := newCapped()
		r, err := newParquetReaderFrom(name, bytes.NewReader(data), int64(len(data)), Options{}, mem, parquetFuzzLimits)
		if mem.exceeded > 0 {
			t.Fatalf("open: allocation of %d bytes beyond %d", mem.exceeded, parquetFuzzMaxAlloc)
		}
		if err != nil {
			if r != nil {
				t.Fatalf("open returned a reader and the error %v", err)
			}
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("open error does not name the file: %v", err)
			}
			return
		}
		width := len(r.Header())
		var rows int64
		for rows < parquetFuzzMaxRows {
			row, err := r.Next()
			if err == io.EOF {
				if _, err := r.Next(); err != io.EOF {
					t.Fatalf("after EOF: %v", err)
				}
				break
			}
			if err != nil {
				if !strings.Contains(err.Error(), name) {
					t.Fatalf("error does not name the file: %v", err)
				}
				if _, err2 := r.Next(); err2 == nil || err2.Error() != err.Error() {
					t.Fatalf("fatal error %v is not sticky: then %v", err, err2)
				}
				break
			}
			rows++
			if row.Pos != (Pos{File: name, Row: rows}) {
				t.Fatalf("row %d has position %v", rows, row.Pos)
			}
			if row.Err != nil {
				var re *RowError
				if row.Values != nil || !errors.As(row.Err, &re) || re.Pos != row.Pos {
					t.Fatalf("row %d: values %v and error %#v", rows, row.Values, row.Err)
				}
				continue
			}
			if len(row.Values) != width {
				t.Fatalf("row %d: %d values for %d columns", rows, len(row.Values), width)
			}
			for k, v := range row.Values {
				ok := true
				switch v.Kind {
				case KindString:
					ok = utf8.ValidString(v.S)
				case KindNumber:
					ok = parquetNumber.MatchString(v.S)
				case KindJSON:
					ok = json.Valid([]byte(v.S))
				case KindNull, KindBool, KindTime:
				default:
					ok = false
				}
				if !ok {
					t.Fatalf("row %d column %d: bad value %#v", rows, k, v)
				}
			}
		}
		if mem.exceeded > 0 {
			t.Fatalf("read: allocation of %d bytes beyond %d", mem.exceeded, parquetFuzzMaxAlloc)
		}
		// Close must not fail. It is not checked to release every buffer:
		// arrow-go's DELTA_* and page v2 decoders keep some (knownLibraryLeaks),
		// which the GC reclaims with the Go allocator used in production.
		if err := r.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}
