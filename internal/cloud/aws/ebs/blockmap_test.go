package ebs

import (
	"strconv"
	"testing"
)

func TestBlockMap(t *testing.T) {
	m := newBlockMap()
	for _, i := range []int64{9, 3, 7, 3, 100} { // out of order, with a duplicate
		m.add(i, "t"+strconv.FormatInt(i, 10))
	}
	m.finish()
	if m.count() != 4 {
		t.Fatalf("count %d", m.count())
	}
	for _, i := range []int64{3, 7, 9, 100} {
		p := m.find(i)
		if p < 0 || m.token(p) != "t"+strconv.FormatInt(i, 10) {
			t.Errorf("block %d: position %d", i, p)
		}
	}
	for _, i := range []int64{-1, 0, 4, 101, 1 << 40} {
		if m.find(i) >= 0 {
			t.Errorf("block %d found", i)
		}
	}
	for i, want := range map[int64]int64{0: 3, 3: 3, 4: 7, 10: 100, 101: -1, -5: 3} {
		if got := m.next(i); got != want {
			t.Errorf("next(%d) = %d, want %d", i, got, want)
		}
	}
}

func TestChangedTouches(t *testing.T) {
	c := &Changed{idx: []uint32{2, 5}}
	for _, tc := range []struct {
		off, n int64
		want   bool
	}{
		{0, BlockSize, false}, {0, 2*BlockSize + 1, true}, {3 * BlockSize, 2 * BlockSize, false},
		{5*BlockSize + 10, 1, true}, {6 * BlockSize, 1 << 30, false}, {0, 0, false},
	} {
		if got := c.Touches(tc.off, tc.n); got != tc.want {
			t.Errorf("Touches(%d, %d) = %v", tc.off, tc.n, got)
		}
	}
}
