package volume

import (
	"cmp"
	"math"
	"slices"
)

// placedExtent is where a data partition lies, for the overlap check.
type placedExtent struct {
	name      string
	off, size int64
}

// end is off+size, saturated so that absurd table values cannot overflow.
func (p placedExtent) end() int64 {
	if p.size > math.MaxInt64-p.off {
		return math.MaxInt64
	}
	return p.off + p.size
}

// warnOverlaps warns once for every partition that begins inside an earlier one. Tables are
// allowed to be wrong; the volumes are kept, since either one may hold the data.
func (d *discovery) warnOverlaps(placed []placedExtent) {
	slices.SortStableFunc(placed, func(a, b placedExtent) int { return cmp.Compare(a.off, b.off) })
	var reach placedExtent // the extent reaching furthest so far
	have := false
	for _, p := range placed {
		if p.size <= 0 || p.off < 0 {
			continue
		}
		if have && p.off < reach.end() {
			d.warn("%s overlaps %s", p.name, reach.name)
		}
		if !have || p.end() > reach.end() {
			reach, have = p, true
		}
	}
}
