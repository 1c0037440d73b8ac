package ntfs

import (
	"errors"
	"fmt"
	"io/fs"
	"unicode/utf16"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

var errNotDir = errors.New("not a directory")

// ReadDir lists a directory in index order. DOS 8.3 aliases, the root's own "." entry and the
// metadata files in the root ($MFT, $Bitmap, $Extend, ...) are left out, as are entries whose
// file has been deleted or reused since (the sequence number in the entry no longer matches).
// An INDX block that cannot be read loses only the entries of its subtree: the rest is returned
// with an error naming the block.
func (f *FS) ReadDir(ino uint64) ([]filesystem.Entry, error) {
	ix, err := f.dirIndex(ino)
	if err != nil {
		return nil, err
	}
	var out []filesystem.Entry
	err = ix.walk(func(e *indexEntry) error {
		entry, ok := f.entryFor(ino, e, e.key.name())
		if !ok {
			return nil
		}
		if len(out) >= maxDirEntries {
			return corrupt(fmt.Sprintf("MFT record %d $I30", ino), "more than %d entries", maxDirEntries)
		}
		out = append(out, entry)
		return nil
	})
	if err != nil && len(out) == 0 {
		return nil, err
	}
	return out, err
}

// Lookup finds one name in a directory by descending its B+tree in $UpCase collation order (or,
// without a usable $UpCase, by a walk of the whole index). Names are matched exactly, as io/fs
// paths are case-sensitive.
func (f *FS) Lookup(dir uint64, name string) (filesystem.Entry, error) {
	ix, err := f.dirIndex(dir)
	if err != nil {
		return filesystem.Entry{}, err
	}
	var found filesystem.Entry
	ok := false
	match := func(e *indexEntry) error {
		if e.key.name() != name {
			return nil
		}
		if entry, good := f.entryFor(dir, e, name); good {
			found, ok = entry, true
			return errStopWalk
		}
		return nil
	}
	if f.upcase != nil && ix.collation == collationFileName {
		err = ix.search(f.upcase, utf16.Encode([]rune(name)), match)
	} else {
		err = ix.walk(match)
	}
	if err != nil && err != errStopWalk {
		return filesystem.Entry{}, err
	}
	if !ok {
		return filesystem.Entry{}, fmt.Errorf("ntfs: %q in MFT record %d: %w", name, dir, fs.ErrNotExist)
	}
	return found, nil
}

func (f *FS) dirIndex(ino uint64) (*dirIndex, error) {
	n, err := f.node(ino)
	if err != nil {
		return nil, err
	}
	if n.kind != kindDir {
		return nil, fmt.Errorf("ntfs: MFT record %d: %w", ino, errNotDir)
	}
	return f.openIndex(n)
}

// entryFor turns an index entry of directory dir into a listing entry, or reports that it is not
// listed. The type comes from the file itself; a file that cannot be read is still listed (with
// the type its index key records) so that Stat reports what is wrong with it.
func (f *FS) entryFor(dir uint64, e *indexEntry, name string) (filesystem.Entry, bool) {
	if e.key.namespace == namespaceDOS || !validName(name) || e.ref.num == dir ||
		(dir == rootRecord && e.ref.num < firstUserEntry) {
		return filesystem.Entry{}, false
	}
	entry := filesystem.Entry{Name: name, Ino: e.ref.num}
	child, err := f.node(e.ref.num)
	switch {
	case err == nil:
		if child.seq != e.ref.seq {
			return entry, false
		}
		entry.Type = child.mode().Type()
	case errors.Is(err, fs.ErrNotExist):
		return entry, false
	case e.key.attrs&fileDirectory != 0:
		entry.Type = fs.ModeDir
	}
	return entry, true
}

// search visits the entries whose keys collate equal to name, descending only into the subtrees
// that can hold them. A child block that cannot be read is skipped and its error returned at the
// end, so that it answers only a search that visit did not end: the key that points to a damaged
// block (c == 0) is still visited, and so are the equal keys after it.
func (ix *dirIndex) search(upcase []uint16, name []uint16, visit func(e *indexEntry) error) error {
	seen := map[int64]bool{}
	var skipped filesystem.Errors
	var searchNode func(entries []indexEntry, depth int) error
	searchNode = func(entries []indexEntry, depth int) error {
		for i := range entries {
			e := &entries[i]
			c := -1 // the closing entry is greater than every name
			if !e.last() {
				c = collate(upcase, name, e.key.raw)
			}
			if c <= 0 && e.sub >= 0 {
				children, err := ix.child(e.sub, depth, seen)
				if err != nil {
					skipped.Add(err)
				} else if err := searchNode(children, depth+1); err != nil {
					return err
				}
			}
			if c < 0 {
				return nil
			}
			if c == 0 {
				if err := visit(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := searchNode(ix.root, 0); err != nil {
		return err
	}
	return skipped.Err()
}
