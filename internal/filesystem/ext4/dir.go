package ext4

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

const (
	direntHdr = 8
	// maxDirBytes caps the directory size read (several million entries; the kernel without large_dir stops near 10 million).
	maxDirBytes = 128 << 20
	// encryptedPrefix marks names of fscrypt directories: they are ciphertext, shown in hex.
	encryptedPrefix = "$encrypted-"
	// maxLinkTarget caps symbolic link targets (the kernel's is one page).
	maxLinkTarget = 64 << 10
)

// dirent is one raw directory entry inside a block.
type dirent struct {
	ino    uint32
	name   []byte
	ftype  uint8
	off    int // offset in the block
	recLen int
}

// decodeRecLen undoes the 64 KiB-block encoding of rec_len (65536 does not fit in 16 bits).
func (f *FS) decodeRecLen(v uint16) int {
	if f.blockSize < 65536 {
		return int(v)
	}
	if v == 65535 || v == 0 {
		return 65536
	}
	return int(v&65532) | int(v&3)<<16
}

// dirents walks the entries of one directory block in order, calling fn for each (including
// entries whose inode is 0). A rec_len that does not advance, or overruns, ends it with an error.
func (f *FS) dirents(b []byte, what string, fn func(d dirent) bool) error {
	filetype := f.sb.incompat&incompatFiletype != 0
	for off := 0; off < len(b); {
		if off+direntHdr > len(b) {
			return filesystem.Corrupt("ext4", what, "entry at offset %d is cut off by the end of the block", off)
		}
		recLen := f.decodeRecLen(le16(b, off+4))
		var nameLen int
		var ftype uint8
		if filetype {
			nameLen, ftype = int(b[off+6]), b[off+7]
		} else {
			nameLen = int(le16(b, off+6))
		}
		if recLen < direntHdr || recLen%4 != 0 || recLen > len(b)-off {
			return filesystem.Corrupt("ext4", what, "entry at offset %d has rec_len %d (must be ≥ 8, a multiple of 4, within the block)", off, recLen)
		}
		if direntHdr+nameLen > recLen {
			return filesystem.Corrupt("ext4", what, "entry at offset %d has name_len %d beyond its rec_len %d", off, nameLen, recLen)
		}
		d := dirent{ino: le32(b, off), name: b[off+direntHdr : off+direntHdr+nameLen], ftype: ftype, off: off, recLen: recLen}
		if !fn(d) {
			return nil
		}
		off += recLen
	}
	return nil
}

// dirBlocks calls fn with each block (or inline region) of a directory, in logical order.
// Holes are skipped. fn returns false to stop early.
func (f *FS) dirBlocks(in *inode, fn func(lblk uint64, b []byte) (bool, error)) error {
	what := "directory inode " + itoa(in.ino)
	if in.flags&flagInlineData != 0 {
		// i_block starts with the parent's inode number; entries follow, then continue in system.data.
		if more, err := fn(0, in.iblock()[4:]); err != nil || !more {
			return err
		}
		ext, _, err := f.inodeXattr(in, xattrIndexSystem, "data")
		if err != nil || len(ext) == 0 {
			return err
		}
		_, err = fn(1, ext)
		return err
	}
	if in.size > maxDirBytes {
		return filesystem.Corrupt("ext4", what, "size %d exceeds the %d-byte cap for directories", in.size, maxDirBytes)
	}
	runs, err := f.blockRuns(in)
	if err != nil {
		return err
	}
	for _, r := range runs {
		if r.uninit {
			continue
		}
		for i := uint64(0); i < r.length; i++ {
			b, err := f.readBlock(r.physical + i)
			if err != nil {
				return filesystem.Corrupt("ext4", what, "block %d: %v", r.logical+i, err)
			}
			if more, err := fn(r.logical+i, b); err != nil || !more {
				return err
			}
		}
	}
	return nil
}

// entryName renders a stored name: ciphertext names of encrypted directories become hex, since
// they are unreadable without the key and may contain '/' or NUL.
func entryName(dir *inode, name []byte) string {
	if dir.flags&flagEncrypt != 0 {
		return encryptedPrefix + hex.EncodeToString(name)
	}
	return string(name)
}

// usableName rejects names an fs.FS path cannot carry; the kernel never writes them.
func usableName(name []byte) bool {
	if len(name) == 0 || bytes.IndexByte(name, '/') >= 0 || bytes.IndexByte(name, 0) >= 0 {
		return false
	}
	return !(len(name) == 1 && name[0] == '.') && !(len(name) == 2 && name[0] == '.' && name[1] == '.')
}

func (f *FS) dirInode(ino uint64) (*inode, error) {
	in, err := f.inUse(ino)
	if err != nil {
		return nil, err
	}
	if !in.isDir() {
		return nil, fmt.Errorf("ext4: inode %d is not a directory: %w", ino, fs.ErrInvalid)
	}
	return in, nil
}

// entryType is the type of an entry, from the entry itself when the file system records it.
func (f *FS) entryType(d dirent) fs.FileMode {
	if t, ok := filesystem.DirentType(d.ftype); ok && f.sb.incompat&incompatFiletype != 0 {
		return t
	}
	if in, err := f.readInode(uint64(d.ino)); err == nil {
		return in.goMode().Type()
	}
	return fs.ModeIrregular
}

// ReadDir lists a directory in on-disk order, without "." and "..".
func (f *FS) ReadDir(ino uint64) ([]filesystem.Entry, error) {
	in, err := f.dirInode(ino)
	if err != nil {
		return nil, err
	}
	var out []filesystem.Entry
	what := "directory inode " + itoa(ino)
	err = f.dirBlocks(in, func(lblk uint64, b []byte) (bool, error) {
		var bad error
		err := f.dirents(b, fmt.Sprintf("%s block %d", what, lblk), func(d dirent) bool {
			if d.ino == 0 || !usableName(d.name) {
				return true
			}
			if uint64(d.ino) > uint64(f.sb.inodesCount) {
				bad = filesystem.Corrupt("ext4", fmt.Sprintf("%s block %d", what, lblk), "entry %q points at inode %d beyond %d", d.name, d.ino, f.sb.inodesCount)
				return false
			}
			out = append(out, filesystem.Entry{Name: entryName(in, d.name), Ino: uint64(d.ino), Type: f.entryType(d)})
			return true
		})
		if err == nil {
			err = bad
		}
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Lookup finds one name in a directory: through the htree index when there is one and the
// name hash can be computed, else by a linear scan that stops at the first match.
func (f *FS) Lookup(dir uint64, name string) (filesystem.Entry, error) {
	in, err := f.dirInode(dir)
	if err != nil {
		return filesystem.Entry{}, err
	}
	if f.indexed(in) {
		e, err := f.htreeLookup(in, name)
		if !errors.Is(err, errNoIndex) {
			return e, err
		}
	}
	return f.linearLookup(in, name)
}

func (f *FS) linearLookup(in *inode, name string) (filesystem.Entry, error) {
	var found *filesystem.Entry
	what := "directory inode " + itoa(in.ino)
	err := f.dirBlocks(in, func(lblk uint64, b []byte) (bool, error) {
		err := f.dirents(b, fmt.Sprintf("%s block %d", what, lblk), func(d dirent) bool {
			if d.ino != 0 && usableName(d.name) && entryName(in, d.name) == name {
				found = &filesystem.Entry{Name: name, Ino: uint64(d.ino), Type: f.entryType(d)}
			}
			return found == nil
		})
		return found == nil, err
	})
	if found != nil {
		return *found, nil
	}
	if err != nil {
		return filesystem.Entry{}, err
	}
	return filesystem.Entry{}, fs.ErrNotExist
}

// ReadLink returns a symbolic link's target (fast, slow or inline).
func (f *FS) ReadLink(ino uint64) (string, error) {
	in, err := f.inUse(ino)
	if err != nil {
		return "", err
	}
	if !in.isLink() {
		return "", fmt.Errorf("ext4: inode %d is not a symbolic link: %w", ino, fs.ErrInvalid)
	}
	if in.flags&flagEncrypt != 0 {
		return "", fmt.Errorf("ext4: symbolic link inode %d is encrypted (fscrypt): its target is unreadable without the key", ino)
	}
	if in.size > maxLinkTarget {
		return "", filesystem.Corrupt("ext4", "symbolic link inode "+itoa(ino), "target of %d bytes exceeds %d", in.size, maxLinkTarget)
	}
	r, err := f.content(in)
	if err != nil {
		return "", err
	}
	b := make([]byte, in.size)
	if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
		return "", err
	}
	return string(b), nil
}
