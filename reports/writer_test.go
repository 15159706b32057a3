package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer"
	"afimport/internal/jsonenc"
	"afimport/readers"
)

func TestWriterGolden(t *testing.T) {
	for _, name := range []string{"report.csv", "report.ndjson"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			writeAll(t, path, Options{FileID: nameID, MappingID: mapA}, fixtureResults())
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			golden(t, name+".golden", got)
		})
	}
}

// The hand-rolled encoders must agree with the standard library's readers.
func TestWriterCSVReadsBackWithEncodingCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	rs := fixtureResults()
	writeAll(t, path, Options{}, rs)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, len(rs)+1)
	assert.Equal(t, strings.Split(Header, ","), recs[0])
	for i, r := range rs {
		http := ""
		if r.HTTPStatus != 0 {
			http = strconv.Itoa(r.HTTPStatus)
		}
		want := []string{r.Pos.File, strconv.FormatInt(r.Pos.Row, 10), string(r.Status), r.Reason, http,
			strconv.Itoa(r.Attempts), strconv.FormatInt(r.LatencyMS, 10), r.DedupID, r.MessageID, r.RowHash,
			FileID(r.Pos.File), ""}
		assert.Equal(t, want, recs[i+1], "record %d", i+1)
	}
}

func TestWriterNDJSONReadsBackWithEncodingJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	rs := fixtureResults()
	writeAll(t, path, Options{}, rs)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, lines, len(rs))
	for i, r := range rs {
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &got), lines[i])
		want := map[string]any{"file": r.Pos.File, "row": float64(r.Pos.Row), "status": string(r.Status),
			"reason": r.Reason, "attempts": float64(r.Attempts), "latency_ms": float64(r.LatencyMS),
			"dedup_id": r.DedupID, "message_id": r.MessageID, "row_hash": r.RowHash,
			"file_id": FileID(r.Pos.File), "mapping_id": ""}
		if r.HTTPStatus != 0 {
			want["http_status"] = float64(r.HTTPStatus)
		}
		assert.Equal(t, want, got)
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uo\te`, "ctl\x00\x01\x1f\x7f", "bad\xffutf8\xc3", "sep\u2028\u2029", "é中😀", "<&>"} {
		t.Run(strconv.Quote(s), func(t *testing.T) {
			var back string
			require.NoError(t, json.Unmarshal(jsonenc.AppendString(nil, s), &back))
			want := strings.ToValidUTF8(s, "\uFFFD")
			// encoding/json maps each invalid byte to one U+FFFD.
			if s == "bad\xffutf8\xc3" {
				want = "bad\uFFFDutf8\uFFFD"
			}
			assert.Equal(t, want, back)
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"r.csv", "r.ndjson", "r.JSONL"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			rs := fixtureResults()
			writeAll(t, path, Options{}, rs)
			cp, err := ReadCheckpoint(path)
			require.NoError(t, err)
			assert.False(t, cp.Torn())
			assert.Equal(t, len(rs), cp.Rows())
			for _, r := range rs {
				st, hash, ok := cp.Lookup(r.Pos)
				if r.RowHash == "" {
					assert.False(t, ok, "%s: a line without a row hash does not vouch for the row", r.Pos)
					continue
				}
				require.True(t, ok, r.Pos.String())
				assert.Equal(t, r.Status, st, r.Pos.String())
				assert.Equal(t, r.RowHash, hash, r.Pos.String())
			}
			_, _, ok := cp.Lookup(readers.Pos{File: "renewals.csv", Row: 99})
			assert.False(t, ok)
			assert.Equal(t, 1, cp.Count(importer.StatusAccepted))
			assert.Equal(t, 1, cp.Count(importer.StatusFailed))
			assert.Equal(t, "resuming: 1 accepted earlier, 4 to retry", cp.String())
		})
	}
}

// A line written and not closed reaches the disk within about a second.
func TestWriterFlushesEverySecond(t *testing.T) {
	for _, name := range []string{"r.csv", "r.ndjson"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			w, err := Create(path, Options{})
			require.NoError(t, err)
			defer w.Close()
			before, err := os.ReadFile(path)
			require.NoError(t, err)
			if !strings.HasSuffix(name, "ndjson") {
				assert.Equal(t, Header+"\n", string(before), "the header is on disk before any line")
			}
			require.NoError(t, w.Write(res("a.csv", 1, importer.StatusAccepted, "0123456789abcdef")))
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, before, data, "buffered: no line on disk right after Write")
			time.Sleep(1200 * time.Millisecond)
			data, err = os.ReadFile(path)
			require.NoError(t, err)
			assert.Contains(t, string(data), "a.csv")
			assert.Contains(t, string(data), "0123456789abcdef")
		})
	}
}

func TestWriterCloseIdempotentAndWriteAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	w, err := Create(path, Options{})
	require.NoError(t, err)
	require.NoError(t, w.Write(res("a.csv", 1, importer.StatusAccepted, "")))
	require.NoError(t, w.Sync())
	require.NoError(t, w.Close())
	require.NoError(t, w.Close())
	assert.ErrorIs(t, w.Write(res("a.csv", 2, importer.StatusAccepted, "")), ErrClosed)
	assert.ErrorIs(t, w.Flush(), ErrClosed)
	assert.ErrorIs(t, w.Sync(), ErrClosed)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, Header+"\na.csv,1,accepted,,,1,0,,,,"+FileID("a.csv")+",\n", string(data))
}

func TestWriterRejectsUnreadableResults(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "r.csv"), Options{})
	require.NoError(t, err)
	defer w.Close()
	for name, r := range map[string]*importer.Result{
		"nil":            nil,
		"row 0":          res("a.csv", 0, importer.StatusAccepted, ""),
		"unknown status": res("a.csv", 1, "acepted", ""),
		"short hash":     res("a.csv", 1, importer.StatusAccepted, "abc"),
		"non-hex hash":   res("a.csv", 1, importer.StatusAccepted, "0123456789abcdeg"),
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, w.Write(r), ErrInvalidResult)
		})
	}
}

func TestCreateTruncatesWithoutAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	require.NoError(t, os.WriteFile(path, []byte("old content\n"), 0o644))
	writeAll(t, path, Options{}, nil)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, Header+"\n", string(data))
}

func TestAppend(t *testing.T) {
	const h = Header + "\n"
	line1 := "a.csv,1,accepted,,202,1,5,,,0123456789abcdef," + idA + ",\n"
	line2 := "a.csv,2,failed,boom,503,3,9,,,1123456789abcdef," + idA + "," + mapA + "\n"
	added := "a.csv,3,accepted,,,1,0,,,," + idA + ",\n"
	jl1 := `{"file":"a.csv","row":1,"status":"accepted","reason":"","http_status":202,"attempts":1,"latency_ms":5,"dedup_id":"","message_id":"","row_hash":"0123456789abcdef","file_id":"` + idA + `","mapping_id":""}` + "\n"
	jadded := `{"file":"a.csv","row":3,"status":"accepted","reason":"","attempts":1,"latency_ms":0,"dedup_id":"","message_id":"","row_hash":"","file_id":"` + idA + `","mapping_id":""}` + "\n"
	legacy := legacyHeader + "\na.csv,1,accepted,,202,1,5,,,0123456789abcdef\n"
	jlegacy := `{"file":"a.csv","row":1,"status":"accepted","reason":"","attempts":1,"latency_ms":5,"dedup_id":"","message_id":"","row_hash":""}` + "\n"
	tests := []struct {
		name, file string
		before     *string // nil: no file
		want       string
		wantErr    error
	}{
		{"new csv", "r.csv", nil, h + added, nil},
		{"empty csv", "r.csv", ptr(""), h + added, nil},
		{"header only", "r.csv", ptr(h), h + added, nil},
		{"whole csv", "r.csv", ptr(h + line1 + line2), h + line1 + line2 + added, nil},
		{"torn last line cut", "r.csv", ptr(h + line1 + line2[:20]), h + line1 + added, nil},
		{"torn inside a quoted newline cut", "r.csv", ptr(h + line1 + "a.csv,2,failed,\"multi\n"), h + line1 + added, nil},
		{"unparsable last line cut", "r.csv", ptr(h + line1 + "\x00\x00garbage\n"), h + line1 + added, nil},
		{"power-loss zeros cut", "r.csv", ptr(h + line1 + "\x00\x00\x00\x00"), h + line1 + added, nil},
		{"torn header restarts", "r.csv", ptr(h[:7]), h + added, nil},
		{"CRLF header accepted", "r.csv", ptr(Header + "\r\n" + line1), Header + "\r\n" + line1 + added, nil},
		{"foreign csv", "r.csv", ptr("id,email\n1,x@y\n"), "id,email\n1,x@y\n", ErrNotReport},
		{"foreign one-line csv untouched", "r.csv", ptr("hello"), "hello", ErrNotReport},
		{"corrupt middle line", "r.csv", ptr(h + "garbage\n" + line1), h + "garbage\n" + line1, ErrBadLine},
		{"legacy csv untouched", "r.csv", ptr(legacy), legacy, ErrOldReport},
		{"new ndjson", "r.ndjson", nil, jadded, nil},
		{"whole ndjson", "r.ndjson", ptr(jl1), jl1 + jadded, nil},
		{"torn ndjson", "r.ndjson", ptr(jl1 + jl1[:30]), jl1 + jadded, nil},
		{"torn first ndjson line", "r.ndjson", ptr(jl1[:5]), jadded, nil},
		{"csv into ndjson report", "r.ndjson", ptr(h + line1), h + line1, ErrNotReport},
		{"legacy ndjson untouched", "r.ndjson", ptr(jlegacy), jlegacy, ErrOldReport},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			if tt.before != nil {
				require.NoError(t, os.WriteFile(path, []byte(*tt.before), 0o644))
			}
			w, err := Create(path, Options{Append: true, FileID: func(string) string { return idA }})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, w)
			} else {
				require.NoError(t, err)
				require.NoError(t, w.Write(res("a.csv", 3, importer.StatusAccepted, "")))
				require.NoError(t, w.Close())
			}
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(data))
			if tt.wantErr == nil {
				cp, err := ReadCheckpoint(path)
				require.NoError(t, err, "an appended report reads back")
				assert.False(t, cp.Torn())
			}
		})
	}
}

func TestAppendedRunsLastLineWins(t *testing.T) {
	for _, name := range []string{"r.csv", "r.ndjson"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			writeAll(t, path, Options{}, []*importer.Result{
				res("a.csv", 1, importer.StatusAccepted, "1111111111111111"),
				res("a.csv", 2, importer.StatusFailed, "2222222222222222"),
				res("a.csv", 3, importer.StatusFailed, "3333333333333333"),
			})
			writeAll(t, path, Options{Append: true}, []*importer.Result{
				res("a.csv", 1, importer.StatusSkipped, "1111111111111111"),
				res("a.csv", 2, importer.StatusAccepted, "2222222222222222"),
				res("a.csv", 3, importer.StatusFailed, "3333333333333334"),
			})
			writeAll(t, path, Options{Append: true}, []*importer.Result{
				res("a.csv", 3, importer.StatusAccepted, "3333333333333335"),
			})
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			if !strings.HasSuffix(name, "ndjson") {
				assert.Equal(t, 1, bytes.Count(data, []byte("file,row")), "one header")
			}
			cp, err := ReadCheckpoint(path)
			require.NoError(t, err)
			assert.Equal(t, 3, cp.Rows())
			for row, want := range map[int64]struct {
				st   importer.Status
				hash string
			}{1: {importer.StatusSkipped, "1111111111111111"}, 2: {importer.StatusAccepted, "2222222222222222"}, 3: {importer.StatusAccepted, "3333333333333335"}} {
				st, hash, ok := cp.Lookup(readers.Pos{File: "a.csv", Row: row})
				require.True(t, ok)
				assert.Equal(t, want.st, st, "row %d", row)
				assert.Equal(t, want.hash, hash, "row %d", row)
			}
			assert.Equal(t, 0, cp.Count(importer.StatusFailed), "overwritten statuses are not counted")
			assert.Equal(t, 3, cp.Done())
			assert.Equal(t, "resuming: 3 accepted earlier, 0 to retry", cp.String())
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestRoundTripExtremeRows: every row number the writer accepts reads back
// from both formats. Fuzz regression
// (testdata/fuzz/FuzzWriteRoundTrip/max_row_comma_quote): the CSV parser
// refused numbers of 19 digits, so a row of 10^18 or more made the line
// unparsable and the checkpoint reported it as a torn last line.
func TestRoundTripExtremeRows(t *testing.T) {
	for _, row := range []int64{1, 999_999_999_999_999_999, 1_000_000_000_000_000_000, math.MaxInt64} {
		for _, name := range []string{"r.csv", "r.ndjson"} {
			t.Run(fmt.Sprint(name, "/", row), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), name)
				r := res(`a,b".csv`, row, importer.StatusFailed, "00ff00ff00ff00ff")
				r.Reason, r.DedupID, r.MessageID = `,"`, `"`, `\`
				writeAll(t, path, Options{}, []*importer.Result{r})
				cp, err := ReadCheckpoint(path)
				require.NoError(t, err)
				assert.False(t, cp.Torn())
				st, hash, ok := cp.Lookup(r.Pos)
				require.True(t, ok)
				assert.Equal(t, importer.StatusFailed, st)
				assert.Equal(t, r.RowHash, hash)
			})
		}
	}
}

func TestParseInt(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"-0", 0, true},
		{"42", 42, true},
		{"-42", -42, true},
		{"999999999999999999", 999999999999999999, true},
		{"1000000000000000000", 1000000000000000000, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"9999999999999999999", 0, false},
		{"10000000000000000000", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"1a", 0, false},
		{"+1", 0, false},
		{" 1", 0, false},
	} {
		got, ok := parseInt([]byte(tt.in))
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}
