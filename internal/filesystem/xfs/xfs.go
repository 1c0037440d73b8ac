// Package xfs reads XFS file systems (v4 and v5) from an io.ReaderAt without mounting them.
//
// It implements filesystem.Tree (wrap it with filesystem.New for an io/fs.FS) together with
// Lookuper (hash-indexed directory lookup), Extenter (physical byte ranges of files) and Residual
// (free space from the by-block free-space btrees and free lists; deleted names left in
// directory blocks, unlinked-but-open files, and free inodes that still map data).
//
// Everything is read on demand and nothing is written. Every length, count and pointer read from
// the volume is checked before use, every tree walk is bounded in depth and refuses to visit a
// block twice, and all methods are safe for concurrent use: state after Open is immutable except
// for a bounded, synchronised cache of metadata blocks.
//
// The on-disk format follows "XFS Algorithms & Data Structures" (kernel documentation).
package xfs

import (
	"bytes"
	"encoding/binary"
	"io"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// FS is an open XFS file system.
type FS struct {
	sb    *superblock
	vol   *volume
	ftype bool // directory entries carry a file type byte
}

// Interfaces the reader implements, checked at compile time.
var (
	_ filesystem.Tree     = (*FS)(nil)
	_ filesystem.Lookuper = (*FS)(nil)
	_ filesystem.Extenter = (*FS)(nil)
	_ filesystem.Residual = (*FS)(nil)
)

// Detect reports whether the volume holds XFS (superblock magic "XFSB" at 0 and sane fields).
func Detect(r io.ReaderAt, size int64) bool {
	if size < sbReadSize {
		return false
	}
	b := make([]byte, sbReadSize)
	if n, _ := r.ReadAt(b, 0); n < len(b) || binary.BigEndian.Uint32(b) != sbMagic {
		return false
	}
	_, err := parseSuperblock(b)
	return err == nil
}

// Open reads the primary superblock. The volume may be shorter than the file system claims (a
// truncated copy): reads beyond its end fail with errors that say so.
func Open(r io.ReaderAt, size int64) (*FS, error) {
	if size < sbReadSize {
		return nil, filesystem.Corrupt("xfs", "superblock", "volume of %d bytes is too small", size)
	}
	b := make([]byte, sbReadSize)
	if n, err := r.ReadAt(b, 0); n < len(b) {
		return nil, filesystem.Corrupt("xfs", "superblock", "read %d of %d bytes: %v", n, len(b), err)
	}
	sb, err := parseSuperblock(b)
	if err != nil {
		return nil, err
	}
	f := &FS{sb: sb, vol: newVolume(r, size, int(sb.blockSize)), ftype: sb.hasFtype()}
	if _, ok := sb.inoOffset(sb.rootIno); !ok {
		return nil, filesystem.Corrupt("xfs", "superblock", "root inode %d lies outside the file system", sb.rootIno)
	}
	return f, nil
}

// Type names the file system.
func (f *FS) Type() string { return "xfs" }

// Root is the inode number of the root directory.
func (f *FS) Root() uint64 { return f.sb.rootIno }

// Label is the file-system label (up to 12 bytes, as set by mkfs.xfs -L or xfs_admin -L).
func (f *FS) Label() string {
	l := f.sb.label[:]
	if i := bytes.IndexByte(l, 0); i >= 0 {
		l = l[:i]
	}
	return string(l)
}

// UUID is the file-system UUID in its usual text form.
func (f *FS) UUID() string { return f.sb.uuidString() }
