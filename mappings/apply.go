package mappings

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"

	"afimport/internal/jsonenc"
	"afimport/mappings/pii"
	"afimport/readers"
)

// ErrRequired is the error of a FieldError with rule "required": the
// field's source is missing and the field is neither optional nor has a
// default.
var ErrRequired = errors.New("a value is required and the source is missing or empty")

// Rule sentences. They are fixed texts on purpose: a FieldError must never
// carry the value it refused.
var (
	errUserID      = errors.New("user_id needs customer_user_id or appsflyer_id")
	errUTF8        = errors.New("text is not valid UTF-8")
	errType        = errors.New("the source's kind does not fit the field's type")
	errCUIDLen     = errors.New("must be 1 to 64 characters")
	errEventName   = errors.New("must not contain @ = + or -")
	errEventLen    = errors.New("must be 1 to 64 characters")
	errNumber      = errors.New("not a finite decimal number")
	errInteger     = errors.New("not an integral number")
	errBoolean     = errors.New("not a boolean (true, false, 1 or 0)")
	errJSON        = errors.New("not valid JSON")
	errObject      = errors.New("not a JSON object")
	errCurrency    = errors.New("not an ISO-4217 currency code")
	errURL         = errors.New("not an absolute http(s) URL")
	errRefURL      = errors.New("not an absolute URL")
	errURLLen      = errors.New("longer than 4096 characters")
	errIP          = errors.New("not an IPv4 or IPv6 address (max 46 characters)")
	errUALen       = errors.New("longer than 1024 characters")
	errTimestamp   = errors.New("not a timestamp in the declared format")
	errTSRange     = errors.New("timestamp outside 1970-01-01 .. 9999-12-31")
	errSHA256      = errors.New("not a SHA-256 hex digest (64 hex digits)")
	errEmail       = errors.New("not an email address")
	errPhone       = errors.New("not a valid phone number for its region")
	errRegion      = errors.New("no usable region for the phone number")
	errName        = errors.New("not a usable name")
	errHashBroken  = errors.New("normalized value did not hash to 64 hex digits")
	errEmptyString = errors.New("must not be empty")
)

// slot is one field's encoded output inside state.vals.
type slot struct {
	start, end int
	ok         bool
}

// state is the per-Apply scratch, pooled so a row allocates only its
// payload. It never escapes Apply.
type state struct {
	slots []slot
	vals  []byte // encoded JSON values of every field, back to back
	body  []byte // dedupPrefix followed by the body being built
	tmp   []byte // template expansion
	ts    int64  // the row's timestamp, valid when hasTS
	hasTS bool
	appID string // the row's app id
	used  int    // the index in field.cols of the column source read; -1 none
}

func (m *Mapping) getState() *state {
	st := m.pool.Get().(*state)
	st.vals, st.body, st.tmp = st.vals[:0], st.body[:0], st.tmp[:0]
	st.ts, st.hasTS, st.appID = 0, false, ""
	return st
}

func (f *field) fail(rule string, err error) *FieldError {
	return &FieldError{Field: f.target, Column: f.colName, Rule: rule, Err: err}
}

func (m *Mapping) apply(values []readers.Value, st *state) (*Payload, *FieldError) {
	return m.applyBody(values, st, true)
}

func (m *Mapping) applyBody(values []readers.Value, st *state, body bool) (*Payload, *FieldError) {
	id, ferr := m.rowAppID(values)
	if ferr != nil {
		return nil, ferr
	}
	st.appID = id
	for _, f := range m.order {
		if status, ferr := m.step(f, values, st, nil); status == fieldRejected {
			return nil, ferr
		}
	}
	return m.finishBody(st, body)
}

// Check is Apply without the body: it returns the same error, or a
// payload with the same timestamp and DedupID but a nil Body. A dry run
// and the importer's preflight only need to know whether and when a row
// would be sent, so they skip copying the body out. Check is safe for
// concurrent use.
func (m *Mapping) Check(values []readers.Value) (*Payload, error) {
	if len(values) != len(m.columns) {
		return m.Apply(values) // its error
	}
	if se := m.skipped(values); se != nil {
		return nil, se
	}
	st := m.getState()
	defer m.pool.Put(st)
	p, ferr := m.applyBody(values, st, false)
	if ferr != nil {
		return nil, ferr
	}
	return p, nil
}

// Timestamp evaluates only the row's timestamp field, as Apply would:
// timed false with a nil error when the row has none (the mapping maps
// no timestamp, or an optional one is missing), an error when it is
// invalid. It does not look at the other fields, so a row it accepts may
// still be invalid: it is the importer's cheap preflight estimate of when
// rows will have to be sent. A row that skip: leaves out returns its
// *SkipError. It is safe for concurrent use.
func (m *Mapping) Timestamp(values []readers.Value) (ms int64, timed bool, err error) {
	if m.timestampSlot < 0 {
		return 0, false, nil
	}
	if len(values) != len(m.columns) {
		_, err := m.Apply(values) // its error
		return 0, false, err
	}
	if se := m.skipped(values); se != nil {
		return 0, false, se
	}
	st := m.getState()
	defer m.pool.Put(st)
	switch status, ferr := m.step(m.fields[m.timestampSlot], values, st, nil); status {
	case fieldSet:
		return st.ts, true, nil
	case fieldRejected:
		return 0, false, ferr
	}
	return 0, false, nil
}

// fieldStatus is what step did with one field.
type fieldStatus uint8

const (
	fieldSet      fieldStatus = iota // the slot holds the field's JSON value
	fieldOmitted                     // source missing, field optional: left out
	fieldDropped                     // value invalid, on_invalid: omit: left out (the error says why)
	fieldRejected                    // the row is invalid (the error says why)
)

// fieldTrace is what step saw of one field, for Explain. Apply passes nil,
// so the hot path records nothing and allocates nothing for it.
type fieldTrace struct {
	in          readers.Value // the source value (after extract / template expansion)
	col         string        // column: [a, b]: the column the value came from
	mapped      bool          // map: translated the value
	minor       string        // minor_units: the amount in major units
	usedDefault bool          // the source was missing and default stood in
	ts          int64         // the timestamp, for a timestamp field that was set
}

// step evaluates one field of a row into its slot: the single
// implementation of source, missing/default/optional, coercion,
// normalization, validation and on_invalid, shared by Apply and Explain.
// It returns the error for fieldDropped and fieldRejected, nil otherwise.
func (m *Mapping) step(f *field, values []readers.Value, st *state, tr *fieldTrace) (fieldStatus, *FieldError) {
	s := &st.slots[f.slot]
	s.ok = false
	start := len(st.vals)
	if f.pre != nil {
		st.vals = append(st.vals, f.pre...)
		*s = slot{start: start, end: len(st.vals), ok: true}
		if f.tk == tTimestamp {
			st.ts, st.hasTS = f.preTS, true
		}
		if tr != nil {
			tr.in, tr.ts = f.konst, f.preTS
		}
		return fieldSet, nil
	}
	v, missing, ferr := m.source(f, values, st)
	if tr != nil {
		tr.in = v
		if st.used >= 0 {
			tr.col = f.colNames[st.used]
		}
	}
	if ferr != nil {
		return invalid(f, m.usedColumn(f, st, ferr))
	}
	if !missing && f.vmap != nil {
		if v, ferr = m.mapValue(f, v); ferr != nil {
			return invalid(f, m.usedColumn(f, st, ferr))
		}
		if tr != nil {
			tr.mapped = true
		}
	}
	if missing {
		switch {
		case f.hasDefault:
			v = f.def
			if tr != nil {
				tr.usedDefault = true
			}
		case f.optional:
			return fieldOmitted, nil
		default:
			return fieldRejected, f.fail("required", ErrRequired)
		}
	}
	if f.minorUnits {
		if v, ferr = m.minorToMajor(f, v, st); ferr != nil {
			return invalid(f, m.usedColumn(f, st, ferr))
		}
		if tr != nil {
			tr.minor = v.S
		}
	}
	out, t, ferr := m.encode(f, st.vals, v, values)
	if ferr != nil {
		return invalid(f, m.usedColumn(f, st, ferr))
	}
	st.vals = out
	*s = slot{start: start, end: len(st.vals), ok: true}
	if f.tk == tTimestamp {
		st.ts, st.hasTS = t, true
		if tr != nil {
			tr.ts = t
		}
	}
	return fieldSet, nil
}

// usedColumn names, in an error of a field with column: [a, b], the
// column the value came from.
func (m *Mapping) usedColumn(f *field, st *state, ferr *FieldError) *FieldError {
	if st.used >= 0 && ferr.Column == f.colName {
		ferr.Column = f.colNames[st.used]
	}
	return ferr
}

func invalid(f *field, ferr *FieldError) (fieldStatus, *FieldError) {
	if f.omitInvalid {
		return fieldDropped, ferr
	}
	return fieldRejected, ferr
}

// finish applies the whole-row rules to the evaluated slots and builds the
// body and its customer_dedup_id.
func (m *Mapping) finish(st *state) (*Payload, *FieldError) {
	return m.finishBody(st, true)
}

// finishBody is finish; without body, the payload's Body stays nil.
func (m *Mapping) finishBody(st *state, withBody bool) (*Payload, *FieldError) {
	if !m.present(st, m.cuidSlot) && !m.present(st, m.afidSlot) {
		return nil, &FieldError{Field: "user_id", Rule: "user_id", Err: errUserID}
	}
	if !m.present(st, m.requiredSlot) {
		f := m.fields[m.requiredSlot]
		return nil, &FieldError{Field: m.requiredName, Column: f.colName, Rule: "required", Err: ErrRequired}
	}

	// The body is built right after dedupPrefix so the derived id hashes
	// one contiguous slice.
	var b []byte
	if m.appID == nil {
		b = append(st.body, m.dedupPrefix...)
	} else {
		b = append(append(append(append(st.body, st.appID...), '\n'), m.Endpoint...), '\n')
	}
	bodyStart := len(b)
	b = append(b, '{')
	dedupAt, dedupMapped := -1, false
	for _, n := range m.root.children {
		if n.dedup {
			if m.present(st, n.slot) {
				dedupMapped = true
				b = emit(b, n, st)
			} else {
				dedupAt = len(b) - bodyStart
			}
			continue
		}
		b = emit(b, n, st)
	}
	b = append(b, '}')
	st.body = b

	p := &Payload{Timestamp: st.ts, HasTimestamp: st.hasTS, AppID: st.appID}
	body := b[bodyStart:]
	switch {
	case !withBody:
		switch {
		case dedupMapped:
			p.DedupID = jsonStringValue(st.vals[st.slots[m.dedupSlot].start:st.slots[m.dedupSlot].end])
		case m.Dedup == DedupAuto:
			sum := sha256.Sum256(b)
			p.DedupID = hex.EncodeToString(sum[:16])
		}
	case dedupMapped:
		p.Body = append([]byte(nil), body...)
		s := st.slots[m.dedupSlot]
		// The slot holds a JSON string; customer_dedup_id is text without
		// characters that need escaping in every sane export, but unquote
		// properly anyway.
		p.DedupID = jsonStringValue(st.vals[s.start:s.end])
	case m.Dedup == DedupAuto:
		sum := sha256.Sum256(b)
		var id [32]byte
		hex.Encode(id[:], sum[:16])
		const key = `,"customer_dedup_id":"`
		out := make([]byte, 0, len(body)+len(key)+len(id)+1)
		out = append(out, body[:dedupAt]...)
		out = append(out, key...)
		out = append(out, id[:]...)
		out = append(out, '"')
		out = append(out, body[dedupAt:]...)
		p.Body = out
		p.DedupID = string(id[:])
	default:
		p.Body = append([]byte(nil), body...)
	}
	return p, nil
}

func (m *Mapping) present(st *state, slot int) bool {
	return slot >= 0 && st.slots[slot].ok
}

// emit appends one member (with its leading comma) when it has a value;
// an object whose members are all absent is dropped whole.
func emit(dst []byte, n *node, st *state) []byte {
	mark := len(dst)
	if n.object {
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
		dst = append(dst, n.key...)
		dst = append(dst, '{')
		inner := len(dst)
		for _, ch := range n.children {
			dst = emit(dst, ch, st)
		}
		if len(dst) == inner {
			return dst[:mark]
		}
		return append(dst, '}')
	}
	if n.slot < 0 || !st.slots[n.slot].ok {
		return dst
	}
	s := st.slots[n.slot]
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, n.key...)
	return append(dst, st.vals[s.start:s.end]...)
}

// isMissing is the spec of "missing": null, or text empty after trimming.
func IsMissing(v readers.Value) bool {
	switch v.Kind {
	case readers.KindNull:
		return true
	case readers.KindString, readers.KindNumber:
		return strings.TrimSpace(v.S) == ""
	case readers.KindJSON:
		s := strings.TrimSpace(v.S)
		return s == "" || s == "null"
	}
	return false
}

// source reads the field's raw value: a column, the constant, or the
// expanded template (missing when any placeholder is missing).
func (m *Mapping) source(f *field, values []readers.Value, st *state) (readers.Value, bool, *FieldError) {
	var v readers.Value
	st.used = -1
	switch f.src {
	case srcColumn:
		v = values[f.col]
		if f.cols != nil {
			st.used = 0
			for i, c := range f.cols {
				if !IsMissing(values[c]) {
					v, st.used = values[c], i
					break
				}
			}
			if IsMissing(v) {
				st.used = -1
			}
		}
		if f.extract != extractNone {
			return m.extract(f, v)
		}
	case srcConst:
		v = f.konst
	case srcTemplate:
		b := st.tmp[:0]
		for _, p := range f.tmpl {
			if p.col < 0 {
				b = append(b, p.lit...)
				continue
			}
			pv := values[p.col]
			if IsMissing(pv) {
				st.tmp = b
				return v, true, nil
			}
			s, ferr := m.text(f, pv)
			if ferr != nil {
				st.tmp = b
				return v, false, ferr
			}
			b = append(b, s...)
		}
		st.tmp = b
		v = readers.String(string(b))
	}
	return v, IsMissing(v), nil
}

// text coerces a value to trimmed text for string-typed targets: strings
// and numbers as written, booleans as true/false, instants as RFC 3339 in
// UTC. Nested JSON is not text.
func (m *Mapping) text(f *field, v readers.Value) (string, *FieldError) {
	switch v.Kind {
	case readers.KindString, readers.KindNumber:
		s := strings.TrimSpace(v.S)
		if !utf8.ValidString(s) {
			return "", f.fail("utf8", errUTF8)
		}
		return s, nil
	case readers.KindBool:
		if v.B {
			return "true", nil
		}
		return "false", nil
	case readers.KindTime:
		return m.instant(v).UTC().Format(time.RFC3339Nano), nil
	}
	return "", f.fail("type", errType)
}

// instant returns the moment of a KindTime value. A naive value's wall
// clock is read in InputTimezone; see wallClock for DST.
func (m *Mapping) instant(v readers.Value) time.Time {
	if !v.Naive {
		return v.T
	}
	return wallClock(v.T, m.InputTimezone)
}

// wallClock reads the wall clock of w (held in UTC) in loc.
//
// DST: a wall clock that happens twice (the fall-back overlap) is the
// first of the two instants, the one with the earlier offset still in
// force (time.Date's choice). A wall clock that never happens (the
// spring-forward gap) is read with the offset in force before the gap, so
// 02:30 on a New York spring-forward day becomes 03:30 EDT, as in
// java.time and Python's fold=0. time.Date alone would move it backwards.
func wallClock(w time.Time, loc *time.Location) time.Time {
	y, mo, d := w.Date()
	h, mi, s := w.Clock()
	t := time.Date(y, mo, d, h, mi, s, w.Nanosecond(), loc)
	if t.Hour() == h && t.Minute() == mi && t.Day() == d {
		return t
	}
	_, before := w.Add(-24 * time.Hour).In(loc).Zone()
	return w.Add(-time.Duration(before) * time.Second).In(loc)
}

// encode appends the field's JSON value for v (not missing) to dst and
// validates it against the target's rule. ts is set for timestamps.
func (m *Mapping) encode(f *field, dst []byte, v readers.Value, values []readers.Value) ([]byte, int64, *FieldError) {
	switch f.tk {
	case tTimestamp:
		return m.encodeTimestamp(f, dst, v)
	case tEventRevenue:
		out, ferr := encodeNumber(f, dst, v, f.typ)
		return out, 0, ferr
	case tEventValue:
		out, ferr := encodeJSON(f, dst, v, true)
		return out, 0, ferr
	case tEventValuePath:
		out, ferr := m.encodeAny(f, dst, v)
		return out, 0, ferr
	}
	if f.tk.hashed() {
		out, ferr := m.encodeHashed(f, dst, v, values)
		return out, 0, ferr
	}
	s, ferr := m.text(f, v)
	if ferr != nil {
		return dst, 0, ferr
	}
	switch f.tk {
	case tCUID:
		if n := utf8.RuneCountInString(s); n < 1 || n > 64 {
			return dst, 0, f.fail("max_length", errCUIDLen)
		}
	case tAFID, tDedup:
		if s == "" {
			return dst, 0, f.fail("required", errEmptyString)
		}
	case tEventName:
		if n := utf8.RuneCountInString(s); n < 1 || n > 64 {
			return dst, 0, f.fail("max_length", errEventLen)
		}
		if strings.ContainsAny(s, "@=+-") {
			return dst, 0, f.fail("event_name", errEventName)
		}
	case tCurrency:
		u, err := currency.ParseISO(s)
		if err != nil || len(s) != 3 {
			return dst, 0, f.fail("currency", errCurrency)
		}
		s = u.String()
	case tEventURL:
		if utf8.RuneCountInString(s) > 4096 {
			return dst, 0, f.fail("max_length", errURLLen)
		}
		if !validURL(s, true) {
			return dst, 0, f.fail("url", errURL)
		}
	case tReferrer:
		if !validURL(s, false) {
			return dst, 0, f.fail("url", errRefURL)
		}
	case tIP:
		if len(s) > 46 {
			return dst, 0, f.fail("ip", errIP)
		}
		if _, err := netip.ParseAddr(s); err != nil {
			return dst, 0, f.fail("ip", errIP)
		}
	case tUserAgent:
		if utf8.RuneCountInString(s) > 1024 {
			return dst, 0, f.fail("max_length", errUALen)
		}
	}
	return jsonenc.AppendString(dst, s), 0, nil
}

func (m *Mapping) encodeTimestamp(f *field, dst []byte, v readers.Value) ([]byte, int64, *FieldError) {
	var t time.Time
	switch v.Kind {
	case readers.KindTime:
		t = m.instant(v)
	case readers.KindString, readers.KindNumber:
		s := strings.TrimSpace(v.S)
		if !utf8.ValidString(s) {
			return dst, 0, f.fail("utf8", errUTF8)
		}
		if f.ts == nil {
			return dst, 0, f.fail("timestamp", errTimestamp)
		}
		var err error
		if t, err = f.ts.Parse(s); err != nil {
			return dst, 0, f.fail("timestamp", errTimestamp)
		}
	default:
		return dst, 0, f.fail("timestamp", errType)
	}
	// UnixMilli overflows silently outside ±292 million years; the year
	// check keeps such instants from wrapping into the valid range.
	if y := t.Year(); y < 1970 || y > 9999 {
		return dst, 0, f.fail("timestamp", errTSRange)
	}
	ms := t.UnixMilli()
	if ms < 0 || ms > 253402300799999 {
		return dst, 0, f.fail("timestamp", errTSRange)
	}
	return strconv.AppendInt(dst, ms, 10), ms, nil
}

func (m *Mapping) encodeHashed(f *field, dst []byte, v readers.Value, values []readers.Value) ([]byte, *FieldError) {
	s, ferr := m.text(f, v)
	if ferr != nil {
		return dst, ferr
	}
	if isHex64(s) {
		// Already a digest (possibly hashed upstream): pass it through,
		// lower-cased.
		dst = append(dst, '"')
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'A' && c <= 'F' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
		return append(dst, '"'), nil
	}
	var norm string
	var err error
	switch f.hash {
	case hashNone:
		return dst, f.fail("sha256", errSHA256)
	case hashEmail:
		if norm, err = pii.Email(s); err != nil {
			return dst, f.fail("email", errEmail)
		}
	case hashPhone, hashPhoneE164:
		region := m.region(f, values)
		if f.hash == hashPhone {
			norm, err = pii.Phone(s, region)
		} else {
			norm, err = pii.PhoneE164(s, region)
		}
		if err != nil {
			if errors.Is(err, pii.ErrRegion) {
				return dst, f.fail("region", errRegion)
			}
			return dst, f.fail("phone", errPhone)
		}
	case hashName:
		if out, ok := appendCachedName(dst, s); ok {
			return out, nil
		}
		if norm, err = pii.Name(s); err != nil {
			return dst, f.fail("name", errName)
		}
		start := len(dst)
		dst, ferr := appendDigest(f, dst, norm)
		if ferr == nil {
			storeName(s, dst[start:])
		}
		return dst, ferr
	case hashSHA256:
		norm = s
	}
	return appendDigest(f, dst, norm)
}

// appendDigest appends the SHA-256 of norm as a JSON string.
func appendDigest(f *field, dst []byte, norm string) ([]byte, *FieldError) {
	start := len(dst)
	dst = append(dst, '"')
	dst = pii.AppendSHA256Hex(dst, norm)
	// Belt and braces: whatever pii returns, the body only ever carries
	// what the spec's ^[a-fA-F0-9]{64}$ accepts.
	if !isHex64(dst[start+1:]) {
		return dst[:start], f.fail("sha256", errHashBroken)
	}
	return append(dst, '"'), nil
}

// region is the phone's default region for this row: region_column when
// the row has one, else the mapping's region.
func (m *Mapping) region(f *field, values []readers.Value) string {
	if f.regionCol >= 0 && values != nil {
		rv := values[f.regionCol]
		if !IsMissing(rv) && (rv.Kind == readers.KindString) {
			r := strings.TrimSpace(rv.S)
			if len(r) == 2 && isASCIILetter(r[0]) && isASCIILetter(r[1]) {
				if r[0] >= 'a' || r[1] >= 'a' {
					r = strings.ToUpper(r)
				}
				return r
			}
			return r // let pii refuse it as a region
		}
	}
	return f.region
}

// encodeAny encodes an event_value member: with a declared type, that
// type; without, the source's own kind.
func (m *Mapping) encodeAny(f *field, dst []byte, v readers.Value) ([]byte, *FieldError) {
	switch f.typ {
	case typeString:
		s, ferr := m.text(f, v)
		if ferr != nil {
			return dst, ferr
		}
		return jsonenc.AppendString(dst, s), nil
	case typeNumber, typeInteger:
		return encodeNumber(f, dst, v, f.typ)
	case typeBoolean:
		b, ok := parseBool(v)
		if !ok {
			return dst, f.fail("boolean", errBoolean)
		}
		return strconv.AppendBool(dst, b), nil
	case typeJSON:
		return encodeJSON(f, dst, v, false)
	}
	switch v.Kind {
	case readers.KindNumber:
		return encodeNumber(f, dst, v, typeNumber)
	case readers.KindBool:
		return strconv.AppendBool(dst, v.B), nil
	case readers.KindJSON:
		return encodeJSON(f, dst, v, false)
	}
	s, ferr := m.text(f, v)
	if ferr != nil {
		return dst, ferr
	}
	return jsonenc.AppendString(dst, s), nil
}

// parseBool accepts booleans, and true/false (any case) or 1/0 as text.
func parseBool(v readers.Value) (bool, bool) {
	switch v.Kind {
	case readers.KindBool:
		return v.B, true
	case readers.KindString, readers.KindNumber:
		s := strings.TrimSpace(v.S)
		switch {
		case s == "1" || strings.EqualFold(s, "true"):
			return true, true
		case s == "0" || strings.EqualFold(s, "false"):
			return false, true
		}
	}
	return false, false
}

func encodeNumber(f *field, dst []byte, v readers.Value, typ valueType) ([]byte, *FieldError) {
	if v.Kind != readers.KindNumber && v.Kind != readers.KindString {
		return dst, f.fail("number", errType)
	}
	s := strings.TrimSpace(v.S)
	start := len(dst)
	out, ok := appendNumber(dst, s)
	if !ok {
		return dst, f.fail("number", errNumber)
	}
	if typ == typeInteger {
		out, ok = integral(out, start)
		if !ok {
			return dst, f.fail("integer", errInteger)
		}
	}
	return out, nil
}

// integral rewrites the number at dst[start:] as an integer when it is one:
// "5.00" -> "5", "1e3" -> "1000". Exponent forms go through float64 and
// must stay within ±2^53, where every integer is exact.
func integral(dst []byte, start int) ([]byte, bool) {
	n := dst[start:]
	if i := indexAny(n, "eE"); i >= 0 {
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return dst, false
		}
		return strconv.AppendFloat(dst[:start], f, 'f', -1, 64), true
	}
	dot := indexAny(n, ".")
	if dot < 0 {
		return dst, true
	}
	for _, c := range n[dot+1:] {
		if c != '0' {
			return dst, false
		}
	}
	return dst[:start+dot], true
}

func indexAny(b []byte, chars string) int {
	for i, c := range b {
		if strings.IndexByte(chars, c) >= 0 {
			return i
		}
	}
	return -1
}

// encodeJSON appends nested JSON from a KindJSON value or a string that
// holds JSON, compacted; object requires a JSON object.
func encodeJSON(f *field, dst []byte, v readers.Value, object bool) ([]byte, *FieldError) {
	if v.Kind != readers.KindJSON && v.Kind != readers.KindString {
		return dst, f.fail("json", errType)
	}
	s := strings.TrimSpace(v.S)
	if !utf8.ValidString(s) {
		return dst, f.fail("utf8", errUTF8)
	}
	if !validJSON(s) {
		return dst, f.fail("json", errJSON)
	}
	if object && s[0] != '{' {
		return dst, f.fail("object", errObject)
	}
	return appendCompactJSON(dst, s), nil
}

// jsonStringValue returns the text of an encoded JSON string.
func jsonStringValue(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b[1 : len(b)-1])
	}
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return string(b[1 : len(b)-1])
	}
	return s
}

// nameCache remembers the quoted digests of recent names: names repeat
// across an export far more than emails do, and normalizing a non-ASCII
// name (NFC, Unicode lower case) then hashing it costs about a
// microsecond. It is a direct-mapped table; an entry is immutable and a
// slot is replaced whole. Only valid names are kept.
var (
	nameCache [4096]atomic.Pointer[nameEntry]
	nameSeed  = maphash.MakeSeed()
)

const maxCachedName = 64

type nameEntry struct {
	raw    string
	digest [66]byte // the JSON string: quote, 64 hex digits, quote
}

func nameSlot(raw string) *atomic.Pointer[nameEntry] {
	return &nameCache[maphash.String(nameSeed, raw)%uint64(len(nameCache))]
}

func appendCachedName(dst []byte, raw string) ([]byte, bool) {
	if len(raw) > maxCachedName {
		return dst, false
	}
	if e := nameSlot(raw).Load(); e != nil && e.raw == raw {
		return append(dst, e.digest[:]...), true
	}
	return dst, false
}

// storeName caches digest, the quoted digest of raw.
func storeName(raw string, digest []byte) {
	if len(raw) > maxCachedName || len(digest) != 66 {
		return
	}
	e := &nameEntry{raw: strings.Clone(raw)}
	copy(e.digest[:], digest)
	nameSlot(raw).Store(e)
}
