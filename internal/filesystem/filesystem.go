// Package filesystem holds the contract every file-system reader of snapwatch speaks.
//
// A reader (ext4, xfs, ntfs, fat, in sub-packages) parses on-disk structures and implements Tree:
// a handful of node operations over inode numbers. New wraps a Tree as an io/fs.FS, so walkers and
// detectors see one standard interface and know nothing of disks. Residual data (unallocated space
// and deleted entries) and physical extents are optional extra interfaces a Tree may implement.
package filesystem

import (
	"context"
	"io"
	"io/fs"
	"iter"
	"time"
)

// Stat is what fs.FileInfo.Sys() returns for every file of every file system.
type Stat struct {
	Inode      uint64      // inode number, MFT record number, or a synthetic id (FAT: entry offset)
	Mode       fs.FileMode // type bits and permissions, as Go spells them
	Size       int64       // logical size in bytes
	Nlink      uint32
	UID, GID   uint32
	ModTime    time.Time
	AccessTime time.Time
	ChangeTime time.Time // inode change (ext4, XFS) or MFT change time (NTFS)
	BirthTime  time.Time // zero when the file system does not record it
	Sparse     bool      // holes are present (read as zeros)
	Compressed bool      // data is stored compressed (NTFS)
	Encrypted  bool      // data is encrypted by the file system (ext4 fscrypt, NTFS EFS): bytes are ciphertext
	Streams    []Stream  // NTFS alternate data streams (the unnamed $DATA stream is not listed)
}

// Stream is a named alternate data stream of a file.
type Stream struct {
	Name string
	Size int64
}

// Entry is one directory entry as stored on disk ("." and ".." are never returned).
type Entry struct {
	Name string
	Ino  uint64
	Type fs.FileMode // type bits only: 0 regular, fs.ModeDir, fs.ModeSymlink, fs.ModeDevice, ...
}

// Tree is what a file-system reader implements. Every method must be safe for concurrent use,
// must never panic on hostile input, and must bound the memory and time it spends: a broken
// structure ends in an error that names it (see Corrupt).
type Tree interface {
	// Type names the file system: "ext2", "ext3", "ext4", "xfs", "ntfs", "fat12", "fat16", "fat32", "exfat".
	Type() string
	// Root is the inode number of the root directory.
	Root() uint64
	// Stat describes one inode. Unknown or free inodes give an error wrapping fs.ErrNotExist or Corrupt.
	Stat(ino uint64) (*Stat, error)
	// ReadDir lists a directory in on-disk order, without "." and "..".
	ReadDir(ino uint64) ([]Entry, error)
	// Open returns the content of a regular file (Stat(ino).Size bytes; holes read as zeros).
	Open(ino uint64) (io.ReaderAt, error)
	// ReadLink returns a symbolic link's target.
	ReadLink(ino uint64) (string, error)
}

// Lookuper is implemented by trees with indexed directories (ext4 htree, XFS btrees, NTFS $I30)
// so that a single name is found without listing the whole directory.
type Lookuper interface {
	Lookup(dir uint64, name string) (Entry, error)
}

// Range is a byte range of the volume the file system lives in.
type Range struct {
	Off, Len int64
}

// Extent maps a run of a file's bytes to the volume. Physical < 0 marks a hole (reads as zeros)
// and Encoded marks data that is not stored verbatim (compressed, inline in metadata).
type Extent struct {
	Logical  int64 // byte offset in the file
	Physical int64 // byte offset in the volume, or -1 for a hole
	Length   int64
	Encoded  bool
}

// Extenter is implemented by trees that can say where a file's bytes lie, so that readers of slow
// block devices can fetch them ahead, sorted by disk offset.
type Extenter interface {
	Extents(ino uint64) ([]Extent, error)
}

// InodeLocator is implemented by trees that can tell where an inode's record lies on the
// volume without reading it (ext4's inode tables), so that a walk over a slow source can fetch
// the records of a whole directory's entries at once instead of one miss per entry.
type InodeLocator interface {
	InodeRange(ino uint64) (Range, bool)
}

// Deleted is an entry the file system still remembers after it was deleted.
type Deleted struct {
	Path    string      // former absolute path as far as it can be rebuilt ("/home/u/.ssh/id_rsa"; "/$OrphanFiles/..." when the parent is lost)
	Ino     uint64      // inode / MFT record / synthetic id
	Mode    fs.FileMode // type and permission bits as remembered
	Size    int64       // size as remembered
	ModTime time.Time
	// Content reads what is left of the data; nil when nothing can be recovered (no extents left).
	// It may return bytes that now belong to another file: that is the nature of residual data.
	Content io.ReaderAt
	// Recovered is how many bytes of Size Content can give (0 ≤ Recovered ≤ Size).
	Recovered int64
}

// Residual is implemented by trees that can show what deletion left behind.
type Residual interface {
	// Unallocated yields the byte ranges of the volume no file or metadata owns, in ascending order,
	// coalesced. It reads only allocation bitmaps/trees, never the ranges themselves.
	Unallocated(ctx context.Context) iter.Seq2[Range, error]
	// Deleted yields deleted entries with their former names.
	Deleted(ctx context.Context) iter.Seq2[Deleted, error]
}

// StreamOpener is implemented by trees with named data streams (NTFS).
type StreamOpener interface {
	OpenStream(ino uint64, stream string) (io.ReaderAt, int64, error)
}
