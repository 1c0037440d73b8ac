package xfs

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Superblock layout (xfs_dsb, big-endian). Only the fields this reader needs are named.
const (
	sbMagic      = 0x58465342 // "XFSB"
	sbReadSize   = 512        // every field used lives in the first 512 bytes, whatever the sector size
	minAGBytes   = 16 << 20   // XFS_MIN_AG_BYTES: the kernel refuses smaller allocation groups
	maxAGBlocks  = 1 << 31    // XFS_MAX_AG_BLOCKS-ish: agbno is 32 bits with a sign the kernel never uses
	leafOffBytes = 32 << 30   // XFS_DIR2_LEAF_OFFSET: directory leaf/node blocks start here
	freeOffBytes = 64 << 30   // XFS_DIR2_FREE_OFFSET: directory free-index blocks start here

	versionNumMask  = 0x000f
	versionDirV2    = 0x2000 // XFS_SB_VERSION_DIRV2BIT: v1 directories are not supported
	versionMoreBits = 0x8000 // XFS_SB_VERSION_MOREBITSBIT: features2 is valid
	versionBorg     = 0x4000 // XFS_SB_VERSION_BORGBIT: ASCII case-insensitive names (hash differs)

	features2Ftype = 0x0200 // XFS_SB_VERSION2_FTYPE (v4 with file types in directory entries)

	incompatFtype    = 0x01 // XFS_SB_FEAT_INCOMPAT_FTYPE
	incompatSpinodes = 0x02 // XFS_SB_FEAT_INCOMPAT_SPINODES: sparse inode chunks
	incompatBigtime  = 0x08 // XFS_SB_FEAT_INCOMPAT_BIGTIME
)

// superblock holds the geometry decoded from the primary superblock.
type superblock struct {
	blockSize  uint32
	blockLog   uint8
	dblocks    uint64
	rblocks    uint64
	uuid       [16]byte
	rootIno    uint64
	agBlocks   uint32
	agCount    uint32
	versionNum uint16
	sectSize   uint16
	inodeSize  uint16
	inodeLog   uint8
	inoPBLog   uint8 // log2 of inodes per block
	agBlkLog   uint8
	label      [12]byte
	dirBlkLog  uint8
	features2  uint32
	roCompat   uint32
	incompat   uint32
	version    int // 4 or 5
}

// parseSuperblock decodes and checks the fields that every later computation trusts: a value
// that passes here cannot make an offset overflow or a shift exceed its width.
func parseSuperblock(b []byte) (*superblock, error) {
	if len(b) < sbReadSize {
		return nil, filesystem.Corrupt("xfs", "superblock", "only %d bytes", len(b))
	}
	be := binary.BigEndian
	if be.Uint32(b[0:]) != sbMagic {
		return nil, filesystem.Corrupt("xfs", "superblock", "magic %#08x is not XFSB", be.Uint32(b[0:]))
	}
	sb := &superblock{
		blockSize:  be.Uint32(b[4:]),
		dblocks:    be.Uint64(b[8:]),
		rblocks:    be.Uint64(b[16:]),
		rootIno:    be.Uint64(b[56:]),
		agBlocks:   be.Uint32(b[84:]),
		agCount:    be.Uint32(b[88:]),
		versionNum: be.Uint16(b[100:]),
		sectSize:   be.Uint16(b[102:]),
		inodeSize:  be.Uint16(b[104:]),
		blockLog:   b[120],
		inodeLog:   b[122],
		inoPBLog:   b[123],
		agBlkLog:   b[124],
		dirBlkLog:  b[192],
		features2:  be.Uint32(b[200:]),
	}
	copy(sb.uuid[:], b[32:48])
	copy(sb.label[:], b[108:120])
	sb.version = int(sb.versionNum & versionNumMask)
	if sb.version == 5 {
		sb.roCompat = be.Uint32(b[212:])
		sb.incompat = be.Uint32(b[216:])
	}
	if err := sb.check(be.Uint16(b[106:]), b[121]); err != nil {
		return nil, err
	}
	return sb, nil
}

func (sb *superblock) check(inoPerBlock uint16, sectLog uint8) error {
	bad := func(reason string, args ...any) error {
		return filesystem.Corrupt("xfs", "superblock", reason, args...)
	}
	switch {
	case sb.version != 4 && sb.version != 5:
		return bad("version %d is neither 4 nor 5", sb.version)
	case sb.blockLog < 9 || sb.blockLog > 16 || sb.blockSize != 1<<sb.blockLog:
		return bad("block size %d / log %d is not a power of two in 512..65536", sb.blockSize, sb.blockLog)
	case sectLog < 9 || sectLog > 15 || uint32(sb.sectSize) != 1<<sectLog || uint32(sb.sectSize) > sb.blockSize:
		return bad("sector size %d / log %d is not a power of two in 512..block size", sb.sectSize, sectLog)
	case sb.inodeLog < 8 || sb.inodeLog > 11 || uint32(sb.inodeSize) != 1<<sb.inodeLog || uint32(sb.inodeSize) > sb.blockSize:
		return bad("inode size %d / log %d is not a power of two in 256..min(2048, block size)", sb.inodeSize, sb.inodeLog)
	case sb.inoPBLog != sb.blockLog-sb.inodeLog || uint32(inoPerBlock) != 1<<sb.inoPBLog:
		return bad("%d inodes per block (log %d) do not match block and inode sizes", inoPerBlock, sb.inoPBLog)
	case sb.agCount == 0:
		return bad("no allocation groups")
	case sb.agBlocks == 0 || sb.agBlocks > maxAGBlocks:
		return bad("allocation group of %d blocks", sb.agBlocks)
	case uint64(sb.agBlocks)<<sb.blockLog < minAGBytes:
		return bad("allocation group of %d bytes is below the 16 MiB minimum", uint64(sb.agBlocks)<<sb.blockLog)
	case int(sb.agBlkLog) != bits.Len32(sb.agBlocks-1):
		return bad("agblklog %d does not fit %d blocks per group", sb.agBlkLog, sb.agBlocks)
	case sb.dblocks <= uint64(sb.agCount-1)*uint64(sb.agBlocks) || sb.dblocks > uint64(sb.agCount)*uint64(sb.agBlocks):
		return bad("%d blocks do not make %d groups of %d blocks", sb.dblocks, sb.agCount, sb.agBlocks)
	case sb.dblocks > (1<<63-1)>>sb.blockLog:
		return bad("%d blocks overflow a byte offset", sb.dblocks)
	case int(sb.agBlkLog)+int(sb.inoPBLog) > 32:
		return bad("inode numbers of %d+%d bits per group exceed 32", sb.agBlkLog, sb.inoPBLog)
	case int(sb.blockLog)+int(sb.dirBlkLog) > 16:
		return bad("directory block of 2^%d bytes exceeds 64 KiB", int(sb.blockLog)+int(sb.dirBlkLog))
	case sb.version == 4 && sb.versionNum&versionDirV2 == 0:
		return bad("version 1 directories (pre-2002 XFS) are not supported")
	}
	return nil
}

func (sb *superblock) hasFtype() bool {
	if sb.version == 5 {
		return sb.incompat&incompatFtype != 0
	}
	return sb.versionNum&versionMoreBits != 0 && sb.features2&features2Ftype != 0
}

func (sb *superblock) sparseInodes() bool {
	return sb.version == 5 && sb.incompat&incompatSpinodes != 0
}

// asciiCI reports case-insensitive directories, whose hash folds case: lookups fall back to a scan.
func (sb *superblock) asciiCI() bool { return sb.versionNum&versionBorg != 0 }

func (sb *superblock) dirBlockSize() int { return int(sb.blockSize) << sb.dirBlkLog }

// agLength is the number of blocks of allocation group agno (the last one may be shorter).
func (sb *superblock) agLength(agno uint32) uint32 {
	if agno == sb.agCount-1 {
		return uint32(sb.dblocks - uint64(agno)*uint64(sb.agBlocks))
	}
	return sb.agBlocks
}

// agBlockOffset is the byte offset of a block given by group and block within the group.
func (sb *superblock) agBlockOffset(agno, agbno uint32) int64 {
	return int64(uint64(agno)*uint64(sb.agBlocks)+uint64(agbno)) << sb.blockLog
}

// fsbOffset turns a file-system block number (agno in the high bits, agbno in the low agblklog
// bits) into a byte offset, refusing numbers outside the file system.
func (sb *superblock) fsbOffset(fsb uint64) (int64, bool) {
	agno := fsb >> sb.agBlkLog
	agbno := uint32(fsb & (1<<sb.agBlkLog - 1))
	if agno >= uint64(sb.agCount) || agbno >= sb.agLength(uint32(agno)) {
		return 0, false
	}
	return sb.agBlockOffset(uint32(agno), agbno), true
}

// inoOffset decodes an inode number (agno | agbno | index in block) into a byte offset.
func (sb *superblock) inoOffset(ino uint64) (int64, bool) {
	shift := sb.agBlkLog + sb.inoPBLog
	agno := ino >> shift
	agbno := uint32(ino>>sb.inoPBLog) & (1<<sb.agBlkLog - 1)
	idx := ino & (1<<sb.inoPBLog - 1)
	if agno >= uint64(sb.agCount) || agbno >= sb.agLength(uint32(agno)) {
		return 0, false
	}
	return sb.agBlockOffset(uint32(agno), agbno) + int64(idx)<<sb.inodeLog, true
}

// maxIno is one past the largest inode number the geometry can express.
func (sb *superblock) maxIno() uint64 {
	return uint64(sb.agCount) << (sb.agBlkLog + sb.inoPBLog)
}

func (sb *superblock) uuidString() string {
	u := sb.uuid
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
