package xfs

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"math/bits"
	"sort"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Hash-indexed lookup. Leaf and node directories keep (hash, address) pairs sorted by the
// "da hash" of the name in leaf blocks from byte offset 32 GiB on; node directories put a
// da-btree of (largest hash, child block) pairs above several leaves. Block directories keep the
// same pairs at the end of their single block. An address is the entry's byte offset / 8.
const (
	daNodeMagicV4  = 0xfebe
	daNodeMagicV5  = 0x3ebe
	leaf1MagicV4   = 0xd2f1
	leaf1MagicV5   = 0x3df1
	leafNMagicV4   = 0xd2ff
	leafNMagicV5   = 0x3dff
	daHdrV4        = 16 // forw, back, magic, pad, count, level/stale
	daHdrV5        = 64 // + crc, blkno, lsn, uuid, owner, pad
	daMaxDepth     = 5  // XFS_DA_NODE_MAXDEPTH
	maxLeafHops    = 1024
	nullDataPtr    = 0
	dataAlignShift = 3
)

// daHash is xfs_da_hashname: seven-bit rotations folding four bytes at a time.
func daHash(name []byte) uint32 {
	var h uint32
	for ; len(name) >= 4; name = name[4:] {
		h = uint32(name[0])<<21 ^ uint32(name[1])<<14 ^ uint32(name[2])<<7 ^ uint32(name[3]) ^ bits.RotateLeft32(h, 7*4)
	}
	switch len(name) {
	case 3:
		return uint32(name[0])<<14 ^ uint32(name[1])<<7 ^ uint32(name[2]) ^ bits.RotateLeft32(h, 7*3)
	case 2:
		return uint32(name[0])<<7 ^ uint32(name[1]) ^ bits.RotateLeft32(h, 7*2)
	case 1:
		return uint32(name[0]) ^ bits.RotateLeft32(h, 7)
	}
	return h
}

// Lookup finds one name in a directory through its hash index, falling back to a scan of the
// data blocks when the index is damaged (or names are case-folded).
func (f *FS) Lookup(dirIno uint64, name string) (filesystem.Entry, error) {
	d, err := f.openDir(dirIno)
	if err != nil {
		return filesystem.Entry{}, err
	}
	notFound := fmt.Errorf("xfs: %q in directory %d: %w", name, dirIno, fs.ErrNotExist)
	if name == "" || name == "." || name == ".." || len(name) > 255 {
		return filesystem.Entry{}, notFound
	}
	if d.m == nil {
		sf, err := f.parseShortForm(d.n)
		if sf != nil {
			for _, e := range sf.entries {
				if string(e.name) == name {
					ent, _, eerr := f.entry(e, d.what)
					return ent, eerr
				}
			}
		}
		if err != nil {
			return filesystem.Entry{}, err
		}
		return filesystem.Entry{}, notFound
	}
	if !f.sb.asciiCI() {
		e, found, err := d.hashLookup([]byte(name))
		if err == nil {
			if !found {
				return filesystem.Entry{}, notFound
			}
			ent, _, eerr := f.entry(e, d.what)
			return ent, eerr
		}
	}
	// Damaged index (or ASCII-CI): scan.
	entries, err := f.ReadDir(dirIno)
	for _, e := range entries {
		if e.Name == name {
			return e, nil
		}
	}
	if err != nil {
		return filesystem.Entry{}, err
	}
	return filesystem.Entry{}, notFound
}

// hashLookup searches the hash index; err reports a damaged index (the caller then scans).
func (d *dir) hashLookup(name []byte) (rawDirent, bool, error) {
	h := daHash(name)
	b0, err := d.block(0)
	if err != nil {
		return rawDirent{}, false, err
	}
	if b0 != nil {
		layout, err := d.f.layoutDataBlock(b0, d.what+" block 0")
		if err != nil {
			return rawDirent{}, false, err
		}
		if layout.blockForm {
			return d.matchLeaves(name, h, b0[layout.end:layout.end+layout.leafCount*leafEntrySize])
		}
	}
	leaves, err := d.findLeaves(h)
	if err != nil {
		return rawDirent{}, false, err
	}
	return d.matchLeaves(name, h, leaves)
}

// matchLeaves looks for name among sorted (hash, address) pairs.
func (d *dir) matchLeaves(name []byte, h uint32, leaves []byte) (rawDirent, bool, error) {
	be := binary.BigEndian
	n := len(leaves) / leafEntrySize
	i := sort.Search(n, func(i int) bool { return be.Uint32(leaves[i*leafEntrySize:]) >= h })
	for ; i < n && be.Uint32(leaves[i*leafEntrySize:]) == h; i++ {
		addr := be.Uint32(leaves[i*leafEntrySize+4:])
		if addr == nullDataPtr {
			continue // stale pair of a removed entry
		}
		e, err := d.entryAt(uint64(addr) << dataAlignShift)
		if err != nil {
			return rawDirent{}, false, err
		}
		if string(e.name) == string(name) {
			return e, true, nil
		}
	}
	return rawDirent{}, false, nil
}

// entryAt decodes the data entry at a directory byte offset.
func (d *dir) entryAt(byteOff uint64) (rawDirent, error) {
	sb := d.f.sb
	if byteOff >= leafOffBytes {
		return rawDirent{}, filesystem.Corrupt("xfs", d.what, "leaf address %#x points outside the data section", byteOff)
	}
	db := (byteOff >> sb.blockLog) &^ (d.fsbPerDirBlock() - 1)
	b, err := d.block(db)
	if err != nil {
		return rawDirent{}, err
	}
	if b == nil {
		return rawDirent{}, filesystem.Corrupt("xfs", d.what, "leaf address %#x points into a hole", byteOff)
	}
	layout, err := d.f.layoutDataBlock(b, fmt.Sprintf("%s data block %d", d.what, db))
	if err != nil {
		return rawDirent{}, err
	}
	in := int(byteOff - db<<sb.blockLog)
	if in < layout.hdr || in >= layout.end || in%8 != 0 {
		return rawDirent{}, filesystem.Corrupt("xfs", d.what, "leaf address %#x is not in the entry area", byteOff)
	}
	e, _, ok := d.f.parseDataEntry(b[:layout.end], in)
	if !ok || binary.BigEndian.Uint16(b[in:]) == freeTag {
		return rawDirent{}, filesystem.Corrupt("xfs", d.what, "leaf address %#x does not hold an entry", byteOff)
	}
	return e, nil
}

// findLeaves walks the da-btree from the leaf-section root to the leaf blocks that may hold
// hash h and returns their (hash, address) pairs with hash h, in order.
func (d *dir) findLeaves(h uint32) ([]byte, error) {
	be := binary.BigEndian
	v5 := d.f.sb.version == 5
	blk := d.leafStart()
	wantLevel := -1
	for depth := 0; ; depth++ {
		if depth > daMaxDepth {
			return nil, filesystem.Corrupt("xfs", d.what, "hash btree deeper than %d", daMaxDepth)
		}
		b, err := d.block(blk)
		if err != nil {
			return nil, err
		}
		if b == nil {
			return nil, filesystem.Corrupt("xfs", d.what, "hash btree block %d is not mapped", blk)
		}
		magic := be.Uint16(b[8:])
		hdr, count, level := daHeader(b, v5)
		switch magic {
		case leaf1MagicV4, leaf1MagicV5:
			if depth != 0 || (magic == leaf1MagicV5) != v5 {
				return nil, filesystem.Corrupt("xfs", d.what, "single-leaf block %d inside a hash btree", blk)
			}
			bestCount := int(be.Uint32(b[len(b)-4:]))
			room := (len(b) - hdr - 4 - 2*min(bestCount, len(b))) / leafEntrySize
			if count > room {
				return nil, filesystem.Corrupt("xfs", d.what, "leaf block %d counts %d entries, room for %d", blk, count, max(room, 0))
			}
			return b[hdr : hdr+count*leafEntrySize], nil
		case leafNMagicV4, leafNMagicV5:
			if (magic == leafNMagicV5) != v5 || (wantLevel > 0) {
				return nil, filesystem.Corrupt("xfs", d.what, "leaf block %d where a node of level %d belongs", blk, wantLevel)
			}
			return d.collectLeafN(blk, b, h, v5)
		case daNodeMagicV4, daNodeMagicV5:
			if (magic == daNodeMagicV5) != v5 || level < 1 || level > daMaxDepth || (wantLevel >= 0 && level != wantLevel) {
				return nil, filesystem.Corrupt("xfs", d.what, "hash node block %d has level %d (want %d)", blk, level, wantLevel)
			}
			room := (len(b) - hdr) / 8
			if count < 1 || count > room {
				return nil, filesystem.Corrupt("xfs", d.what, "hash node block %d counts %d entries, room for 1..%d", blk, count, room)
			}
			ents := b[hdr:]
			i := sort.Search(count, func(i int) bool { return be.Uint32(ents[i*8:]) >= h })
			if i == count {
				return nil, nil // h is above every hash in the directory
			}
			blk = uint64(be.Uint32(ents[i*8+4:]))
			if blk < d.leafStart() || blk >= freeOffBytes>>d.f.sb.blockLog {
				return nil, filesystem.Corrupt("xfs", d.what, "hash node points to block %d outside the leaf section", blk)
			}
			wantLevel = level - 1
		default:
			return nil, filesystem.Corrupt("xfs", d.what, "block %d magic %#04x is not a hash leaf or node", blk, magic)
		}
	}
}

// collectLeafN gathers the pairs with hash h from a leaf and, when they run to its end, from
// the following leaves of the forward chain.
func (d *dir) collectLeafN(blk uint64, b []byte, h uint32, v5 bool) ([]byte, error) {
	be := binary.BigEndian
	var out []byte
	seen := map[uint64]bool{}
	for hops := 0; ; hops++ {
		if hops > maxLeafHops || seen[blk] {
			return nil, filesystem.Corrupt("xfs", d.what, "leaf chain loops or exceeds %d blocks at block %d", maxLeafHops, blk)
		}
		seen[blk] = true
		hdr, count, _ := daHeader(b, v5)
		if room := (len(b) - hdr) / leafEntrySize; count > room {
			return nil, filesystem.Corrupt("xfs", d.what, "leaf block %d counts %d entries, room for %d", blk, count, room)
		}
		ents := b[hdr : hdr+count*leafEntrySize]
		i := sort.Search(count, func(i int) bool { return be.Uint32(ents[i*leafEntrySize:]) >= h })
		j := i
		for j < count && be.Uint32(ents[j*leafEntrySize:]) == h {
			j++
		}
		out = append(out, ents[i*leafEntrySize:j*leafEntrySize]...)
		if j < count {
			return out, nil
		}
		forw := uint64(be.Uint32(b))
		if forw == 0 {
			return out, nil
		}
		var err error
		if blk = forw; blk < d.leafStart() || blk >= freeOffBytes>>d.f.sb.blockLog {
			return nil, filesystem.Corrupt("xfs", d.what, "leaf forward pointer %d outside the leaf section", blk)
		}
		if b, err = d.block(blk); err != nil {
			return nil, err
		}
		if b == nil {
			return nil, filesystem.Corrupt("xfs", d.what, "leaf block %d is not mapped", blk)
		}
		if m := be.Uint16(b[8:]); m != leafNMagicV4 && m != leafNMagicV5 {
			return nil, filesystem.Corrupt("xfs", d.what, "leaf chain reaches block %d with magic %#04x", blk, m)
		}
	}
}

// daHeader decodes the common header of da-btree nodes and leaves: its length, the entry count
// and the word after it (level in nodes, stale count in leaves).
func daHeader(b []byte, v5 bool) (hdr, count, second int) {
	be := binary.BigEndian
	if v5 {
		return daHdrV5, int(be.Uint16(b[56:])), int(be.Uint16(b[58:]))
	}
	return daHdrV4, int(be.Uint16(b[12:])), int(be.Uint16(b[14:]))
}
