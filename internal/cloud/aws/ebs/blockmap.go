package ebs

import (
	"slices"
	"sort"
	"time"
)

// blockMap holds the tokens of a snapshot's written blocks: block indices sorted in one slice and
// the tokens packed into one byte arena. A 50 GiB root volume has 100k written blocks; a
// map[int64]string would cost about three times the memory and 100k pointers for the GC to
// trace, this costs 12 bytes per block plus the tokens and two allocations.
type blockMap struct {
	idx    []uint32 // sorted; a 64 TiB volume has 2^27 blocks
	end    []uint64 // end of each token in arena
	arena  []byte
	sorted bool
	expiry time.Time // earliest expiry of the tokens (zero: not said)
	size   int64     // volume bytes
}

func newBlockMap() *blockMap { return &blockMap{sorted: true} }

func (m *blockMap) add(i int64, tok string) {
	if n := len(m.idx); n > 0 && uint32(i) <= m.idx[n-1] {
		m.sorted = false
	}
	m.idx = append(m.idx, uint32(i))
	m.arena = append(m.arena, tok...)
	m.end = append(m.end, uint64(len(m.arena)))
}

// finish sorts the blocks if the pages did not come in order, and drops duplicates.
func (m *blockMap) finish() {
	if m.sorted {
		return
	}
	perm := make([]int, len(m.idx))
	for i := range perm {
		perm[i] = i
	}
	sort.SliceStable(perm, func(a, b int) bool { return m.idx[perm[a]] < m.idx[perm[b]] })
	out := newBlockMap()
	out.arena = make([]byte, 0, len(m.arena))
	for _, p := range perm {
		if n := len(out.idx); n > 0 && out.idx[n-1] == m.idx[p] {
			continue
		}
		out.add(int64(m.idx[p]), m.token(p))
	}
	m.idx, m.end, m.arena, m.sorted = out.idx, out.end, out.arena, true
}

// find returns the position of block i, or -1 when it was never written.
func (m *blockMap) find(i int64) int {
	if i < 0 || i > int64(^uint32(0)) {
		return -1
	}
	p, ok := slices.BinarySearch(m.idx, uint32(i))
	if !ok {
		return -1
	}
	return p
}

func (m *blockMap) token(p int) string {
	start := uint64(0)
	if p > 0 {
		start = m.end[p-1]
	}
	return string(m.arena[start:m.end[p]])
}

func (m *blockMap) count() int { return len(m.idx) }

// next returns the first written block at or after i, or -1.
func (m *blockMap) next(i int64) int64 {
	p, _ := slices.BinarySearch(m.idx, uint32(max(i, 0)))
	if p == len(m.idx) {
		return -1
	}
	return int64(m.idx[p])
}
