package xfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// maxDirEntries caps one directory listing. Entries take at least 16 bytes on disk, so a real
// directory of this size spans 160 MiB of blocks; beyond it the listing is refused as hostile.
const maxDirEntries = 10_000_000

// dir is an opened block-mapped directory (block, leaf, node or btree-mapped).
type dir struct {
	f    *FS
	n    *inode
	m    forkMap
	what string
}

// openDir reads a directory inode; for short-form directories m is nil.
func (f *FS) openDir(ino uint64) (*dir, error) {
	n, err := f.readInode(ino, false)
	if err != nil {
		return nil, err
	}
	if !n.isDir() {
		return nil, fmt.Errorf("xfs: inode %d is not a directory (mode %#o)", ino, n.mode)
	}
	d := &dir{f: f, n: n, what: fmt.Sprintf("inode %d directory", ino)}
	switch n.format {
	case formatLocal:
	case formatExtents, formatBtree:
		if d.m, err = f.dataMap(n); err != nil {
			return nil, err
		}
	default:
		return nil, filesystem.Corrupt("xfs", d.what, "data fork format %d", n.format)
	}
	return d, nil
}

// ReadDir lists a directory in on-disk order, without "." and "..". A broken data block (bad
// magic, an entry running past its end, unreadable, mapped twice) is skipped: the entries of
// every other block are returned with an error naming each broken one.
func (f *FS) ReadDir(ino uint64) ([]filesystem.Entry, error) {
	d, err := f.openDir(ino)
	if err != nil {
		return nil, err
	}
	var out []filesystem.Entry
	var entryErr error // the first entry with an impossible name
	full := false
	add := func(e rawDirent, what string) bool {
		ent, ok, err := f.entry(e, what)
		if err != nil && entryErr == nil {
			entryErr = err
		}
		if !ok {
			return true
		}
		if len(out) >= maxDirEntries {
			full = true
			return false
		}
		out = append(out, ent)
		return true
	}
	if d.m == nil {
		sf, err := f.parseShortForm(d.n)
		if sf != nil {
			for _, e := range sf.entries {
				add(e, d.what)
			}
		}
		if err != nil {
			return out, err
		}
		return out, entryErr
	}
	err = d.eachDataBlock(func(db uint64, b []byte) error {
		what := fmt.Sprintf("%s data block %d", d.what, db)
		if _, err := f.walkDataBlock(b, what, func(e rawDirent) bool { return add(e, what) }, nil); err != nil {
			return err
		}
		if full {
			return fmt.Errorf("%w: %w", errStopDir, filesystem.Corrupt("xfs", d.what, "more than %d entries", maxDirEntries))
		}
		return nil
	})
	if err != nil {
		return out, errors.Join(err, entryErr)
	}
	return out, entryErr
}

// errStopDir, wrapped in an error of eachDataBlock's fn, ends the walk instead of skipping the block.
var errStopDir = errors.New("directory walk stopped")

// entry turns a raw entry into the contract's filesystem.Entry; ok is false for "." and ".." and for names
// no path can hold, which come back as an error naming the directory block.
func (f *FS) entry(e rawDirent, what string) (filesystem.Entry, bool, error) {
	name := string(e.name)
	if name == "." || name == ".." {
		return filesystem.Entry{}, false, nil
	}
	if bytes.IndexByte(e.name, '/') >= 0 || bytes.IndexByte(e.name, 0) >= 0 {
		return filesystem.Entry{}, false, filesystem.Corrupt("xfs", what, "entry name %q at offset %d holds '/' or NUL", name, e.off)
	}
	t, ok := ftypeMode(e.ftype)
	if !f.ftype || !ok {
		// No usable type in the entry: ask the inode (unreadable inodes stay listed as regular
		// files so that their Stat reports what is wrong with them).
		if n, err := f.readInode(e.ino, false); err == nil {
			if m, ok := filesystem.UnixMode(n.mode); ok {
				t = m.Type()
			}
		}
	}
	return filesystem.Entry{Name: name, Ino: e.ino, Type: t}, true, nil
}

// ftypeMode maps a directory entry file type (XFS_DIR3_FT_*) to Go's type bits; XFS adds 8,
// the overlayfs whiteout, which is a 0/0 character device.
func ftypeMode(ft uint8) (fs.FileMode, bool) {
	if ft == 8 {
		return fs.ModeDevice | fs.ModeCharDevice, true
	}
	return filesystem.DirentType(ft)
}

// fsbPerDirBlock is how many file-system blocks one directory block spans.
func (d *dir) fsbPerDirBlock() uint64 { return 1 << d.f.sb.dirBlkLog }

// leafStart is the first file block of the leaf/node section (byte offset 32 GiB).
func (d *dir) leafStart() uint64 { return leafOffBytes >> d.f.sb.blockLog }

// eachDataBlock calls fn with every mapped data block (below the 32 GiB leaf section and the
// directory size), in ascending order; db is the first file block of the directory block. A
// block that cannot be read, is mapped twice, or for which fn fails is skipped and its error
// kept; the walk goes on and returns the errors at the end. An fn error wrapping errStopDir
// ends it at once.
func (d *dir) eachDataBlock(fn func(db uint64, b []byte) error) error {
	var errs filesystem.Errors
	per := d.fsbPerDirBlock()
	limit := d.leafStart()
	if sizeBlocks := (uint64(d.n.size) + uint64(d.f.sb.blockSize) - 1) >> d.f.sb.blockLog; sizeBlocks < limit {
		limit = sizeBlocks
	}
	next := uint64(0) // first directory block not yet visited
	// Directory blocks are never shared: a block mapped twice would multiply its entries (a
	// memory amplification with a small hostile block map), so it is refused.
	seen := map[uint64]bool{}
	for _, e := range d.m {
		if e.off >= limit {
			break
		}
		first := max(e.off&^(per-1), next)
		end := min(e.off+uint64(e.count), limit)
		for db := first; db < end; db += per {
			phys := e.start + (max(db, e.off) - e.off)
			next = db + per
			if seen[phys] {
				errs.Add(filesystem.Corrupt("xfs", fmt.Sprintf("%s data block %d", d.what, db), "file-system block %d is mapped twice", phys))
				continue
			}
			seen[phys] = true
			b, err := d.block(db)
			if err != nil {
				errs.Add(err)
				continue
			}
			if b != nil {
				if err := fn(db, b); err != nil {
					if errors.Is(err, errStopDir) {
						errs.Add(err)
						return errs.Err()
					}
					errs.Add(err)
				}
			}
		}
	}
	return errs.Err()
}

// block reads the directory block starting at file block db; nil when it is not (fully) mapped.
func (d *dir) block(db uint64) ([]byte, error) {
	per := d.fsbPerDirBlock()
	if per == 1 {
		i := d.m.find(db)
		if i < 0 {
			return nil, nil
		}
		off, _ := d.f.sb.fsbOffset(d.m[i].start + db - d.m[i].off)
		b, err := d.f.vol.block(off)
		if err != nil {
			return nil, fmt.Errorf("xfs: %s block %d: %w", d.what, db, err)
		}
		return b, nil
	}
	out := make([]byte, 0, d.f.sb.dirBlockSize())
	for fb := db; fb < db+per; fb++ {
		i := d.m.find(fb)
		if i < 0 {
			if fb == db {
				return nil, nil
			}
			return nil, filesystem.Corrupt("xfs", d.what, "directory block at file block %d is only partly mapped", db)
		}
		off, _ := d.f.sb.fsbOffset(d.m[i].start + fb - d.m[i].off)
		b, err := d.f.vol.block(off)
		if err != nil {
			return nil, fmt.Errorf("xfs: %s block %d: %w", d.what, fb, err)
		}
		out = append(out, b...)
	}
	return out, nil
}
