package volume

import "io"

// Resolve calls yield with the pieces of the innermost readers that hold bytes [off, off+n) of r:
// a *io.SectionReader (every partition) is traced to its outer reader, an LVM logical volume to
// the stripes of its physical volumes, until a reader neither of them is reached (the disk's own
// reader). A slow disk source is told in its own offsets what the file systems above will read
// (prefetch), and which of a volume's bytes lie in the disk blocks that changed. Zero segments
// and missing physical volumes yield nothing. It stops and returns false when yield does.
func Resolve(r io.ReaderAt, off, n int64, yield func(r io.ReaderAt, off, n int64) bool) bool {
	if off < 0 || n <= 0 {
		return true
	}
	switch v := r.(type) {
	case *io.SectionReader:
		outer, base, size := v.Outer()
		if off >= size {
			return true
		}
		return Resolve(outer, base+off, min(n, size-off), yield)
	case *extentMap:
		return v.resolve(off, n, yield)
	}
	return yield(r, off, n)
}

// resolve walks the segments and stripes that [off, off+n) covers, as ReadAt does.
func (m *extentMap) resolve(off, n int64, yield func(io.ReaderAt, int64, int64) bool) bool {
	end := min(off+n, m.size)
	for _, s := range m.segs {
		if s.start+s.length <= off || s.start >= end {
			continue
		}
		for pos := max(off, s.start); pos < min(end, s.start+s.length); {
			rel := pos - s.start
			chunk, within := rel/s.chunkBytes, rel%s.chunkBytes
			k := min(end-pos, s.chunkBytes-within, s.length-rel)
			if !s.zero {
				a := s.areas[chunk%int64(len(s.areas))]
				at := a.base + (chunk/int64(len(s.areas)))*s.chunkBytes + within
				if a.r != nil && !Resolve(a.r, at, k, yield) {
					return false
				}
			}
			pos += k
		}
	}
	return true
}
