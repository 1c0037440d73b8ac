// Package keyword finds many keywords in one pass over bytes, ASCII case-insensitively.
//
// It is an Aho-Corasick automaton compiled to a dense DFA. Two choices make it fast enough to run
// over every byte of a disk: input bytes are folded to lower case and mapped to equivalence classes
// through one 256-entry table (so no lowered copy of the input is made and the transition table
// has one column per distinct keyword byte instead of 256), and each transition is stored
// pre-multiplied by the row width with its sign marking "this state ends a keyword", so the inner
// loop is one table load and one predictable branch per byte.
package keyword

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Matcher is an immutable, compiled keyword set; it is safe for concurrent use.
type Matcher struct {
	class    [256]byte // input byte → column; column 0 collects every byte no keyword has
	columns  int       // row width of delta
	delta    []int32   // row offset (state*columns) + column → next row offset, negated when it ends a keyword
	outStart []int32   // per state: index into outIDs of its first keyword; outStart[s+1] ends it
	outIDs   []int32   // keyword ids ending at a state, suffix outputs included
	lengths  []int     // keyword id → length in bytes
	maxLen   int
}

// Hit is one occurrence of a keyword: data[End-Len : End] equals it, case folded.
type Hit struct {
	Keyword int // index into the words given to New
	End     int // offset just past the last byte
	Len     int
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// New compiles words. Duplicates (after case folding) are allowed; each keeps its own id.
func New(words []string) (*Matcher, error) {
	if len(words) == 0 {
		return nil, errors.New("keyword: no keywords")
	}
	m := &Matcher{lengths: make([]int, len(words))}
	// Column assignment: one per distinct folded byte, shared by upper and lower case.
	next := 1
	for i, w := range words {
		if w == "" {
			return nil, fmt.Errorf("keyword: word %d is empty", i)
		}
		m.lengths[i] = len(w)
		m.maxLen = max(m.maxLen, len(w))
		for j := 0; j < len(w); j++ {
			c := lower(w[j])
			if m.class[c] == 0 {
				if next > 255 {
					return nil, errors.New("keyword: more than 255 distinct bytes")
				}
				m.class[c] = byte(next)
				next++
			}
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		m.class[b] = m.class[b+'a'-'A']
	}
	m.columns = next
	m.build(words)
	return m, nil
}

// build makes the trie, then the failure links breadth-first, then the dense DFA.
func (m *Matcher) build(words []string) {
	cols := m.columns
	goto_ := [][]int32{make([]int32, cols)} // -1: no edge
	fill := func(row []int32) {
		for i := range row {
			row[i] = -1
		}
	}
	fill(goto_[0])
	own := [][]int32{nil}
	for id, w := range words {
		s := int32(0)
		for j := 0; j < len(w); j++ {
			c := m.class[lower(w[j])]
			if goto_[s][c] < 0 {
				row := make([]int32, cols)
				fill(row)
				goto_ = append(goto_, row)
				own = append(own, nil)
				goto_[s][c] = int32(len(goto_) - 1)
			}
			s = goto_[s][c]
		}
		own[s] = append(own[s], int32(id))
	}
	n := len(goto_)
	fail := make([]int32, n)
	outs := make([][]int32, n)
	dfa := make([][]int32, n)
	order := make([]int32, 0, n)
	dfa[0] = make([]int32, cols)
	for c := 0; c < cols; c++ {
		if t := goto_[0][c]; t > 0 {
			dfa[0][c] = t
			fail[t] = 0
			order = append(order, t)
		}
	}
	for q := 0; q < len(order); q++ {
		s := order[q]
		outs[s] = append(append([]int32(nil), own[s]...), outs[fail[s]]...)
		dfa[s] = make([]int32, cols)
		for c := 0; c < cols; c++ {
			t := goto_[s][c]
			if t > 0 {
				dfa[s][c] = t
				fail[t] = dfa[fail[s]][c]
				order = append(order, t)
			} else {
				dfa[s][c] = dfa[fail[s]][c]
			}
		}
	}
	// Column 0 (bytes in no keyword) always returns to the root.
	m.delta = make([]int32, n*cols)
	m.outStart = make([]int32, n+1)
	for s := 0; s < n; s++ {
		m.outStart[s] = int32(len(m.outIDs))
		m.outIDs = append(m.outIDs, outs[s]...)
		for c := 0; c < cols; c++ {
			t := dfa[s][c]
			off := t * int32(cols)
			if len(outs[t]) > 0 {
				off = -off
			}
			m.delta[s*cols+c] = off
		}
	}
	m.outStart[n] = int32(len(m.outIDs))
}

// Len returns the length of keyword id.
func (m *Matcher) Len(id int) int { return m.lengths[id] }

// Append appends every hit in data to dst, in order of end offset, and returns the extended
// slice; it allocates only to grow dst.
//
// A DFA walk is one dependent load per byte, so its speed is the load latency. Cutting the input
// into four lanes walked in lockstep keeps four independent loads in flight, which roughly
// doubles throughput. Lane k starts maxLen-1 bytes before its share, in the root state, so a
// keyword straddling a seam is seen whole by the lane that owns its end.
func (m *Matcher) Append(dst []Hit, data []byte) []Hit {
	n := len(data)
	seg := n / 4
	if seg < 4*m.maxLen {
		return m.appendRange(dst, data, 0, 0, n)
	}
	back := m.maxLen - 1
	d0 := data[0:seg]
	d1 := data[seg-back : 2*seg]
	d2 := data[2*seg-back : 3*seg]
	d3 := data[3*seg-back : n]
	common := len(d0) // every lane is at least this long
	d1, d2, d3 = d1[:common], d2[:common], d3[:common]
	var r0, r1, r2, r3 int32
	delta, class := m.delta, &m.class
	first := len(dst)
	interleaved := false // lanes 1-3 found something, so dst needs re-ordering
	for i := 0; i < common; i++ {
		t0 := delta[r0+int32(class[d0[i]])]
		t1 := delta[r1+int32(class[d1[i]])]
		t2 := delta[r2+int32(class[d2[i]])]
		t3 := delta[r3+int32(class[d3[i]])]
		if t0|t1|t2|t3 >= 0 {
			r0, r1, r2, r3 = t0, t1, t2, t3
			continue
		}
		if t0 < 0 {
			t0 = -t0
			dst = m.emit(dst, t0, i+1)
		}
		if t1 < 0 {
			t1 = -t1
			if i >= back { // hits ending at or before the seam belong to lane 0
				dst, interleaved = m.emit(dst, t1, seg-back+i+1), true
			}
		}
		if t2 < 0 {
			t2 = -t2
			if i >= back {
				dst, interleaved = m.emit(dst, t2, 2*seg-back+i+1), true
			}
		}
		if t3 < 0 {
			t3 = -t3
			if i >= back {
				dst, interleaved = m.emit(dst, t3, 3*seg-back+i+1), true
			}
		}
		r0, r1, r2, r3 = t0, t1, t2, t3
	}
	before := len(dst)
	dst = m.appendRange(dst, data, r1, seg-back+common, 2*seg)
	dst = m.appendRange(dst, data, r2, 2*seg-back+common, 3*seg)
	dst = m.appendRange(dst, data, r3, 3*seg-back+common, n)
	if interleaved || len(dst) > before {
		// Hits are rare next to the bytes walked, so sorting them costs little; it keeps the
		// lanes free of per-call buffers, hence allocation-free.
		slices.SortStableFunc(dst[first:], func(a, b Hit) int { return cmp.Compare(a.End, b.End) })
	}
	return dst
}

// appendRange walks data[from:to] from state row alone.
func (m *Matcher) appendRange(dst []Hit, data []byte, row int32, from, to int) []Hit {
	delta, class := m.delta, &m.class
	for i := from; i < to; i++ {
		t := delta[row+int32(class[data[i]])]
		if t >= 0 {
			row = t
			continue
		}
		row = -t
		dst = m.emit(dst, row, i+1)
	}
	return dst
}

// emit appends the keywords that end in the state at row.
func (m *Matcher) emit(dst []Hit, row int32, end int) []Hit {
	s := row / int32(m.columns)
	for o := m.outStart[s]; o < m.outStart[s+1]; o++ {
		id := m.outIDs[o]
		dst = append(dst, Hit{Keyword: int(id), End: end, Len: m.lengths[id]})
	}
	return dst
}
