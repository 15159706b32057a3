package readers

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"afimport/internal/jsonenc"
)

// leafConv turns value i of a leaf's current batch into a Value (for a
// top-level column) or into JSON (inside a nested one). It is chosen once per
// column from the Parquet physical and logical types.
type leafConv struct {
	value func(l *pqLeaf, i int) (Value, error)
	json  func(b []byte, l *pqLeaf, i int) []byte
	text  bool // STRING: a map with such keys is a JSON object
}

// errInt96 is why an INT96 value is not a time.
var errInt96 = errors.New("invalid INT96 timestamp")

// newLeafConv chooses the conversion of a Parquet leaf column (see the value
// mapping at the top of parquet.go).
func newLeafConv(c *schema.Column) leafConv {
	logical := c.LogicalType()
	if logical == nil {
		logical = schema.NoLogicalType{}
	}
	converted := c.ConvertedType()
	switch logical.(type) {
	case schema.NullLogicalType, schema.UnknownLogicalType:
		return leafConv{
			value: func(*pqLeaf, int) (Value, error) { return Null(), nil },
			json:  func(b []byte, _ *pqLeaf, _ int) []byte { return append(b, "null"...) },
		}
	}
	if dec, ok := logical.(schema.DecimalLogicalType); ok {
		return decimalConv(c.PhysicalType(), dec.Scale())
	}
	switch c.PhysicalType() {
	case parquet.Types.Boolean:
		return leafConv{
			value: func(l *pqLeaf, i int) (Value, error) { return Bool(l.bools[i]), nil },
			json:  func(b []byte, l *pqLeaf, i int) []byte { return strconv.AppendBool(b, l.bools[i]) },
		}
	case parquet.Types.Int32:
		switch t := logical.(type) {
		case schema.DateLogicalType:
			return leafConv{
				value: func(l *pqLeaf, i int) (Value, error) { return NaiveTime(dateTime(l.i32[i])), nil },
				json: func(b []byte, l *pqLeaf, i int) []byte {
					return jsonenc.AppendString(b, dateTime(l.i32[i]).Format(time.DateOnly))
				},
			}
		case schema.TimeLogicalType:
			unit := unitDuration(t.TimeUnit())
			return timeOfDayConv(func(l *pqLeaf, i int) time.Duration { return time.Duration(l.i32[i]) * unit })
		case schema.IntLogicalType:
			if !t.IsSigned() {
				return numberConv(func(b []byte, l *pqLeaf, i int) []byte {
					return strconv.AppendUint(b, uint64(uint32(l.i32[i])), 10)
				})
			}
		}
		return numberConv(func(b []byte, l *pqLeaf, i int) []byte { return strconv.AppendInt(b, int64(l.i32[i]), 10) })
	case parquet.Types.Int64:
		switch t := logical.(type) {
		case schema.TimestampLogicalType:
			unit := unitDuration(t.TimeUnit())
			naive := !t.IsAdjustedToUTC()
			return leafConv{
				value: func(l *pqLeaf, i int) (Value, error) {
					return Value{Kind: KindTime, T: unitTime(l.i64[i], unit), Naive: naive}, nil
				},
				json: func(b []byte, l *pqLeaf, i int) []byte {
					t := unitTime(l.i64[i], unit)
					if naive {
						return jsonenc.AppendString(b, t.Format("2006-01-02T15:04:05.999999999"))
					}
					return jsonenc.AppendString(b, t.Format(time.RFC3339Nano))
				},
			}
		case schema.TimeLogicalType:
			unit := unitDuration(t.TimeUnit())
			return timeOfDayConv(func(l *pqLeaf, i int) time.Duration { return time.Duration(l.i64[i]) * unit })
		case schema.IntLogicalType:
			if !t.IsSigned() {
				return numberConv(func(b []byte, l *pqLeaf, i int) []byte { return strconv.AppendUint(b, uint64(l.i64[i]), 10) })
			}
		}
		return numberConv(func(b []byte, l *pqLeaf, i int) []byte { return strconv.AppendInt(b, l.i64[i], 10) })
	case parquet.Types.Int96:
		return leafConv{
			value: func(l *pqLeaf, i int) (Value, error) {
				t, err := int96Time(l.i96[i])
				if err != nil {
					return Value{}, err
				}
				return Time(t), nil
			},
			json: func(b []byte, l *pqLeaf, i int) []byte {
				t, err := int96Time(l.i96[i])
				if err != nil {
					return append(b, "null"...)
				}
				return jsonenc.AppendString(b, t.Format(time.RFC3339Nano))
			},
		}
	case parquet.Types.Float:
		return floatConv(func(l *pqLeaf, i int) float64 { return float64(l.f32[i]) }, 32)
	case parquet.Types.Double:
		return floatConv(func(l *pqLeaf, i int) float64 { return l.f64[i] }, 64)
	case parquet.Types.ByteArray:
		text := false
		switch logical.(type) {
		case schema.StringLogicalType:
			c := bytesConv(func(l *pqLeaf, i int) []byte { return l.ba[i] }, true)
			c.text = true
			return c
		case schema.EnumLogicalType, schema.JSONLogicalType:
			text = true
		}
		if converted == schema.ConvertedTypes.Enum || converted == schema.ConvertedTypes.JSON {
			text = true
		}
		c := bytesConv(func(l *pqLeaf, i int) []byte { return l.ba[i] }, false)
		if text {
			c.value = func(l *pqLeaf, i int) (Value, error) {
				if !utf8.Valid(l.ba[i]) {
					return Value{}, ErrInvalidUTF8
				}
				return String(string(l.ba[i])), nil
			}
		}
		return c
	case parquet.Types.FixedLenByteArray:
		width := c.TypeLength()
		switch logical.(type) {
		case schema.UUIDLogicalType:
			if width == 16 {
				return leafConv{
					value: func(l *pqLeaf, i int) (Value, error) { return String(formatUUID(l.fl[i])), nil },
					json:  func(b []byte, l *pqLeaf, i int) []byte { return jsonenc.AppendString(b, formatUUID(l.fl[i])) },
				}
			}
		case schema.Float16LogicalType:
			if width == 2 {
				return floatConv(func(l *pqLeaf, i int) float64 {
					return float64(float16.FromBits(binary.LittleEndian.Uint16(l.fl[i])).Float32())
				}, 32)
			}
		case schema.IntervalLogicalType:
			if width == 12 {
				return intervalConv()
			}
		}
		if converted == schema.ConvertedTypes.Interval && width == 12 {
			return intervalConv()
		}
		return bytesConv(func(l *pqLeaf, i int) []byte { return l.fl[i] }, false)
	}
	return leafConv{
		value: func(*pqLeaf, int) (Value, error) { return Null(), nil },
		json:  func(b []byte, _ *pqLeaf, _ int) []byte { return append(b, "null"...) },
	}
}

func numberConv(appendNum func(b []byte, l *pqLeaf, i int) []byte) leafConv {
	return leafConv{
		value: func(l *pqLeaf, i int) (Value, error) { return Number(string(appendNum(l.scratch[:0], l, i))), nil },
		json:  appendNum,
	}
}

func floatConv(get func(l *pqLeaf, i int) float64, bitSize int) leafConv {
	return leafConv{
		value: func(l *pqLeaf, i int) (Value, error) {
			return Number(string(appendFloat(l.scratch[:0], get(l, i), bitSize))), nil
		},
		json: func(b []byte, l *pqLeaf, i int) []byte {
			f := get(l, i)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return jsonenc.AppendString(b, string(appendFloat(nil, f, bitSize)))
			}
			return appendFloat(b, f, bitSize)
		},
	}
}

// bytesConv reads BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY values: as text when
// the schema says STRING, else as binaryText.
func bytesConv(get func(l *pqLeaf, i int) []byte, isString bool) leafConv {
	if isString {
		return leafConv{
			value: func(l *pqLeaf, i int) (Value, error) {
				b := get(l, i)
				if !utf8.Valid(b) {
					return Value{}, ErrInvalidUTF8
				}
				return String(string(b)), nil
			},
			json: func(b []byte, l *pqLeaf, i int) []byte { return jsonenc.AppendString(b, string(get(l, i))) },
		}
	}
	return leafConv{
		value: func(l *pqLeaf, i int) (Value, error) { return String(binaryText(get(l, i))), nil },
		json:  func(b []byte, l *pqLeaf, i int) []byte { return jsonenc.AppendString(b, binaryText(get(l, i))) },
	}
}

func timeOfDayConv(get func(l *pqLeaf, i int) time.Duration) leafConv {
	return leafConv{
		value: func(l *pqLeaf, i int) (Value, error) { return String(string(appendTimeOfDay(nil, get(l, i)))), nil },
		json: func(b []byte, l *pqLeaf, i int) []byte {
			return jsonenc.AppendString(b, string(appendTimeOfDay(nil, get(l, i))))
		},
	}
}

func intervalConv() leafConv {
	return leafConv{
		value: func(l *pqLeaf, i int) (Value, error) { return JSON(string(appendInterval(nil, l.fl[i]))), nil },
		json:  func(b []byte, l *pqLeaf, i int) []byte { return appendInterval(b, l.fl[i]) },
	}
}

// decimalConv reads DECIMAL in any of its four physical types as exact
// text with the column's scale.
func decimalConv(phys parquet.Type, scale int32) leafConv {
	var digits func(l *pqLeaf, i int) string
	switch phys {
	case parquet.Types.Int32:
		digits = func(l *pqLeaf, i int) string { return strconv.FormatInt(int64(l.i32[i]), 10) }
	case parquet.Types.Int64:
		digits = func(l *pqLeaf, i int) string { return strconv.FormatInt(l.i64[i], 10) }
	case parquet.Types.ByteArray:
		digits = func(l *pqLeaf, i int) string { return bigEndianSigned(l.ba[i]) }
	case parquet.Types.FixedLenByteArray:
		digits = func(l *pqLeaf, i int) string { return bigEndianSigned(l.fl[i]) }
	default:
		return leafConv{
			value: func(*pqLeaf, int) (Value, error) {
				return Value{}, fmt.Errorf("DECIMAL stored as %s is not supported", phys)
			},
			json: func(b []byte, _ *pqLeaf, _ int) []byte { return append(b, "null"...) },
		}
	}
	return numberConv(func(b []byte, l *pqLeaf, i int) []byte { return appendDecimal(b, digits(l, i), scale) })
}

// bigEndianSigned is the decimal text of a big-endian two's complement integer.
func bigEndianSigned(b []byte) string {
	if len(b) == 0 {
		return "0"
	}
	if len(b) <= 8 {
		var v int64
		if b[0]&0x80 != 0 {
			v = -1
		}
		for _, c := range b {
			v = v<<8 | int64(c)
		}
		return strconv.FormatInt(v, 10)
	}
	n := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n.String()
}

func unitDuration(u schema.TimeUnitType) time.Duration {
	switch u {
	case schema.TimeUnitMillis:
		return time.Millisecond
	case schema.TimeUnitMicros:
		return time.Microsecond
	}
	return time.Nanosecond
}

// unitTime is v units since the Unix epoch, in UTC, without overflowing for
// far dates in milliseconds or microseconds.
func unitTime(v int64, unit time.Duration) time.Time {
	switch unit {
	case time.Millisecond:
		return time.UnixMilli(v).UTC()
	case time.Microsecond:
		return time.UnixMicro(v).UTC()
	}
	return time.Unix(0, v).UTC()
}

func dateTime(days int32) time.Time { return time.Unix(int64(days)*86400, 0).UTC() }

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

func appendTimeOfDay(b []byte, d time.Duration) []byte {
	return time.Unix(0, 0).UTC().Add(d).AppendFormat(b, "15:04:05.999999")
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

// appendDecimal writes the integer digits×10^-scale exactly, keeping the scale's
// trailing zeros (decimal(18,2) 1.50 stays "1.50").
func appendDecimal(b []byte, digits string, scale int32) []byte {
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
