package readers

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"afimport/internal/jsonenc"
)

// Nested Parquet columns (LIST, MAP, groups, repeated fields) are assembled
// into compact JSON from their leaves' definition and repetition levels, one
// record at a time (Dremel record assembly):
//
//   - a group is an object of its fields;
//   - a LIST is an array of its elements, with the backward-compatibility
//     rules of the Parquet spec for two-level lists (a repeated primitive, a
//     repeated group of several fields or named "array" or "<list>_tuple" is
//     itself the element);
//   - a MAP is an object when its keys are STRING, else an array of
//     {"key":k,"value":v};
//   - any other repeated field is an array of its instances.

type nestKind int

const (
	nestLeaf nestKind = iota
	nestGroup
	nestList
	nestMap
)

// nestNode is one node of a top-level field's schema tree.
type nestNode struct {
	name     string
	kind     nestKind
	repeated bool
	optional bool
	def, rep int16 // definition and repetition level of the node itself
	leaf     int   // index of the leaf in the field (nestLeaf)
	lo, hi   int   // the field's leaves under the node: [lo, hi)
	children []*nestNode
	elem     *nestNode // nestList: the element node (the repeated child or its only field)
}

// newNestNode builds the tree of n, whose parent has levels def and rep;
// next numbers the leaves in schema order.
func newNestNode(n schema.Node, def, rep int16, next *int) (*nestNode, error) {
	nn := &nestNode{name: n.Name(), lo: *next}
	switch n.RepetitionType() {
	case parquet.Repetitions.Repeated:
		nn.repeated = true
		def++
		rep++
	case parquet.Repetitions.Optional:
		nn.optional = true
		def++
	}
	nn.def, nn.rep = def, rep
	g, ok := n.(*schema.GroupNode)
	if !ok {
		nn.kind = nestLeaf
		nn.leaf = *next
		*next++
		nn.hi = *next
		return nn, nil
	}
	nn.kind = nestGroup
	switch g.LogicalType().(type) {
	case schema.ListLogicalType:
		nn.kind = nestList
	case schema.MapLogicalType:
		nn.kind = nestMap
	}
	switch g.ConvertedType() {
	case schema.ConvertedTypes.List:
		nn.kind = nestList
	case schema.ConvertedTypes.Map, schema.ConvertedTypes.MapKeyValue:
		if nn.kind == nestGroup {
			nn.kind = nestMap
		}
	}
	for i := range g.NumFields() {
		c, err := newNestNode(g.Field(i), def, rep, next)
		if err != nil {
			return nil, err
		}
		nn.children = append(nn.children, c)
	}
	nn.hi = *next
	switch nn.kind {
	case nestList:
		if len(nn.children) != 1 || !nn.children[0].repeated {
			return nil, fmt.Errorf("LIST %q must have exactly one repeated field", nn.name)
		}
		r := nn.children[0]
		nn.elem = r
		if r.kind != nestLeaf && len(r.children) == 1 && r.name != "array" && r.name != nn.name+"_tuple" {
			nn.elem = r.children[0]
		}
	case nestMap:
		if len(nn.children) != 1 || !nn.children[0].repeated || nn.children[0].kind == nestLeaf ||
			len(nn.children[0].children) < 1 || len(nn.children[0].children) > 2 {
			// A MAP_KEY_VALUE or MAP group of another shape is kept as a group.
			if g.ConvertedType() == schema.ConvertedTypes.MapKeyValue {
				nn.kind = nestGroup
				break
			}
			return nil, fmt.Errorf("MAP %q must have one repeated group of a key and a value", nn.name)
		}
		if key := nn.children[0].children[0]; key.optional || key.repeated {
			return nil, errors.New("MAP keys must be required")
		}
	}
	return nn, nil
}

// nestedField reads one nested top-level field.
type nestedField struct {
	root   *nestNode
	leaves []*pqLeaf
	recs   []leafRecord // the current record's levels and values, per leaf
	spans  []span       // scratch for splitting
	out    []byte
	err    error // a corrupt level structure found while assembling
}

// leafRecord is one record's entries of one leaf: levels, and the JSON of
// each defined value as out[off[j]:off[j+1]].
type leafRecord struct {
	defs, reps []int16
	off        []int
	out        []byte
}

type span struct{ lo, hi int }

// next assembles the next record: its value, a value error, or a fatal error.
func (f *nestedField) next() (Value, error, error) {
	for k, l := range f.leaves {
		if err := f.collect(k, l); err != nil {
			return Value{}, nil, fmt.Errorf("%s: %w", l.name, err)
		}
	}
	segs := make([]span, len(f.leaves))
	for k := range segs {
		segs[k] = span{0, len(f.recs[k].defs)}
	}
	n := f.root
	if (n.optional || n.repeated) && f.firstDef(n, segs) < n.def && !n.repeated {
		return Null(), nil, nil
	}
	f.err = nil
	f.out = f.writeField(f.out[:0], n, segs)
	if f.err != nil {
		return Value{}, nil, f.err
	}
	return JSON(string(f.out)), nil, nil
}

// collect reads leaf k's entries of the next record: one with repetition
// level 0 and the following ones with a higher level.
func (f *nestedField) collect(k int, l *pqLeaf) error {
	rec := &f.recs[k]
	rec.defs, rec.reps, rec.off, rec.out = rec.defs[:0], rec.reps[:0], append(rec.off[:0], 0), rec.out[:0]
	for {
		if l.pos >= l.n {
			ok, err := l.fill()
			if err != nil {
				return err
			}
			if !ok {
				if len(rec.defs) == 0 {
					return errors.New("column chunk ended before the row group")
				}
				return nil
			}
		}
		var def, rep int16 = l.maxDef, 0
		if l.maxDef > 0 {
			def = l.defs[l.pos]
		}
		if l.maxRep > 0 {
			rep = l.reps[l.pos]
		}
		if len(rec.defs) == 0 {
			if rep != 0 {
				return fmt.Errorf("record starts with repetition level %d", rep)
			}
		} else if rep == 0 {
			return nil
		}
		if def > l.maxDef || rep > l.maxRep || def < 0 || rep < 0 {
			return fmt.Errorf("levels %d/%d past the column's %d/%d", def, rep, l.maxDef, l.maxRep)
		}
		l.pos++
		rec.defs = append(rec.defs, def)
		rec.reps = append(rec.reps, rep)
		if def == l.maxDef {
			rec.out = l.conv.json(rec.out, l, l.v)
			l.v++
		}
		rec.off = append(rec.off, len(rec.out))
	}
}

// firstDef is the definition level of the first entry under n.
func (f *nestedField) firstDef(n *nestNode, segs []span) int16 {
	s := segs[n.lo]
	if s.lo >= s.hi {
		return -1
	}
	return f.recs[n.lo].defs[s.lo]
}

// writeField writes n's value in its parent instance segs: an array of
// instances when n is repeated, null when it is optional and undefined.
func (f *nestedField) writeField(b []byte, n *nestNode, segs []span) []byte {
	if n.repeated {
		return f.writeInstances(b, n, segs, func(b []byte, inst []span) []byte { return f.writeInstance(b, n, inst) })
	}
	if n.optional && f.firstDef(n, segs) < n.def {
		return append(b, "null"...)
	}
	return f.writeInstance(b, n, segs)
}

// writeInstances writes the instances of the repeated node n as a JSON
// array, each by write.
func (f *nestedField) writeInstances(b []byte, n *nestNode, segs []span, write func([]byte, []span) []byte) []byte {
	b = append(b, '[')
	if f.firstDef(n, segs) < n.def {
		return append(b, ']')
	}
	// Instance boundaries: entries at n's repetition level, per leaf.
	count := -1
	for k := n.lo; k < n.hi; k++ {
		c := 1
		for j := segs[k].lo + 1; j < segs[k].hi; j++ {
			if f.recs[k].reps[j] <= n.rep {
				c++
			}
		}
		if count >= 0 && c != count {
			f.err = fmt.Errorf("field %q: leaves disagree on the number of elements (%d and %d)", n.name, count, c)
			return append(b, ']')
		}
		count = c
	}
	inst := make([]span, len(segs))
	copy(inst, segs)
	next := make([]int, len(segs))
	for k := n.lo; k < n.hi; k++ {
		next[k] = segs[k].lo
	}
	for e := range count {
		for k := n.lo; k < n.hi; k++ {
			lo := next[k]
			hi := lo + 1
			for hi < segs[k].hi && f.recs[k].reps[hi] > n.rep {
				hi++
			}
			inst[k] = span{lo, hi}
			next[k] = hi
		}
		if e > 0 {
			b = append(b, ',')
		}
		b = write(b, inst)
	}
	return append(b, ']')
}

// writeInstance writes one defined instance of n.
func (f *nestedField) writeInstance(b []byte, n *nestNode, segs []span) []byte {
	switch n.kind {
	case nestLeaf:
		s := segs[n.leaf]
		rec := &f.recs[n.leaf]
		if s.lo >= s.hi || s.hi-s.lo != 1 {
			f.err = fmt.Errorf("field %q: %d values for one instance", n.name, s.hi-s.lo)
			return append(b, "null"...)
		}
		if rec.off[s.lo] == rec.off[s.lo+1] {
			return append(b, "null"...)
		}
		return append(b, rec.out[rec.off[s.lo]:rec.off[s.lo+1]]...)
	case nestList:
		r := n.children[0]
		return f.writeInstances(b, r, segs, func(b []byte, inst []span) []byte {
			if n.elem == r {
				return f.writeInstance(b, r, inst)
			}
			return f.writeField(b, n.elem, inst)
		})
	case nestMap:
		kv := n.children[0]
		key := kv.children[0]
		var val *nestNode
		if len(kv.children) > 1 {
			val = kv.children[1]
		}
		textKeys := key.kind == nestLeaf && f.leaves[key.leaf].conv.text
		arr := f.writeInstances(nil, kv, segs, func(b []byte, inst []span) []byte {
			if textKeys {
				b = f.writeField(b, key, inst)
				b = append(b, ':')
			} else {
				b = append(b, `{"key":`...)
				b = f.writeField(b, key, inst)
				b = append(b, `,"value":`...)
			}
			if val == nil {
				b = append(b, "null"...)
			} else {
				b = f.writeField(b, val, inst)
			}
			if !textKeys {
				b = append(b, '}')
			}
			return b
		})
		if textKeys {
			arr[0], arr[len(arr)-1] = '{', '}'
		}
		return append(b, arr...)
	}
	b = append(b, '{')
	for i, c := range n.children {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, c.name)
		b = append(b, ':')
		b = f.writeField(b, c, segs)
	}
	return append(b, '}')
}
