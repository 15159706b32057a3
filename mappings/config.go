package mappings

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	"golang.org/x/text/language"

	"afimport/internal/jsonenc"
	"afimport/mappings/timefmt"
	"afimport/readers"
)

// compiler turns the YAML AST into a Mapping, collecting every mistake with
// its position instead of stopping at the first one. Maps are fine here:
// this runs once per import, never per row.
type compiler struct {
	name   string
	errs   ConfigErrors
	m      *Mapping
	colIdx map[string]int
	specs  []*fieldSpec
	// seen holds every target named in fields, even those with mistakes,
	// so a broken field does not also report its target as unmapped.
	seen      map[targetKind]bool
	seenNames map[string]bool // the same, by target name
}

// errAt records a mistake at the token's position. Messages name keys and
// rules, not values, in the same spirit as FieldError.
func (c *compiler) errAt(tk *token.Token, format string, args ...any) {
	line, col := 1, 1
	if tk != nil && tk.Position != nil {
		line, col = tk.Position.Line, tk.Position.Column
	}
	c.errs = append(c.errs, &ConfigError{File: c.name, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)})
}

// sortedErrors returns the errors in file order; checks run in several
// passes (top-level keys first, then fields, then cross-field checks).
func (c *compiler) sortedErrors() ConfigErrors {
	sort.SliceStable(c.errs, func(i, j int) bool {
		a, b := c.errs[i], c.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return c.errs
}

func (c *compiler) column(name string) int {
	if i, ok := c.colIdx[name]; ok {
		return i
	}
	i := len(c.m.columns)
	c.m.columns = append(c.m.columns, name)
	c.colIdx[name] = i
	return i
}

// unwrap strips tags and anchors, which carry no meaning in a mapping.
func unwrap(n ast.Node) ast.Node {
	for {
		switch x := n.(type) {
		case *ast.TagNode:
			n = x.Value
		case *ast.AnchorNode:
			n = x.Value
		default:
			return n
		}
	}
}

// scalarText returns the text of a scalar node, and false for mappings,
// sequences, nulls and aliases.
func scalarText(n ast.Node) (string, bool) {
	switch x := unwrap(n).(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.LiteralNode:
		return x.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return x.GetToken().Value, true
	}
	return "", false
}

func keyText(k ast.MapKeyNode) (string, bool) {
	if k == nil {
		return "", false
	}
	return scalarText(k)
}

func tokenOf(n ast.Node) *token.Token {
	if n == nil {
		return nil
	}
	return n.GetToken()
}

func (c *compiler) compile(data []byte) *Mapping {
	c.m = &Mapping{
		Name: c.name, Endpoint: "", TimezoneName: "UTC", Timezone: time.UTC, InputTimezone: time.UTC,
		Dedup: DedupAuto, cuidSlot: -1, afidSlot: -1, requiredSlot: -1, timestampSlot: -1, dedupSlot: -1, currencySlot: -1,
	}
	c.colIdx = map[string]int{}
	c.seen = map[targetKind]bool{}
	c.seenNames = map[string]bool{}

	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) {
			c.errAt(ye.GetToken(), "YAML syntax: %s", ye.GetMessage())
		} else {
			c.errAt(nil, "YAML syntax: %v", err)
		}
		return nil
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		c.errAt(nil, "the mapping is empty")
		return nil
	}
	if len(docs) > 1 {
		at := tokenOf(docs[1].Body)
		if mn, ok := unwrap(docs[1].Body).(*ast.MappingNode); ok && len(mn.Values) > 0 {
			at = tokenOf(mn.Values[0].Key)
		}
		c.errAt(at, "a mapping file holds one YAML document")
	}
	root, ok := unwrap(docs[0].Body).(*ast.MappingNode)
	if !ok {
		c.errAt(tokenOf(docs[0].Body), "the mapping must be a YAML mapping of keys (app_id, endpoint, fields, ...)")
		return nil
	}

	var fieldsKey, testsKey *token.Token
	var fieldsNode, testsNode ast.Node
	seen := map[string]bool{}
	for _, mv := range root.Values {
		key, ok := keyText(mv.Key)
		ktk := tokenOf(mv.Key)
		if !ok {
			c.errAt(ktk, "top-level keys must be plain names")
			continue
		}
		seen[key] = true
		switch key {
		case "app_id":
			c.compileAppID(mv.Value)
		case "endpoint":
			s, _ := scalarText(mv.Value)
			switch Endpoint(s) {
			case EndpointEvent, EndpointVisit:
				c.m.Endpoint = Endpoint(s)
			default:
				c.errAt(tokenOf(mv.Value), "endpoint must be event or visit")
			}
		case "timezone", "input_timezone":
			s, _ := scalarText(mv.Value)
			if key == "timezone" && s == PlaceholderTimezone {
				// afimport init's: it loads (as UTC) so that check can
				// name it; check --strict fails and import refuses it.
				c.m.TimezoneName = s
				continue
			}
			loc, ok := loadZone(s)
			if !ok {
				c.errAt(tokenOf(mv.Value), "%s: unknown IANA time zone", key)
				continue
			}
			if key == "timezone" {
				c.m.TimezoneName, c.m.Timezone = loc.String(), loc
			} else {
				c.m.InputTimezone = loc
			}
		case "dedup":
			s, _ := scalarText(mv.Value)
			switch DedupMode(s) {
			case DedupAuto, DedupNone:
				c.m.Dedup = DedupMode(s)
			default:
				c.errAt(tokenOf(mv.Value), "dedup must be auto or none")
			}
		case "fields":
			fieldsKey, fieldsNode = ktk, mv.Value
		case "tests":
			testsKey, testsNode = ktk, mv.Value
		case "skip":
			c.compileSkip(ktk, mv.Value)
		case "currency_exponents":
			c.compileExponents(ktk, mv.Value)
		default:
			c.errAt(ktk, "unknown top-level key %q (want app_id, endpoint, timezone, input_timezone, dedup, skip, currency_exponents, fields, tests)", key)
		}
	}
	rootTk := tokenOf(root)
	if len(root.Values) > 0 {
		rootTk = tokenOf(root.Values[0].Key)
	}
	if !seen["app_id"] {
		c.errAt(rootTk, "app_id is required")
	}
	if !seen["endpoint"] {
		c.errAt(rootTk, "endpoint is required (event or visit)")
	}
	if !seen["fields"] {
		c.errAt(rootTk, "fields is required")
		return nil
	}
	fields, ok := unwrap(fieldsNode).(*ast.MappingNode)
	if !ok {
		c.errAt(fieldsKey, "fields must be a mapping of target: {column|value|template: ...}")
		return nil
	}
	for _, mv := range fields.Values {
		c.compileField(mv)
	}
	c.checkTargets(fieldsKey)
	if testsKey != nil {
		c.compileTests(testsKey, testsNode)
	}
	if len(c.errs) > 0 {
		return nil
	}
	c.buildPlan()
	c.m.fingerprint = fingerprintOf(root, c.m.AppID)
	return c.m
}

// loadZone resolves an IANA name. "Local" is refused: an import must not
// depend on the machine it runs on.
func loadZone(name string) (*time.Location, bool) {
	if name == "" || name == "Local" {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}

// fieldSpec is a field while compiling: the field plus where its keys were.
type fieldSpec struct {
	*field
	keyTk  *token.Token
	segs   []string
	srcTk  *token.Token // the value node of column/value/template
	defTk  *token.Token
	hasTyp bool

	srcName   string                  // column, value or template; "" when none was given
	keys      map[string]*token.Token // every key given, at its position
	format    string                  // format: as written
	formatVal *token.Token            // format:'s value; nil when not given
}

// keyRule is one key of a field body. compile reads the key's value into
// the fieldSpec; it runs only when applies (nil: always) holds, else the
// key is refused with the sentence notHere. What keys require of each
// other is checkCombination's, once every key has been read.
type keyRule struct {
	name    string
	applies func(fs *fieldSpec) bool
	notHere string
	compile func(c *compiler, fs *fieldSpec, n ast.Node, vt *token.Token)
}

// fieldKeys are the keys of a field body, in the order the "unknown key"
// message lists them. A new key is one entry here, plus its combination
// rules in checkCombination.
var fieldKeys = []keyRule{
	{name: "column", compile: compileSourceKey},
	{name: "value", compile: compileSourceKey},
	{name: "template", compile: compileSourceKey},
	{name: "extract", compile: compileExtract},
	{name: "type", compile: compileType},
	{name: "format", applies: isTimestamp, notHere: "format applies to timestamp only", compile: compileFormat},
	{name: "hash", applies: isHashed, notHere: "hash applies to *_hashed targets only", compile: compileHash},
	{name: "region", compile: compileRegion},
	{name: "region_column", compile: compileRegionColumn},
	{name: "optional", compile: boolKey("optional", func(fs *fieldSpec, b bool) { fs.optional = b })},
	{name: "default", compile: compileDefault},
	{name: "on_invalid", compile: compileOnInvalid},
	{name: "map", compile: compileMap},
	{name: "minor_units", applies: isNumberTarget, notHere: "minor_units applies to event_revenue and event_value members of type number", compile: boolKey("minor_units", func(fs *fieldSpec, b bool) { fs.minorUnits = b })},
}

func compileSourceKey(c *compiler, fs *fieldSpec, n ast.Node, _ *token.Token) {
	c.compileSource(fs, fs.srcName, n)
}

func isTimestamp(fs *fieldSpec) bool { return fs.tk == tTimestamp }
func isHashed(fs *fieldSpec) bool    { return fs.tk.hashed() }
func isNumberTarget(fs *fieldSpec) bool {
	return fs.tk == tEventRevenue || fs.tk == tEventValuePath
}

func fieldKeyRule(name string) (keyRule, bool) {
	for _, r := range fieldKeys {
		if r.name == name {
			return r, true
		}
	}
	return keyRule{}, false
}

func fieldKeyNames() string {
	names := make([]string, len(fieldKeys))
	for i, r := range fieldKeys {
		names[i] = r.name
	}
	return strings.Join(names, ", ")
}

func (c *compiler) compileField(mv *ast.MappingValueNode) {
	ktk := tokenOf(mv.Key)
	target, ok := keyText(mv.Key)
	if !ok {
		c.errAt(ktk, "field targets must be plain names")
		return
	}
	tk, segs, ok := classifyTarget(target)
	if !ok {
		c.errAt(ktk, "unknown target %q", target)
		return
	}
	c.seen[tk] = true
	c.seenNames[target] = true
	if c.m.Endpoint == EndpointVisit && tk.eventOnly() {
		c.errAt(ktk, "%s does not apply to visits", target)
		return
	}
	body, ok := unwrap(mv.Value).(*ast.MappingNode)
	if !ok {
		c.errAt(tokenOf(mv.Value), "%s: a field is a mapping such as { column: name }", target)
		return
	}
	fs := &fieldSpec{field: &field{target: target, tk: tk, col: -1, regionCol: -1, typ: tk.defaultType()},
		keyTk: ktk, segs: segs, keys: map[string]*token.Token{}}
	nerr := len(c.errs)
	for _, kv := range body.Values {
		k, ok := keyText(kv.Key)
		kt, vt := tokenOf(kv.Key), tokenOf(kv.Value)
		if !ok {
			c.errAt(kt, "%s: keys must be plain names", target)
			continue
		}
		rule, ok := fieldKeyRule(k)
		if !ok {
			c.errAt(kt, "%s: unknown key %q (want %s)", target, k, fieldKeyNames())
			continue
		}
		if rule.applies != nil && !rule.applies(fs) {
			c.errAt(kt, "%s: %s", target, rule.notHere)
			continue
		}
		if k == "column" || k == "value" || k == "template" {
			if fs.srcName != "" {
				c.errAt(kt, "%s: %s and %s are exclusive; give exactly one of column, value, template", target, fs.srcName, k)
				continue
			}
			fs.srcName, fs.srcTk = k, vt
		}
		fs.keys[k] = kt
		rule.compile(c, fs, kv.Value, vt)
	}
	c.checkCombination(fs)
	if len(c.errs) > nerr {
		return
	}
	fs.slot = len(c.m.fields)
	c.m.fields = append(c.m.fields, fs.field)
	c.specs = append(c.specs, fs)
	c.precompute(fs)
}

// checkCombination is every rule between the keys of one field, run once
// all of them were read.
func (c *compiler) checkCombination(fs *fieldSpec) {
	target := fs.target
	if fs.srcName == "" {
		c.errAt(fs.keyTk, "%s: needs one of column, value or template", target)
	}
	if ek := fs.keys["extract"]; ek != nil && (fs.srcName == "value" || fs.srcName == "template") {
		c.errAt(ek, "%s: extract reads a column; it cannot be combined with %s", target, fs.srcName)
	}
	for _, rk := range []*token.Token{fs.keys["region"], fs.keys["region_column"]} {
		if rk != nil && fs.hash != hashPhone && fs.hash != hashPhoneE164 {
			c.errAt(rk, "%s: region and region_column apply to hash: phone or phone_e164 only", target)
		}
	}
	if fs.tk == tTimestamp && (fs.formatVal == nil || strings.TrimSpace(fs.format) != "") {
		format := fs.format
		if fs.formatVal == nil {
			format = "auto"
		}
		p, err := timefmt.New(format, c.m.InputTimezone)
		if err != nil {
			at := fs.formatVal
			if at == nil {
				at = fs.keyTk
			}
			c.errAt(at, "%s: format: %v", target, err)
		}
		fs.ts = p
	}
	if mk := fs.keys["map"]; mk != nil && fs.srcName == "value" {
		c.errAt(mk, "%s: map translates a column or a template; write the value itself", target)
	}
	if mk := fs.keys["minor_units"]; mk != nil && fs.minorUnits {
		switch {
		case fs.srcName == "value":
			c.errAt(mk, "%s: minor_units converts a column or a template; write the value in major units", target)
		case fs.typ != typeNumber:
			c.errAt(mk, "%s: minor_units needs type: number", target)
		}
	}
}

func compileType(c *compiler, fs *fieldSpec, n ast.Node, vt *token.Token) {
	s, _ := scalarText(n)
	t, ok := typeNames[s]
	if !ok {
		c.errAt(vt, "%s: type must be string, number, integer, boolean or json", fs.target)
		return
	}
	if !fs.tk.typeFits(t) {
		c.errAt(vt, "%s: type %s does not fit this target", fs.target, s)
		return
	}
	fs.typ, fs.hasTyp = t, true
}

func compileFormat(c *compiler, fs *fieldSpec, n ast.Node, vt *token.Token) {
	fs.format, _ = scalarText(n)
	fs.formatVal = vt
	if strings.TrimSpace(fs.format) == "" {
		c.errAt(vt, "%s: format must name a format (rfc3339, unix_s, unix_ms, unix_us, unix_ns, auto or a Go layout)", fs.target)
	}
}

func compileHash(c *compiler, fs *fieldSpec, n ast.Node, vt *token.Token) {
	s, _ := scalarText(n)
	h, ok := hashNames[s]
	if !ok {
		c.errAt(vt, "%s: hash must be email, phone, phone_e164, name or sha256", fs.target)
		return
	}
	if !fs.tk.hashFits(h) {
		c.errAt(vt, "%s: hash %s does not fit this target", fs.target, s)
		return
	}
	fs.hash = h
}

func compileRegion(c *compiler, fs *fieldSpec, n ast.Node, vt *token.Token) {
	s, _ := scalarText(n)
	r, ok := regionCode(s)
	if !ok {
		c.errAt(vt, "%s: region must be an ISO 3166-1 alpha-2 country code", fs.target)
		return
	}
	fs.region = r
}

func compileRegionColumn(c *compiler, fs *fieldSpec, n ast.Node, vt *token.Token) {
	s, ok := scalarText(n)
	if !ok || s == "" {
		c.errAt(vt, "%s: region_column must name a column", fs.target)
		return
	}
	fs.regionCol = c.column(s)
}

// boolKey compiles a key whose value is true or false into set.
func boolKey(key string, set func(fs *fieldSpec, b bool)) func(*compiler, *fieldSpec, ast.Node, *token.Token) {
	return func(c *compiler, fs *fieldSpec, n ast.Node, vt *token.Token) {
		b, ok := unwrap(n).(*ast.BoolNode)
		if !ok {
			c.errAt(vt, "%s: %s must be true or false", fs.target, key)
			return
		}
		set(fs, b.Value)
	}
}

func compileDefault(c *compiler, fs *fieldSpec, n ast.Node, vt *token.Token) {
	if v, ok := c.constant(n, fs.target, "default"); ok {
		fs.def, fs.hasDefault, fs.defTk = v, true, vt
	}
}

func compileExtract(c *compiler, fs *fieldSpec, n ast.Node, vt *token.Token) {
	s, _ := scalarText(n)
	x, ok := extractNames[s]
	if !ok {
		c.errAt(vt, "%s: extract must be af_user_id_cookie", fs.target)
		return
	}
	fs.extract = x
}

func compileOnInvalid(c *compiler, fs *fieldSpec, n ast.Node, vt *token.Token) {
	s, _ := scalarText(n)
	switch s {
	case "reject":
		fs.omitInvalid = false
	case "omit":
		fs.omitInvalid = true
	default:
		c.errAt(vt, "%s: on_invalid must be reject or omit", fs.target)
	}
}

// regionCode accepts an ISO 3166-1 alpha-2 country code in any case and
// returns it upper-cased.
func regionCode(s string) (string, bool) {
	if len(s) != 2 || !isASCIILetter(s[0]) || !isASCIILetter(s[1]) {
		return "", false
	}
	r, err := language.ParseRegion(s)
	if err != nil || !r.IsCountry() {
		return "", false
	}
	return r.String(), true
}

func isASCIILetter(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }

func (c *compiler) compileSource(fs *fieldSpec, k string, n ast.Node) {
	vt := tokenOf(n)
	switch k {
	case "column":
		if seq, ok := unwrap(n).(*ast.SequenceNode); ok {
			c.compileColumns(fs, seq)
			return
		}
		s, ok := scalarText(n)
		if !ok || s == "" {
			c.errAt(vt, "%s: column must name a column", fs.target)
			return
		}
		fs.src, fs.col, fs.colName = srcColumn, c.column(s), s
	case "value":
		v, ok := c.constant(n, fs.target, "value")
		if ok {
			fs.src, fs.konst = srcConst, v
		}
	case "template":
		s, ok := scalarText(n)
		if !ok {
			c.errAt(vt, "%s: template must be a string", fs.target)
			return
		}
		parts, err := parseTemplate(s)
		if err != nil {
			c.errAt(vt, "%s: template: %v", fs.target, err)
			return
		}
		var names []string
		for i := range parts {
			if parts[i].colName != "" {
				parts[i].col = c.column(parts[i].colName)
				names = append(names, parts[i].colName)
			}
		}
		fs.src, fs.tmpl, fs.tmplText, fs.colName = srcTemplate, parts, s, strings.Join(names, ",")
	}
}

// parseTemplate splits "https://x/{plan}?a={{b}}" into literals and
// placeholders; "{{" and "}}" are literal braces.
func parseTemplate(s string) ([]tmplPart, error) {
	var parts []tmplPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, tmplPart{lit: lit.String(), col: -1})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			if i+1 < len(s) && s[i+1] == '{' {
				lit.WriteByte('{')
				i++
				continue
			}
			end := strings.IndexAny(s[i+1:], "{}")
			if end < 0 || s[i+1+end] != '}' {
				return nil, errors.New("unclosed '{' (write '{{' for a literal brace)")
			}
			name := s[i+1 : i+1+end]
			if strings.TrimSpace(name) == "" {
				return nil, errors.New("empty placeholder {}")
			}
			flush()
			parts = append(parts, tmplPart{col: -1, colName: name})
			i += end + 1
		case '}':
			if i+1 < len(s) && s[i+1] == '}' {
				lit.WriteByte('}')
				i++
				continue
			}
			return nil, errors.New("unmatched '}' (write '}}' for a literal brace)")
		default:
			lit.WriteByte(s[i])
		}
	}
	flush()
	if len(parts) == 0 {
		return nil, errors.New("template is empty")
	}
	return parts, nil
}

// constant converts a YAML value (value: or default:) into a readers.Value:
// strings stay strings, numbers keep their text, mappings and sequences
// become compact JSON.
func (c *compiler) constant(n ast.Node, target, key string) (readers.Value, bool) {
	vt := tokenOf(n)
	switch x := unwrap(n).(type) {
	case *ast.StringNode:
		return readers.String(x.Value), true
	case *ast.LiteralNode:
		return readers.String(x.Value.Value), true
	case *ast.IntegerNode:
		return readers.Number(intText(x)), true
	case *ast.FloatNode:
		return readers.Number(x.GetToken().Value), true
	case *ast.BoolNode:
		return readers.Bool(x.Value), true
	case *ast.MappingNode, *ast.SequenceNode:
		b, err := yamlJSON(nil, x)
		if err != nil {
			c.errAt(vt, "%s: %s: %v", target, key, err)
			return readers.Value{}, false
		}
		return readers.JSON(string(b)), true
	case *ast.InfinityNode, *ast.NanNode:
		c.errAt(vt, "%s: %s must be a finite number", target, key)
	case *ast.NullNode, nil:
		c.errAt(vt, "%s: %s must not be null", target, key)
	default:
		c.errAt(vt, "%s: %s must be a scalar, a mapping or a list (no aliases)", target, key)
	}
	return readers.Value{}, false
}

func intText(x *ast.IntegerNode) string {
	switch v := x.Value.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	}
	return x.GetToken().Value
}

// yamlJSON appends the JSON form of a YAML constant. Mapping keys become
// strings; aliases and merge keys are refused.
func yamlJSON(dst []byte, n ast.Node) ([]byte, error) {
	var err error
	switch x := unwrap(n).(type) {
	case *ast.MappingNode:
		dst = append(dst, '{')
		for i, mv := range x.Values {
			k, ok := keyText(mv.Key)
			if !ok || mv.Key.IsMergeKey() {
				return nil, errors.New("object keys must be plain names")
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonenc.AppendString(dst, k)
			dst = append(dst, ':')
			if dst, err = yamlJSON(dst, mv.Value); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case *ast.SequenceNode:
		dst = append(dst, '[')
		for i, v := range x.Values {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = yamlJSON(dst, v); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case *ast.StringNode:
		return jsonenc.AppendString(dst, x.Value), nil
	case *ast.LiteralNode:
		return jsonenc.AppendString(dst, x.Value.Value), nil
	case *ast.IntegerNode:
		return append(dst, intText(x)...), nil
	case *ast.FloatNode:
		out, ok := appendNumber(dst, x.GetToken().Value)
		if !ok {
			return nil, errors.New("numbers must be finite decimals")
		}
		return out, nil
	case *ast.BoolNode:
		return strconv.AppendBool(dst, x.Value), nil
	case *ast.NullNode:
		return append(dst, "null"...), nil
	}
	return nil, errors.New("only scalars, mappings and lists are allowed (no aliases, no infinities)")
}

// precompute evaluates constants and checks defaults once, so a bad
// constant is a ConfigError at its position rather than an invalid row on
// every row, and constant fields cost a copy per row. Fields whose phone
// region comes from a column depend on the row and are left to Apply.
func (c *compiler) precompute(fs *fieldSpec) {
	if fs.regionCol >= 0 {
		return
	}
	if fs.src == srcConst {
		if IsMissing(fs.konst) {
			c.errAt(fs.srcTk, "%s: value is empty", fs.target)
			return
		}
		out, ts, ferr := c.m.encode(fs.field, nil, fs.konst, nil)
		if ferr != nil {
			c.errAt(fs.srcTk, "%s: value fails rule %s: %v", fs.target, ferr.Rule, ferr.Err)
			return
		}
		fs.pre, fs.preTS = out, ts
	}
	if fs.hasDefault {
		if IsMissing(fs.def) {
			c.errAt(fs.defTk, "%s: default is empty", fs.target)
			return
		}
		if _, _, ferr := c.m.encode(fs.field, nil, fs.def, nil); ferr != nil {
			c.errAt(fs.defTk, "%s: default fails rule %s: %v", fs.target, ferr.Rule, ferr.Err)
		}
	}
}

// checkTargets enforces what the spec requires of the set of targets, and
// that event_value is built one way only.
func (c *compiler) checkTargets(fieldsKey *token.Token) {
	var whole *fieldSpec
	var paths []*fieldSpec
	have := c.seen
	for _, fs := range c.specs {
		switch fs.tk {
		case tEventValue:
			whole = fs
		case tEventValuePath:
			paths = append(paths, fs)
		}
	}
	if whole != nil && len(paths) > 0 {
		later := paths[0]
		if later.keyTk.Position.Line < whole.keyTk.Position.Line {
			later = whole
		}
		c.errAt(later.keyTk, "%s: event_value is mapped both whole and by path; use one or the other", later.target)
	}
	// A path may not be both a value and an object: event_value.a and
	// event_value.a.b cannot both be mapped.
	for i, a := range paths {
		for _, b := range paths[:i] {
			if prefixOf(a.segs, b.segs) || prefixOf(b.segs, a.segs) {
				c.errAt(a.keyTk, "%s conflicts with %s: a member cannot be both a value and an object", a.target, b.target)
				break
			}
		}
	}
	for _, fs := range c.specs {
		if fs.minorUnits && !have[tCurrency] {
			c.errAt(fs.keys["minor_units"], "%s: minor_units needs event_revenue_currency mapped (the exponent is the currency's)", fs.target)
		}
	}
	if !have[tCUID] && !have[tAFID] {
		c.errAt(fieldsKey, "fields must map user_id.customer_user_id or user_id.appsflyer_id (or both)")
	}
	switch c.m.Endpoint {
	case EndpointEvent:
		if !have[tEventName] {
			c.errAt(fieldsKey, "fields must map event_name for the event endpoint")
		}
	case EndpointVisit:
		if !have[tEventURL] {
			c.errAt(fieldsKey, "fields must map event_url for the visit endpoint")
		}
	}
}

func prefixOf(short, long []string) bool {
	if len(short) > len(long) {
		return false
	}
	for i := range short {
		if short[i] != long[i] {
			return false
		}
	}
	return true
}

// buildPlan lays out the body: the top-level members in the endpoint's
// order, user_id and event_value as nested objects.
func (c *compiler) buildPlan() {
	m := c.m
	bySlot := map[targetKind]*field{}
	evRoot := &node{name: "event_value", key: memberKey("event_value"), slot: -1, object: true}
	for _, f := range m.fields {
		bySlot[f.tk] = f
		switch f.tk {
		case tCUID:
			m.cuidSlot = f.slot
		case tAFID:
			m.afidSlot = f.slot
		case tTimestamp:
			m.timestampSlot = f.slot
		case tDedup:
			m.dedupSlot = f.slot
		case tCurrency:
			m.currencySlot = f.slot
		case tEventValuePath:
			insertPath(evRoot, c.segsOf(f), f.slot)
		}
	}
	order := eventOrder
	m.requiredName = "event_name"
	if m.Endpoint == EndpointVisit {
		order = visitOrder
		m.requiredName = "event_url"
	}
	if f := bySlot[targetNames[m.requiredName]]; f != nil {
		m.requiredSlot = f.slot
	}
	m.root = &node{slot: -1, object: true}
	for _, name := range order {
		switch name {
		case "user_id":
			u := &node{name: name, key: memberKey(name), slot: -1, object: true}
			for _, k := range []targetKind{tCUID, tAFID} {
				if f := bySlot[k]; f != nil {
					sub := strings.TrimPrefix(f.target, "user_id.")
					u.children = append(u.children, &node{name: sub, key: memberKey(sub), slot: f.slot})
				}
			}
			m.root.children = append(m.root.children, u)
		case "event_value":
			if f := bySlot[tEventValue]; f != nil {
				m.root.children = append(m.root.children, &node{name: name, key: memberKey(name), slot: f.slot})
			} else if len(evRoot.children) > 0 {
				m.root.children = append(m.root.children, evRoot)
			}
		case "customer_dedup_id":
			slot := -1
			if f := bySlot[tDedup]; f != nil {
				slot = f.slot
			}
			m.root.children = append(m.root.children, &node{name: name, key: memberKey(name), slot: slot, dedup: true})
		default:
			if f := bySlot[targetNames[name]]; f != nil {
				m.root.children = append(m.root.children, &node{name: name, key: memberKey(name), slot: f.slot})
			}
		}
	}
	m.dedupPrefix = []byte(m.AppID + "\n" + string(m.Endpoint) + "\n")
	// Fields converted from minor units read the row's currency: they are
	// evaluated after every other field.
	for _, pass := range []bool{false, true} {
		for _, f := range m.fields {
			if f.minorUnits == pass {
				m.order = append(m.order, f)
			}
		}
	}
	nf := len(m.fields)
	m.pool.New = func() any {
		return &state{slots: make([]slot, nf), vals: make([]byte, 0, 512), body: make([]byte, 0, 1024)}
	}
}

func (c *compiler) segsOf(f *field) []string {
	for _, fs := range c.specs {
		if fs.field == f {
			return fs.segs
		}
	}
	return nil
}

// insertPath adds a leaf at segs below n, creating objects in first-use
// order (conflicts were refused by checkTargets).
func insertPath(n *node, segs []string, slot int) {
	for _, s := range segs[:len(segs)-1] {
		var next *node
		for _, ch := range n.children {
			if ch.object && ch.name == s {
				next = ch
				break
			}
		}
		if next == nil {
			next = &node{name: s, key: memberKey(s), slot: -1, object: true}
			n.children = append(n.children, next)
		}
		n = next
	}
	last := segs[len(segs)-1]
	n.children = append(n.children, &node{name: last, key: memberKey(last), slot: slot})
}

func memberKey(name string) []byte {
	return append(jsonenc.AppendString(nil, name), ':')
}
