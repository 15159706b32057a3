package mappings

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"

	"github.com/goccy/go-yaml/ast"
)

// Fingerprint identifies what a mapping sends: 16 lowercase hex digits.
// The first 8 fingerprint the app id, the last 8 everything else that
// shapes a request or its outcome: the endpoint, the time zones, the dedup
// mode and every field with its source, rules and constants.
//
// It is computed from the parsed YAML in a canonical form, generically:
// keys sorted, scalars by their kind and text, comments, quoting style,
// anchors and key order ignored. Every key of the mapping counts except
// the top-level tests: (fixtures change nothing that is sent), so a key
// added to the mapping language later is covered without code here. Two
// mappings that mean the same thing but are written differently (an
// explicit default, 1 for 1.0) have different fingerprints: the check
// errs on the side of asking.
func (m *Mapping) Fingerprint() string { return m.fingerprint }

// FingerprintAppOnly reports whether two fingerprints differ in the app id
// alone (the rest of the mapping is the same).
func FingerprintAppOnly(a, b string) bool {
	return len(a) == 16 && len(b) == 16 && a[:8] != b[:8] && a[8:] == b[8:]
}

// fingerprintOf computes the Fingerprint of a mapping's root node.
func fingerprintOf(root *ast.MappingNode, appID string) string {
	app := sha256.Sum256([]byte(appID))
	var rest []byte
	rest = canonicalYAML(rest, root, true)
	sum := sha256.Sum256(rest)
	return hex.EncodeToString(app[:4]) + hex.EncodeToString(sum[:4])
}

// canonicalYAML appends an unambiguous encoding of n: mappings with their
// keys sorted, sequences in order, scalars tagged by kind. At the top
// level, app_id (fingerprinted apart) and tests are left out.
func canonicalYAML(dst []byte, n ast.Node, top bool) []byte {
	switch x := unwrap(n).(type) {
	case *ast.MappingNode:
		type kv struct {
			key string
			val ast.Node
		}
		kvs := make([]kv, 0, len(x.Values))
		for _, mv := range x.Values {
			k, ok := keyText(mv.Key)
			if !ok {
				k = "?" + mv.Key.String()
			}
			if top && (k == "app_id" || k == "tests") {
				continue
			}
			kvs = append(kvs, kv{k, mv.Value})
		}
		sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].key < kvs[j].key })
		dst = append(dst, '{')
		for _, e := range kvs {
			dst = strconv.AppendQuote(dst, e.key)
			dst = append(dst, ':')
			dst = canonicalYAML(dst, e.val, false)
			dst = append(dst, ',')
		}
		return append(dst, '}')
	case *ast.SequenceNode:
		dst = append(dst, '[')
		for _, v := range x.Values {
			dst = canonicalYAML(dst, v, false)
			dst = append(dst, ',')
		}
		return append(dst, ']')
	case *ast.StringNode:
		return strconv.AppendQuote(append(dst, 's'), x.Value)
	case *ast.LiteralNode:
		return strconv.AppendQuote(append(dst, 's'), x.Value.Value)
	case *ast.IntegerNode:
		return append(append(dst, 'i'), intText(x)...)
	case *ast.BoolNode:
		return strconv.AppendBool(append(dst, 'b'), x.Value)
	case *ast.NullNode, nil:
		return append(dst, 'n')
	default:
		// Floats, infinities, aliases: their text as written.
		text := ""
		if tk := tokenOf(x); tk != nil {
			text = tk.Value
		}
		return strconv.AppendQuote(append(dst, 'x'), text)
	}
}
