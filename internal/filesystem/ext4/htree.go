package ext4

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// errNoIndex says the htree cannot be used for a lookup (unknown hash, damaged index); the
// caller falls back to a linear scan, as the kernel does.
var errNoIndex = errors.New("ext4: directory index unusable")

const (
	dxRootInfoOff    = 24
	dxEntrySize      = 8
	dxBlockMask      = 0x0fffffff
	maxHashCollision = 64 // leaf blocks followed for one run of equal hashes
)

// indexed tells whether Lookup may use a directory's htree. Casefolded and encrypted
// directories hash a transformed name (casefold, siphash), so they are scanned instead.
func (f *FS) indexed(in *inode) bool {
	return f.sb.compat&compatDirIndex != 0 && in.flags&flagIndex != 0 &&
		in.flags&(flagInlineData|flagCasefold|flagEncrypt) == 0
}

// dxLevel is one index block on the way down: its entries and the one taken.
type dxLevel struct {
	entries []byte // starts with the count/limit header; entry i at 8*i
	count   int
	at      int
}

func (l *dxLevel) hash(i int) uint32  { return le32(l.entries, i*dxEntrySize) }
func (l *dxLevel) block(i int) uint64 { return uint64(le32(l.entries, i*dxEntrySize+4) & dxBlockMask) }

type htree struct {
	f    *FS
	dir  *inode
	runs []run
	what string
}

func (t *htree) bad(reason string, args ...any) error {
	return fmt.Errorf("%w: %w", errNoIndex, filesystem.Corrupt("ext4", t.what, reason, args...))
}

// block reads a logical block of the directory.
func (t *htree) block(lblk uint64) ([]byte, error) {
	i := sort.Search(len(t.runs), func(i int) bool { return t.runs[i].logical+t.runs[i].length > lblk })
	if i == len(t.runs) || t.runs[i].logical > lblk || t.runs[i].uninit {
		return nil, t.bad("logical block %d is not mapped", lblk)
	}
	b, err := t.f.readBlock(t.runs[i].physical + lblk - t.runs[i].logical)
	if err != nil {
		return nil, t.bad("logical block %d: %v", lblk, err)
	}
	return b, nil
}

// level parses the count/limit header at off in an index block.
func (t *htree) level(b []byte, off int, what string) (dxLevel, error) {
	limit, count := int(le16(b, off)), int(le16(b, off+2))
	if fits := (len(b) - off) / dxEntrySize; limit > fits || count > limit || count == 0 {
		return dxLevel{}, t.bad("%s: count %d / limit %d exceed the %d entries the block holds", what, count, limit, fits)
	}
	return dxLevel{entries: b[off : off+count*dxEntrySize], count: count}, nil
}

// descend picks, in l, the last entry whose hash is ≤ h (entry 0 covers everything below).
func (l *dxLevel) descend(h uint32) {
	l.at = sort.Search(l.count-1, func(i int) bool { return l.hash(i+1) > h })
}

func (f *FS) htreeLookup(dir *inode, name string) (filesystem.Entry, error) {
	t := &htree{f: f, dir: dir, what: "directory inode " + itoa(dir.ino) + " htree"}
	// Extents that are damaged only lose their own blocks: a name hashed to a good leaf is found.
	runs, err := f.mapRuns(dir, func(uint64, error) {})
	if err != nil {
		return filesystem.Entry{}, fmt.Errorf("%w: %w", errNoIndex, err)
	}
	t.runs = runs
	root, err := t.block(0)
	if err != nil {
		return filesystem.Entry{}, err
	}
	if f.decodeRecLen(le16(root, 4)) != 12 || int64(f.decodeRecLen(le16(root, 16))) != f.blockSize-12 {
		return filesystem.Entry{}, t.bad("root block does not start with \".\" and \"..\" entries")
	}
	version, infoLen, levels := root[dxRootInfoOff+4], int(root[dxRootInfoOff+5]), int(root[dxRootInfoOff+6])
	maxLevels := 2
	if f.sb.incompat&incompatLargeDir != 0 {
		maxLevels = 3
	}
	if infoLen != 8 || levels >= maxLevels {
		return filesystem.Entry{}, t.bad("dx_root info length %d / %d indirect levels (at most %d)", infoLen, levels, maxLevels-1)
	}
	if version <= hashTea && f.sb.flags&flagUnsignedHash != 0 {
		version += hashLegacyUnsigned
	}
	h, ok := dirHash(version, f.sb.hashSeed, []byte(name))
	if !ok {
		return filesystem.Entry{}, t.bad("hash version %d is unknown", version)
	}
	top, err := t.level(root, dxRootInfoOff+infoLen, "dx_root")
	if err != nil {
		return filesystem.Entry{}, err
	}
	top.descend(h)
	path := []dxLevel{top}
	if err := t.down(&path, levels, h); err != nil {
		return filesystem.Entry{}, err
	}
	for step := 0; step < maxHashCollision; step++ {
		leaf := path[len(path)-1]
		e, err := t.search(leaf.block(leaf.at), name)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return e, err
		}
		// A run of names with the same hash may continue in the next leaf; its index entry
		// then carries the same hash with the low (collision) bit set.
		more, err := t.next(&path, levels, h)
		if err != nil || !more {
			return filesystem.Entry{}, errors.Join(fs.ErrNotExist, err)
		}
	}
	return filesystem.Entry{}, fs.ErrNotExist
}

// down descends from the last level of path to a leaf, choosing by hash at each node; with
// first set it takes the first entry instead (continuing to the next leaf).
func (t *htree) down(path *[]dxLevel, levels int, h uint32) error {
	for len(*path) <= levels {
		cur := (*path)[len(*path)-1]
		b, err := t.block(cur.block(cur.at))
		if err != nil {
			return err
		}
		if le32(b, 0) != 0 || int64(t.f.decodeRecLen(le16(b, 4))) != t.f.blockSize {
			return t.bad("index node at logical block %d lacks its empty covering entry", cur.block(cur.at))
		}
		l, err := t.level(b, 8, fmt.Sprintf("dx_node at logical block %d", cur.block(cur.at)))
		if err != nil {
			return err
		}
		l.descend(h)
		*path = append(*path, l)
	}
	return nil
}

// next moves path to the following leaf when its hash continues h; it reports whether it did.
func (t *htree) next(path *[]dxLevel, levels int, h uint32) (bool, error) {
	p := *path
	i := len(p) - 1
	for ; i >= 0 && p[i].at+1 >= p[i].count; i-- {
	}
	if i < 0 {
		return false, nil
	}
	p[i].at++
	if p[i].hash(p[i].at)&^1 != h {
		return false, nil
	}
	*path = p[:i+1]
	// Below the advanced entry, take each node's first entry: hash 0 sorts first.
	if err := t.down(path, levels, 0); err != nil {
		return false, err
	}
	return true, nil
}

// search scans one leaf block for an exact name.
func (t *htree) search(lblk uint64, name string) (filesystem.Entry, error) {
	if lblk == 0 {
		return filesystem.Entry{}, t.bad("an index entry names the root block as a leaf")
	}
	b, err := t.block(lblk)
	if err != nil {
		return filesystem.Entry{}, err
	}
	if le32(b, 0) == 0 && int64(t.f.decodeRecLen(le16(b, 4))) == t.f.blockSize && b[6] == 0 {
		// An index node (or an empty leaf) where a leaf was promised: if the index loops, only
		// a linear scan can still answer.
		return filesystem.Entry{}, t.bad("logical block %d is reached as a leaf but holds no entries", lblk)
	}
	var found *filesystem.Entry
	err = t.f.dirents(b, fmt.Sprintf("directory inode %d block %d", t.dir.ino, lblk), func(d dirent) bool {
		if d.ino != 0 && string(d.name) == name && usableName(d.name) {
			found = &filesystem.Entry{Name: name, Ino: uint64(d.ino), Type: t.f.entryType(d)}
		}
		return found == nil
	})
	if found != nil {
		return *found, nil
	}
	if err != nil {
		return filesystem.Entry{}, fmt.Errorf("%w: %w", errNoIndex, err)
	}
	return filesystem.Entry{}, fs.ErrNotExist
}
