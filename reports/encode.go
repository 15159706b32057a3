package reports

import (
	"strconv"

	"afimport/importer"
	"afimport/internal/jsonenc"
)

// Header is the first line of every CSV report, and the key order of every
// NDJSON report line. file_id identifies the input file whatever its
// spelling (FileID); mapping_id is the fingerprint of the mapping the row
// was processed under (mappings.Fingerprint).
const Header = legacyHeader + ",file_id,mapping_id"

// legacyHeader is the header of reports written before file_id and
// mapping_id: still readable (ReadCheckpoint), not resumable (Open).
const legacyHeader = "file,row,status,reason,http_status,attempts,latency_ms,dedup_id,message_id,row_hash"

// appendCSV appends r as one CSV record terminated by '\n'.
//
// Fields are quoted per RFC 4180 only when they need it (a comma, a double
// quote, CR or LF, or a leading space or tab that a lenient reader would
// trim); quotes inside are doubled. Bytes are written as Result holds them,
// so a file name round-trips exactly. HTTPStatus 0 (no HTTP answer) is an
// empty field.
func appendCSV(dst []byte, r *importer.Result, fileID, mappingID string) []byte {
	dst = appendCSVField(dst, r.Pos.File)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, r.Pos.Row, 10)
	dst = append(dst, ',')
	dst = appendCSVField(dst, string(r.Status))
	dst = append(dst, ',')
	dst = appendCSVField(dst, r.Reason)
	dst = append(dst, ',')
	if r.HTTPStatus != 0 {
		dst = strconv.AppendInt(dst, int64(r.HTTPStatus), 10)
	}
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(r.Attempts), 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, r.LatencyMS, 10)
	dst = append(dst, ',')
	dst = appendCSVField(dst, r.DedupID)
	dst = append(dst, ',')
	dst = appendCSVField(dst, r.MessageID)
	dst = append(dst, ',')
	dst = appendCSVField(dst, r.RowHash)
	dst = append(dst, ',')
	dst = append(dst, fileID...)
	dst = append(dst, ',')
	dst = append(dst, mappingID...)
	return append(dst, '\n')
}

func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == ' ' || s[0] == '\t' {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	return false
}

func appendCSVField(dst []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// appendNDJSON appends r as one JSON object terminated by '\n', with the
// keys of Header in that order. row, attempts and latency_ms are numbers;
// http_status is a number and is omitted when 0 (no HTTP answer). Every
// string key is present, "" when empty. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func appendNDJSON(dst []byte, r *importer.Result, fileID, mappingID string) []byte {
	dst = append(dst, `{"file":`...)
	dst = jsonenc.AppendString(dst, r.Pos.File)
	dst = append(dst, `,"row":`...)
	dst = strconv.AppendInt(dst, r.Pos.Row, 10)
	dst = append(dst, `,"status":`...)
	dst = jsonenc.AppendString(dst, string(r.Status))
	dst = append(dst, `,"reason":`...)
	dst = jsonenc.AppendString(dst, r.Reason)
	if r.HTTPStatus != 0 {
		dst = append(dst, `,"http_status":`...)
		dst = strconv.AppendInt(dst, int64(r.HTTPStatus), 10)
	}
	dst = append(dst, `,"attempts":`...)
	dst = strconv.AppendInt(dst, int64(r.Attempts), 10)
	dst = append(dst, `,"latency_ms":`...)
	dst = strconv.AppendInt(dst, r.LatencyMS, 10)
	dst = append(dst, `,"dedup_id":`...)
	dst = jsonenc.AppendString(dst, r.DedupID)
	dst = append(dst, `,"message_id":`...)
	dst = jsonenc.AppendString(dst, r.MessageID)
	dst = append(dst, `,"row_hash":`...)
	dst = jsonenc.AppendString(dst, r.RowHash)
	dst = append(dst, `,"file_id":"`...)
	dst = append(dst, fileID...)
	dst = append(dst, `","mapping_id":"`...)
	dst = append(dst, mappingID...)
	return append(dst, "\"}\n"...)
}
