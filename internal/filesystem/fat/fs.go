package fat

import (
	"context"
	"fmt"
	"io"
	"iter"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// rootIno is the synthetic id of the root directory. Real ids are directory-entry offsets / 32,
// and offset 32 lies inside the boot sector, so 1 never names an entry.
const rootIno = 1

// volume is what the FAT12/16/32 reader and the exFAT reader both implement; FS forwards to it.
type volume interface {
	filesystem.Tree
	filesystem.Extenter
	filesystem.Residual
	label() string
	serial() (uint32, bool)
}

// FS is an open FAT12, FAT16, FAT32 or exFAT volume. It implements filesystem.Tree,
// filesystem.Extenter and filesystem.Residual, and is safe for concurrent use.
type FS struct {
	v volume
}

var (
	_ filesystem.Tree     = (*FS)(nil)
	_ filesystem.Extenter = (*FS)(nil)
	_ filesystem.Residual = (*FS)(nil)
)

// Detect reports whether the volume holds FAT12/16/32 (a boot sector whose BIOS parameter block
// has sane fields that fit the volume) or exFAT ("EXFAT   " at offset 3).
func Detect(r io.ReaderAt, size int64) bool {
	var boot [512]byte
	if size < int64(len(boot)) {
		return false
	}
	if _, err := r.ReadAt(boot[:], 0); err != nil && err != io.EOF {
		return false
	}
	if string(boot[3:11]) == exfatSignature {
		return true
	}
	_, err := parseBPB(boot[:], size)
	return err == nil
}

// Open reads the boot sector (and for exFAT the boot region checksum, allocation bitmap and
// up-case table) and returns the volume. Type() tells which FAT it is.
func Open(r io.ReaderAt, size int64) (*FS, error) {
	var boot [512]byte
	if size < int64(len(boot)) {
		return nil, filesystem.Corrupt("fat", "boot sector", "volume of %d bytes is smaller than one sector", size)
	}
	if _, err := r.ReadAt(boot[:], 0); err != nil && err != io.EOF {
		return nil, err
	}
	if string(boot[3:11]) == exfatSignature {
		v, err := openExFAT(r, size)
		if err != nil {
			return nil, err
		}
		return &FS{v: v}, nil
	}
	v, err := openFAT(r, size, boot[:])
	if err != nil {
		return nil, err
	}
	return &FS{v: v}, nil
}

// Type is "fat12", "fat16", "fat32" or "exfat".
func (f *FS) Type() string { return f.v.Type() }

// Root is the id of the root directory.
func (f *FS) Root() uint64 { return rootIno }

// Stat describes the file whose directory entry has this id.
func (f *FS) Stat(ino uint64) (*filesystem.Stat, error) { return f.v.Stat(ino) }

// ReadDir lists a directory in on-disk order, without "." and "..".
func (f *FS) ReadDir(ino uint64) ([]filesystem.Entry, error) { return f.v.ReadDir(ino) }

// Open returns the content of a regular file.
func (f *FS) Open(ino uint64) (io.ReaderAt, error) { return f.v.Open(ino) }

// ReadLink always fails: FAT has no symbolic links.
func (f *FS) ReadLink(ino uint64) (string, error) { return f.v.ReadLink(ino) }

// Extents gives where a file's (or directory's) clusters lie in the volume.
func (f *FS) Extents(ino uint64) ([]filesystem.Extent, error) { return f.v.Extents(ino) }

// Unallocated yields the free clusters as volume byte ranges, ascending and coalesced.
func (f *FS) Unallocated(ctx context.Context) iter.Seq2[filesystem.Range, error] {
	return f.v.Unallocated(ctx)
}

// Deleted yields the directory entries deletion left behind.
func (f *FS) Deleted(ctx context.Context) iter.Seq2[filesystem.Deleted, error] {
	return f.v.Deleted(ctx)
}

// Label is the volume label: the root directory's label entry when there is one, else the boot
// sector's (FAT12/16/32 only; "NO NAME" counts as none).
func (f *FS) Label() string { return f.v.label() }

// UUID is the volume serial number as DOS prints it, "ABCD-1234"; "" when the boot sector of an
// old FAT12/16 volume has none.
func (f *FS) UUID() string {
	s, ok := f.v.serial()
	if !ok {
		return ""
	}
	return fmt.Sprintf("%04X-%04X", s>>16, s&0xFFFF)
}
