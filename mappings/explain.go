package mappings

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"afimport/internal/jsonenc"
	"afimport/readers"
)

// Explanation is how one row maps, field by field: what `afimport explain`
// prints. Payload and Err are exactly what Apply returns for the row.
type Explanation struct {
	// Fields has one entry per mapped target, in body order (the order
	// the members appear in the request body).
	Fields  []FieldExplanation
	Payload *Payload // nil when Err is set
	// Err is Apply's error for the row (a *FieldError, or a *SkipError
	// when skip: leaves the row out: then Fields is empty), nil when
	// Payload is set.
	Err error
	// AppID is the row's app id ("" when a per-row app id failed).
	AppID string
}

// FieldExplanation is one target of an Explanation. Personal data is
// masked: the input of a hashed target, and of any field reading a column
// that a hashed target reads, is shown as e.g. "j***@g***.com" or
// "<redacted, 13 chars>"; hashes themselves are shown.
type FieldExplanation struct {
	Field  string // target, dotted: "user_id.customer_user_id"
	Source string // `column "email"`, `constant`, `template "https://x/{plan}"`, `column "cookie", extract af_user_id_cookie`
	// Input is the source value (after extract or template expansion),
	// masked when Masked, and cut to about 80 characters. Text is quoted;
	// a missing value reads "<missing>".
	Input   string
	Masked  bool
	Default bool   // the source was missing and the field's default was used
	Rules   string // the rule chain, e.g. "trim, email (NFC, lowercase), sha256"
	Result  string // the JSON value as sent; "" when the field is not sent
	Error   string // the FieldError text when the field failed, "" otherwise
	Omitted bool   // the field is left out of the body (the row may still be sent)
	Why     string // why it was omitted: "missing; optional: true" / "invalid (rule ip); on_invalid: omit"
}

const maxInput = 80

// Explain maps one row like Apply and reports every field: where its value
// came from, the rules applied and what was sent or why not. It runs the
// very code Apply runs (the per-field step and the whole-row checks); unlike
// Apply it evaluates every field even after one failed, so a row with
// several problems shows them all, while Err is the first, as from Apply.
// values must be aligned with Columns.
func (m *Mapping) Explain(values []readers.Value) Explanation {
	if len(values) != len(m.columns) {
		_, err := m.Apply(values)
		return Explanation{Err: err}
	}
	if se := m.skipped(values); se != nil {
		return Explanation{Err: se}
	}
	st := m.getState()
	defer m.pool.Put(st)
	n := len(m.fields)
	traces := make([]fieldTrace, n)
	status := make([]fieldStatus, n)
	errs := make([]*FieldError, n)
	var first *FieldError
	id, ferr := m.rowAppID(values)
	if ferr != nil {
		first = ferr
	}
	st.appID = id
	for _, f := range m.order {
		i := f.slot
		status[i], errs[i] = m.step(f, values, st, &traces[i])
		if status[i] == fieldRejected && first == nil {
			first = errs[i]
		}
	}
	ex := Explanation{AppID: id}
	var rowErr *FieldError
	if first != nil {
		ex.Err = first
	} else if p, ferr := m.finish(st); ferr != nil {
		ex.Err, rowErr = ferr, ferr
	} else {
		ex.Payload = p
	}

	pii := m.piiColumns()
	for _, i := range m.bodyOrder(nil, m.root) {
		f := m.fields[i]
		tr := &traces[i]
		fx := FieldExplanation{Field: f.target, Source: f.describeSource(), Default: tr.usedDefault, Masked: m.isPII(f, pii)}
		if tr.col != "" {
			fx.Source += ", used " + strconv.Quote(tr.col)
		}
		fx.Input = showInput(tr.in, fx.Masked)
		fx.Rules = m.ruleChain(f, tr)
		switch status[i] {
		case fieldSet:
			s := st.slots[i]
			fx.Result = string(st.vals[s.start:s.end])
			if fx.Masked && !f.tk.hashed() {
				// The raw value goes into the body unhashed; the
				// explanation still does not print it.
				fx.Result = redacted(fx.Result)
			}
		case fieldOmitted:
			fx.Omitted, fx.Why = true, "missing; optional: true"
		case fieldDropped:
			fx.Omitted, fx.Why = true, "invalid (rule "+errs[i].Rule+"); on_invalid: omit"
			fx.Error = errs[i].Error()
		case fieldRejected:
			fx.Error = errs[i].Error()
		}
		// A whole-row rule (event_name/event_url required) that names a
		// field is shown on it too.
		if rowErr != nil && rowErr.Field == f.target {
			if fx.Error != "" {
				fx.Error += "; then "
			}
			fx.Error += rowErr.Error()
		}
		ex.Fields = append(ex.Fields, fx)
	}
	return ex
}

// bodyOrder appends the slots of the plan's leaves in emission order.
func (m *Mapping) bodyOrder(dst []int, n *node) []int {
	if !n.object {
		if n.slot >= 0 {
			dst = append(dst, n.slot)
		}
		return dst
	}
	for _, ch := range n.children {
		dst = m.bodyOrder(dst, ch)
	}
	return dst
}

// piiColumns marks the columns a hashed target reads (its column, its
// template placeholders, its region_column).
func (m *Mapping) piiColumns() []bool {
	pii := make([]bool, len(m.columns))
	for _, f := range m.fields {
		if !f.tk.hashed() {
			continue
		}
		for _, c := range f.columnsRead() {
			pii[c] = true
		}
	}
	return pii
}

func (m *Mapping) isPII(f *field, pii []bool) bool {
	if f.tk.hashed() {
		return true
	}
	for _, c := range f.columnsRead() {
		if pii[c] {
			return true
		}
	}
	return false
}

func (f *field) columnsRead() []int {
	var cols []int
	switch f.src {
	case srcColumn:
		if f.cols != nil {
			cols = append(cols, f.cols...)
		} else {
			cols = append(cols, f.col)
		}
	case srcTemplate:
		for _, p := range f.tmpl {
			if p.col >= 0 {
				cols = append(cols, p.col)
			}
		}
	}
	if f.regionCol >= 0 {
		cols = append(cols, f.regionCol)
	}
	return cols
}

func (f *field) describeSource() string {
	switch f.src {
	case srcConst:
		return "constant"
	case srcTemplate:
		return "template " + strconv.Quote(f.tmplText)
	}
	s := "column " + strconv.Quote(f.colName)
	if f.cols != nil {
		q := make([]string, len(f.colNames))
		for i, c := range f.colNames {
			q[i] = strconv.Quote(c)
		}
		s = "first of columns " + strings.Join(q, ", ")
	}
	if f.extract != extractNone {
		s += ", extract " + f.extract.String()
	}
	return s
}

// showInput renders a source value for display: text quoted and cut to
// maxInput characters, or masked.
func showInput(v readers.Value, masked bool) string {
	if IsMissing(v) {
		if v.Kind == readers.KindString || v.Kind == readers.KindNumber {
			if masked {
				return "<missing>"
			}
			return "<missing> " + strconv.Quote(v.S)
		}
		return "<missing>"
	}
	var s string
	switch v.Kind {
	case readers.KindBool:
		s = strconv.FormatBool(v.B)
	case readers.KindTime:
		s = v.T.Format(time.RFC3339Nano)
		if v.Naive {
			s = v.T.Format("2006-01-02T15:04:05.999999999") + " (no zone)"
		}
	default:
		s = v.S
	}
	if masked {
		return mask(s)
	}
	if v.Kind == readers.KindString {
		return strconv.Quote(truncate(s, maxInput))
	}
	return truncate(s, maxInput)
}

// mask hides personal data: a value already hashed (64 hex digits) is
// shown, an email keeps the first character of its local part and domain
// and a short top-level domain, anything else keeps only its length.
func mask(s string) string {
	t := strings.TrimSpace(s)
	if isHex64(t) {
		return strconv.Quote(t)
	}
	if at := strings.IndexByte(t, '@'); at > 0 && at == strings.LastIndexByte(t, '@') {
		local, domain := t[:at], t[at+1:]
		if dot := strings.LastIndexByte(domain, '.'); dot > 0 {
			tld := domain[dot+1:]
			if len(tld) >= 2 && len(tld) <= 6 && isASCIIAlpha(tld) && utf8.ValidString(t) {
				l, _ := utf8.DecodeRuneInString(local)
				d, _ := utf8.DecodeRuneInString(domain)
				return string(l) + "***@" + string(d) + "***." + tld
			}
		}
	}
	return redacted(s)
}

func redacted(s string) string {
	return "<redacted, " + strconv.Itoa(utf8.RuneCountInString(s)) + " chars>"
}

func isASCIIAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isASCIILetter(s[i]) {
			return false
		}
	}
	return true
}

// ruleChain describes, in order, what is done to the field's value. It
// describes the compiled field; the rules themselves run in step.
func (m *Mapping) ruleChain(f *field, tr *fieldTrace) string {
	var r []string
	if f.extract != extractNone {
		r = append(r, "cookie afUserId", "percent-decode")
	}
	if f.pre != nil {
		r = append(r, "constant checked at load")
	}
	v := tr.in
	if f.vmap != nil {
		r = append(r, "map")
	}
	if f.minorUnits {
		r = append(r, "minor units by the currency's exponent")
	}
	if tr.usedDefault {
		r = append(r, "default")
		v = f.def
	}
	switch {
	case f.tk == tTimestamp:
		switch {
		case v.Kind == readers.KindTime && v.Naive:
			r = append(r, "wall clock in "+m.InputTimezone.String())
		case v.Kind == readers.KindTime:
			r = append(r, "instant")
		default:
			r = append(r, "trim", f.ts.Format()+" in "+m.InputTimezone.String())
		}
		r = append(r, "unix ms", "range 1970..9999")
	case f.tk == tEventRevenue:
		r = append(r, "trim", "type "+typeName(f.typ))
	case f.tk == tEventValue:
		r = append(r, "type json", "object", "compact")
	case f.tk == tEventValuePath:
		if f.typ == typeAuto {
			r = append(r, "source kind ("+kindName(v.Kind)+")")
		} else {
			r = append(r, "type "+typeName(f.typ))
		}
	case f.tk.hashed():
		r = append(r, "trim")
		if s, ferr := m.text(f, v); ferr == nil && isHex64(s) {
			r = append(r, "already sha256", "lowercase")
			break
		}
		switch f.hash {
		case hashNone:
			r = append(r, "must be sha256 hex")
		case hashEmail:
			r = append(r, "email (NFC, lowercase)", "sha256")
		case hashPhone:
			r = append(r, "phone digits, no + ("+m.regionNote(f)+")", "sha256")
		case hashPhoneE164:
			r = append(r, "phone E.164 ("+m.regionNote(f)+")", "sha256")
		case hashName:
			r = append(r, "name (NFC, lowercase)", "sha256")
		case hashSHA256:
			r = append(r, "sha256")
		}
	default:
		r = append(r, "trim")
		switch f.tk {
		case tCUID:
			r = append(r, "1-64 characters")
		case tAFID, tDedup:
			r = append(r, "non-empty")
		case tEventName:
			r = append(r, "1-64 characters", "no @ = + -")
		case tCurrency:
			r = append(r, "ISO-4217", "uppercase")
		case tEventURL:
			r = append(r, "http(s) URL", "max 4096")
		case tReferrer:
			r = append(r, "absolute URL")
		case tIP:
			r = append(r, "IPv4/IPv6")
		case tUserAgent:
			r = append(r, "max 1024")
		}
	}
	if f.omitInvalid {
		r = append(r, "on_invalid omit")
	}
	return strings.Join(r, ", ")
}

func (m *Mapping) regionNote(f *field) string {
	switch {
	case f.regionCol >= 0 && f.region != "":
		return "region from column " + strconv.Quote(m.columns[f.regionCol]) + ", else " + f.region
	case f.regionCol >= 0:
		return "region from column " + strconv.Quote(m.columns[f.regionCol])
	case f.region != "":
		return "region " + f.region
	}
	return "no region: international numbers only"
}

func typeName(t valueType) string {
	for name, v := range typeNames {
		if v == t {
			return name
		}
	}
	return "auto"
}

func kindName(k readers.Kind) string {
	return k.String()
}

// SafeBody is body with the value of every field Explain redacted (personal
// data a mapping sends unhashed, such as an email column also copied into
// event_value) replaced by its redaction, so no command prints it. Other
// bytes are kept exactly; with nothing to hide, body is returned as is.
func (ex *Explanation) SafeBody(body []byte) ([]byte, []string) {
	hide := map[string]string{}
	var names []string
	for _, f := range ex.Fields {
		if f.Masked && strings.HasPrefix(f.Result, "<redacted") {
			hide[f.Field] = f.Result
			names = append(names, f.Field)
		}
	}
	if len(hide) == 0 {
		return body, nil
	}
	var buf bytes.Buffer
	if err := redactJSON(&buf, body, "", hide); err != nil {
		// Never fall back to the raw body.
		return []byte(`"<body not shown: it holds unhashed personal data>"`), names
	}
	return buf.Bytes(), names
}

// redactJSON copies the JSON object raw to w, replacing the value at each
// dotted path of hide with its text, keeping every other byte.
func redactJSON(w *bytes.Buffer, raw []byte, prefix string, hide map[string]string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("not an object")
	}
	w.WriteByte('{')
	for i := 0; dec.More(); i++ {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return err
		}
		if i > 0 {
			w.WriteByte(',')
		}
		writeJSONString(w, key)
		w.WriteByte(':')
		path := prefix + key
		if text, ok := hide[path]; ok {
			writeJSONString(w, text)
			continue
		}
		if len(val) > 0 && val[0] == '{' && hasPrefixKey(hide, path+".") {
			if err := redactJSON(w, val, path+".", hide); err != nil {
				return err
			}
			continue
		}
		w.Write(val)
	}
	w.WriteByte('}')
	return nil
}

// writeJSONString writes s as a JSON string, as the mapping's encoder
// writes strings.
func writeJSONString(w *bytes.Buffer, s string) {
	w.Write(jsonenc.AppendString(w.AvailableBuffer(), s))
}

func hasPrefixKey(m map[string]string, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}
