package ext4

import (
	"encoding/binary"
	"io"
	"math"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

const (
	superblockOffset = 1024
	superblockSize   = 1024
	superMagic       = 0xEF53

	minLogBlockSize = 0 // 1 KiB
	maxLogBlockSize = 6 // 64 KiB
	maxClusterLog   = 16
)

// Feature flags, as named in the kernel's ext4.h.
const (
	compatHasJournal   = 0x4
	compatDirIndex     = 0x20
	compatSparseSuper2 = 0x200

	roCompatSparseSuper = 0x1
	roCompatLargeFile   = 0x2
	roCompatBtreeDir    = 0x4
	roCompatHugeFile    = 0x8
	roCompatGdtCsum     = 0x10
	roCompatBigalloc    = 0x200
	roCompatMetaCsum    = 0x400

	incompatFiletype   = 0x2
	incompatRecover    = 0x4
	incompatJournalDev = 0x8
	incompatMetaBG     = 0x10
	incompatExtents    = 0x40
	incompat64Bit      = 0x80
	incompatCsumSeed   = 0x2000
	incompatFlexBG     = 0x200
	incompatLargeDir   = 0x4000
	incompatInlineData = 0x8000
	incompatEncrypt    = 0x10000
	incompatCasefold   = 0x20000

	// What ext3 may carry; anything beyond makes the volume ext4 (as blkid decides).
	ext3Incompat = incompatFiletype | incompatRecover | incompatMetaBG
	ext3RoCompat = roCompatSparseSuper | roCompatLargeFile | roCompatBtreeDir

	flagSignedHash   = 0x1
	flagUnsignedHash = 0x2
)

// superblock holds the fields of the on-disk superblock this reader uses.
type superblock struct {
	inodesCount      uint32
	blocksCount      uint64
	firstDataBlock   uint32
	logBlockSize     uint32
	logClusterSize   uint32
	blocksPerGroup   uint32
	clustersPerGroup uint32
	inodesPerGroup   uint32
	revLevel         uint32
	firstIno         uint32
	inodeSize        uint32
	compat           uint32
	incompat         uint32
	roCompat         uint32
	uuid             [16]byte
	volumeName       [16]byte
	reservedGdt      uint16
	hashSeed         [4]uint32
	defHashVersion   uint8
	descSize         uint32
	firstMetaBG      uint32
	flags            uint32
	backupBGs        [2]uint32
	csumSeed         uint32 // crc32c seed of metadata checksums (metadata_csum), kernel convention
}

func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }

// readSuperblock reads and validates the primary superblock against the volume size.
func readSuperblock(r io.ReaderAt, size int64) (*superblock, error) {
	if size < superblockOffset+superblockSize {
		return nil, filesystem.Corrupt("ext4", "superblock", "volume of %d bytes is too small to hold one", size)
	}
	b := make([]byte, superblockSize)
	if _, err := r.ReadAt(b, superblockOffset); err != nil {
		return nil, filesystem.Corrupt("ext4", "superblock", "cannot read it: %v", err)
	}
	if m := le16(b, 0x38); m != superMagic {
		return nil, filesystem.Corrupt("ext4", "superblock", "magic 0x%04x is not 0x%04x", m, superMagic)
	}
	sb := &superblock{
		inodesCount:      le32(b, 0x0),
		blocksCount:      uint64(le32(b, 0x4)),
		firstDataBlock:   le32(b, 0x14),
		logBlockSize:     le32(b, 0x18),
		logClusterSize:   le32(b, 0x1C),
		blocksPerGroup:   le32(b, 0x20),
		clustersPerGroup: le32(b, 0x24),
		inodesPerGroup:   le32(b, 0x28),
		revLevel:         le32(b, 0x4C),
		firstIno:         11,
		inodeSize:        128,
		reservedGdt:      le16(b, 0xCE),
		defHashVersion:   b[0xFC],
		descSize:         32,
		flags:            le32(b, 0x160),
	}
	if sb.revLevel >= 1 {
		sb.firstIno = le32(b, 0x54)
		sb.inodeSize = uint32(le16(b, 0x58))
		sb.compat = le32(b, 0x5C)
		sb.incompat = le32(b, 0x60)
		sb.roCompat = le32(b, 0x64)
	}
	copy(sb.uuid[:], b[0x68:0x78])
	copy(sb.volumeName[:], b[0x78:0x88])
	for i := range sb.hashSeed {
		sb.hashSeed[i] = le32(b, 0xEC+4*i)
	}
	if sb.incompat&incompat64Bit != 0 {
		sb.blocksCount |= uint64(le32(b, 0x150)) << 32
		sb.descSize = uint32(le16(b, 0xFE))
	}
	if sb.incompat&incompatMetaBG != 0 {
		sb.firstMetaBG = le32(b, 0x104)
	}
	sb.backupBGs = [2]uint32{le32(b, 0x24C), le32(b, 0x250)}
	if sb.incompat&incompatCsumSeed != 0 {
		sb.csumSeed = le32(b, 0x270)
	} else {
		sb.csumSeed = crc32cRaw(^uint32(0), sb.uuid[:])
	}
	if err := sb.validate(size); err != nil {
		return nil, err
	}
	return sb, nil
}

func (sb *superblock) validate(size int64) error {
	bad := func(reason string, args ...any) error {
		return filesystem.Corrupt("ext4", "superblock", reason, args...)
	}
	if sb.incompat&incompatJournalDev != 0 {
		return bad("this is an external journal device, not a file system")
	}
	if sb.logBlockSize > maxLogBlockSize {
		return bad("s_log_block_size %d gives a block size above 64 KiB", sb.logBlockSize)
	}
	bs := uint64(1024) << sb.logBlockSize
	if sb.roCompat&roCompatBigalloc != 0 {
		if sb.logClusterSize < sb.logBlockSize || sb.logClusterSize > maxClusterLog+sb.logBlockSize {
			return bad("s_log_cluster_size %d is out of range for block size %d", sb.logClusterSize, bs)
		}
	} else {
		sb.logClusterSize = sb.logBlockSize
		sb.clustersPerGroup = sb.blocksPerGroup
	}
	// A block bitmap is one block, so a group holds at most 8*blocksize clusters.
	if sb.clustersPerGroup == 0 || uint64(sb.clustersPerGroup) > 8*bs {
		return bad("s_clusters_per_group %d is 0 or more than one bitmap block can track (%d)", sb.clustersPerGroup, 8*bs)
	}
	ratio := uint64(1) << (sb.logClusterSize - sb.logBlockSize)
	if uint64(sb.blocksPerGroup) != uint64(sb.clustersPerGroup)*ratio {
		return bad("s_blocks_per_group %d does not match %d clusters of %d blocks", sb.blocksPerGroup, sb.clustersPerGroup, ratio)
	}
	if sb.inodesPerGroup == 0 || uint64(sb.inodesPerGroup) > 8*bs {
		return bad("s_inodes_per_group %d is 0 or more than one bitmap block can track (%d)", sb.inodesPerGroup, 8*bs)
	}
	if sb.inodeSize < 128 || uint64(sb.inodeSize) > bs || sb.inodeSize&(sb.inodeSize-1) != 0 {
		return bad("inode size %d is not a power of two between 128 and the block size %d", sb.inodeSize, bs)
	}
	if sb.firstIno < 3 || sb.firstIno > sb.inodesCount {
		return bad("s_first_ino %d is outside 3..%d", sb.firstIno, sb.inodesCount)
	}
	if sb.blocksCount == 0 || uint64(sb.firstDataBlock) >= sb.blocksCount {
		return bad("s_first_data_block %d is not below s_blocks_count %d", sb.firstDataBlock, sb.blocksCount)
	}
	if bs == 1024 && sb.firstDataBlock != 1 || bs > 1024 && sb.firstDataBlock != 0 {
		return bad("s_first_data_block %d is impossible with %d-byte blocks", sb.firstDataBlock, bs)
	}
	if sb.blocksCount > uint64(1)<<48 || sb.blocksCount > math.MaxInt64/bs {
		return bad("s_blocks_count %d exceeds 2^48 or the byte offsets of %d-byte blocks", sb.blocksCount, bs)
	}
	if sb.incompat&incompat64Bit != 0 {
		if sb.descSize < 64 || uint64(sb.descSize) > bs || sb.descSize&(sb.descSize-1) != 0 {
			return bad("s_desc_size %d is not a power of two between 64 and the block size", sb.descSize)
		}
	}
	groups := sb.groupCount()
	if uint64(sb.inodesCount) > groups*uint64(sb.inodesPerGroup) {
		return bad("s_inodes_count %d exceeds %d groups of %d inodes", sb.inodesCount, groups, sb.inodesPerGroup)
	}
	// Every group needs a descriptor stored somewhere in the volume: a group count that cannot
	// fit is a lie, and believing it would allocate without bound.
	if groups > maxGroups || groups*uint64(sb.descSize) > uint64(size) {
		return bad("%d block groups need %d bytes of descriptors, more than the %d-byte volume (cap %d groups)",
			groups, groups*uint64(sb.descSize), size, maxGroups)
	}
	return nil
}

// maxGroups caps the block groups read at Open: 2^24 groups of 128 MiB is 2 PiB.
const maxGroups = 1 << 24

func (sb *superblock) blockSize() int64 { return 1024 << sb.logBlockSize }

func (sb *superblock) groupCount() uint64 {
	n := sb.blocksCount - uint64(sb.firstDataBlock)
	return (n + uint64(sb.blocksPerGroup) - 1) / uint64(sb.blocksPerGroup)
}

// hasCsum tells whether group descriptor flags (INODE_UNINIT, BLOCK_UNINIT, itable_unused) mean
// anything: they are only maintained when descriptors are checksummed.
func (sb *superblock) hasCsum() bool {
	return sb.roCompat&(roCompatGdtCsum|roCompatMetaCsum) != 0
}

// fsType names the variant the way blkid does: ext4 when any feature ext3 lacks is on.
func (sb *superblock) fsType() string {
	switch {
	case sb.incompat&^uint32(ext3Incompat) != 0 || sb.roCompat&^uint32(ext3RoCompat) != 0:
		return "ext4"
	case sb.compat&compatHasJournal != 0:
		return "ext3"
	default:
		return "ext2"
	}
}

// hasSuper tells whether group g holds a superblock backup (and so the descriptor table copy).
func (sb *superblock) hasSuper(g uint64) bool {
	if g == 0 {
		return true
	}
	if sb.compat&compatSparseSuper2 != 0 {
		return g == uint64(sb.backupBGs[0]) || g == uint64(sb.backupBGs[1])
	}
	if sb.roCompat&roCompatSparseSuper == 0 || g == 1 {
		return true
	}
	if g&1 == 0 {
		return false
	}
	return isPower(g, 3) || isPower(g, 5) || isPower(g, 7)
}

func isPower(n, base uint64) bool {
	for n > 1 && n%base == 0 {
		n /= base
	}
	return n == 1
}
