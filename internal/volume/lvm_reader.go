package volume

import (
	"errors"
	"fmt"
	"io"
	"sort"
)

// extentMap reads a logical volume: an ordered list of segments, each spread over one or more
// areas (stripes) on physical volumes or on other LVs. It holds no mutable state, so concurrent
// reads are safe when the underlying readers are.
type extentMap struct {
	name string // "vg/lv", for errors
	size int64
	segs []mappedSegment
}

// mappedSegment covers bytes [start, start+length) of the LV. Consecutive chunks of chunkBytes
// go to the areas in turn (striping); a linear segment has one area and chunkBytes == length.
type mappedSegment struct {
	start, length int64
	chunkBytes    int64
	zero          bool // reads as zeros ("zero" segment type)
	areas         []mappedArea
}

// mappedArea is where one stripe of a segment starts. r is nil when its PV is missing.
type mappedArea struct {
	r    io.ReaderAt
	base int64
	what string // "pv1 (p3)", for errors
}

// ReadAt reads the LV's bytes, crossing segment and stripe boundaries as needed.
func (m *extentMap) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("lvm %s: negative offset %d", m.name, off)
	}
	n := 0
	for len(p) > 0 && off < m.size {
		i := sort.Search(len(m.segs), func(i int) bool { return m.segs[i].start+m.segs[i].length > off })
		if i == len(m.segs) {
			break // unreachable: segments cover [0, size)
		}
		s := &m.segs[i]
		rel := off - s.start
		chunk, within := rel/s.chunkBytes, rel%s.chunkBytes
		k := int64(len(p))
		k = min(k, s.chunkBytes-within, s.length-rel)
		if s.zero {
			clear(p[:k])
		} else {
			a := s.areas[chunk%int64(len(s.areas))]
			if a.r == nil {
				return n, fmt.Errorf("lvm %s: byte %d lies on %s, which is missing", m.name, off, a.what)
			}
			pos := a.base + (chunk/int64(len(s.areas)))*s.chunkBytes + within
			if got, err := a.r.ReadAt(p[:k], pos); int64(got) < k {
				if err == nil || errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return n + got, fmt.Errorf("lvm %s: reading byte %d from %s at byte %d: %w",
					m.name, off+int64(got), a.what, pos+int64(got), err)
			}
		}
		n += int(k)
		off += k
		p = p[k:]
	}
	if len(p) > 0 {
		return n, io.EOF
	}
	return n, nil
}
