package pii

import (
	"errors"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// digitDFA is a deterministic automaton over the ten ASCII digits, built
// from a regular expression by the subset construction over the program
// Go's regexp compiles it to. It answers questions about the pattern's
// language, which do not depend on the engine's match preferences:
// "is the whole string in it" (what MatchString of "^(?:p)$" answers) and
// "which prefixes are in it" (what decides whether "^(?:p)" matches, and,
// when only one prefix length is in it, where its match ends).
type digitDFA struct {
	next      []int32 // next[state*10+digit]; deadState: no way to accept
	accept    []bool  // a match ends here
	acceptEnd []bool  // a match ends here if this is the end of the text ('$' holds)
}

const (
	deadState = -1
	// maxDFAStates bounds the work and memory spent on one pattern; a
	// pattern that needs more is left to the library.
	maxDFAStates = 1 << 14
)

var errDFATooBig = errors.New("pattern needs too many DFA states")

// compileDigitDFA builds the automaton of pattern, parsed with the flags
// regexp.Compile uses. Of the empty-width assertions only '$' (end of text)
// is modelled, as the national prefix patterns of some regions use it;
// patterns with others (^, \b) are refused.
func compileDigitDFA(pattern string) (*digitDFA, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, err
	}
	for _, in := range prog.Inst {
		if in.Op == syntax.InstEmptyWidth && syntax.EmptyOp(in.Arg) != syntax.EmptyEndText {
			return nil, errors.New("empty-width assertion other than $ in pattern")
		}
	}
	b := dfaBuilder{prog: prog, index: map[string]int32{}, seen: make([]bool, len(prog.Inst))}
	d := &digitDFA{}
	start := b.closure(nil, []uint32{uint32(prog.Start)}, false)
	b.add(d, start)
	for s := 0; s < len(b.sets); s++ {
		for digit := range 10 {
			r := rune('0' + digit)
			var outs []uint32
			for _, pc := range b.sets[s] {
				in := &prog.Inst[pc]
				if in.Op != syntax.InstMatch && in.Op != syntax.InstEmptyWidth && in.MatchRune(r) {
					outs = append(outs, in.Out)
				}
			}
			set := b.closure(nil, outs, false)
			if len(set) == 0 {
				d.next[s*10+digit] = deadState
				continue
			}
			to, err := b.add(d, set)
			if err != nil {
				return nil, err
			}
			d.next[s*10+digit] = to
		}
	}
	return d, nil
}

type dfaBuilder struct {
	prog  *syntax.Prog
	index map[string]int32
	sets  [][]uint32
	seen  []bool
}

// closure returns the sorted set of instructions that consume a rune, match
// or assert the end of text, reachable from pcs without consuming input;
// with atEnd, end-of-text assertions are passed through.
func (b *dfaBuilder) closure(dst []uint32, pcs []uint32, atEnd bool) []uint32 {
	clear(b.seen)
	stack := slices.Clone(pcs)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if b.seen[pc] {
			continue
		}
		b.seen[pc] = true
		in := &b.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstFail:
		case syntax.InstEmptyWidth:
			if atEnd {
				stack = append(stack, in.Out)
			} else {
				dst = append(dst, pc)
			}
		default: // runes and match
			dst = append(dst, pc)
		}
	}
	slices.Sort(dst)
	return dst
}

func (b *dfaBuilder) add(d *digitDFA, set []uint32) (int32, error) {
	var key strings.Builder
	for _, pc := range set {
		key.WriteString(strconv.FormatUint(uint64(pc), 36))
		key.WriteByte(',')
	}
	if s, ok := b.index[key.String()]; ok {
		return s, nil
	}
	if len(b.sets) >= maxDFAStates {
		return 0, errDFATooBig
	}
	s := int32(len(b.sets))
	b.index[key.String()] = s
	b.sets = append(b.sets, set)
	hasMatch := func(set []uint32) bool {
		for _, pc := range set {
			if b.prog.Inst[pc].Op == syntax.InstMatch {
				return true
			}
		}
		return false
	}
	d.accept = append(d.accept, hasMatch(set))
	d.acceptEnd = append(d.acceptEnd, hasMatch(b.closure(nil, set, true)))
	d.next = append(d.next, make([]int32, 10)...)
	return s, nil
}

// matches reports whether the whole of digits is in the language. digits
// must hold ASCII digits only.
func (d *digitDFA) matches(digits []byte) bool {
	s := int32(0)
	for _, c := range digits {
		s = d.next[int(s)*10+int(c-'0')]
		if s == deadState {
			return false
		}
	}
	return d.acceptEnd[s]
}

// prefixes returns how many prefixes of digits (the empty one included) are
// in the language, and the length of the shortest one.
func (d *digitDFA) prefixes(digits []byte) (count, first int) {
	s := int32(0)
	first = -1
	for i := 0; ; i++ {
		if d.accept[s] || i == len(digits) && d.acceptEnd[s] {
			if count == 0 {
				first = i
			}
			count++
		}
		if i == len(digits) {
			return count, first
		}
		s = d.next[int(s)*10+int(digits[i]-'0')]
		if s == deadState {
			return count, first
		}
	}
}

// hasPrefix reports whether some prefix of digits is in the language.
func (d *digitDFA) hasPrefix(digits []byte) bool {
	n, _ := d.prefixes(digits)
	return n > 0
}

// productDFA runs several digitDFAs in one walk: its states are tuples of
// theirs, and acceptEnd[state] has bit i set when the i-th accepts the
// whole string. At most 16 automata.
type productDFA struct {
	next      []int32
	acceptEnd []uint16
}

func newProductDFA(ds []*digitDFA) (*productDFA, error) {
	if len(ds) > 16 {
		return nil, errors.New("too many automata")
	}
	p := &productDFA{}
	index := map[string]int32{}
	var tuples [][]int32
	key := func(t []int32) string {
		b := make([]byte, 0, 4*len(t))
		for _, s := range t {
			b = append(b, byte(s), byte(s>>8), byte(s>>16), byte(s>>24))
		}
		return string(b)
	}
	add := func(t []int32) (int32, error) {
		k := key(t)
		if s, ok := index[k]; ok {
			return s, nil
		}
		if len(tuples) >= maxDFAStates {
			return 0, errDFATooBig
		}
		s := int32(len(tuples))
		index[k] = s
		tuples = append(tuples, t)
		var acc uint16
		for i, d := range ds {
			if t[i] != deadState && d.acceptEnd[t[i]] {
				acc |= 1 << i
			}
		}
		p.acceptEnd = append(p.acceptEnd, acc)
		p.next = append(p.next, make([]int32, 10)...)
		return s, nil
	}
	if _, err := add(make([]int32, len(ds))); err != nil {
		return nil, err
	}
	for s := 0; s < len(tuples); s++ {
		for digit := range 10 {
			t := make([]int32, len(ds))
			live := false
			for i, d := range ds {
				t[i] = deadState
				if c := tuples[s][i]; c != deadState {
					t[i] = d.next[int(c)*10+digit]
				}
				live = live || t[i] != deadState
			}
			if !live {
				p.next[s*10+digit] = deadState
				continue
			}
			to, err := add(t)
			if err != nil {
				return nil, err
			}
			p.next[s*10+digit] = to
		}
	}
	return p, nil
}

// matches returns the set of automata that accept the whole of digits.
func (p *productDFA) matches(digits []byte) uint16 {
	s := int32(0)
	for _, c := range digits {
		s = p.next[int(s)*10+int(c-'0')]
		if s == deadState {
			return 0
		}
	}
	return p.acceptEnd[s]
}
