package xfs

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Allocation-group headers: each AG starts with a copy of the superblock, then one sector each
// of AGF (free space), AGI (inodes) and AGFL (the free list that refills the free-space btrees).
const (
	agfMagic        = 0x58414746 // "XAGF"
	agiMagic        = 0x58414749 // "XAGI"
	agflMagic       = 0x5841464c // "XAFL"
	agflHdrV5       = 36         // magic, seqno, uuid, lsn, crc
	nullAGBno       = 0xffffffff // NULLAGBLOCK / NULLAGINO
	unlinkedBuckets = 64
)

// agf is the part of an AGF header this reader uses.
type agf struct {
	agno                   uint32
	length                 uint32
	bnoRoot, bnoLevel      uint32
	flFirst, flLast, flCnt uint32
}

// agi is the part of an AGI header this reader uses.
type agi struct {
	agno        uint32
	length      uint32
	root, level uint32
	unlinked    [unlinkedBuckets]uint32
}

// agHeader reads sector idx (1 AGF, 2 AGI, 3 AGFL) of allocation group agno.
func (f *FS) agHeader(agno uint32, idx int64) ([]byte, error) {
	b := make([]byte, f.sb.sectSize)
	off := f.sb.agBlockOffset(agno, 0) + idx*int64(f.sb.sectSize)
	if err := f.vol.readAt(b, off); err != nil {
		return nil, fmt.Errorf("xfs: allocation group %d header: %w", agno, err)
	}
	return b, nil
}

// agBeyondVolume reports whether the headers of group agno lie past the end of the volume (a
// truncated copy, or a hostile group count): walks stop there instead of failing group by group.
func (f *FS) agBeyondVolume(agno uint32) bool {
	return f.sb.agBlockOffset(agno, 0)+4*int64(f.sb.sectSize) > f.vol.size
}

func (f *FS) readAGF(agno uint32) (*agf, error) {
	b, err := f.agHeader(agno, 1)
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	what := fmt.Sprintf("AGF %d", agno)
	if m := be.Uint32(b); m != agfMagic {
		return nil, filesystem.Corrupt("xfs", what, "magic %#08x is not XAGF", m)
	}
	a := &agf{
		agno:     be.Uint32(b[8:]),
		length:   be.Uint32(b[12:]),
		bnoRoot:  be.Uint32(b[16:]),
		bnoLevel: be.Uint32(b[28:]),
		flFirst:  be.Uint32(b[40:]),
		flLast:   be.Uint32(b[44:]),
		flCnt:    be.Uint32(b[48:]),
	}
	if a.agno != agno || a.length != f.sb.agLength(agno) {
		return nil, filesystem.Corrupt("xfs", what, "describes group %d of %d blocks, want group %d of %d", a.agno, a.length, agno, f.sb.agLength(agno))
	}
	return a, nil
}

func (f *FS) readAGI(agno uint32) (*agi, error) {
	b, err := f.agHeader(agno, 2)
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	what := fmt.Sprintf("AGI %d", agno)
	if m := be.Uint32(b); m != agiMagic {
		return nil, filesystem.Corrupt("xfs", what, "magic %#08x is not XAGI", m)
	}
	a := &agi{agno: be.Uint32(b[8:]), length: be.Uint32(b[12:]), root: be.Uint32(b[20:]), level: be.Uint32(b[24:])}
	if a.agno != agno || a.length != f.sb.agLength(agno) {
		return nil, filesystem.Corrupt("xfs", what, "describes group %d of %d blocks, want group %d of %d", a.agno, a.length, agno, f.sb.agLength(agno))
	}
	for i := range a.unlinked {
		a.unlinked[i] = be.Uint32(b[40+4*i:])
	}
	return a, nil
}

// freeList returns the blocks on the AG free list, sorted. They hold no live data (they wait
// to become free-space btree blocks), so they count as unallocated, as xfs_db freesp does.
func (f *FS) freeList(a *agf) ([]uint32, error) {
	b, err := f.agHeader(a.agno, 3)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("AGFL %d", a.agno)
	hdr := 0
	if f.sb.version == 5 {
		if m := binary.BigEndian.Uint32(b); m != agflMagic {
			return nil, filesystem.Corrupt("xfs", what, "magic %#08x is not XAFL", m)
		}
		hdr = agflHdrV5
	}
	size := uint32(len(b)-hdr) / 4
	if a.flCnt == 0 {
		return nil, nil
	}
	if a.flFirst >= size || a.flLast >= size || a.flCnt > size {
		return nil, filesystem.Corrupt("xfs", what, "first %d, last %d, count %d for %d slots", a.flFirst, a.flLast, a.flCnt, size)
	}
	out := make([]uint32, 0, a.flCnt)
	for i := uint32(0); i < a.flCnt; i++ {
		bno := binary.BigEndian.Uint32(b[hdr+4*int((a.flFirst+i)%size):])
		if bno >= a.length {
			return nil, filesystem.Corrupt("xfs", what, "slot %d names block %d of a %d-block group", (a.flFirst+i)%size, bno, a.length)
		}
		out = append(out, bno)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
