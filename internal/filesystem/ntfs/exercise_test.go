package ntfs

import (
	"context"
	"io"
	"io/fs"
	"path"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// exerciseLimits bound the work of exercise, so that a hostile image that claims huge files or
// directories still finishes fast under the fuzzer.
type exerciseLimits struct {
	entries   int   // directory entries visited
	readBytes int64 // bytes read from files, streams and deleted content
	residual  int   // items taken from each residual iterator
}

// exercise walks the whole tree through the io/fs adapter and calls every method of the tree on
// what it finds: Stat, Lookup, ReadLink, Open and read, OpenStream, Extents, Deleted (reading
// content) and Unallocated. It returns how many operations failed; it must never panic or hang.
func exercise(v *FS, lim exerciseLimits) (failures int) {
	fsys := filesystem.New(v)
	buf := make([]byte, 64<<10)
	read := func(r io.ReaderAt, size int64) {
		for off := int64(0); off < size && lim.readBytes > 0; {
			n, err := r.ReadAt(buf, off)
			lim.readBytes -= int64(n)
			off += int64(n)
			if err != nil || n == 0 {
				if err != io.EOF {
					failures++
				}
				return
			}
		}
	}
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			failures++
			return nil
		}
		if lim.entries--; lim.entries < 0 {
			return fs.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			failures++
			return nil
		}
		st := info.Sys().(*filesystem.Stat)
		if p != "." {
			if dir, err := fsys.Lstat(path.Dir(p)); err == nil {
				if _, err := v.Lookup(dir.Sys().(*filesystem.Stat).Inode, path.Base(p)); err != nil {
					failures++
				}
			}
		}
		switch {
		case st.Mode&fs.ModeSymlink != 0:
			if _, err := v.ReadLink(st.Inode); err != nil {
				failures++
			}
		case st.Mode.IsRegular():
			if r, err := v.Open(st.Inode); err != nil {
				failures++
			} else {
				read(r, st.Size)
			}
			if _, err := v.Extents(st.Inode); err != nil {
				failures++
			}
		}
		for _, s := range st.Streams {
			if r, size, err := v.OpenStream(st.Inode, s.Name); err != nil {
				failures++
			} else {
				read(r, size)
			}
		}
		return nil
	})
	ctx := context.Background()
	n := 0
	for d, err := range v.Deleted(ctx) {
		if err != nil {
			failures++
		} else if d.Content != nil {
			read(d.Content, d.Size)
		}
		if n++; n >= lim.residual {
			break
		}
	}
	n = 0
	for _, err := range v.Unallocated(ctx) {
		if err != nil {
			failures++
		}
		if n++; n >= lim.residual {
			break
		}
	}
	v.Label()
	v.UUID()
	return failures
}
