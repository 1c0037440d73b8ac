package ext4

import (
	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Group descriptor flags (bg_flags); only meaningful when the descriptors are checksummed.
const (
	bgInodeUninit = 0x1
	bgBlockUninit = 0x2
)

// group is one block group's descriptor.
type group struct {
	blockBitmap  uint64
	inodeBitmap  uint64
	inodeTable   uint64
	flags        uint16
	itableUnused uint32
}

// descBlock returns the block holding the descriptors of meta group mg (descsPerBlock groups).
// Without meta_bg, and for meta groups below s_first_meta_bg, descriptors follow the superblock
// contiguously; from s_first_meta_bg on, each meta group keeps its one descriptor block at the
// start of its own first group.
func (f *FS) descBlock(mg uint64) uint64 {
	sb := f.sb
	first := uint64(sb.firstDataBlock) + 1
	if sb.incompat&incompatMetaBG == 0 || mg < uint64(sb.firstMetaBG) {
		return first + mg
	}
	g := mg * f.descsPerBlock
	b := f.groupFirstBlock(g)
	if sb.hasSuper(g) {
		b++
	}
	return b
}

func (f *FS) groupFirstBlock(g uint64) uint64 {
	return uint64(f.sb.firstDataBlock) + g*uint64(f.sb.blocksPerGroup)
}

// readGroups loads every descriptor, one block at a time, and checks that the tables each
// names lie inside the file system.
func (f *FS) readGroups() error {
	sb := f.sb
	n := sb.groupCount()
	f.groups = make([]group, n)
	dsz := uint64(sb.descSize)
	for mg := uint64(0); mg*f.descsPerBlock < n; mg++ {
		blk := f.descBlock(mg)
		b, err := f.readBlock(blk)
		if err != nil {
			return filesystem.Corrupt("ext4", "group descriptor table", "block %d of meta group %d: %v", blk, mg, err)
		}
		for i := uint64(0); i < f.descsPerBlock && mg*f.descsPerBlock+i < n; i++ {
			d := b[i*dsz : (i+1)*dsz]
			g := &f.groups[mg*f.descsPerBlock+i]
			g.blockBitmap = uint64(le32(d, 0x0))
			g.inodeBitmap = uint64(le32(d, 0x4))
			g.inodeTable = uint64(le32(d, 0x8))
			g.flags = le16(d, 0x12)
			g.itableUnused = uint32(le16(d, 0x1C))
			if dsz >= 64 {
				g.blockBitmap |= uint64(le32(d, 0x20)) << 32
				g.inodeBitmap |= uint64(le32(d, 0x24)) << 32
				g.inodeTable |= uint64(le32(d, 0x28)) << 32
				g.itableUnused |= uint32(le16(d, 0x32)) << 16
			}
			if !sb.hasCsum() {
				g.flags, g.itableUnused = 0, 0
			}
			if g.itableUnused > sb.inodesPerGroup {
				g.itableUnused = sb.inodesPerGroup
			}
		}
	}
	return nil
}

// checkGroup validates the table locations of group gi before they are used; a group that
// fails is unusable but does not take the rest of the volume with it.
func (f *FS) checkGroup(gi uint64) error {
	g := &f.groups[gi]
	what := func() string { return "group descriptor " + itoa(gi) }
	itBlocks := (uint64(f.sb.inodesPerGroup)*uint64(f.sb.inodeSize) + uint64(f.blockSize) - 1) / uint64(f.blockSize)
	if g.inodeTable < uint64(f.sb.firstDataBlock) || g.inodeTable >= f.sb.blocksCount || g.inodeTable+itBlocks > f.sb.blocksCount {
		return filesystem.Corrupt("ext4", what(), "inode table at block %d (+%d) lies outside the %d-block file system", g.inodeTable, itBlocks, f.sb.blocksCount)
	}
	return nil
}
