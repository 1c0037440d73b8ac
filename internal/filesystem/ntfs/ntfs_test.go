package ntfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

func openImage(t testing.TB, img string) *FS {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if !Detect(f, st.Size()) {
		t.Fatalf("Detect(%s) = false", img)
	}
	v, err := Open(f, st.Size())
	if err != nil {
		t.Fatalf("Open(%s): %v", img, err)
	}
	return v
}

// listing is what a walk of the wrapped file system sees.
type listed struct {
	ino   uint64
	mode  fs.FileMode
	size  int64
	mtime string
}

func walk(t testing.TB, fsys fs.FS) map[string]listed {
	t.Helper()
	out := map[string]listed{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := info.Sys().(*filesystem.Stat)
		out[p] = listed{ino: st.Inode, mode: st.Mode, size: st.Size, mtime: st.ModTime.Format("2006-01-02 15:04:05 (UTC)")}
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return out
}

func TestMainImage(t *testing.T) {
	fixture.Need(t, "fls", "icat", "istat", "fsstat", "ntfscluster")
	img, want := buildNTFS(t, 64, populateMain)
	v := openImage(t, img)
	fsys := filesystem.New(v)
	got := walk(t, fsys)
	tskEntries := fls(t, img, "-u")
	// External tools are slow to start here; they check one name per inode, and a sample of the
	// big directory.
	sample := func(p string) bool {
		return !strings.HasPrefix(p, "many/") || strings.HasSuffix(p, "000.txt")
	}
	firstName := map[uint64]string{}
	for p, g := range got {
		if q, ok := firstName[g.ino]; !ok || p < q {
			firstName[g.ino] = p
		}
	}
	checkTool := func(p string) bool { return sample(p) && firstName[got[p].ino] == p }

	t.Run("ListingMatchesFls", func(t *testing.T) {
		seen := map[string]bool{}
		for _, e := range tskEntries {
			if strings.HasPrefix(e.path, "$") || strings.Contains(path.Base(e.path), ":") {
				continue // metadata files, orphan directory, alternate data streams
			}
			seen[e.path] = true
			g, ok := got[e.path]
			if !ok {
				t.Errorf("fls lists %s (%s), the walk does not", e.path, e.addr)
				continue
			}
			if g.ino != e.inode {
				t.Errorf("%s: inode %d, fls says %d", e.path, g.ino, e.inode)
			}
			if g.mtime != e.mtime {
				t.Errorf("%s: mtime %s, fls says %s", e.path, g.mtime, e.mtime)
			}
			switch {
			case g.mode.IsDir():
				if e.typ != "d/d" {
					t.Errorf("%s: directory, fls says %s", e.path, e.typ)
				}
			case g.mode&fs.ModeSymlink != 0:
				// TSK shows Interix links and reparse points as files (junctions as directories).
			default:
				if e.typ != "r/r" || g.size != e.size {
					t.Errorf("%s: %v of %d bytes, fls says %s of %d", e.path, g.mode, g.size, e.typ, e.size)
				}
			}
		}
		for p := range got {
			if !seen[p] {
				t.Errorf("the walk lists %s, fls does not", p)
			}
		}
		if len(seen) < 3100 {
			t.Errorf("only %d entries compared", len(seen))
		}
	})

	t.Run("ListingMatchesWritten", func(t *testing.T) {
		for p, w := range want {
			g, ok := got[p]
			if !ok {
				t.Errorf("%s was written, the walk does not list it", p)
				continue
			}
			var kind string
			switch {
			case g.mode.IsDir():
				kind = "dir"
			case g.mode&fs.ModeSymlink != 0:
				kind = "symlink"
			case g.mode&fs.ModeIrregular != 0:
				kind = "irregular"
			case g.mode.IsRegular():
				kind = "file"
			}
			if kind != w.kind {
				t.Errorf("%s: %s (%v), want %s", p, kind, g.mode, w.kind)
			}
		}
		for p := range got {
			if want[p] == nil {
				t.Errorf("the walk lists %s, which was not written", p)
			}
		}
	})

	t.Run("ContentMatchesWrittenAndIcat", func(t *testing.T) {
		for p, w := range want {
			if w.kind != "file" {
				continue
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				t.Errorf("read %s: %v", p, err)
				continue
			}
			if !bytes.Equal(data, w.data) {
				t.Errorf("%s: %d bytes (sha256 %.12s), wrote %d (sha256 %.12s)", p, len(data), sha(data), len(w.data), sha(w.data))
			}
			if !checkTool(p) {
				continue
			}
			if tsk := icat(t, img, strconv.FormatUint(got[p].ino, 10)); tsk != sha(data) {
				t.Errorf("%s: sha256 %.12s, icat reads %.12s", p, sha(data), tsk)
			}
		}
	})

	t.Run("Flags", func(t *testing.T) {
		for p, w := range want {
			if w.kind != "file" {
				continue
			}
			st := stat(t, fsys, p)
			if st.Compressed != w.compressed {
				t.Errorf("%s: compressed %v, want %v", p, st.Compressed, w.compressed)
			}
			if st.Sparse != w.sparse {
				t.Errorf("%s: sparse %v, want %v", p, st.Sparse, w.sparse)
			}
			perm := fs.FileMode(0o644)
			if w.readOnly {
				perm = 0o444
			}
			if st.Mode.Perm() != perm {
				t.Errorf("%s: mode %v, want %v", p, st.Mode, perm)
			}
			if st.Nlink != w.nlink {
				t.Errorf("%s: %d links, want %d", p, st.Nlink, w.nlink)
			}
			if st.Encrypted {
				t.Errorf("%s: encrypted", p)
			}
		}
		if st := stat(t, fsys, "comp"); st.Mode != fs.ModeDir|0o755 {
			t.Errorf("comp: mode %v", st.Mode)
		}
	})

	t.Run("RunsMatchIstat", func(t *testing.T) {
		checked := 0
		for p, w := range want {
			if w.kind != "file" || !checkTool(p) {
				continue
			}
			n, err := v.node(got[p].ino)
			if err != nil {
				t.Fatal(err)
			}
			a := n.dataAttr("")
			if a == nil || a.resident {
				continue
			}
			s, err := v.stream(n, attrData, "")
			if err != nil {
				t.Fatal(err)
			}
			// TSK stops at the cluster holding the last byte; the runlist may go on to the end
			// of the last compression unit.
			var ours []istatRun
			end := (s.size + v.geo.clusterSize - 1) / v.geo.clusterSize
			for _, r := range s.runs {
				if r.vcn < end {
					ours = appendRun(ours, istatRun{start: r.lcn, length: min(r.length, end-r.vcn)})
				}
			}
			if tsk := istatDataRuns(t, img, got[p].ino); !slices.Equal(ours, tsk) {
				t.Errorf("%s: runs %v, istat -r says %v", p, ours, tsk)
			}
			checked++
		}
		if checked < 12 {
			t.Errorf("only %d non-resident files compared", checked)
		}
	})

	t.Run("ExtentsMapContent", func(t *testing.T) {
		raw, err := os.Open(img)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		encoded := 0
		for p, w := range want {
			if w.kind != "file" || strings.HasPrefix(p, "many/") {
				continue
			}
			exts, err := v.Extents(got[p].ino)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			covered := int64(0)
			for _, e := range exts {
				if e.Encoded {
					encoded++
					if !w.compressed && len(w.data) > 1000 {
						t.Errorf("%s: encoded extent %+v in a plain non-resident file", p, e)
					}
					continue
				}
				covered += e.Length
				buf := make([]byte, e.Length)
				if e.Physical >= 0 {
					if _, err := raw.ReadAt(buf, e.Physical); err != nil {
						t.Fatal(err)
					}
				}
				if !bytes.Equal(buf, w.data[e.Logical:e.Logical+e.Length]) {
					t.Errorf("%s: extent %+v does not hold the file's bytes", p, e)
				}
			}
			if !w.compressed && len(w.data) > 1000 && covered != int64(len(w.data)) {
				t.Errorf("%s: extents cover %d of %d bytes", p, covered, len(w.data))
			}
		}
		if encoded == 0 {
			t.Error("no encoded extent (resident or compressed) was seen")
		}
	})

	t.Run("Streams", func(t *testing.T) {
		tskStreams := map[string]string{}
		for _, e := range tskEntries {
			if base := path.Base(e.path); strings.Contains(base, ":") && !strings.HasPrefix(e.path, "$") {
				tskStreams[e.path] = e.addr
			}
		}
		total := 0
		for p, w := range want {
			if w.kind != "file" {
				continue
			}
			st := stat(t, fsys, p)
			if len(st.Streams) != len(w.streams) {
				t.Errorf("%s: streams %v, want %d", p, st.Streams, len(w.streams))
			}
			for _, s := range st.Streams {
				data, ok := w.streams[s.Name]
				if !ok || s.Size != int64(len(data)) {
					t.Errorf("%s: stream %q of %d bytes was not written", p, s.Name, s.Size)
					continue
				}
				r, size, err := v.OpenStream(st.Inode, s.Name)
				if err != nil {
					t.Fatal(err)
				}
				got := make([]byte, size)
				if _, err := r.ReadAt(got, 0); err != nil && err != io.EOF {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Errorf("%s:%s: content differs", p, s.Name)
				}
				addr, ok := tskStreams[p+":"+s.Name]
				if !ok {
					t.Errorf("fls does not list %s:%s", p, s.Name)
				} else if tsk := icat(t, img, addr); tsk != sha(got) {
					t.Errorf("%s:%s: icat %s reads %.12s, we %.12s", p, s.Name, addr, tsk, sha(got))
				}
				total++
			}
		}
		if total != 2 || len(tskStreams) != 2 {
			t.Errorf("%d streams checked, fls lists %v", total, tskStreams)
		}
		if _, _, err := v.OpenStream(got["ads/file.txt"].ino, "nope"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("OpenStream of a missing stream: %v", err)
		}
	})

	t.Run("Links", func(t *testing.T) {
		for p, w := range want {
			switch w.kind {
			case "symlink":
				target, err := fsys.ReadLink(p)
				if err != nil || target != w.target {
					t.Errorf("%s: target %q (%v), ntfs-3g says %q", p, target, err, w.target)
				}
			case "irregular":
				if _, err := fsys.ReadLink(p); err == nil {
					t.Errorf("%s: irregular file reads as a link", p)
				}
			}
		}
		// Links resolve through the wrapped file system, absolute ones from the volume root.
		for link, file := range map[string]string{
			"sym/rel-file": "tiny.txt", "sym/abs": "big/random-1m.bin", "reparse/symlink-rel": "reparse/target/file.txt",
			"reparse/symlink-abs": "nested/a/b/c/d/deep.txt", "reparse/junction/a/b/c/d/deep.txt": "nested/a/b/c/d/deep.txt",
			"sym/rel-dir/b/c/d/deep.txt": "nested/a/b/c/d/deep.txt",
		} {
			data, err := fs.ReadFile(fsys, link)
			if err != nil || !bytes.Equal(data, want[file].data) {
				t.Errorf("read through %s: %v", link, err)
			}
		}
	})

	t.Run("HardLinksAndAttributeList", func(t *testing.T) {
		base := got["manylinks/base.bin"].ino
		names := 0
		for p, g := range got {
			if g.ino == base {
				names++
				if !strings.HasPrefix(p, "manylinks/") {
					t.Errorf("%s shares the inode of manylinks/base.bin", p)
				}
			}
		}
		if names != 61 {
			t.Errorf("manylinks/base.bin has %d names listed, want 61", names)
		}
		n, err := v.node(base)
		if err != nil {
			t.Fatal(err)
		}
		if n.bytes <= int(v.geo.recordSize) {
			t.Errorf("manylinks/base.bin: no extension record was read (%d bytes)", n.bytes)
		}
		if !strings.Contains(fixture.Run(t, "istat", img, strconv.FormatUint(base, 10)), "$ATTRIBUTE_LIST") {
			t.Error("istat shows no $ATTRIBUTE_LIST on manylinks/base.bin: the fixture does not test what it should")
		}
		if got["links/hard1.txt"].ino != got["nested/hard2.txt"].ino {
			t.Error("hard links have different inodes")
		}
	})

	t.Run("MultiLevelIndex", func(t *testing.T) {
		n, err := v.node(got["many"].ino)
		if err != nil {
			t.Fatal(err)
		}
		ix, err := v.openIndex(n)
		if err != nil {
			t.Fatal(err)
		}
		if d := indexDepth(t, ix, ix.root, 0); d < 2 {
			t.Errorf("many/: index depth %d, want a B+tree of at least 2 levels below the root", d)
		}
		entries, err := v.ReadDir(got["many"].ino)
		if err != nil || len(entries) != 3000 {
			t.Errorf("many/: %d entries (%v)", len(entries), err)
		}
	})

	t.Run("Lookup", func(t *testing.T) {
		// A fresh adapter that never lists a directory resolves every path through Lookup.
		cold := filesystem.New(v)
		noUpcase := *v
		noUpcase.upcase = nil
		linear := filesystem.New(&noUpcase)
		for p, g := range got {
			for _, f := range []*filesystem.FS{cold, linear} {
				if f == linear && !sample(p) {
					continue // a linear walk of 3,000 entries per name would be slow
				}
				info, err := f.Lstat(p)
				if err != nil {
					t.Errorf("Lstat %s: %v", p, err)
					continue
				}
				if st := info.Sys().(*filesystem.Stat); st.Inode != g.ino {
					t.Errorf("Lstat %s: inode %d, the walk says %d", p, st.Inode, g.ino)
				}
			}
		}
		for _, p := range []string{"MANY", "many/F0001.TXT", "$MFT", "$Extend", "$Bitmap", ".", "..", "many/f3000.txt", "nope"} {
			dir, name := uint64(rootRecord), p
			if d, b, ok := strings.Cut(p, "/"); ok {
				dir, name = got[d].ino, b
			}
			if _, err := v.Lookup(dir, name); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Lookup %q: %v, want not found", p, err)
			}
		}
	})

	t.Run("MetadataHidden", func(t *testing.T) {
		root, err := fs.ReadDir(fsys, ".")
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, e := range root {
			names[e.Name()] = true
			if strings.HasPrefix(e.Name(), "$") {
				t.Errorf("root lists metadata file %s", e.Name())
			}
		}
		for _, n := range []string{"System Volume Information", "pagefile.sys", "hiberfil.sys"} {
			if !names[n] {
				t.Errorf("root does not list %s", n)
			}
		}
		st, err := v.Stat(mftRecord)
		if err != nil || st.Size != int64(v.records)*v.geo.recordSize {
			t.Errorf("Stat($MFT) = %+v, %v", st, err)
		}
	})

	t.Run("Unallocated", func(t *testing.T) {
		bm := fixture.Run(t, "icat", img, "6") // $Bitmap, decoded independently here
		cs := v.geo.clusterSize
		var wantRanges []filesystem.Range
		for c := int64(0); c < v.geo.totalClusters; c++ {
			if bm[c/8]&(1<<(c%8)) != 0 {
				continue
			}
			if k := len(wantRanges); k > 0 && wantRanges[k-1].Off+wantRanges[k-1].Len == c*cs {
				wantRanges[k-1].Len += cs
			} else {
				wantRanges = append(wantRanges, filesystem.Range{Off: c * cs, Len: cs})
			}
		}
		var gotRanges []filesystem.Range
		free := int64(0)
		for r, err := range v.Unallocated(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			gotRanges = append(gotRanges, r)
			free += r.Len
		}
		if !slices.Equal(gotRanges, wantRanges) {
			t.Errorf("Unallocated: %d ranges, the bitmap read by icat has %d", len(gotRanges), len(wantRanges))
		}
		out := fixture.Run(t, "ntfscluster", "-f", img)
		if !strings.Contains(out, "bytes of free space     : "+strconv.FormatInt(free, 10)+"\n") {
			t.Errorf("Unallocated totals %d bytes; ntfscluster says\n%s", free, out)
		}
	})

	t.Run("LabelAndSerial", func(t *testing.T) {
		if v.Label() != "snapwatch" || fsstatField(t, img, "Volume Name") != v.Label() {
			t.Errorf("label %q", v.Label())
		}
		if serial := fsstatField(t, img, "Volume Serial Number"); serial != v.UUID() {
			t.Errorf("serial %s, fsstat says %s", v.UUID(), serial)
		}
		if v.Type() != "ntfs" {
			t.Errorf("type %q", v.Type())
		}
	})

	t.Run("FSTest", func(t *testing.T) {
		// TestFS reads every file many times in small pieces; the big and sparse files are left
		// out, and the links that point outside a subtree.
		for dir, files := range map[string][]string{
			"nested": {"a/b/c/d/deep.txt", "hard2.txt"}, "many": {"f0000.txt", "f2999.txt"},
			"unicode": {"emoji-😀.txt", "Ωmega/ДОКУМЕНТ.md"}, "comp": {"text.txt", "sub/inner.txt"},
			"links": {"hard1.txt"}, "manylinks": {"base.bin"}, "ads": {"file.txt"}, "attrs": {"readonly.txt"},
			"cluster": {"c4097.bin"}, "reparse": {"symlink-rel", "target/file.txt", "placeholder"},
			"System Volume Information": {"tracking.log"},
		} {
			sub, err := fs.Sub(fsys, dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := fstest.TestFS(sub, files...); err != nil {
				t.Errorf("%s: %v", dir, err)
			}
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		shared := filesystem.New(v)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				i := 0
				for p, e := range want {
					if e.kind != "file" || (i+w)%3 != 0 {
						i++
						continue
					}
					i++
					data, err := fs.ReadFile(shared, p)
					if err != nil || !bytes.Equal(data, e.data) {
						errs <- errors.New("concurrent read of " + p + " differs")
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func stat(t testing.TB, fsys *filesystem.FS, p string) *filesystem.Stat {
	t.Helper()
	info, err := fsys.Lstat(p)
	if err != nil {
		t.Fatalf("stat %s: %v", p, err)
	}
	return info.Sys().(*filesystem.Stat)
}

// indexDepth is the number of levels below the root of an index tree.
func indexDepth(t testing.TB, ix *dirIndex, entries []indexEntry, depth int) int {
	deepest := depth
	for _, e := range entries {
		if e.sub < 0 {
			continue
		}
		child, err := ix.readNode(e.sub)
		if err != nil {
			t.Fatal(err)
		}
		deepest = max(deepest, indexDepth(t, ix, child, depth+1))
	}
	return deepest
}
