package readers

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Pos is the position of a row: the file as the user named it and the
// 1-based data row within it (a CSV header is not counted).
type Pos struct {
	File string
	Row  int64
}

func (p Pos) String() string { return fmt.Sprintf("%s row %d", p.File, p.Row) }

// Kind says how a Value is to be read.
type Kind uint8

const (
	// KindNull is a missing or null value (an empty CSV field is a
	// KindString "" unless it matches a configured null value).
	KindNull Kind = iota
	// KindString is text in S.
	KindString
	// KindNumber is an exact decimal number written as text in S
	// (a JSON number as written, a Parquet integer or DECIMAL). It is never
	// rounded through float64.
	KindNumber
	// KindBool is a boolean in B.
	KindBool
	// KindTime is an instant in T. When Naive is true the source carried
	// a wall-clock time without a zone; T then holds that wall clock in UTC
	// and the consumer reinterprets it in its declared input timezone.
	KindTime
	// KindJSON is a nested value (list, struct, map, JSON object) as
	// compact JSON text in S.
	KindJSON
)

var kindNames = [...]string{"null", "string", "number", "bool", "time", "json"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Value is one field of a row.
type Value struct {
	// The fields are in this order so that a Value is 48 bytes, not 64: a
	// reader allocates one per column per row.
	S     string
	T     time.Time
	Kind  Kind
	B     bool
	Naive bool
}

// Convenience constructors.
func Null() Value                 { return Value{} }
func String(s string) Value       { return Value{Kind: KindString, S: s} }
func Number(s string) Value       { return Value{Kind: KindNumber, S: s} }
func Bool(b bool) Value           { return Value{Kind: KindBool, B: b} }
func JSON(raw string) Value       { return Value{Kind: KindJSON, S: raw} }
func Time(t time.Time) Value      { return Value{Kind: KindTime, T: t} }
func NaiveTime(t time.Time) Value { return Value{Kind: KindTime, T: t, Naive: true} }

// Row is one data row.
//
// Either Err is nil and Values holds one Value per projected column (in the
// order of Options.Columns), or Err says why this row could not be read
// (a ragged CSV row, a line that is not a JSON object, ...) and Values is
// nil. A row error never stops the stream. The Values slice belongs to the
// caller: readers do not reuse it.
type Row struct {
	Pos    Pos
	Values []Value
	Err    error
}

// RowError is why a single row could not be read. Column is empty when the
// problem is not in one column.
type RowError struct {
	Pos    Pos
	Column string
	Err    error
}

func (e *RowError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("%s, column %q: %v", e.Pos, e.Column, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Pos, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// Sentinel row errors callers may test with errors.Is.
var (
	ErrFieldCount  = errors.New("wrong number of fields")
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	ErrRowTooLarge = errors.New("row exceeds the maximum row size")
	ErrNotObject   = errors.New("line is not a JSON object")
)

// MissingColumnError is returned by Open when a projected column is not in
// the file's header or schema.
type MissingColumnError struct {
	File    string
	Columns []string
	// Delimiter, when not 0, is the CSV delimiter the file seems to use
	// instead: its header is one column that, split on Delimiter, holds
	// the missing columns.
	Delimiter rune
}

func (e *MissingColumnError) Error() string {
	msg := fmt.Sprintf("%s: missing column(s) %q", e.File, e.Columns)
	if h := e.Hint(); h != "" {
		msg += "; " + h
	}
	return msg
}

// Hint says which delimiter to use when e.Delimiter is set; "" otherwise.
func (e *MissingColumnError) Hint() string {
	if e.Delimiter == 0 {
		return ""
	}
	d := string(e.Delimiter)
	if e.Delimiter == '\t' {
		d = `\t`
	}
	return fmt.Sprintf("the header is one column holding them: the file looks %q-delimited, use --delimiter '%s'", string(e.Delimiter), d)
}

// delimiterHint is the delimiter (; tab or |) that splits a one-column
// header into columns among which are some of missing; 0 when none does.
func delimiterHint(header, missing []string) rune {
	if len(header) != 1 {
		return 0
	}
	for _, d := range []rune{';', '\t', '|', ','} {
		parts := strings.Split(header[0], string(d))
		if len(parts) < 2 {
			continue
		}
		for i, p := range parts {
			parts[i] = strings.Trim(p, " \"'")
		}
		for _, m := range missing {
			if slices.Contains(parts, m) {
				return d
			}
		}
	}
	return 0
}

// RowReason words a row error for a report line: the column and the
// problem, without the position (a report names the file and row in
// columns of its own). An error that is not a *RowError is worded as is.
func RowReason(err error) string {
	var re *RowError
	if errors.As(err, &re) {
		if re.Column != "" {
			return fmt.Sprintf("column %q: %v", re.Column, re.Err)
		}
		return re.Err.Error()
	}
	return err.Error()
}
