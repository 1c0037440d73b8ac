package ntfs

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// TestDeleted deletes files and directories on an ntfs-3g mount, reuses the MFT record of a
// deleted directory (orphaning its deleted child) and some freed clusters, and compares Deleted
// with `fls -d` (names, inodes), with the content written (sha256 where the clusters are still
// free) and with the free clusters of $Bitmap read by icat (Recovered).
func TestDeleted(t *testing.T) {
	fixture.Need(t, "fls", "icat", "istat")
	var text []byte
	for i := 0; len(text) < 100_000; i++ {
		text = append(text, "compressible line "+strconv.Itoa(i)+"\n"...)
	}
	img, want := buildNTFS(t, 16, func(p *populator) {
		// ntfs-3g hands out the lowest free MFT record: orphan-parent gets the first user
		// record (the new directory takes it over) and sacrificial.txt the third (the filler
		// takes it); the records of everything else stay as deletion left them.
		p.mkdir("orphan-parent")
		p.file("keep.txt", []byte("still here"))
		p.file("sacrificial.txt", []byte("its record is reused"))
		p.file("gone/resident.txt", []byte("AKIAIOSFODNN7EXAMPLE resident secret"))
		p.file("gone/big.bin", p.random(200_000))
		p.file("gone/sub/deep.bin", p.random(50_000))
		p.mkdir("comp")
		p.setAttrs("comp", winCompressed)
		p.file("comp/gone-compressed.txt", text).compressed = true
		p.file("top-secret.key", p.random(5000))
		p.file("reused.bin", p.random(100_000))
		p.file("orphan-parent/child.bin", p.random(30_000))
	})
	mnt, unmount := fixture.MountNTFS(t, img)
	for _, p := range []string{"orphan-parent", "sacrificial.txt", "gone", "comp/gone-compressed.txt", "top-secret.key", "reused.bin"} {
		if err := os.RemoveAll(mnt + "/" + p); err != nil {
			t.Fatal(err)
		}
	}
	unmount()
	// A new mount allocates from the lowest free record and cluster: the new directory takes
	// the record of orphan-parent, the filler some of the freed clusters.
	mnt, unmount = fixture.MountNTFS(t, img)
	if err := os.Mkdir(mnt+"/reuse", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mnt+"/reuse/filler.bin", bytes.Repeat([]byte{0xAB}, 150_000), 0o644); err != nil {
		t.Fatal(err)
	}
	unmount()

	v := openImage(t, img)
	got := map[string]filesystem.Deleted{}
	for d, err := range v.Deleted(context.Background()) {
		if err != nil {
			t.Fatalf("Deleted: %v", err)
		}
		if _, dup := got[d.Path]; dup {
			t.Errorf("%s reported twice", d.Path)
		}
		got[d.Path] = d
		t.Logf("deleted %s: record %d, %v, %d bytes, %d recovered", d.Path, d.Ino, d.Mode, d.Size, d.Recovered)
	}

	tsk := map[string]uint64{}
	for _, e := range fls(t, img, "-d") {
		if strings.HasPrefix(e.path, "$OrphanFiles/OrphanFile-") {
			continue // reserved records without a name
		}
		tsk["/"+e.path] = e.inode
	}
	for p, ino := range tsk {
		if d, ok := got[p]; !ok {
			t.Errorf("fls -d lists %s (%d), Deleted does not", p, ino)
		} else if d.Ino != ino {
			t.Errorf("%s: inode %d, fls says %d", p, d.Ino, ino)
		}
	}
	for p := range got {
		if _, ok := tsk[p]; !ok {
			t.Errorf("Deleted reports %s, fls -d does not", p)
		}
	}
	for _, p := range []string{"/$OrphanFiles/child.bin", "/gone", "/gone/sub", "/gone/sub/deep.bin", "/gone/resident.txt",
		"/gone/big.bin", "/comp/gone-compressed.txt", "/top-secret.key", "/reused.bin"} {
		if _, ok := got[p]; !ok {
			t.Errorf("Deleted does not report %s", p)
		}
	}

	bitmap := fixture.Run(t, "icat", img, "6")
	fullyRecovered, partly := 0, 0
	for p, d := range got {
		if d.Mode.IsDir() {
			if d.Content != nil || d.Size != 0 {
				t.Errorf("%s: deleted directory with content", p)
			}
			continue
		}
		orig := strings.TrimPrefix(p, "/")
		if orig == "$OrphanFiles/child.bin" {
			orig = "orphan-parent/child.bin"
		}
		w := want[orig]
		if w == nil || d.Size != int64(len(w.data)) || d.Mode != 0o644 {
			t.Errorf("%s: size %d mode %v, wrote %v", p, d.Size, d.Mode, w != nil)
			continue
		}
		if d.Content == nil || d.Recovered < 0 || d.Recovered > d.Size {
			t.Errorf("%s: content %v, recovered %d of %d", p, d.Content != nil, d.Recovered, d.Size)
			continue
		}
		if !w.compressed {
			if wantRec := recoveredFromTSK(t, img, bitmap, d.Ino, d.Size, v.geo.clusterSize); d.Recovered != wantRec {
				t.Errorf("%s: recovered %d bytes, icat's $Bitmap and istat's runs say %d", p, d.Recovered, wantRec)
			}
		}
		data := make([]byte, d.Size)
		if _, err := d.Content.ReadAt(data, 0); err != nil && err != io.EOF {
			t.Errorf("%s: read: %v", p, err)
			continue
		}
		switch {
		case d.Recovered == d.Size:
			fullyRecovered++
			if !bytes.Equal(data, w.data) {
				t.Errorf("%s: fully recovered but sha256 %.12s, wrote %.12s", p, sha(data), sha(w.data))
			}
		default:
			partly++
		}
	}
	if fullyRecovered < 4 || partly < 1 {
		t.Errorf("%d deleted files fully recovered, %d partly: the fixture no longer tests both", fullyRecovered, partly)
	}
	if r := got["/gone/resident.txt"]; r.Recovered != r.Size {
		t.Errorf("resident data not recovered: %+v", r)
	}

	// The live tree is unaffected, and the reused record is live.
	fsys := filesystem.New(v)
	if _, err := fs.Stat(fsys, "reuse/filler.bin"); err != nil {
		t.Error(err)
	}
	if _, err := fs.Stat(fsys, "gone"); err == nil {
		t.Error("deleted directory still resolves")
	}
}

// recoveredFromTSK computes Recovered independently: the clusters of istat's run list up to
// the file's size that icat's copy of $Bitmap marks free.
func recoveredFromTSK(t *testing.T, img, bitmap string, ino uint64, size, cs int64) int64 {
	t.Helper()
	runs := istatDataRuns(t, img, ino)
	if len(runs) == 0 {
		return size // resident
	}
	var rec int64
	vcn := int64(0)
	for _, r := range runs {
		for k := int64(0); k < r.length; k++ {
			c := r.start + k
			free := r.start < 0 || bitmap[c/8]&(1<<(c%8)) == 0
			if off := (vcn + k) * cs; free && off < size {
				rec += min(cs, size-off)
			}
		}
		vcn += r.length
	}
	return rec
}
