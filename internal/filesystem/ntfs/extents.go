package ntfs

import (
	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Extents maps the unnamed $DATA stream of a file to the volume. Resident data is one Encoded
// extent at its place in the MFT record (the record's fixups alter two bytes every 512). In a
// compressed stream, a compression unit stored compressed gives Encoded extents for its
// clusters, with Logical the unit's start plus the position in the stored bytes; units stored
// as is and holes map like any other stream. Bytes past the initialized size are holes.
func (f *FS) Extents(ino uint64) ([]filesystem.Extent, error) {
	n, err := f.node(ino)
	if err != nil {
		return nil, err
	}
	a := n.dataAttr("")
	if a == nil || streamSize(a) == 0 || n.kind == kindDir {
		return nil, nil
	}
	if a.resident {
		return []filesystem.Extent{{Logical: 0, Physical: f.recordOffset(a.record, a.valueOffset), Length: int64(len(a.value)), Encoded: true}}, nil
	}
	s, err := f.stream(n, attrData, "")
	if err != nil {
		return nil, err
	}
	var out extentList
	if s.compressed {
		s.compressedExtents(&out)
	} else {
		s.plainExtents(&out)
	}
	return out, nil
}

type extentList []filesystem.Extent

// add appends an extent, merging it into the previous one when both are contiguous.
func (l *extentList) add(e filesystem.Extent) {
	if e.Length <= 0 {
		return
	}
	if k := len(*l); k > 0 {
		p := &(*l)[k-1]
		if p.Encoded == e.Encoded && p.Logical+p.Length == e.Logical &&
			((p.Physical < 0 && e.Physical < 0) || (p.Physical >= 0 && p.Physical+p.Length == e.Physical)) {
			p.Length += e.Length
			return
		}
	}
	*l = append(*l, e)
}

func (s *stream) plainExtents(out *extentList) {
	cs := s.f.geo.clusterSize
	for _, r := range s.runs {
		start := r.vcn * cs
		if start >= s.size {
			break
		}
		end := min(start+r.length*cs, s.size)
		phys := int64(-1)
		if !r.sparse() {
			phys = r.lcn * cs
		}
		valid := min(end, max(start, s.initSize))
		if valid > start {
			out.add(filesystem.Extent{Logical: start, Physical: phys, Length: valid - start})
		}
		if end > valid {
			out.add(filesystem.Extent{Logical: valid, Physical: -1, Length: end - valid})
		}
	}
}

// compressedExtents walks the compression units. Runs that cover whole units as holes or as
// stored clusters are emitted in one piece, so the walk is linear in the runs, not the units.
func (s *stream) compressedExtents(out *extentList) {
	cs := s.f.geo.clusterSize
	endVCN := (s.size + cs - 1) / cs
	for vcn := int64(0); vcn < endVCN; {
		cuStart := vcn - vcn%s.cuClusters
		i := s.findRun(vcn)
		if i < 0 {
			out.add(filesystem.Extent{Logical: vcn * cs, Physical: -1, Length: s.size - vcn*cs})
			return
		}
		r := s.runs[i]
		// Whole units covered by this run from a unit boundary: stored as is, or holes.
		if vcn == cuStart && r.vcn+r.length-vcn >= s.cuClusters {
			whole := (r.vcn + r.length - vcn) / s.cuClusters * s.cuClusters
			length := min(whole*cs, s.size-vcn*cs)
			phys := int64(-1)
			if !r.sparse() {
				phys = (r.lcn + vcn - r.vcn) * cs
			}
			out.add(filesystem.Extent{Logical: vcn * cs, Physical: phys, Length: length})
			vcn += whole
			continue
		}
		// Any other unit: stored as is when it has no hole (its clusters merely fragmented),
		// otherwise its stored clusters hold compressed data.
		cuEnd := cuStart + s.cuClusters
		var pieces []run
		holes := int64(0)
		for v := cuStart; v < cuEnd; {
			j := s.findRun(v)
			if j < 0 {
				break // the runlist ends inside the last unit (see loadUnit)
			}
			q := s.runs[j]
			n := min(cuEnd, q.vcn+q.length) - v
			if q.sparse() {
				holes += n
			} else {
				pieces = append(pieces, run{vcn: v, lcn: q.lcn + v - q.vcn, length: n})
			}
			v += n
		}
		stored := int64(0)
		for _, p := range pieces {
			if holes == 0 {
				out.add(filesystem.Extent{Logical: p.vcn * cs, Physical: p.lcn * cs, Length: min(p.length*cs, s.size-p.vcn*cs)})
				continue
			}
			out.add(filesystem.Extent{Logical: cuStart*cs + stored, Physical: p.lcn * cs, Length: p.length * cs, Encoded: true})
			stored += p.length * cs
		}
		if len(pieces) == 0 {
			out.add(filesystem.Extent{Logical: cuStart * cs, Physical: -1, Length: min(s.cuBytes, s.size-cuStart*cs)})
		}
		vcn = cuEnd
	}
}

// recordOffset is the volume offset of byte off of MFT record num, or -1 if it is not mapped.
func (f *FS) recordOffset(num uint64, off int) int64 {
	cs := f.geo.clusterSize
	pos := int64(num)*f.geo.recordSize + int64(off)
	i := f.mft.findRun(pos / cs)
	if i < 0 {
		return -1
	}
	r := f.mft.runs[i]
	return (r.lcn+pos/cs-r.vcn)*cs + pos%cs
}
