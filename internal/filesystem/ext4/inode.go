package ext4

import (
	"fmt"
	"io/fs"
	"math"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Inode flags (i_flags) this reader acts on.
const (
	flagEncrypt    = 0x800
	flagIndex      = 0x1000
	flagHugeFile   = 0x40000
	flagExtents    = 0x80000
	flagEAInode    = 0x200000
	flagInlineData = 0x10000000
	flagCasefold   = 0x40000000
)

const (
	goodOldInodeSize = 128
	iBlockOff        = 0x28
	iBlockLen        = 60
)

// Mode type bits of i_mode.
const (
	sIFMT   = 0xF000
	sIFIFO  = 0x1000
	sIFCHR  = 0x2000
	sIFDIR  = 0x4000
	sIFBLK  = 0x6000
	sIFREG  = 0x8000
	sIFLNK  = 0xA000
	sIFSOCK = 0xC000
)

// inode is a parsed on-disk inode; raw keeps its bytes for i_block and the in-inode xattrs.
type inode struct {
	ino     uint64
	off     int64 // volume offset of the inode, for Encoded extents of inline data
	raw     []byte
	mode    uint16
	uid     uint32
	gid     uint32
	size    int64
	links   uint32
	flags   uint32
	dtime   uint32
	blocks  uint64 // allocated space in 512-byte units
	fileACL uint64
	extra   int // i_extra_isize, 0 when absent or invalid

	atime, ctime, mtime, crtime time.Time
}

func (in *inode) iblock() []byte { return in.raw[iBlockOff : iBlockOff+iBlockLen] }
func (in *inode) isDir() bool    { return in.mode&sIFMT == sIFDIR }
func (in *inode) isLink() bool   { return in.mode&sIFMT == sIFLNK }
func (in *inode) isReg() bool    { return in.mode&sIFMT == sIFREG }

// inodeLocation returns the group of an inode and its index in that group.
func (f *FS) inodeLocation(ino uint64) (uint64, uint64, error) {
	if ino == 0 || ino > uint64(f.sb.inodesCount) {
		return 0, 0, fmt.Errorf("ext4: inode %d is outside 1..%d: %w", ino, f.sb.inodesCount, fs.ErrNotExist)
	}
	return (ino - 1) / uint64(f.sb.inodesPerGroup), (ino - 1) % uint64(f.sb.inodesPerGroup), nil
}

// readInode parses an inode whether or not it is in use (deleted-file recovery needs free ones).
func (f *FS) readInode(ino uint64) (*inode, error) {
	g, idx, err := f.inodeLocation(ino)
	if err != nil {
		return nil, err
	}
	if err := f.checkGroup(g); err != nil {
		return nil, err
	}
	isz := int64(f.sb.inodeSize)
	off := int64(f.groups[g].inodeTable)*f.blockSize + int64(idx)*isz
	blk, err := f.metaBlock(uint64(off / f.blockSize))
	if err != nil {
		return nil, err
	}
	in := off % f.blockSize
	return f.parseInode(ino, off, blk[in:in+isz])
}

func (f *FS) parseInode(ino uint64, off int64, b []byte) (*inode, error) {
	raw := make([]byte, len(b))
	copy(raw, b)
	in := &inode{
		ino:     ino,
		off:     off,
		raw:     raw,
		mode:    le16(raw, 0x0),
		uid:     uint32(le16(raw, 0x2)) | uint32(le16(raw, 0x78))<<16,
		gid:     uint32(le16(raw, 0x18)) | uint32(le16(raw, 0x7A))<<16,
		links:   uint32(le16(raw, 0x1A)),
		dtime:   le32(raw, 0x14),
		flags:   le32(raw, 0x20),
		fileACL: uint64(le32(raw, 0x68)) | uint64(le16(raw, 0x76))<<32,
	}
	size := uint64(le32(raw, 0x4)) | uint64(le32(raw, 0x6C))<<32
	if size > math.MaxInt64 {
		return nil, filesystem.Corrupt("ext4", "inode "+itoa(ino), "size %d does not fit in 63 bits", size)
	}
	in.size = int64(size)
	in.blocks = uint64(le32(raw, 0x1C))
	if f.sb.roCompat&roCompatHugeFile != 0 {
		in.blocks |= uint64(le16(raw, 0x74)) << 32
		if in.flags&flagHugeFile != 0 {
			in.blocks *= uint64(f.blockSize / 512)
		}
	}
	if len(raw) > goodOldInodeSize {
		e := int(le16(raw, 0x80))
		if e%4 == 0 && goodOldInodeSize+e <= len(raw) {
			in.extra = e
		}
	}
	has := func(fieldEnd int) bool { return goodOldInodeSize+in.extra >= fieldEnd }
	in.ctime = decodeTime(le32(raw, 0xC), raw, 0x84, has(0x88))
	in.mtime = decodeTime(le32(raw, 0x10), raw, 0x88, has(0x8C))
	in.atime = decodeTime(le32(raw, 0x8), raw, 0x8C, has(0x90))
	if has(0x94) {
		in.crtime = decodeTime(le32(raw, 0x90), raw, 0x94, has(0x98))
	}
	return in, nil
}

// decodeTime turns a 32-bit signed seconds field and its optional extra word (2 epoch bits that
// extend the seconds past 2038, 30 bits of nanoseconds) into a time.
func decodeTime(lo uint32, raw []byte, extraOff int, hasExtra bool) time.Time {
	sec := int64(int32(lo))
	var nsec int64
	if hasExtra {
		x := le32(raw, extraOff)
		sec += int64(x&3) << 32
		if nsec = int64(x >> 2); nsec > 999_999_999 {
			nsec = 0
		}
	}
	return time.Unix(sec, nsec).UTC()
}

// inUse reads an inode and refuses it when the inode bitmap says it is free.
func (f *FS) inUse(ino uint64) (*inode, error) {
	ok, err := f.inodeAllocated(ino)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("ext4: inode %d is not in use: %w", ino, fs.ErrNotExist)
	}
	return f.readInode(ino)
}

// Stat describes an inode that is in use.
func (f *FS) Stat(ino uint64) (*filesystem.Stat, error) {
	in, err := f.inUse(ino)
	if err != nil {
		return nil, err
	}
	st := &filesystem.Stat{
		Inode:      ino,
		Mode:       in.goMode(),
		Size:       in.size,
		Nlink:      in.links,
		UID:        in.uid,
		GID:        in.gid,
		ModTime:    in.mtime,
		AccessTime: in.atime,
		ChangeTime: in.ctime,
		BirthTime:  in.crtime,
		Encrypted:  in.flags&flagEncrypt != 0,
		Sparse:     f.looksSparse(in),
	}
	return st, nil
}

// looksSparse compares the allocated space with the size, as `ls -s` does, rather than walking
// the block map on every Stat. An extent-tree index block or an xattr block can hide a hole of
// the same size; that is accepted.
func (f *FS) looksSparse(in *inode) bool {
	if !in.isReg() || in.flags&flagInlineData != 0 || in.size == 0 {
		return false
	}
	alloc := in.blocks * 512
	if in.fileACL != 0 && alloc >= uint64(f.blockSize) {
		alloc -= uint64(f.blockSize)
	}
	need := (uint64(in.size) + uint64(f.blockSize) - 1) / uint64(f.blockSize) * uint64(f.blockSize)
	return alloc < need
}

// goMode is i_mode as Go spells it.
func (in *inode) goMode() fs.FileMode {
	m, _ := filesystem.UnixMode(in.mode)
	return m
}

// generation is i_generation, which metadata checksums of the inode's blocks cover.
func (in *inode) generation() uint32 { return le32(in.raw, 0x64) }

// InodeRange says where inode ino's record lies on the volume (filesystem.InodeLocator).
func (f *FS) InodeRange(ino uint64) (filesystem.Range, bool) {
	g, idx, err := f.inodeLocation(ino)
	if err != nil || f.checkGroup(g) != nil {
		return filesystem.Range{}, false
	}
	isz := int64(f.sb.inodeSize)
	return filesystem.Range{Off: int64(f.groups[g].inodeTable)*f.blockSize + int64(idx)*isz, Len: isz}, true
}
