package ntfs

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// maxCompressionUnit bounds the bytes of one compression unit (NTFS uses 16 clusters of at most
// 4 KiB).
const maxCompressionUnit = 64 << 10

// stream is the content of one attribute (a $DATA stream, an index allocation, an attribute list,
// ...), assembled from one resident attribute or from the VCN ranges of one or more non-resident
// attributes. It is an io.ReaderAt over the attribute's data size and is safe for concurrent use.
type stream struct {
	f    *FS
	what string // "MFT record 64 $DATA", for errors

	size     int64 // data size
	initSize int64 // bytes past this read as zeros (valid data length)
	resident []byte
	runs     []run // non-resident: sorted, contiguous from VCN 0

	compressed bool
	cuBytes    int64 // compression unit in bytes
	cuClusters int64

	mu     sync.Mutex
	cuNum  int64 // the compression unit held in cuData, -1 when none
	cuData []byte
}

// newStream assembles the stream of the attributes parts, which must all have the same type and
// name. what names it in errors.
func (f *FS) newStream(parts []*attribute, what string) (*stream, error) {
	s := &stream{f: f, what: what, cuNum: -1}
	if len(parts) == 0 {
		return s, nil
	}
	if parts[0].resident {
		if len(parts) > 1 {
			return nil, corrupt(what, "resident attribute has %d parts", len(parts))
		}
		s.resident = parts[0].value
		s.size = int64(len(s.resident))
		s.initSize = s.size
		return s, nil
	}
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b *attribute) int { return cmp.Compare(a.startVCN, b.startVCN) })
	first := parts[0]
	maxVCN := maxVolumeBytes / f.geo.clusterSize
	next := int64(0)
	for _, p := range parts {
		if p.resident {
			return nil, corrupt(what, "resident and non-resident parts mixed")
		}
		if p.startVCN != next {
			return nil, corrupt(what, "part in MFT record %d starts at VCN %d, expected %d (gap or overlap)", p.record, p.startVCN, next)
		}
		var err error
		if s.runs, err = decodeRuns(s.runs, p, f.geo.totalClusters, maxVCN, maxRunsPerStream); err != nil {
			return nil, corrupt(what+" runlist", "part in MFT record %d: %v", p.record, err)
		}
		next = p.lastVCN + 1
	}
	s.size, s.initSize = first.dataSize, min(first.initSize, first.dataSize)
	if s.size > next*f.geo.clusterSize {
		return nil, corrupt(what, "data size %d exceeds the %d clusters mapped", s.size, next)
	}
	if first.compressed() {
		if first.compressionUnit == 0 || first.compressionUnit > 16 ||
			f.geo.clusterSize<<first.compressionUnit > maxCompressionUnit {
			return nil, corrupt(what, "compression unit of 2^%d clusters of %d bytes is not supported (at most %d bytes)",
				first.compressionUnit, f.geo.clusterSize, maxCompressionUnit)
		}
		s.compressed = true
		s.cuClusters = 1 << first.compressionUnit
		s.cuBytes = s.cuClusters * f.geo.clusterSize
	}
	return s, nil
}

// Size is the stream's data size.
func (s *stream) Size() int64 { return s.size }

func (s *stream) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("ntfs: %s: negative offset %d", s.what, off)
	}
	if off >= s.size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > s.size-off {
		p = p[:s.size-off]
		eof = io.EOF
	}
	var err error
	switch {
	case s.resident != nil:
		copy(p, s.resident[off:])
	case s.compressed:
		err = s.readCompressed(p, off)
	default:
		err = s.readPlain(p, off)
	}
	if err != nil {
		return 0, err
	}
	return len(p), eof
}

// readPlain fills p from the runs: holes and bytes past the initialized size read as zeros.
func (s *stream) readPlain(p []byte, off int64) error {
	if valid := s.initSize - off; valid < int64(len(p)) {
		if valid <= 0 {
			clear(p)
			return nil
		}
		clear(p[valid:])
		p = p[:valid]
	}
	cs := s.f.geo.clusterSize
	for len(p) > 0 {
		vcn := off / cs
		i := s.findRun(vcn)
		if i < 0 {
			return corrupt(s.what, "no run maps VCN %d", vcn)
		}
		r := s.runs[i]
		n := min(int64(len(p)), (r.vcn+r.length)*cs-off)
		if r.sparse() {
			clear(p[:n])
		} else {
			phys := (r.lcn+vcn-r.vcn)*cs + off%cs
			if err := s.f.readVolume(p[:n], phys, s.what); err != nil {
				return err
			}
		}
		p = p[n:]
		off += n
	}
	return nil
}

// findRun returns the index of the run holding vcn, or -1.
func (s *stream) findRun(vcn int64) int {
	i, found := slices.BinarySearchFunc(s.runs, vcn, func(r run, v int64) int {
		switch {
		case r.vcn+r.length <= v:
			return -1
		case r.vcn > v:
			return 1
		}
		return 0
	})
	if !found {
		return -1
	}
	return i
}

// readCompressed fills p one compression unit at a time.
func (s *stream) readCompressed(p []byte, off int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(p) > 0 {
		cu := off / s.cuBytes
		if err := s.loadUnit(cu); err != nil {
			return err
		}
		n := copy(p, s.cuData[off-cu*s.cuBytes:])
		p = p[n:]
		off += int64(n)
	}
	return nil
}

// loadUnit puts compression unit cu into s.cuData. A unit whose clusters are all allocated is
// stored as is; one whose clusters are all holes is zeros; any other holds LZNT1 data in its
// allocated clusters, the holes making up the space compression saved. Called with s.mu held.
func (s *stream) loadUnit(cu int64) error {
	if s.cuNum == cu {
		return nil
	}
	if s.cuData == nil {
		s.cuData = make([]byte, s.cuBytes)
	}
	s.cuNum = -1
	cs := s.f.geo.clusterSize
	stored := make([]byte, 0, s.cuBytes)
	start := cu * s.cuClusters
	end := start + s.cuClusters
	holes := int64(0)
	for vcn := start; vcn < end; {
		i := s.findRun(vcn)
		if i < 0 {
			// The runlist ends inside the stream's last unit. Clusters past it are not holes:
			// a last unit stored as is can be short.
			break
		}
		r := s.runs[i]
		n := min(end, r.vcn+r.length) - vcn
		if r.sparse() {
			holes += n
		} else {
			k := len(stored)
			stored = stored[:k+int(n*cs)]
			if err := s.f.readVolume(stored[k:], (r.lcn+vcn-r.vcn)*cs, s.what); err != nil {
				return err
			}
		}
		vcn += n
	}
	switch {
	case holes == 0:
		clear(s.cuData[copy(s.cuData, stored):])
	case len(stored) == 0:
		clear(s.cuData)
	default:
		if err := decompressLZNT1(s.cuData, stored); err != nil {
			return corrupt(s.what, "compression unit %d: %v", cu, err)
		}
	}
	s.cuNum = cu
	return nil
}

var errShortRead = errors.New("short read")

// readVolume reads len(p) bytes of the volume at off, failing when they lie past its end.
func (f *FS) readVolume(p []byte, off int64, what string) error {
	if off < 0 || off > f.size || int64(len(p)) > f.size-off {
		return corrupt(what, "reads bytes %d..%d, past the end of the %d-byte volume", off, off+int64(len(p)), f.size)
	}
	n, err := f.r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = errShortRead
	}
	return fmt.Errorf("ntfs: %s: read %d bytes at volume offset %d: %w", what, len(p), off, err)
}
