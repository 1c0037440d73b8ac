package filesystem

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// maxLinkHops bounds symbolic-link expansion during path resolution, as Linux's ELOOP does.
const maxLinkHops = 40

// dirCacheSize bounds how many directory listings are kept for name lookups.
const dirCacheSize = 512

// FS adapts a Tree to io/fs: it implements fs.FS, fs.StatFS, fs.ReadDirFS and fs.ReadLinkFS.
// Stat and Open follow symbolic links inside the file system (absolute targets are taken
// relative to its root); Lstat and ReadLink do not. FileInfo.Sys() is a *Stat.
//
// It guards against hostile directory graphs: a directory reached from a second parent, or a
// path that meets the same directory twice, is reported as corrupt instead of being walked, so
// fs.WalkDir always ends.
type FS struct {
	tree   Tree
	lookup Lookuper // nil when the tree has no indexed directories

	dirs *lru.Cache[uint64, *dirIndex]

	mu      sync.Mutex
	parents map[uint64]uint64 // directory inode -> the one parent it was first listed under
}

type dirIndex struct {
	entries []Entry
	byName  map[string]int
}

// New wraps a Tree.
func New(t Tree) *FS {
	f := &FS{tree: t, parents: map[uint64]uint64{}}
	f.lookup, _ = t.(Lookuper)
	f.dirs, _ = lru.New[uint64, *dirIndex](dirCacheSize)
	return f
}

// Type names the file system ("ext4", "xfs", ...).
func (f *FS) Type() string { return f.tree.Type() }

// Tree gives access to the reader beneath, for its optional interfaces (Residual, Extenter, ...).
func (f *FS) Tree() Tree { return f.tree }

// Open opens a file or directory, following symbolic links.
func (f *FS) Open(name string) (fs.File, error) {
	ino, err := f.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	st, err := f.tree.Stat(ino)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	info := &fileInfo{name: path.Base(name), st: st}
	if st.Mode.IsDir() {
		entries, err := f.listDir(ino)
		if err != nil && entries == nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dir{fsys: f, info: info, entries: entries, err: err}, nil
	}
	if !st.Mode.IsRegular() {
		return &special{info: info}, nil
	}
	ra, err := f.tree.Open(ino)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &file{info: info, r: io.NewSectionReader(ra, 0, st.Size)}, nil
}

// Stat describes a file, following symbolic links.
func (f *FS) Stat(name string) (fs.FileInfo, error) { return f.stat("stat", name, true) }

// Lstat describes a file without following a final symbolic link.
func (f *FS) Lstat(name string) (fs.FileInfo, error) { return f.stat("lstat", name, false) }

func (f *FS) stat(op, name string, follow bool) (fs.FileInfo, error) {
	ino, err := f.resolve(op, name, follow)
	if err != nil {
		return nil, err
	}
	st, err := f.tree.Stat(ino)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return &fileInfo{name: path.Base(name), st: st}, nil
}

// ReadLink returns the target of a symbolic link.
func (f *FS) ReadLink(name string) (string, error) {
	ino, err := f.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	st, err := f.tree.Stat(ino)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	if st.Mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	target, err := f.tree.ReadLink(ino)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return target, nil
}

// ReadDir lists a directory sorted by name, as fs.ReadDir promises. A corrupt entry is dropped and
// reported in the error next to the rest of the listing.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	ino, err := f.resolve("readdir", name, true)
	if err != nil {
		return nil, err
	}
	entries, lerr := f.listDir(ino)
	if lerr != nil && entries == nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: lerr}
	}
	out := make([]fs.DirEntry, len(entries))
	for i, e := range entries {
		out[i] = &dirEntry{fsys: f, e: e}
	}
	sortEntries(out)
	if lerr != nil {
		return out, &fs.PathError{Op: "readdir", Path: name, Err: lerr}
	}
	return out, nil
}

// listDir reads a directory and drops entries that would make the tree a graph: the root, or a
// directory already listed under another parent. It returns the kept entries and, if any were
// dropped, an error saying which.
func (f *FS) listDir(ino uint64) ([]Entry, error) {
	st, err := f.tree.Stat(ino)
	if err != nil {
		return nil, err
	}
	if !st.Mode.IsDir() {
		return nil, errNotDir
	}
	idx, partial := f.index(ino)
	if idx == nil {
		return nil, partial
	}
	kept := make([]Entry, 0, len(idx.entries))
	var bad []string
	f.mu.Lock()
	for _, e := range idx.entries {
		if e.Type.IsDir() {
			if e.Ino == f.tree.Root() || e.Ino == ino {
				bad = append(bad, e.Name)
				continue
			}
			if p, seen := f.parents[e.Ino]; seen && p != ino {
				bad = append(bad, e.Name)
				continue
			}
			f.parents[e.Ino] = ino
		}
		kept = append(kept, e)
	}
	f.mu.Unlock()
	if len(bad) > 0 {
		cycle := &CorruptError{FS: f.tree.Type(), What: "directory graph",
			Reason: "directory entries " + quoteList(bad) + " link back to an ancestor or to a directory that has another parent (cycle)"}
		return kept, errors.Join(partial, cycle)
	}
	return kept, partial
}

// index lists a directory and indexes it by name. A reader may return part of a listing together
// with an error (one broken block of a big directory): the part is kept, but not cached, so the
// error is reported every time the directory is listed.
func (f *FS) index(ino uint64) (*dirIndex, error) {
	if idx, ok := f.dirs.Get(ino); ok {
		return idx, nil
	}
	entries, err := f.tree.ReadDir(ino)
	if err != nil && len(entries) == 0 {
		return nil, err
	}
	idx := &dirIndex{entries: entries, byName: make(map[string]int, len(entries))}
	for i, e := range entries {
		if _, dup := idx.byName[e.Name]; !dup {
			idx.byName[e.Name] = i
		}
	}
	if err == nil {
		f.dirs.Add(ino, idx)
	}
	return idx, err
}

func (f *FS) find(dir uint64, name string) (Entry, error) {
	idx, cached := f.dirs.Get(dir)
	if !cached && f.lookup != nil {
		return f.lookup.Lookup(dir, name)
	}
	var partial error
	if !cached {
		if idx, partial = f.index(dir); idx == nil {
			return Entry{}, partial
		}
	}
	if i, found := idx.byName[name]; found {
		return idx.entries[i], nil
	}
	if partial != nil {
		return Entry{}, partial // the name may be in the part that could not be read
	}
	return Entry{}, fs.ErrNotExist
}

var (
	errNotDir  = errors.New("not a directory")
	errLinkMax = errors.New("too many levels of symbolic links")
	errCycle   = errors.New("path meets the same directory twice (directory cycle)")
)

// resolve turns a slash path into an inode, expanding symbolic links in every component but the
// last (and in the last when follow is set). ".." inside link targets is honoured and never climbs
// above the root.
func (f *FS) resolve(op, name string, follow bool) (uint64, error) {
	if !fs.ValidPath(name) {
		return 0, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	fail := func(err error) (uint64, error) { return 0, &fs.PathError{Op: op, Path: name, Err: err} }
	stack := []uint64{f.tree.Root()}
	var parts []string
	if name != "." {
		parts = strings.Split(name, "/")
	}
	hops := 0
	for len(parts) > 0 {
		p := parts[0]
		parts = parts[1:]
		switch p {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		e, err := f.find(stack[len(stack)-1], p)
		if err != nil {
			return fail(err)
		}
		if e.Type&fs.ModeSymlink != 0 && (len(parts) > 0 || follow) {
			if hops++; hops > maxLinkHops {
				return fail(errLinkMax)
			}
			target, err := f.tree.ReadLink(e.Ino)
			if err != nil {
				return fail(err)
			}
			if strings.HasPrefix(target, "/") {
				stack = stack[:1]
			}
			parts = append(strings.Split(target, "/"), parts...)
			continue
		}
		if len(parts) > 0 && !e.Type.IsDir() && !onlyDots(parts) {
			return fail(errNotDir)
		}
		if e.Type.IsDir() {
			for _, anc := range stack {
				if anc == e.Ino {
					return fail(errCycle)
				}
			}
		}
		stack = append(stack, e.Ino)
	}
	return stack[len(stack)-1], nil
}

func onlyDots(parts []string) bool {
	for _, p := range parts {
		if p != "" && p != "." {
			return false
		}
	}
	return true
}

func quoteList(names []string) string {
	const show = 5
	var b strings.Builder
	for i, n := range names {
		if i == show {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("\"" + n + "\"")
	}
	return b.String()
}

// fileInfo is the fs.FileInfo of every file.
type fileInfo struct {
	name string
	st   *Stat
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.st.Size }
func (i *fileInfo) Mode() fs.FileMode  { return i.st.Mode }
func (i *fileInfo) ModTime() time.Time { return i.st.ModTime }
func (i *fileInfo) IsDir() bool        { return i.st.Mode.IsDir() }
func (i *fileInfo) Sys() any           { return i.st }

type dirEntry struct {
	fsys *FS
	e    Entry
}

func (d *dirEntry) Name() string      { return d.e.Name }
func (d *dirEntry) Ino() uint64       { return d.e.Ino } // for readers ahead (InodeLocator, Extenter)
func (d *dirEntry) IsDir() bool       { return d.e.Type.IsDir() }
func (d *dirEntry) Type() fs.FileMode { return d.e.Type.Type() }
func (d *dirEntry) Info() (fs.FileInfo, error) {
	st, err := d.fsys.tree.Stat(d.e.Ino)
	if err != nil {
		return nil, err
	}
	return &fileInfo{name: d.e.Name, st: st}, nil
}
func (d *dirEntry) String() string { return fs.FormatDirEntry(d) }

// file is an open regular file: it reads, seeks and reads at offsets.
type file struct {
	info *fileInfo
	r    *io.SectionReader
}

func (f *file) Stat() (fs.FileInfo, error)                { return f.info, nil }
func (f *file) Read(p []byte) (int, error)                { return f.r.Read(p) }
func (f *file) ReadAt(p []byte, off int64) (int, error)   { return f.r.ReadAt(p, off) }
func (f *file) Seek(off int64, whence int) (int64, error) { return f.r.Seek(off, whence) }
func (f *file) Close() error                              { return nil }

// special is an open device, FIFO or socket node: it has a Stat and no content.
type special struct{ info *fileInfo }

func (s *special) Stat() (fs.FileInfo, error) { return s.info, nil }
func (s *special) Read([]byte) (int, error)   { return 0, io.EOF }
func (s *special) Close() error               { return nil }

// dir is an open directory; ReadDir pages through its entries in name order.
type dir struct {
	fsys    *FS
	info    *fileInfo
	entries []Entry
	err     error // corrupt entries dropped while listing, reported once at the end
	sorted  []fs.DirEntry
	pos     int
}

func (d *dir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}
func (d *dir) Close() error { return nil }

func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.sorted == nil {
		d.sorted = make([]fs.DirEntry, len(d.entries))
		for i, e := range d.entries {
			d.sorted[i] = &dirEntry{fsys: d.fsys, e: e}
		}
		sortEntries(d.sorted)
	}
	rest := d.sorted[d.pos:]
	if n <= 0 {
		d.pos = len(d.sorted)
		err := d.err
		d.err = nil
		return rest, err
	}
	if len(rest) == 0 {
		if d.err != nil {
			err := d.err
			d.err = nil
			return nil, err
		}
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.pos += n
	return rest[:n], nil
}
