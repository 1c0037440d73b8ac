package filesystem

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// memTree is a Tree held in maps: enough to test the adapter without a disk.
type memTree struct {
	stats map[uint64]*Stat
	dirs  map[uint64][]Entry
	data  map[uint64]string
	links map[uint64]string
}

func (m *memTree) Type() string { return "mem" }
func (m *memTree) Root() uint64 { return 1 }
func (m *memTree) Stat(ino uint64) (*Stat, error) {
	if st, ok := m.stats[ino]; ok {
		return st, nil
	}
	return nil, fs.ErrNotExist
}
func (m *memTree) ReadDir(ino uint64) ([]Entry, error) { return m.dirs[ino], nil }
func (m *memTree) Open(ino uint64) (io.ReaderAt, error) {
	return strings.NewReader(m.data[ino]), nil
}
func (m *memTree) ReadLink(ino uint64) (string, error) { return m.links[ino], nil }

// newMem builds: /etc/passwd, /etc/hosts -> passwd, /abs -> /etc, /loop -> loop, /bin -> usr/bin, /usr/bin/sh
func newMem() *memTree {
	m := &memTree{stats: map[uint64]*Stat{}, dirs: map[uint64][]Entry{}, data: map[uint64]string{}, links: map[uint64]string{}}
	dir := func(ino uint64) { m.stats[ino] = &Stat{Inode: ino, Mode: fs.ModeDir | 0o755} }
	file := func(ino uint64, s string) {
		m.stats[ino] = &Stat{Inode: ino, Mode: 0o644, Size: int64(len(s))}
		m.data[ino] = s
	}
	link := func(ino uint64, target string) {
		m.stats[ino] = &Stat{Inode: ino, Mode: fs.ModeSymlink | 0o777, Size: int64(len(target))}
		m.links[ino] = target
	}
	dir(1)
	dir(2)
	file(3, "root:x:0:0\n")
	link(4, "passwd")
	link(5, "/etc")
	link(6, "loop")
	link(7, "usr/bin")
	dir(8)
	dir(9)
	file(10, "#!/bin/sh\n")
	m.dirs[1] = []Entry{{"etc", 2, fs.ModeDir}, {"abs", 5, fs.ModeSymlink}, {"loop", 6, fs.ModeSymlink}, {"bin", 7, fs.ModeSymlink}, {"usr", 8, fs.ModeDir}}
	m.dirs[2] = []Entry{{"passwd", 3, 0}, {"hosts", 4, fs.ModeSymlink}}
	m.dirs[8] = []Entry{{"bin", 9, fs.ModeDir}}
	m.dirs[9] = []Entry{{"sh", 10, 0}}
	return m
}

func TestAdapterConformance(t *testing.T) {
	m := newMem()
	m.dirs[1] = append(m.dirs[1][:2], m.dirs[1][3:]...) // fstest wants every entry openable: drop the self-link
	if err := fstest.TestFS(New(m), "etc/passwd", "usr/bin/sh", "etc/hosts"); err != nil {
		t.Fatal(err)
	}
}

func TestSymlinksAreFollowedInsideTheFS(t *testing.T) {
	f := New(newMem())
	for name, want := range map[string]string{
		"etc/hosts":         "root:x:0:0\n",
		"abs/passwd":        "root:x:0:0\n",
		"abs/hosts":         "root:x:0:0\n",
		"bin/sh":            "#!/bin/sh\n",
		"bin/../etc/passwd": "",
	} {
		b, err := fs.ReadFile(f, name)
		if want == "" {
			if err == nil {
				t.Errorf("%s: want an error (.. is not a valid fs path)", name)
			}
			continue
		}
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v", name, b, err)
		}
	}
	if _, err := f.Stat("loop"); err == nil || !strings.Contains(err.Error(), "symbolic links") {
		t.Errorf("self-link: %v", err)
	}
	fi, err := f.Lstat("etc/hosts")
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("lstat: %v %v", fi, err)
	}
	if target, _ := f.ReadLink("abs"); target != "/etc" {
		t.Errorf("readlink: %q", target)
	}
	if st := fi.Sys().(*Stat); st.Inode != 4 {
		t.Errorf("Sys inode %d", st.Inode)
	}
	if _, err := f.Open("etc/passwd/x"); err == nil {
		t.Error("path through a file must fail")
	}
}

func TestDirectoryCyclesEndTheWalk(t *testing.T) {
	m := newMem()
	// /etc/again is /etc itself, /usr/bin/up is the root, /usr/bin/etc2 is /etc a second time.
	m.dirs[2] = append(m.dirs[2], Entry{"again", 2, fs.ModeDir})
	m.dirs[9] = append(m.dirs[9], Entry{"up", 1, fs.ModeDir}, Entry{"etc2", 2, fs.ModeDir})
	f := New(m)
	var seen []string
	var errs []error
	err := fs.WalkDir(f, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		seen = append(seen, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) > 20 {
		t.Fatalf("walk did not stop: %v", seen)
	}
	if len(errs) != 2 {
		t.Fatalf("want 2 cycle errors, got %v", errs)
	}
	for _, e := range errs {
		if !errors.Is(e, ErrCorrupt) {
			t.Errorf("not ErrCorrupt: %v", e)
		}
	}
	if _, err := f.Open("etc/again/again/passwd"); err == nil {
		t.Error("a path meeting the same directory twice must fail")
	}
}

func TestFileReadsAtAndSeeks(t *testing.T) {
	f := New(newMem())
	file, err := f.Open("etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	ra := file.(io.ReaderAt)
	buf := make([]byte, 4)
	if _, err := ra.ReadAt(buf, 5); err != nil || !bytes.Equal(buf, []byte("x:0:")) {
		t.Fatalf("ReadAt: %q %v", buf, err)
	}
	if _, err := ra.ReadAt(buf, 100); err != io.EOF {
		t.Fatalf("ReadAt past end: %v", err)
	}
}

// partialTree lists part of a directory and fails on the rest, as a reader does when one block of
// a big directory is broken.
type partialTree struct{ *memTree }

func (p partialTree) ReadDir(ino uint64) ([]Entry, error) {
	es, _ := p.memTree.ReadDir(ino)
	if ino == 2 {
		return es[:1], Corrupt("mem", "directory block 1 of inode 2", "bad magic")
	}
	return es, nil
}

func TestPartialListingsAreKept(t *testing.T) {
	f := New(partialTree{newMem()})
	es, err := f.ReadDir("etc")
	if len(es) != 1 || es[0].Name() != "passwd" || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ReadDir: %v, %v", es, err)
	}
	if b, err := fs.ReadFile(f, "etc/passwd"); err != nil || string(b) != "root:x:0:0\n" {
		t.Fatalf("file in the readable part: %q %v", b, err)
	}
	if _, err := f.Stat("etc/hosts"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("file in the broken part must report the damage, got %v", err)
	}
	var walked, errs int
	fs.WalkDir(f, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs++
		} else {
			walked++
		}
		return nil
	})
	if errs != 1 || walked < 5 {
		t.Fatalf("walk: %d entries, %d errors", walked, errs)
	}
}
