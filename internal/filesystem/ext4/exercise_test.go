package ext4

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Bounds on the work one exercise does, so that a fuzz input cannot make the harness itself slow.
const (
	exerciseMaxEntries = 2000
	exerciseMaxRead    = 256 << 10
	exerciseMaxInodes  = 64
)

// exercise opens an image and calls everything a scanner would: list all, stat all, read all,
// look up all, extents, and both residual iterators. It returns the errors met (a hostile image
// must produce errors, never a panic or a hang).
func exercise(t testing.TB, data []byte) []error {
	r := bytes.NewReader(data)
	size := int64(len(data))
	Detect(r, size)
	x, err := Open(r, size)
	if err != nil {
		return []error{err}
	}
	_, _, _ = x.Type(), x.Label(), x.UUID()
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	fsys := filesystem.New(x)
	n := 0
	note(fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// A directory whose listing failed part-way is walked into for what it returned,
			// as the content scan does, so that fuzzing reaches past the damage.
			note(err)
			return nil
		}
		if n++; n > exerciseMaxEntries {
			return fs.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			note(err)
			return nil
		}
		st := info.Sys().(*filesystem.Stat)
		_, err = x.Extents(st.Inode)
		note(err)
		switch {
		case d.Type().IsRegular():
			f, err := fsys.Open(p)
			if err != nil {
				note(err)
				return nil
			}
			_, err = io.Copy(io.Discard, io.LimitReader(f, exerciseMaxRead))
			note(err)
			f.Close()
		case d.Type()&fs.ModeSymlink != 0:
			_, err := fsys.ReadLink(p)
			note(err)
		case d.IsDir():
			entries, err := x.ReadDir(st.Inode)
			note(err)
			for i, e := range entries {
				if i > 50 {
					break
				}
				_, err := x.Lookup(st.Inode, e.Name)
				note(err)
			}
			_, err = x.Lookup(st.Inode, "no-such-name")
			note(err)
		}
		return nil
	}))
	// Inodes by number, whether or not a name reaches them.
	for ino := uint64(1); ino <= exerciseMaxInodes; ino++ {
		if _, err := x.Stat(ino); err != nil {
			continue
		}
		_, err := x.ReadDir(ino)
		note(err)
		if ra, err := x.Open(ino); err == nil {
			_, err = io.Copy(io.Discard, io.NewSectionReader(ra, 0, exerciseMaxRead))
			note(err)
		}
		_, err = x.ReadLink(ino)
		note(err)
		_, err = x.Extents(ino)
		note(err)
	}
	ctx := context.Background()
	k := 0
	for _, err := range x.Unallocated(ctx) {
		note(err)
		if k++; k > 100_000 {
			break
		}
	}
	k = 0
	for d, err := range x.Deleted(ctx) {
		note(err)
		if d.Content != nil {
			_, err := io.Copy(io.Discard, io.NewSectionReader(d.Content, 0, min(d.Size, exerciseMaxRead)))
			note(err)
		}
		if k++; k > exerciseMaxEntries {
			break
		}
	}
	return errs
}
