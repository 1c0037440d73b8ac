package xfs

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Inode core (xfs_dinode) layout, big-endian.
const (
	inodeMagic    = 0x494e // "IN"
	coreSizeV2    = 100    // v1/v2 inodes: the data fork starts after di_next_unlinked
	coreSizeV3    = 176    // v3 (CRC) inodes
	flagRealtime  = 0x0001 // XFS_DIFLAG_REALTIME: data lives on the realtime device
	flag2Bigtime  = 0x0008 // XFS_DIFLAG2_BIGTIME: 64-bit nanosecond timestamps
	flag2NRExt64  = 0x0010 // XFS_DIFLAG2_NREXT64: 64-bit data extent counter
	bigtimeEpochS = 1 << 31
	formatDev     = 0
	formatLocal   = 1
	formatExtents = 2
	formatBtree   = 3
	sIFMT         = 0o170000
	sIFREG        = 0o100000
	sIFDIR        = 0o040000
	sIFLNK        = 0o120000
	sIFCHR        = 0o020000
	sIFBLK        = 0o060000
	sIFIFO        = 0o010000
	sIFSOCK       = 0o140000
	maxSymlinkLen = 1024 // XFS_SYMLINK_MAXLEN
)

// inode is a decoded inode core plus a copy of its data fork.
type inode struct {
	ino          uint64
	mode         uint16
	version      uint8
	format       uint8
	nlink        uint32
	uid, gid     uint32
	atime        time.Time
	mtime        time.Time
	ctime        time.Time
	crtime       time.Time
	size         int64
	nblocks      uint64
	nextents     uint64
	flags        uint16
	nextUnlinked uint32 // di_next_unlinked: the AGI unlinked-list chain
	dfork        []byte // the data fork bytes (literal area up to the attribute fork)
	dforkOff     int64  // volume byte offset of dfork, for Extents of inline data
}

func (n *inode) isDir() bool     { return n.mode&sIFMT == sIFDIR }
func (n *inode) isReg() bool     { return n.mode&sIFMT == sIFREG }
func (n *inode) isSymlink() bool { return n.mode&sIFMT == sIFLNK }

// readInode reads and checks one inode. A free inode (mode 0) gives fs.ErrNotExist unless
// allowFree is set (the deleted-file scan looks at free inodes on purpose).
func (f *FS) readInode(ino uint64, allowFree bool) (*inode, error) {
	off, ok := f.sb.inoOffset(ino)
	if !ok {
		return nil, fmt.Errorf("xfs: inode %d lies outside the %d allocation groups: %w", ino, f.sb.agCount, fs.ErrNotExist)
	}
	blockOff := off &^ int64(f.sb.blockSize-1)
	blk, err := f.vol.block(blockOff)
	if err != nil {
		return nil, fmt.Errorf("xfs: inode %d: %w", ino, err)
	}
	raw := blk[off-blockOff : off-blockOff+int64(f.sb.inodeSize)]
	n, err := f.decodeInode(ino, raw, allowFree)
	if err != nil {
		return nil, err
	}
	n.dforkOff += off
	return n, nil
}

func (f *FS) decodeInode(ino uint64, raw []byte, allowFree bool) (*inode, error) {
	be := binary.BigEndian
	what := fmt.Sprintf("inode %d", ino)
	if be.Uint16(raw[0:]) != inodeMagic {
		return nil, filesystem.Corrupt("xfs", what, "magic %#04x is not IN", be.Uint16(raw[0:]))
	}
	n := &inode{
		ino:          ino,
		mode:         be.Uint16(raw[2:]),
		version:      raw[4],
		format:       raw[5],
		uid:          be.Uint32(raw[8:]),
		gid:          be.Uint32(raw[12:]),
		size:         int64(be.Uint64(raw[56:])),
		nblocks:      be.Uint64(raw[64:]),
		flags:        be.Uint16(raw[90:]),
		nextUnlinked: be.Uint32(raw[96:]),
	}
	if n.mode == 0 && !allowFree {
		return nil, fmt.Errorf("xfs: inode %d is free: %w", ino, fs.ErrNotExist)
	}
	coreSize := coreSizeV2
	var flags2 uint64
	switch {
	case n.version == 3 && f.sb.version == 5:
		coreSize = coreSizeV3
		flags2 = be.Uint64(raw[120:])
		if got := be.Uint64(raw[152:]); got != ino {
			return nil, filesystem.Corrupt("xfs", what, "records inode number %d (stale or misplaced inode)", got)
		}
	case (n.version == 1 || n.version == 2) && f.sb.version == 4:
	default:
		return nil, filesystem.Corrupt("xfs", what, "inode version %d on a version %d file system", n.version, f.sb.version)
	}
	if n.version == 1 {
		n.nlink = uint32(be.Uint16(raw[6:]))
	} else {
		n.nlink = be.Uint32(raw[16:])
	}
	if n.size < 0 {
		return nil, filesystem.Corrupt("xfs", what, "negative size %d", n.size)
	}
	if flags2&flag2NRExt64 != 0 {
		n.nextents = be.Uint64(raw[24:])
	} else {
		n.nextents = uint64(be.Uint32(raw[76:]))
	}
	bigtime := flags2&flag2Bigtime != 0
	n.atime = decodeTime(raw[32:], bigtime)
	n.mtime = decodeTime(raw[40:], bigtime)
	n.ctime = decodeTime(raw[48:], bigtime)
	if coreSize == coreSizeV3 {
		n.crtime = decodeTime(raw[144:], bigtime)
	}
	lit := len(raw) - coreSize
	dsize := lit
	if forkoff := int(raw[82]) * 8; forkoff != 0 {
		if forkoff >= lit {
			return nil, filesystem.Corrupt("xfs", what, "attribute fork offset %d is beyond the %d-byte literal area", forkoff, lit)
		}
		dsize = forkoff
	}
	n.dfork = append([]byte(nil), raw[coreSize:coreSize+dsize]...)
	n.dforkOff = int64(coreSize)
	return n, nil
}

// decodeTime reads an on-disk timestamp: seconds and nanoseconds (signed 32-bit seconds since
// 1970) or, with bigtime, nanoseconds since the most negative 32-bit second (1901-12-13).
func decodeTime(b []byte, bigtime bool) time.Time {
	v := binary.BigEndian.Uint64(b)
	if bigtime {
		return time.Unix(int64(v/1e9)-bigtimeEpochS, int64(v%1e9)).UTC()
	}
	nsec := int64(uint32(v))
	if nsec >= 1e9 {
		nsec = 0
	}
	return time.Unix(int64(int32(v>>32)), nsec).UTC()
}

// Stat describes one inode.
func (f *FS) Stat(ino uint64) (*filesystem.Stat, error) {
	n, err := f.readInode(ino, false)
	if err != nil {
		return nil, err
	}
	mode, ok := filesystem.UnixMode(n.mode)
	if !ok {
		return nil, filesystem.Corrupt("xfs", fmt.Sprintf("inode %d", ino), "mode %#o has no file type", n.mode)
	}
	st := &filesystem.Stat{
		Inode:      ino,
		Mode:       mode,
		Size:       n.size,
		Nlink:      n.nlink,
		UID:        n.uid,
		GID:        n.gid,
		ModTime:    n.mtime,
		AccessTime: n.atime,
		ChangeTime: n.ctime,
		BirthTime:  n.crtime,
	}
	switch {
	case mode.IsRegular():
		// nblocks counts data and btree blocks: fewer than the size needs means holes.
		need := (uint64(n.size) + uint64(f.sb.blockSize) - 1) >> f.sb.blockLog
		st.Sparse = n.format != formatLocal && n.nblocks < need
	case mode&fs.ModeDevice != 0 || mode&(fs.ModeNamedPipe|fs.ModeSocket) != 0:
		st.Size = 0
	}
	return st, nil
}

// InodeRange says where inode ino's record lies on the volume (filesystem.InodeLocator).
func (f *FS) InodeRange(ino uint64) (filesystem.Range, bool) {
	off, ok := f.sb.inoOffset(ino)
	if !ok {
		return filesystem.Range{}, false
	}
	return filesystem.Range{Off: off, Len: int64(f.sb.inodeSize)}, true
}
