package ntfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// compareWithNtfsls checks the walk of the volume against ntfsls and the content of every file
// against what was written and, for a sample, ntfscat.
func compareWithNtfsls(t *testing.T, img string, want map[string]*expected) *FS {
	t.Helper()
	v := openImage(t, img)
	fsys := filesystem.New(v)
	got := walk(t, fsys)
	ref := ntfsls(t, img)
	if len(ref) != len(want) || len(want) == 0 {
		t.Errorf("ntfsls lists %d files, %d were written", len(ref), len(want))
	}
	for p, e := range ref {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("ntfsls lists %s, the walk does not", p)
		case g.ino != e.inode || g.mode.IsDir() != e.dir || (!e.dir && g.size != e.size):
			t.Errorf("%s: inode %d dir %v size %d, ntfsls says %+v", p, g.ino, g.mode.IsDir(), g.size, e)
		}
	}
	for p := range got {
		if _, ok := ref[p]; !ok {
			t.Errorf("the walk lists %s, ntfsls does not", p)
		}
	}
	checked := 0
	for p, w := range want {
		if w.kind != "file" {
			continue
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil || !bytes.Equal(data, w.data) {
			t.Errorf("%s: read %d bytes (%v), wrote %d", p, len(data), err, len(w.data))
			continue
		}
		if checked < 20 || len(data) > 100_000 {
			checked++
			if tool := ntfscat(t, img, p); tool != sha(data) {
				t.Errorf("%s: ntfscat reads %.12s, we %.12s", p, tool, sha(data))
			}
		}
	}
	t.Logf("%d files compared with ntfsls, %d with ntfscat", len(ref), checked)
	var files []string
	for p, w := range want {
		if w.kind == "file" && len(files) < 5 {
			files = append(files, p)
		}
	}
	if err := fstest.TestFS(fsys, files...); err != nil {
		t.Error(err)
	}
	return v
}

// TestLargeClusters reads a volume with 128 KiB clusters, whose boot sector encodes the sectors
// per cluster as a negative power of two (0xF8). The Sleuth Kit cannot read it; ntfsls and
// ntfscat can.
func TestLargeClusters(t *testing.T) {
	img, want := buildNTFS(t, 256, func(p *populator) {
		p.file("small.txt", []byte("resident"))
		p.file("d/random.bin", p.random(300_000))
		p.file("d/e/cluster.bin", p.random(128<<10+1))
		for i := range 200 {
			p.file(fmt.Sprintf("d/many/file-%03d.txt", i), []byte(strings.Repeat("x", i)))
		}
	}, "-c", "131072")
	boot := make([]byte, 512)
	if f, err := os.Open(img); err == nil {
		f.ReadAt(boot, 0)
		f.Close()
	}
	if boot[0x0D] != 0xF8 {
		t.Fatalf("mkntfs wrote sectors per cluster 0x%02x, the test wants the 0xF8 encoding", boot[0x0D])
	}
	v := compareWithNtfsls(t, img, want)
	if v.geo.clusterSize != 128<<10 {
		t.Errorf("cluster size %d", v.geo.clusterSize)
	}
}

// TestLargeSectors reads a volume of 4096-byte sectors: 4 KiB MFT records, still protected by
// fixups every 512 bytes.
func TestLargeSectors(t *testing.T) {
	img, want := buildNTFS(t, 32, func(p *populator) {
		p.file("a.txt", []byte("four k sectors"))
		p.file("dir/random.bin", p.random(70_000))
		for i := range 300 {
			p.file(fmt.Sprintf("dir/many/entry-with-a-longer-name-%03d.txt", i), []byte("y"))
		}
	}, "-s", "4096")
	v := compareWithNtfsls(t, img, want)
	if v.geo.sectorSize != 4096 || v.geo.recordSize != 4096 {
		t.Errorf("sector size %d, record size %d", v.geo.sectorSize, v.geo.recordSize)
	}
}

// TestFragmented fills a small volume of 512-byte clusters with 1 KiB files, deletes every
// other one and writes a file into the holes: its runlist has hundreds of runs, spills into
// extension records ($DATA split over several records, found through $ATTRIBUTE_LIST), and
// $MFT itself, grown into the same holes, is fragmented.
func TestFragmented(t *testing.T) {
	fixture.Need(t, "fls", "istat", "icat")
	img, want := buildNTFS(t, 8, func(p *populator) {
		p.mkdir("fill")
		n := 0
		for ; ; n++ {
			rel := fmt.Sprintf("fill/f%05d", n)
			data := p.random(1024)
			if err := os.WriteFile(p.abs(rel), data, 0o644); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				os.Remove(p.abs(rel))
				break
			}
			p.want[rel] = &expected{kind: "file", data: data, nlink: 1}
		}
		for i := 0; i < n; i += 2 {
			rel := fmt.Sprintf("fill/f%05d", i)
			if err := os.Remove(p.abs(rel)); err != nil {
				t.Fatal(err)
			}
			delete(p.want, rel)
		}
		f, err := os.Create(p.abs("frag.bin"))
		if err != nil {
			t.Fatal(err)
		}
		var written []byte
		for len(written) < 4<<20 {
			chunk := p.random(1024)
			k, err := f.Write(chunk)
			written = append(written, chunk[:k]...)
			if err != nil {
				break
			}
		}
		f.Close()
		p.want["frag.bin"] = &expected{kind: "file", data: written, nlink: 1}
	}, "-c", "512")
	v := openImage(t, img)
	fsys := filesystem.New(v)
	got := walk(t, fsys)

	tsk := fls(t, img, "-u")
	listed := 0
	for _, e := range tsk {
		if strings.HasPrefix(e.path, "$") {
			continue
		}
		listed++
		if g, ok := got[e.path]; !ok || g.ino != e.inode {
			t.Errorf("fls lists %s (%d), the walk says %+v", e.path, e.inode, g)
		}
	}
	if listed != len(got) {
		t.Errorf("fls lists %d files, the walk %d", listed, len(got))
	}
	for p, w := range want {
		if w.kind != "file" {
			continue
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil || !bytes.Equal(data, w.data) {
			t.Errorf("%s: read %d bytes (%v), wrote %d", p, len(data), err, len(w.data))
		}
	}

	ino := got["frag.bin"].ino
	n, err := v.node(ino)
	if err != nil {
		t.Fatal(err)
	}
	if parts := attrsOf(n.attrs, attrData, ""); len(parts) < 2 || firstAttr(n.attrs, attrAttributeList) == nil {
		t.Fatalf("frag.bin: $DATA in %d parts: the fixture does not split it over records", len(parts))
	}
	s, err := v.stream(n, attrData, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.runs) < 300 {
		t.Errorf("frag.bin: %d runs, the fixture should fragment it more", len(s.runs))
	}
	if tool := icat(t, img, fmt.Sprint(ino)); tool != sha(want["frag.bin"].data) {
		t.Errorf("icat frag.bin: %.12s", tool)
	}
	var ours []istatRun
	for _, r := range s.runs {
		ours = appendRun(ours, istatRun{start: r.lcn, length: r.length})
	}
	if tool := istatDataRuns(t, img, ino); !slices.Equal(ours, tool) {
		t.Errorf("frag.bin runs differ from istat -r: %d vs %d runs", len(ours), len(tool))
	}
	var mftRuns []istatRun
	for _, r := range v.mft.runs {
		mftRuns = appendRun(mftRuns, istatRun{start: r.lcn, length: r.length})
	}
	if tool := istatDataRuns(t, img, mftRecord); len(mftRuns) < 10 || !slices.Equal(mftRuns, tool) {
		t.Errorf("$MFT: %d runs, istat -r says %d", len(mftRuns), len(tool))
	}
	exts, err := v.Extents(ino)
	if err != nil || len(exts) < 300 {
		t.Errorf("frag.bin: %d extents (%v)", len(exts), err)
	}
}
