package qcow2

import (
	"encoding/binary"
	"fmt"
)

// extentKind says where the guest bytes of an extent come from.
type extentKind uint8

const (
	extentData       extentKind = iota // host bytes at extent.host
	extentZero                         // reads as zeros
	extentBacking                      // unallocated: the backing image, or zeros
	extentCompressed                   // a compressed cluster at extent.host, extent.csize bytes
)

// extent is a run of guest bytes that come from one place.
type extent struct {
	kind   extentKind
	length int64
	host   int64 // extentData: host offset of the first byte; extentCompressed: compressed data offset
	csize  int64 // extentCompressed: bytes of compressed data
	within int64 // extentCompressed: offset of the first byte inside the decompressed cluster
}

// mapAt describes the guest bytes from pos (below the virtual size), at most maxLen of them.
// The extent never crosses a cluster boundary except through an unallocated L2 table, whose
// whole span maps the same way.
func (img *Image) mapAt(pos, maxLen int64) (extent, error) {
	h := img.h
	cs := h.clusterSize()
	cluster := pos >> h.clusterBits
	within := pos & img.clusterMask
	l1i := cluster / h.l2Entries()
	l2i := cluster % h.l2Entries()
	clusterRest := min(maxLen, cs-within)

	l2Off := img.l1[l1i] & l2EntryOffsetMask
	if l2Off == 0 {
		// No L2 table: every cluster it would describe is unallocated.
		return extent{kind: extentBacking, length: min(maxLen, (h.l2Entries()-l2i)*cs-within)}, nil
	}
	table, err := img.l2Table(l1i, l2Off)
	if err != nil {
		return extent{}, err
	}
	entryOff := l2i * h.l2EntryBytes()
	entry := binary.BigEndian.Uint64(table[entryOff:])
	where := func() string { return fmt.Sprintf("L2 table at %#x", l2Off) }

	if entry&l2CompressedFlag != 0 {
		return img.compressedExtent(entry, within, clusterRest, where, l2i)
	}
	hostCluster := int64(entry & l2EntryOffsetMask)
	var e extent
	if h.extendedL2() {
		bitmap := binary.BigEndian.Uint64(table[entryOff+8:])
		if e, err = img.subclusterExtent(hostCluster, bitmap, within, clusterRest, where, l2i); err != nil {
			return extent{}, err
		}
	} else {
		switch {
		case entry&l2ZeroFlag != 0:
			// Checked before the offset, as QEMU does: a preallocated zero cluster reads as zeros.
			e = extent{kind: extentZero, length: clusterRest}
		case hostCluster == 0:
			e = extent{kind: extentBacking, length: clusterRest}
		default:
			e = extent{kind: extentData, length: clusterRest, host: hostCluster + within}
		}
	}
	if e.kind == extentData {
		if hostCluster&img.clusterMask != 0 {
			return extent{}, corrupt(where(), "entry %d: cluster offset %#x is not cluster aligned", l2i, hostCluster)
		}
		if hostCluster >= img.fileSize {
			return extent{}, corrupt(where(), "entry %d: cluster offset %#x points past the end of the file (%d bytes)", l2i, hostCluster, img.fileSize)
		}
	}
	return e, nil
}

// compressedExtent decodes a compressed cluster descriptor: the low x bits are the byte offset
// of the compressed data, the next bits the number of 512-byte sectors it spans beyond the
// first. The encoding itself bounds the data to two clusters.
func (img *Image) compressedExtent(entry uint64, within, length int64, where func() string, l2i int64) (extent, error) {
	x := 62 - (img.h.clusterBits - 8)
	off := int64(entry & (1<<x - 1))
	sectors := int64((entry>>x)&(1<<(img.h.clusterBits-8)-1)) + 1
	csize := sectors*sectorSize - off&(sectorSize-1)
	if off >= img.fileSize {
		return extent{}, corrupt(where(), "entry %d: compressed cluster at %#x points past the end of the file (%d bytes)", l2i, off, img.fileSize)
	}
	// The last compressed cluster may claim sectors the file does not have; decompression
	// stops once it has a cluster, so the real end of the file is enough.
	csize = min(csize, img.fileSize-off)
	return extent{kind: extentCompressed, length: length, host: off, csize: csize, within: within}, nil
}

// subclusterExtent maps bytes of a cluster with an extended L2 entry: bit i of the bitmap says
// subcluster i is allocated, bit 32+i that it reads as zeros, neither that it is unallocated.
// The extent runs over the following subclusters of the same kind.
func (img *Image) subclusterExtent(hostCluster int64, bitmap uint64, within, length int64, where func() string, l2i int64) (extent, error) {
	alloc := uint32(bitmap)
	zero := uint32(bitmap >> 32)
	if alloc&zero != 0 {
		return extent{}, corrupt(where(), "entry %d: subclusters %#x both allocated and zero", l2i, alloc&zero)
	}
	if hostCluster == 0 && alloc != 0 {
		return extent{}, corrupt(where(), "entry %d: subclusters %#x allocated in an unallocated cluster", l2i, alloc)
	}
	scSize := img.h.clusterSize() / subclustersPerClus
	first := within / scSize
	kindOf := func(sc int64) extentKind {
		switch {
		case zero&(1<<sc) != 0:
			return extentZero
		case alloc&(1<<sc) != 0:
			return extentData
		default:
			return extentBacking
		}
	}
	kind := kindOf(first)
	last := first
	for last+1 < subclustersPerClus && kindOf(last+1) == kind {
		last++
	}
	e := extent{kind: kind, length: min(length, (last+1)*scSize-within)}
	if kind == extentData {
		e.host = hostCluster + within
	}
	return e, nil
}

// l2Table returns the L2 table at host offset off (the target of L1 entry l1i), from the cache
// or the file.
func (img *Image) l2Table(l1i int64, off uint64) ([]byte, error) {
	key := cacheKey{cacheL2, off}
	if t, ok := img.cache.Get(key); ok {
		return t, nil
	}
	cs := img.h.clusterSize()
	if int64(off)&img.clusterMask != 0 {
		return nil, corrupt(fmt.Sprintf("L1 table at %#x", img.h.l1Offset), "entry %d: L2 table offset %#x is not cluster aligned", l1i, off)
	}
	if off > uint64(img.fileSize) || uint64(cs) > uint64(img.fileSize)-off {
		return nil, corrupt(fmt.Sprintf("L1 table at %#x", img.h.l1Offset), "entry %d: L2 table at %#x points past the end of the file (%d bytes)", l1i, off, img.fileSize)
	}
	t := make([]byte, cs)
	if n, err := img.r.ReadAt(t, int64(off)); n < len(t) {
		return nil, fmt.Errorf("qcow2: reading L2 table at %#x: %w", off, orShort(err))
	}
	img.cache.Add(key, t)
	return t, nil
}
