package mappings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"afimport/readers"
)

// TestResult is the outcome of one mapping fixture (an entry of tests:).
type TestResult struct {
	Name string
	Line int // line of the case in the mapping file
	Pass bool
	// Diff says why the case failed ("" when it passed): the differing
	// keys of the payload, or the expected and actual error. It shows only
	// values written in the fixture and values of the built body (where
	// personal data is already hashed), never a raw hashed-input value
	// the fixture did not contain.
	Diff string
}

// fixture is one compiled case of tests:.
type fixture struct {
	name string
	line int
	row  []readers.Value // aligned with Mapping.columns; unnamed columns are null

	hasPayload bool
	payload    map[string]any // expected body, numbers as json.Number
	dedupGiven bool           // payload names customer_dedup_id, so it is compared

	wantErr           bool
	errField, errRule string // "" matches any

	omitted []string // targets that must be absent from the body

	filtered bool   // expect filtered: true: a skip: entry must match
	appID    string // expect app_id: X: the payload's app id ("" not checked)
}

// RunTests applies every case of the mapping's tests: and compares the
// result with its expectation. It returns one result per case, in file
// order (none when the mapping has no tests).
func (m *Mapping) RunTests() []TestResult {
	out := make([]TestResult, 0, len(m.tests))
	for _, tc := range m.tests {
		p, err := m.Apply(tc.row)
		diff := tc.check(p, err)
		out = append(out, TestResult{Name: tc.name, Line: tc.line, Pass: diff == "", Diff: diff})
	}
	return out
}

func (tc *fixture) check(p *Payload, err error) string {
	var se *SkipError
	skipped := errors.As(err, &se)
	switch {
	case tc.filtered && skipped:
		return ""
	case tc.filtered && err != nil:
		return "want filtered (a skip: entry), got error: " + err.Error()
	case tc.filtered:
		return "want filtered (a skip: entry), got a payload"
	case skipped && !tc.wantErr:
		return "want a payload, got filtered: " + err.Error()
	case skipped:
		return "want error " + describeWantErr(tc.errField, tc.errRule) + ", got filtered: " + err.Error()
	}
	if tc.wantErr {
		want := describeWantErr(tc.errField, tc.errRule)
		if err == nil {
			return "want error " + want + ", got a payload"
		}
		var fe *FieldError
		if !errors.As(err, &fe) {
			return "want error " + want + ", got: " + err.Error()
		}
		var diffs []string
		if tc.errField != "" && fe.Field != tc.errField {
			diffs = append(diffs, fmt.Sprintf("error field: want %q, got %q", tc.errField, fe.Field))
		}
		if tc.errRule != "" && fe.Rule != tc.errRule {
			diffs = append(diffs, fmt.Sprintf("error rule: want %q, got %q", tc.errRule, fe.Rule))
		}
		if len(diffs) == 0 {
			return ""
		}
		// FieldError text never carries the value.
		return strings.Join(diffs, "; ") + " (error: " + err.Error() + ")"
	}
	if err != nil {
		return "want a payload, got error: " + err.Error()
	}
	got, derr := decodeObject(p.Body)
	if derr != nil {
		return "the body is not a JSON object: " + derr.Error()
	}
	var diffs []string
	if tc.appID != "" && p.AppID != tc.appID {
		diffs = append(diffs, fmt.Sprintf("app_id: want %q, got %q", tc.appID, p.AppID))
	}
	for _, t := range tc.omitted {
		if v, ok := lookupPath(got, t); ok {
			diffs = append(diffs, fmt.Sprintf("%s: want omitted, got %s", t, showJSON(v)))
		}
	}
	if tc.hasPayload {
		if !tc.dedupGiven {
			delete(got, "customer_dedup_id")
		}
		diffs = diffJSON(diffs, "", tc.payload, got)
	}
	return strings.Join(diffs, "; ")
}

func describeWantErr(field, rule string) string {
	switch {
	case field != "" && rule != "":
		return fmt.Sprintf("field %q rule %q", field, rule)
	case field != "":
		return fmt.Sprintf("field %q", field)
	}
	return fmt.Sprintf("rule %q", rule)
}

func decodeObject(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// lookupPath finds a dotted target ("user_id.appsflyer_id",
// "event_value.custom_parameters.plan") in a decoded body.
func lookupPath(obj map[string]any, path string) (any, bool) {
	var cur any = obj
	for _, seg := range strings.Split(path, ".") {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = o[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// diffJSON appends one line per difference between want and got, each
// naming the key path. Objects compare by key, arrays by position, numbers
// by value (5.10 equals 5.1), everything else exactly.
func diffJSON(diffs []string, path string, want, got any) []string {
	name := path
	if name == "" {
		name = "payload"
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return append(diffs, fmt.Sprintf("%s: want %s, got %s", name, showJSON(want), showJSON(got)))
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inG:
				diffs = append(diffs, fmt.Sprintf("%s: missing (want %s)", p, showJSON(wv)))
			case !inW:
				diffs = append(diffs, fmt.Sprintf("%s: unexpected (got %s)", p, showJSON(gv)))
			default:
				diffs = diffJSON(diffs, p, wv, gv)
			}
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return append(diffs, fmt.Sprintf("%s: want %s, got %s", name, showJSON(want), showJSON(got)))
		}
		for i := range w {
			diffs = diffJSON(diffs, fmt.Sprintf("%s[%d]", name, i), w[i], g[i])
		}
		return diffs
	case json.Number:
		if g, ok := got.(json.Number); ok && numbersEqual(w, g) {
			return diffs
		}
	case string:
		if g, ok := got.(string); ok && g == w {
			return diffs
		}
	case bool:
		if g, ok := got.(bool); ok && g == w {
			return diffs
		}
	case nil:
		if got == nil {
			return diffs
		}
	}
	return append(diffs, fmt.Sprintf("%s: want %s, got %s", name, showJSON(want), showJSON(got)))
}

// numbersEqual compares two JSON numbers by exact decimal value. Absurd
// exponents are compared as text rather than expanded.
func numbersEqual(a, b json.Number) bool {
	if a == b {
		return true
	}
	if len(a) > 64 || len(b) > 64 || hugeExponent(string(a)) || hugeExponent(string(b)) {
		return false
	}
	x, ok1 := new(big.Rat).SetString(string(a))
	y, ok2 := new(big.Rat).SetString(string(b))
	return ok1 && ok2 && x.Cmp(y) == 0
}

func hugeExponent(s string) bool {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return false
	}
	e := strings.TrimLeft(s[i+1:], "+-")
	return len(e) > 3
}

// showJSON renders a decoded value compactly for a diff, cut at 80
// characters (a quoted SHA-256 digest fits).
func showJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "?"
	}
	s := strings.TrimSuffix(buf.String(), "\n")
	return truncate(s, 80)
}

// truncate cuts s to n characters, saying how long it was.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return fmt.Sprintf("%s… (%d chars)", string(r[:n]), len(r))
}

// compileTests checks tests: and compiles each case. It runs after the
// fields, so row columns and expected targets are checked against them.
func (c *compiler) compileTests(key *token.Token, n ast.Node) {
	switch x := unwrap(n).(type) {
	case nil, *ast.NullNode:
		return // "tests:" with no cases
	case *ast.SequenceNode:
		names := map[string]bool{}
		for i, item := range x.Values {
			c.compileCase(i, item, names)
		}
	default:
		c.errAt(key, "tests must be a list of cases { name, row, expect }")
	}
}

func (c *compiler) compileCase(i int, n ast.Node, names map[string]bool) {
	label := fmt.Sprintf("tests[%d]", i)
	body, ok := unwrap(n).(*ast.MappingNode)
	if !ok {
		c.errAt(tokenOf(n), "%s: a test case is a mapping { name, row, expect }", label)
		return
	}
	at := tokenOf(body)
	if len(body.Values) > 0 {
		at = tokenOf(body.Values[0].Key)
	}
	tc := &fixture{row: make([]readers.Value, len(c.m.columns))}
	if at != nil && at.Position != nil {
		tc.line = at.Position.Line
	}
	nerr := len(c.errs)
	var rowNode, expectNode ast.Node
	var hasName, sawName bool
	for _, kv := range body.Values {
		k, ok := keyText(kv.Key)
		kt := tokenOf(kv.Key)
		switch {
		case !ok:
			c.errAt(kt, "%s: keys must be plain names", label)
		case k == "name":
			sawName = true
			s, ok := scalarText(kv.Value)
			if !ok || strings.TrimSpace(s) == "" {
				c.errAt(tokenOf(kv.Value), "%s: name must be a non-empty string", label)
				continue
			}
			if names[s] {
				c.errAt(tokenOf(kv.Value), "%s: another test is already named %q", label, s)
				continue
			}
			names[s], tc.name, hasName = true, s, true
		case k == "row":
			rowNode = kv.Value
		case k == "expect":
			expectNode = kv.Value
		default:
			c.errAt(kt, "%s: unknown key %q (want name, row, expect)", label, k)
		}
	}
	if hasName {
		label = fmt.Sprintf("test %q", tc.name)
	} else if !sawName {
		c.errAt(at, "%s: name is required", label)
	}
	if rowNode == nil {
		c.errAt(at, "%s: row is required (a mapping of column: value)", label)
	} else {
		c.compileRow(tc, label, rowNode)
	}
	if expectNode == nil {
		c.errAt(at, "%s: expect is required (payload, error or omitted)", label)
	} else {
		c.compileExpect(tc, label, at, expectNode)
	}
	if len(c.errs) == nerr {
		c.m.tests = append(c.m.tests, tc)
	}
}

func (c *compiler) compileRow(tc *fixture, label string, n ast.Node) {
	var values []*ast.MappingValueNode
	switch x := unwrap(n).(type) {
	case *ast.NullNode:
		return // an empty row: every column is null
	case *ast.MappingNode:
		values = x.Values
	default:
		c.errAt(tokenOf(n), "%s: row must be a mapping of column: value", label)
		return
	}
	for _, kv := range values {
		col, ok := keyText(kv.Key)
		if !ok {
			c.errAt(tokenOf(kv.Key), "%s: row keys must be column names", label)
			continue
		}
		idx, ok := c.colIdx[col]
		if !ok {
			c.errAt(tokenOf(kv.Key), "%s: row column %q is not read by the mapping (it reads %s)", label, col, strings.Join(c.m.columns, ", "))
			continue
		}
		v, err := fixtureValue(kv.Value)
		if err != nil {
			c.errAt(tokenOf(kv.Value), "%s: row column %q: %v", label, col, err)
			continue
		}
		tc.row[idx] = v
	}
}

// fixtureValue is a row value as a reader would deliver it: YAML strings
// are text (as from CSV), YAML numbers KindNumber with the digits as
// written, booleans KindBool, null KindNull, and a mapping or list nested
// JSON (as from NDJSON or Parquet).
func fixtureValue(n ast.Node) (readers.Value, error) {
	switch x := unwrap(n).(type) {
	case *ast.StringNode:
		return readers.String(x.Value), nil
	case *ast.LiteralNode:
		return readers.String(x.Value.Value), nil
	case *ast.IntegerNode, *ast.FloatNode:
		return readers.Number(x.GetToken().Value), nil
	case *ast.BoolNode:
		return readers.Bool(x.Value), nil
	case *ast.NullNode, nil:
		return readers.Null(), nil
	case *ast.MappingNode, *ast.SequenceNode:
		b, err := yamlJSON(nil, x)
		if err != nil {
			return readers.Value{}, err
		}
		return readers.JSON(string(b)), nil
	case *ast.InfinityNode, *ast.NanNode:
		return readers.Value{}, errors.New("numbers must be finite (quote it for text)")
	}
	return readers.Value{}, errors.New("must be a scalar, null, a mapping or a list (no aliases)")
}

func (c *compiler) compileExpect(tc *fixture, label string, caseTk *token.Token, n ast.Node) {
	body, ok := unwrap(n).(*ast.MappingNode)
	if !ok {
		c.errAt(tokenOf(n), "%s: expect must be a mapping with payload, error or omitted", label)
		return
	}
	var errTk *token.Token
	for _, kv := range body.Values {
		k, _ := keyText(kv.Key)
		kt, vt := tokenOf(kv.Key), tokenOf(kv.Value)
		switch k {
		case "payload":
			obj, ok := unwrap(kv.Value).(*ast.MappingNode)
			if !ok {
				c.errAt(vt, "%s: payload must be an object (the expected request body)", label)
				continue
			}
			b, err := yamlJSON(nil, obj)
			if err != nil {
				c.errAt(vt, "%s: payload: %v", label, err)
				continue
			}
			p, err := decodeObject(b)
			if err != nil {
				c.errAt(vt, "%s: payload: %v", label, err)
				continue
			}
			_, tc.dedupGiven = p["customer_dedup_id"]
			tc.payload, tc.hasPayload = p, true
		case "error":
			errTk = kt
			c.compileWantErr(tc, label, kv.Value)
		case "filtered":
			b, ok := unwrap(kv.Value).(*ast.BoolNode)
			if !ok || !b.Value {
				c.errAt(vt, "%s: filtered must be true (leave it out for a row that is sent)", label)
				continue
			}
			errTk, tc.filtered = kt, true
		case "app_id":
			s, ok := scalarText(kv.Value)
			if !ok || s == "" {
				c.errAt(vt, "%s: app_id must be the expected app id", label)
				continue
			}
			tc.appID = s
		case "omitted":
			seq, ok := unwrap(kv.Value).(*ast.SequenceNode)
			if !ok {
				c.errAt(vt, "%s: omitted must be a list of targets", label)
				continue
			}
			for _, it := range seq.Values {
				s, ok := scalarText(it)
				if !ok || !c.seenNames[s] {
					c.errAt(tokenOf(it), "%s: omitted: %q is not a target of this mapping", label, s)
					continue
				}
				tc.omitted = append(tc.omitted, s)
			}
			if len(seq.Values) == 0 {
				c.errAt(vt, "%s: omitted must name at least one target", label)
			}
		default:
			c.errAt(kt, "%s: unknown expect key %q (want payload, error, omitted, filtered, app_id)", label, k)
		}
	}
	switch {
	case tc.filtered && tc.wantErr:
		c.errAt(errTk, "%s: expect filtered cannot be combined with error", label)
	case errTk != nil && (tc.hasPayload || tc.omitted != nil || tc.appID != ""):
		c.errAt(errTk, "%s: expect error or filtered cannot be combined with payload, omitted or app_id", label)
	case errTk == nil && !tc.hasPayload && tc.omitted == nil && tc.appID == "" && len(body.Values) == 0:
		c.errAt(tokenOf(n), "%s: expect needs payload, error, omitted, filtered or app_id", label)
	}
}

func (c *compiler) compileWantErr(tc *fixture, label string, n ast.Node) {
	body, ok := unwrap(n).(*ast.MappingNode)
	if !ok {
		c.errAt(tokenOf(n), "%s: error must be a mapping { field, rule }", label)
		return
	}
	tc.wantErr = true
	for _, kv := range body.Values {
		k, _ := keyText(kv.Key)
		s, ok := scalarText(kv.Value)
		vt := tokenOf(kv.Value)
		switch k {
		case "field":
			if !ok || (s != "user_id" && !c.seenNames[s] && !(s == "app_id" && c.m.appID != nil)) {
				c.errAt(vt, "%s: error field %q is not a target of this mapping (or user_id, app_id)", label, s)
				continue
			}
			tc.errField = s
		case "rule":
			if !ok || s == "" {
				c.errAt(vt, "%s: error rule must be a rule name such as required, email, url", label)
				continue
			}
			tc.errRule = s
		default:
			c.errAt(tokenOf(kv.Key), "%s: unknown error key %q (want field, rule)", label, k)
		}
	}
	if tc.errField == "" && tc.errRule == "" && len(body.Values) == 0 {
		c.errAt(tokenOf(n), "%s: error needs field, rule or both", label)
	}
}
