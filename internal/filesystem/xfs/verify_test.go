package xfs

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// verifyImage compares everything the reader says about an image with xfs_db and with the
// source tree the image was built from. It returns the reader for further checks.
func verifyImage(t *testing.T, img, src string) *FS {
	t.Helper()
	f := openImage(t, img)
	listing := dbListing(t, img)
	if len(listing) < 2 {
		t.Fatalf("xfs_db listed only %d directories", len(listing))
	}

	// Resolve each xfs_db directory path to an inode through our own Lookup, then compare the
	// listings entry by entry.
	dirIno := map[string]uint64{"/": f.Root()}
	var inos []uint64
	paths := map[uint64]string{}
	dirs := make([]string, 0, len(listing))
	for d := range listing {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs) // parents before children
	for _, d := range dirs {
		ino, ok := dirIno[d]
		if !ok {
			t.Fatalf("directory %s was not reached through its parent", d)
		}
		got, err := f.ReadDir(ino)
		if err != nil {
			t.Fatalf("ReadDir(%s): %v", d, err)
		}
		want := listing[d]
		if len(got) != len(want) {
			t.Fatalf("ReadDir(%s): %d entries, xfs_db lists %d", d, len(got), len(want))
		}
		byName := map[string]filesystem.Entry{}
		for _, e := range got {
			byName[e.Name] = e
		}
		for _, w := range want {
			g, ok := byName[w.name]
			if !ok {
				t.Fatalf("ReadDir(%s): %q missing", d, w.name)
			}
			if g.Ino != w.ino {
				t.Errorf("%s/%s: inode %d, xfs_db says %d", d, w.name, g.Ino, w.ino)
			}
			if typ, ok := dbType(w.typ); ok && typ != g.Type {
				t.Errorf("%s/%s: type %v, xfs_db says %s", d, w.name, g.Type, w.typ)
			}
			if h := daHash([]byte(w.name)); h != w.hash {
				t.Errorf("daHash(%q) = %#x, xfs_db says %#x", w.name, h, w.hash)
			}
			p := path.Join(d, w.name)
			if g.Type.IsDir() {
				dirIno[p] = g.Ino
			}
			paths[g.Ino] = p
			inos = append(inos, g.Ino)
			le, err := f.Lookup(ino, w.name)
			if err != nil || le != g {
				t.Errorf("Lookup(%s, %q) = %+v, %v; want %+v", d, w.name, le, err, g)
			}
		}
		if _, err := f.Lookup(ino, "no-such-name"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Lookup(%s, no-such-name) = %v, want fs.ErrNotExist", d, err)
		}
	}

	// Inode cores and content against xfs_db; content also against the source tree.
	bs, agBlocks := dbGeometry(t, img)
	cores := dbInodes(t, img, inos, true)
	checked := 0
	for _, ino := range inos {
		db := cores[ino]
		p := paths[ino]
		st, err := f.Stat(ino)
		if err != nil {
			t.Errorf("Stat(%s): %v", p, err)
			continue
		}
		wantMode, _ := filesystem.UnixMode(uint16(db.mode))
		if st.Mode != wantMode || st.Nlink != db.nlink || st.UID != db.uid || st.GID != db.gid {
			t.Errorf("Stat(%s) = mode %v nlink %d uid %d gid %d; xfs_db: %v %d %d %d", p, st.Mode, st.Nlink, st.UID, st.GID, wantMode, db.nlink, db.uid, db.gid)
		}
		if got := st.ModTime.Format("Mon Jan _2 15:04:05 2006"); got != db.mtime {
			t.Errorf("Stat(%s).ModTime = %s, xfs_db says %s", p, got, db.mtime)
		}
		switch {
		case st.Mode.IsRegular():
			if st.Size != db.size {
				t.Errorf("Stat(%s).Size = %d, xfs_db says %d", p, st.Size, db.size)
			}
			got := readSum(t, f, ino, st.Size)
			if want := dbContentSum(t, img, db, bs, agBlocks); got != want {
				t.Errorf("%s: content sha256 %s, xfs_db block map gives %s", p, got, want)
			}
			if srcPath := filepath.Join(src, filepath.FromSlash(p)); fileExists(srcPath) {
				b, _ := os.ReadFile(srcPath)
				if want := fmt.Sprintf("%x", sha256.Sum256(b)); got != want {
					t.Errorf("%s: content sha256 %s, source file has %s", p, got, want)
				}
			}
			checkExtents(t, f, ino, db, bs, agBlocks)
			checked++
		case st.Mode&fs.ModeSymlink != 0:
			target, err := f.ReadLink(ino)
			want, _ := os.Readlink(filepath.Join(src, filepath.FromSlash(p)))
			if err != nil || target != want {
				t.Errorf("ReadLink(%s) = %q, %v; want %q", p, target, err, want)
			}
		}
	}
	if checked == 0 {
		t.Error("no regular file compared")
	}

	checkUnallocated(t, f, img)
	if out := xfsDB(t, img, "uuid"); !strings.Contains(out, f.UUID()) {
		t.Errorf("UUID %s, xfs_db says %q", f.UUID(), out)
	}
	if out := xfsDB(t, img, "label"); !strings.Contains(out, `"`+f.Label()+`"`) {
		t.Errorf("Label %q, xfs_db says %q", f.Label(), out)
	}
	return f
}

// readSum reads a whole file through the Tree and returns its sha256.
func readSum(t *testing.T, f *FS, ino uint64, size int64) string {
	t.Helper()
	r, err := f.Open(ino)
	if err != nil {
		t.Fatalf("Open(%d): %v", ino, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, size)); err != nil {
		t.Fatalf("read inode %d: %v", ino, err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// checkExtents compares Extents with xfs_db's block map.
func checkExtents(t *testing.T, f *FS, ino uint64, db *dbInode, bs, agBlocks int64) {
	t.Helper()
	got, err := f.Extents(ino)
	if err != nil {
		t.Errorf("Extents(%d): %v", ino, err)
		return
	}
	var want []filesystem.Extent
	for _, e := range db.extents {
		logical := int64(e.off) * bs
		if logical >= db.size {
			continue
		}
		phys := (int64(e.agno)*agBlocks + int64(e.agbno)) * bs
		if e.unwritten {
			phys = -1
		}
		want = append(want, filesystem.Extent{Logical: logical, Physical: phys, Length: min(int64(e.count)*bs, db.size-logical)})
	}
	if !slices.Equal(got, want) {
		t.Errorf("Extents(%d) = %v, xfs_db block map gives %v", ino, got, want)
	}
}

// checkUnallocated compares Unallocated with xfs_db freesp -d, coalesced the same way.
func checkUnallocated(t *testing.T, f *FS, img string) {
	t.Helper()
	bs, agBlocks := dbGeometry(t, img)
	var want []filesystem.Range
	for _, e := range dbFreeSpace(t, img) {
		off := (e[0]*agBlocks + e[1]) * bs
		n := e[2] * bs
		if k := len(want); k > 0 && want[k-1].Off+want[k-1].Len == off {
			want[k-1].Len += n
			continue
		}
		want = append(want, filesystem.Range{Off: off, Len: n})
	}
	slices.SortFunc(want, func(a, b filesystem.Range) int { return int(a.Off - b.Off) })
	want = coalesce(want)
	var got []filesystem.Range
	for r, err := range f.Unallocated(context.Background()) {
		if err != nil {
			t.Fatalf("Unallocated: %v", err)
		}
		got = append(got, r)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Unallocated gives %d ranges, xfs_db freesp -d %d:\n got %v\nwant %v", len(got), len(want), head(got), head(want))
	}
	if len(want) == 0 {
		t.Error("xfs_db reports no free space: the comparison proves nothing")
	}
}

func coalesce(rs []filesystem.Range) []filesystem.Range {
	var out []filesystem.Range
	for _, r := range rs {
		if k := len(out); k > 0 && out[k-1].Off+out[k-1].Len >= r.Off {
			out[k-1].Len = max(out[k-1].Len, r.Off+r.Len-out[k-1].Off)
			continue
		}
		out = append(out, r)
	}
	return out
}

func head(rs []filesystem.Range) []filesystem.Range { return rs[:min(len(rs), 12)] }

func fileExists(p string) bool {
	st, err := os.Lstat(p)
	return err == nil && st.Mode().IsRegular()
}

// checkFSTest runs testing/fstest over the wrapped file system with a few known files.
func checkFSTest(t *testing.T, f *FS, files ...string) {
	t.Helper()
	start := time.Now()
	if err := fstest.TestFS(filesystem.New(f), files...); err != nil {
		msg := err.Error()
		if len(msg) > 4000 {
			msg = msg[:4000] + "…"
		}
		t.Errorf("fstest.TestFS: %s", msg)
	}
	t.Logf("fstest.TestFS took %v", time.Since(start).Round(time.Millisecond))
}
