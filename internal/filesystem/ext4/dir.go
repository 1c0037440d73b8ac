package ext4

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
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
// Holes are skipped. Damage confined to one block does not end the walk: a block that cannot be
// mapped or read is passed as (lblk, nil, err), and a block that reads but fails its checksum
// (metadata_csum) as (lblk, b, err), so that callers keep the other blocks. fn returns false
// to stop early. The error returned is damage that stops the walk before it reaches any block
// (a size past the cap, an unreadable block map).
func (f *FS) dirBlocks(in *inode, fn func(lblk uint64, b []byte, err error) bool) error {
	what := "directory inode " + itoa(in.ino)
	if in.flags&flagInlineData != 0 {
		// i_block starts with the parent's inode number; entries follow, then continue in system.data.
		if !fn(0, in.iblock()[4:], nil) {
			return nil
		}
		ext, _, err := f.inodeXattr(in, xattrIndexSystem, "data")
		if err != nil {
			fn(1, nil, err)
			return nil
		}
		if len(ext) > 0 {
			fn(1, ext, nil)
		}
		return nil
	}
	if in.size > maxDirBytes {
		return filesystem.Corrupt("ext4", what, "size %d exceeds the %d-byte cap for directories", in.size, maxDirBytes)
	}
	type skipped struct {
		lblk uint64
		err  error
	}
	var lost []skipped
	runs, err := f.mapRuns(in, func(lblk uint64, err error) { lost = append(lost, skipped{lblk, err}) })
	if err != nil {
		return err
	}
	for _, s := range lost {
		if !fn(s.lblk, nil, filesystem.Corrupt("ext4", fmt.Sprintf("%s block %d", what, s.lblk), "not mapped: %v", s.err)) {
			return nil
		}
	}
	for _, r := range runs {
		if r.uninit {
			continue
		}
		for i := uint64(0); i < r.length; i++ {
			lblk := r.logical + i
			b, err := f.readBlock(r.physical + i)
			if err != nil {
				if !fn(lblk, nil, filesystem.Corrupt("ext4", fmt.Sprintf("%s block %d", what, lblk), "volume block %d: %v", r.physical+i, err)) {
					return nil
				}
				continue
			}
			if !fn(lblk, b, f.dirBlockChecksum(in, lblk, r.physical+i, b)) {
				return nil
			}
		}
	}
	return nil
}

// dirTailSize is the size of the fake entry at the end of a leaf block that holds its checksum.
const dirTailSize = 12

// dirBlockChecksum verifies a leaf block's checksum on metadata_csum volumes, as the kernel
// does before it trusts the block: the last 12 bytes are a fake entry (inode 0, rec_len 12,
// name_len 0, type 0xDE) whose crc32c covers the inode number, its generation and the block
// before it. htree index blocks (dx_root, dx_node) carry another kind of checksum and are not
// checked here.
func (f *FS) dirBlockChecksum(in *inode, lblk, phys uint64, b []byte) error {
	if f.sb.roCompat&roCompatMetaCsum == 0 || int64(len(b)) != f.blockSize {
		return nil
	}
	if in.flags&flagIndex != 0 && (lblk == 0 || le32(b, 0) == 0 && int64(f.decodeRecLen(le16(b, 4))) == f.blockSize) {
		return nil
	}
	what := fmt.Sprintf("directory inode %d block %d", in.ino, lblk)
	t := b[len(b)-dirTailSize:]
	if le32(t, 0) != 0 || le16(t, 4) != dirTailSize || t[6] != 0 || t[7] != 0xDE {
		return filesystem.Corrupt("ext4", what, "volume block %d has no checksum tail (metadata_csum)", phys)
	}
	var id [8]byte
	binary.LittleEndian.PutUint32(id[0:], uint32(in.ino))
	binary.LittleEndian.PutUint32(id[4:], in.generation())
	sum := crc32cRaw(crc32cRaw(f.sb.csumSeed, id[:]), b[:len(b)-dirTailSize])
	if stored := le32(t, 8); stored != sum {
		return filesystem.Corrupt("ext4", what, "volume block %d checksum 0x%08x does not match its content (0x%08x)", phys, stored, sum)
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32cRaw is the kernel's crc32c: no inversion before or after, so that sums chain.
func crc32cRaw(crc uint32, p []byte) uint32 { return ^crc32.Update(^crc, castagnoli, p) }

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

// ReadDir lists a directory in on-disk order, without "." and "..". A damaged block (bad
// rec_len, failed checksum, unmapped or unreadable) does not lose the others: their entries are
// returned together with an error naming the directory inode and each damaged block. Entries
// of a damaged block that parse before the damage are kept.
func (f *FS) ReadDir(ino uint64) ([]filesystem.Entry, error) {
	in, err := f.dirInode(ino)
	if err != nil {
		return nil, err
	}
	var out []filesystem.Entry
	var errs filesystem.Errors
	what := "directory inode " + itoa(ino)
	err = f.dirBlocks(in, func(lblk uint64, b []byte, berr error) bool {
		errs.Add(berr)
		if b == nil {
			return true
		}
		var bad error
		where := fmt.Sprintf("%s block %d", what, lblk)
		err := f.dirents(b, where, func(d dirent) bool {
			if d.ino == 0 || !usableName(d.name) {
				return true
			}
			if uint64(d.ino) > uint64(f.sb.inodesCount) {
				bad = filesystem.Corrupt("ext4", where, "entry %q points at inode %d beyond %d", d.name, d.ino, f.sb.inodesCount)
				return false
			}
			out = append(out, filesystem.Entry{Name: entryName(in, d.name), Ino: uint64(d.ino), Type: f.entryType(d)})
			return true
		})
		if err == nil {
			err = bad
		}
		errs.Add(err)
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, errs.Err()
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

// linearLookup scans every block for the name. Damaged blocks are passed over; when the name
// is in none of the others, the damage is the answer (the name may be in what was lost), not
// fs.ErrNotExist.
func (f *FS) linearLookup(in *inode, name string) (filesystem.Entry, error) {
	var found *filesystem.Entry
	var errs filesystem.Errors
	what := "directory inode " + itoa(in.ino)
	err := f.dirBlocks(in, func(lblk uint64, b []byte, berr error) bool {
		if b == nil {
			errs.Add(berr)
			return true
		}
		err := f.dirents(b, fmt.Sprintf("%s block %d", what, lblk), func(d dirent) bool {
			if d.ino != 0 && usableName(d.name) && entryName(in, d.name) == name {
				found = &filesystem.Entry{Name: name, Ino: uint64(d.ino), Type: f.entryType(d)}
			}
			return found == nil
		})
		errs.Add(err)
		return found == nil
	})
	if found != nil {
		return *found, nil
	}
	if err != nil {
		return filesystem.Entry{}, err
	}
	if err := errs.Err(); err != nil {
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
