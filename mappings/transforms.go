package mappings

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"afimport/readers"
)

// SkipError is the error Apply, Check, Timestamp and Explain return for a
// row that an entry of skip: matches: the row is not to be sent, and it
// is not a mistake (the importer reports it "filtered"). Reason names the
// entry, never the row's value: "skip[0]: status not in [paid]".
type SkipError struct {
	Index  int // the entry of skip:, 0-based
	Reason string
}

func (e *SkipError) Error() string { return e.Reason }

var (
	errMapMiss      = errors.New("the value is not in the field's map")
	errAppIDMissing = errors.New("the app id column is missing or empty")
	errAppIDMiss    = errors.New("the value is not in app_id's map")
	errAppIDBad     = errors.New("not a usable app id (no '/', '?', '#', '%' or whitespace)")
	errMinorInt     = errors.New("minor units must be an integer")
	errMinorNoCur   = errors.New("minor units need the row's event_revenue_currency")
	errMinorNoExp   = errors.New("the currency has no ISO 4217 minor unit (set currency_exponents)")
)

// skipRule is one entry of skip:. The row matches when its trimmed text
// (a missing value reads "") is in values (in:) or not in them (not_in:).
type skipRule struct {
	col    int
	values map[string]struct{}
	notIn  bool
	err    *SkipError // shared by every row it matches: it is immutable
}

// appIDRule is app_id: { column: C, map: {...} }: the app id of each row.
type appIDRule struct {
	col     int
	colName string
	vmap    map[string]string // nil: the column's text is the app id
}

// badAppID reports text that cannot go into the request path.
func badAppID(s string) bool {
	return strings.TrimSpace(s) == "" || strings.ContainsAny(s, "/?#% \t\r\n")
}

// rowText is a value as skip: and map: compare it: trimmed text, "" when
// missing. Instants read as RFC 3339 in UTC, booleans true/false.
func (m *Mapping) rowText(v readers.Value) string {
	if IsMissing(v) {
		return ""
	}
	switch v.Kind {
	case readers.KindBool:
		return strconv.FormatBool(v.B)
	case readers.KindTime:
		return m.instant(v).UTC().Format(time.RFC3339Nano)
	}
	return strings.TrimSpace(v.S)
}

// skipped returns the first skip: entry the row matches, nil when none.
func (m *Mapping) skipped(values []readers.Value) *SkipError {
	for i := range m.skips {
		r := &m.skips[i]
		_, in := r.values[m.rowText(values[r.col])]
		if in != r.notIn {
			return r.err
		}
	}
	return nil
}

// rowAppID is the row's app id: the constant, or the column (mapped).
func (m *Mapping) rowAppID(values []readers.Value) (string, *FieldError) {
	r := m.appID
	if r == nil {
		return m.AppID, nil
	}
	fail := func(err error) *FieldError {
		return &FieldError{Field: "app_id", Column: r.colName, Rule: "app_id", Err: err}
	}
	v := values[r.col]
	if IsMissing(v) {
		return "", fail(errAppIDMissing)
	}
	s := m.rowText(v)
	if r.vmap != nil {
		id, ok := r.vmap[s]
		if !ok {
			return "", fail(errAppIDMiss)
		}
		return id, nil
	}
	if !utf8.ValidString(s) || badAppID(s) {
		return "", fail(errAppIDBad)
	}
	return s, nil
}

// mapValue looks the source's trimmed text up in the field's map.
func (m *Mapping) mapValue(f *field, v readers.Value) (readers.Value, *FieldError) {
	s, ferr := m.text(f, v)
	if ferr != nil {
		return v, ferr
	}
	out, ok := f.vmap[s]
	if !ok {
		return v, f.fail("map", errMapMiss)
	}
	return out, nil
}

// minorToMajor converts an integer amount in minor units into the
// decimal amount of the row's currency (already encoded in its slot).
func (m *Mapping) minorToMajor(f *field, v readers.Value, st *state) (readers.Value, *FieldError) {
	if v.Kind != readers.KindString && v.Kind != readers.KindNumber {
		return v, f.fail("minor_units", errMinorInt)
	}
	if !m.present(st, m.currencySlot) {
		return v, f.fail("minor_units", errMinorNoCur)
	}
	s := st.slots[m.currencySlot]
	code := jsonStringValue(st.vals[s.start:s.end])
	e, ok := m.exponents[code]
	if !ok {
		e, ok = ISOMinorUnit(code)
	}
	if !ok {
		return v, f.fail("minor_units", errMinorNoExp)
	}
	out, ok := shiftMinor(strings.TrimSpace(v.S), e)
	if !ok {
		return v, f.fail("minor_units", errMinorInt)
	}
	return readers.Number(out), nil
}

// --- compiling the new keys ---

// compileSkip reads skip: [{ column, in | not_in: [...] }, ...].
func (c *compiler) compileSkip(key *token.Token, n ast.Node) {
	seq, ok := unwrap(n).(*ast.SequenceNode)
	if !ok {
		c.errAt(key, "skip must be a list of { column: C, in: [...] } or { column: C, not_in: [...] }")
		return
	}
	for i, item := range seq.Values {
		label := "skip[" + strconv.Itoa(i) + "]"
		body, ok := unwrap(item).(*ast.MappingNode)
		if !ok {
			c.errAt(tokenOf(item), "%s: an entry is { column: C, in: [...] } or { column: C, not_in: [...] }", label)
			continue
		}
		r := skipRule{col: -1}
		var colName, op string
		var list []string
		for _, kv := range body.Values {
			k, _ := keyText(kv.Key)
			kt := tokenOf(kv.Key)
			switch k {
			case "column":
				colName, r.col = c.namedColumn(kv.Value, label)
			case "in", "not_in":
				if op != "" {
					c.errAt(kt, "%s: give one of in and not_in", label)
					continue
				}
				op = k
				vals, ok := c.textList(kv.Value, label+": "+k)
				if !ok {
					continue
				}
				list, r.notIn = vals, k == "not_in"
				r.values = make(map[string]struct{}, len(vals))
				for _, v := range vals {
					r.values[v] = struct{}{}
				}
			default:
				c.errAt(kt, "%s: unknown key %q (want column, in, not_in)", label, k)
			}
		}
		at := tokenOf(item)
		if len(body.Values) > 0 {
			at = tokenOf(body.Values[0].Key)
		}
		if colName == "" && r.col < 0 {
			c.errAt(at, "%s: column is required", label)
		}
		if op == "" {
			c.errAt(at, "%s: needs in: [...] or not_in: [...]", label)
		}
		if r.col < 0 || r.values == nil {
			continue
		}
		word := "in"
		if r.notIn {
			word = "not in"
		}
		r.err = &SkipError{Index: i, Reason: label + ": " + colName + " " + word + " [" + strings.Join(list, ", ") + "]"}
		c.m.skips = append(c.m.skips, r)
	}
}

// namedColumn reads the value of a column: key: the column's name and
// index, or an error at the value and index -1.
func (c *compiler) namedColumn(n ast.Node, label string) (string, int) {
	s, ok := scalarText(n)
	if !ok || s == "" {
		c.errAt(tokenOf(n), "%s: column must name a column", label)
		return "", -1
	}
	return s, c.column(s)
}

// textList reads a YAML list of scalars as trimmed texts.
func (c *compiler) textList(n ast.Node, label string) ([]string, bool) {
	seq, ok := unwrap(n).(*ast.SequenceNode)
	if !ok {
		c.errAt(tokenOf(n), "%s must be a list of values", label)
		return nil, false
	}
	out := make([]string, 0, len(seq.Values))
	for _, it := range seq.Values {
		s, ok := scalarText(it)
		if !ok {
			if _, null := unwrap(it).(*ast.NullNode); !null {
				c.errAt(tokenOf(it), "%s: entries must be scalars (write \"\" for a missing value)", label)
				return nil, false
			}
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out, true
}

// compileAppID reads app_id: a constant, or { column: C, map: {...} }.
func (c *compiler) compileAppID(n ast.Node) {
	body, ok := unwrap(n).(*ast.MappingNode)
	if !ok {
		s, ok := scalarText(n)
		if !ok || strings.TrimSpace(s) == "" {
			c.errAt(tokenOf(n), "app_id must be a non-empty string, or { column: C } with an optional map")
			return
		}
		if badAppID(s) {
			c.errAt(tokenOf(n), "app_id must not contain '/', '?', '#', '%%' or whitespace (it goes into the request path)")
			return
		}
		c.m.AppID = s
		return
	}
	r := &appIDRule{col: -1}
	for _, kv := range body.Values {
		k, _ := keyText(kv.Key)
		kt := tokenOf(kv.Key)
		switch k {
		case "column":
			r.colName, r.col = c.namedColumn(kv.Value, "app_id")
		case "map":
			vm, ok := c.valueMap(kv.Value, "app_id")
			if !ok {
				continue
			}
			r.vmap = make(map[string]string, len(vm))
			for k, v := range vm {
				id := v.v.S
				if v.v.Kind == readers.KindBool {
					id = strconv.FormatBool(v.v.B)
				}
				if badAppID(id) {
					c.errAt(v.tk, "app_id: map: an app id must not be empty nor contain '/', '?', '#', '%%' or whitespace")
					continue
				}
				r.vmap[k] = id
			}
		default:
			c.errAt(kt, "app_id: unknown key %q (want column, map)", k)
		}
	}
	if r.col < 0 {
		c.errAt(tokenOf(n), "app_id: { column: C } needs column")
		return
	}
	c.m.appID, c.m.AppIDColumn = r, r.colName
}

// mapEntry is one value of a map: and where it was written.
type mapEntry struct {
	v  readers.Value
	tk *token.Token
}

// valueMap reads a YAML mapping of source text to value. Keys are
// trimmed; values are constants (text, numbers, booleans).
func (c *compiler) valueMap(n ast.Node, target string) (map[string]mapEntry, bool) {
	body, ok := unwrap(n).(*ast.MappingNode)
	if !ok || len(body.Values) == 0 {
		c.errAt(tokenOf(n), "%s: map must be a non-empty mapping of source value: value", target)
		return nil, false
	}
	out := make(map[string]mapEntry, len(body.Values))
	good := true
	for _, kv := range body.Values {
		k, ok := keyText(kv.Key)
		if !ok {
			c.errAt(tokenOf(kv.Key), "%s: map keys must be scalars", target)
			good = false
			continue
		}
		k = strings.TrimSpace(k)
		if _, dup := out[k]; dup {
			c.errAt(tokenOf(kv.Key), "%s: map: key %q given twice", target, k)
			good = false
			continue
		}
		switch unwrap(kv.Value).(type) {
		case *ast.MappingNode, *ast.SequenceNode:
			c.errAt(tokenOf(kv.Value), "%s: map values must be scalars", target)
			good = false
			continue
		}
		v, ok := c.constant(kv.Value, target, "map value")
		if !ok {
			good = false
			continue
		}
		if IsMissing(v) {
			c.errAt(tokenOf(kv.Value), "%s: map value is empty (use skip: to leave such rows out)", target)
			good = false
			continue
		}
		out[k] = mapEntry{v: v, tk: tokenOf(kv.Value)}
	}
	return out, good
}

// compileExponents reads currency_exponents: { ISK: 2, ... }.
func (c *compiler) compileExponents(key *token.Token, n ast.Node) {
	body, ok := unwrap(n).(*ast.MappingNode)
	if !ok {
		c.errAt(key, "currency_exponents must be a mapping of currency code: exponent, such as { ISK: 2 }")
		return
	}
	c.m.exponents = map[string]int{}
	for _, kv := range body.Values {
		code, _ := keyText(kv.Key)
		if len(code) != 3 || strings.ToUpper(code) != code || !isASCIIAlpha(code) {
			c.errAt(tokenOf(kv.Key), "currency_exponents: %q is not an upper-case ISO 4217 code", code)
			continue
		}
		s, _ := scalarText(kv.Value)
		e, err := strconv.Atoi(s)
		if _, isInt := unwrap(kv.Value).(*ast.IntegerNode); !isInt || err != nil || e < 0 || e > 9 {
			c.errAt(tokenOf(kv.Value), "currency_exponents: %s: the exponent must be an integer from 0 to 9", code)
			continue
		}
		c.m.exponents[code] = e
	}
}

// compileMap is a field's map: key.
func compileMap(c *compiler, fs *fieldSpec, n ast.Node, _ *token.Token) {
	vm, ok := c.valueMap(n, fs.target)
	if !ok {
		return
	}
	fs.vmap = make(map[string]readers.Value, len(vm))
	for k, e := range vm {
		fs.vmap[k] = e.v
	}
}

// compileColumns is column: [a, b, ...]: the first column not missing.
func (c *compiler) compileColumns(fs *fieldSpec, seq *ast.SequenceNode) {
	if len(seq.Values) == 0 {
		c.errAt(tokenOf(seq), "%s: column: [] names no column", fs.target)
		return
	}
	seen := map[string]bool{}
	for _, it := range seq.Values {
		s, ok := scalarText(it)
		if !ok || s == "" {
			c.errAt(tokenOf(it), "%s: column must name columns", fs.target)
			return
		}
		if seen[s] {
			c.errAt(tokenOf(it), "%s: column %q is listed twice", fs.target, s)
			return
		}
		seen[s] = true
		fs.cols = append(fs.cols, c.column(s))
		fs.colNames = append(fs.colNames, s)
	}
	fs.src, fs.col, fs.colName = srcColumn, fs.cols[0], strings.Join(fs.colNames, ",")
	if len(fs.cols) == 1 {
		fs.cols, fs.colNames, fs.colName = nil, nil, fs.colNames[0]
	}
}
