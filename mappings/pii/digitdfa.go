package pii

import (
	"encoding/binary"
	"errors"
	"regexp/syntax"
	"slices"
)

// digitDFA is a deterministic automaton over the ten ASCII digits, built
// from a regular expression by the subset construction over the program
// Go's regexp compiles it to. It answers questions about the pattern's
// language, which do not depend on the engine's match preferences:
// "is the whole string in it" (what MatchString of "^(?:p)$" answers) and
// "which prefixes are in it" (what decides whether "^(?:p)" matches, and,
// when only one prefix length is in it, where its match ends).
type digitDFA struct {
	next      []uint16 // next[state*10+digit]; deadState: no way to accept
	accept    []bool   // a match ends here
	acceptEnd []bool   // a match ends here if this is the end of the text ('$' holds)
	// first has bit d set when a string starting with digit d can be in
	// the language, and bit 10 when the empty string is: most numbers are
	// decided on their first digit, without touching the tables.
	first uint16
}

const (
	deadState = 1<<16 - 1
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
	b := dfaBuilder{prog: prog, index: map[string]uint16{}, seen: make([]uint32, len(prog.Inst))}
	d := &digitDFA{}
	var set, outs []uint32
	set = b.closure(set[:0], []uint32{uint32(prog.Start)}, false)
	if _, err := b.add(d, set); err != nil {
		return nil, err
	}
	// Which digits each instruction consumes, asked once per instruction.
	var consumes []uint16
	for i := range prog.Inst {
		in := &prog.Inst[i]
		var m uint16
		switch in.Op {
		case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			m = 1<<10 - 1
		case syntax.InstRune, syntax.InstRune1:
			for digit := range 10 {
				if in.MatchRune(rune('0' + digit)) {
					m |= 1 << digit
				}
			}
		}
		consumes = append(consumes, m)
	}
	for s := 0; s < len(b.sets); s++ {
		for digit := range 10 {
			outs = outs[:0]
			for _, pc := range b.sets[s] {
				if consumes[pc]&(1<<digit) != 0 {
					outs = append(outs, prog.Inst[pc].Out)
				}
			}
			set = b.closure(set[:0], outs, false)
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
	for digit := range 10 {
		if d.next[digit] != deadState {
			d.first |= 1 << digit
		}
	}
	if d.accept[0] || d.acceptEnd[0] {
		d.first |= 1 << 10
	}
	return d, nil
}

type dfaBuilder struct {
	prog  *syntax.Prog
	index map[string]uint16 // state by its instruction set, encoded
	sets  [][]uint32
	seen  []uint32 // seen[pc] == epoch: visited in this closure
	epoch uint32
	stack []uint32
	key   []byte
}

// closure appends to dst the sorted set of instructions that consume a
// rune, match or assert the end of text, reachable from pcs without
// consuming input; with atEnd, end-of-text assertions are passed through.
func (b *dfaBuilder) closure(dst []uint32, pcs []uint32, atEnd bool) []uint32 {
	b.epoch++
	stack := append(b.stack[:0], pcs...)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if b.seen[pc] == b.epoch {
			continue
		}
		b.seen[pc] = b.epoch
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
	b.stack = stack
	slices.Sort(dst)
	return dst
}

// add returns the state of set, adding it (and a copy of set) if new.
func (b *dfaBuilder) add(d *digitDFA, set []uint32) (uint16, error) {
	b.key = b.key[:0]
	for _, pc := range set {
		b.key = binary.LittleEndian.AppendUint32(b.key, pc)
	}
	if s, ok := b.index[string(b.key)]; ok {
		return s, nil
	}
	if len(b.sets) >= maxDFAStates {
		return 0, errDFATooBig
	}
	s := uint16(len(b.sets))
	b.index[string(b.key)] = s
	set = slices.Clone(set)
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
	d.next = append(d.next, make([]uint16, 10)...)
	return s, nil
}

// matches reports whether the whole of digits is in the language. digits
// must hold ASCII digits only.
func (d *digitDFA) matches(digits []byte) bool {
	if len(digits) > 0 && d.first&(1<<(digits[0]-'0')) == 0 {
		return false
	}
	s := uint16(0)
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
	if len(digits) > 0 && d.first&(1<<(digits[0]-'0')|1<<10) == 0 {
		return 0, -1
	}
	s := uint16(0)
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
	next      []uint16
	acceptEnd []uint16
}

func newProductDFA(ds []*digitDFA) (*productDFA, error) {
	if len(ds) > 16 {
		return nil, errors.New("too many automata")
	}
	p := &productDFA{}
	index := map[string]uint16{}
	var tuples [][]uint16
	var key []byte
	add := func(t []uint16) (uint16, error) {
		key = key[:0]
		for _, s := range t {
			key = binary.LittleEndian.AppendUint16(key, s)
		}
		if s, ok := index[string(key)]; ok {
			return s, nil
		}
		if len(tuples) >= maxDFAStates {
			return 0, errDFATooBig
		}
		s := uint16(len(tuples))
		index[string(key)] = s
		tuples = append(tuples, slices.Clone(t))
		var acc uint16
		for i, d := range ds {
			if t[i] != deadState && d.acceptEnd[t[i]] {
				acc |= 1 << i
			}
		}
		p.acceptEnd = append(p.acceptEnd, acc)
		p.next = append(p.next, make([]uint16, 10)...)
		return s, nil
	}
	t := make([]uint16, len(ds))
	if _, err := add(t); err != nil {
		return nil, err
	}
	for s := 0; s < len(tuples); s++ {
		for digit := range 10 {
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
	s := uint16(0)
	for _, c := range digits {
		s = p.next[int(s)*10+int(c-'0')]
		if s == deadState {
			return 0
		}
	}
	return p.acceptEnd[s]
}
