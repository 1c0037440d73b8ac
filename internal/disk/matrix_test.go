package disk_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/disk"
	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
	"github.com/snapwatch/snapwatch/internal/image"
)

// The matrix of DESIGN.md's disk stack: every image format × every volume layout × every file
// system, each made by the real tools. For each cell:
//   - the image reader's guest bytes equal `qemu-img convert -O raw` of the same file;
//   - the file listing and every file's content equal the tree that was planted, which the
//     independent reader (TSK fls, xfs_db ls) has confirmed on the same file-system image;
//   - the deleted file is reported with its former path where the file system keeps it.

type fsKind struct {
	name     string
	build    func(t *testing.T, src string) string
	symlinks bool // the file system keeps symbolic links from the source tree
	perms    bool // and permission bits
	// remove deletes deletedPath with the real tool, so that residual readers have something to find.
	remove func(t *testing.T, img string)
	// list returns the paths an independent reader sees in the image.
	list func(t *testing.T, img string) []string
}

const deletedPath = "/var/tmp/deleted-token.txt"

var deletedData = []byte("ghp_" + strings.Repeat("Q", 36) + " deleted but not gone\n")

var fsKinds = []fsKind{
	{name: "ext4", symlinks: true, perms: true,
		build:  func(t *testing.T, src string) string { return fixture.Ext4(t, src, 24) },
		remove: debugfsRemove, list: flsList},
	{name: "ext2", symlinks: true, perms: true,
		build:  func(t *testing.T, src string) string { return fixture.Ext2(t, src, 24) },
		remove: debugfsRemove, list: flsList},
	{name: "xfs", symlinks: true, perms: true,
		build: func(t *testing.T, src string) string { return fixture.XFS(t, src, 64) },
		list:  xfsdbList},
	{name: "ntfs", symlinks: true,
		build:  func(t *testing.T, src string) string { return fixture.NTFS(t, src, 24) },
		remove: ntfsRemove, list: flsList},
	{name: "fat32", build: func(t *testing.T, src string) string { return fixture.FAT(t, src, 40, 32) },
		remove: func(t *testing.T, img string) {
			if _, err := fixture.RunEnv([]string{"MTOOLS_SKIP_CHECK=1"}, "mdel", "-i", img, "::"+deletedPath); err != nil {
				t.Fatal(err)
			}
		}, list: flsList},
}

var layouts = []string{fixture.LayoutNone, fixture.LayoutMBR, fixture.LayoutMBRLogical, fixture.LayoutGPT, "lvm"}

func TestMatrix(t *testing.T) {
	fixture.Need(t, "qemu-img", "sfdisk")
	files, want := plantedTree()
	for _, k := range fsKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			src := fixture.WriteTree(t, files)
			fsImg := k.build(t, src)
			checkIndependent(t, k, fsImg, want)
			if k.remove != nil {
				k.remove(t, fsImg)
			}
			for _, layout := range layouts {
				raw, wantFS := buildDisk(t, layout, fsImg)
				for _, f := range fixture.ImageFormats {
					if testing.Short() && f.Name != "raw" && f.Name != "qcow2" && f.Name != "vhdx" {
						continue
					}
					t.Run(layout+"/"+f.Name, func(t *testing.T) {
						img := fixture.Convert(t, raw, f)
						checkCell(t, k, img, f.Driver, wantFS, want)
					})
				}
			}
		})
	}
}

// plantedTree is what every cell's file system holds: config and credential files, a big random
// file, a directory with many entries (htree / XFS leaf-node / NTFS multi-level index), deep
// nesting, a symlink, names outside ASCII.
func plantedTree() ([]fixture.File, map[string][]byte) {
	want := map[string][]byte{
		"/etc/passwd":                   []byte("root:x:0:0:root:/root:/bin/bash\n"),
		"/etc/shadow":                   []byte("root:$6$salt$hash:19700:0:99999:7:::\n"),
		"/home/alice/.aws/credentials":  []byte("[default]\naws_access_key_id = AKIAQWERTYUIOPASDFGH\n"),
		"/home/alice/notes-ünïcødé.txt": []byte("ünïcødé\n"),
		"/srv/empty":                    {},
		"/srv/a/b/c/d/e/f/deep.txt":     []byte("deep\n"),
		"/var/lib/big.bin":              pseudoRandom(1<<20 + 12345),
		deletedPath:                     deletedData,
	}
	for i := range 300 {
		want[fmt.Sprintf("/usr/share/many/file-%04d.conf", i)] = []byte(fmt.Sprintf("setting=%d\n", i))
	}
	var files []fixture.File
	for p, d := range want {
		mode := os.FileMode(0o644)
		if strings.Contains(p, "shadow") || strings.Contains(p, "credentials") {
			mode = 0o600
		}
		files = append(files, fixture.File{Path: p[1:], Data: d, Mode: mode})
	}
	files = append(files, fixture.File{Path: "etc/hostname-link", Link: "passwd"})
	return files, want
}

func pseudoRandom(n int) []byte {
	b := make([]byte, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// buildDisk puts the file-system image into the layout and says how many copies of it the disk
// holds (LVM gets a linear LV spanning both PVs and a striped one).
func buildDisk(t *testing.T, layout, fsImg string) (string, int) {
	switch layout {
	case "lvm":
		return fixture.LVMDisk(t, "vgm", fixture.LV{Name: "root", Image: fsImg}, fixture.LV{Name: "data", Image: fsImg, Stripes: 2}), 2
	case fixture.LayoutMBRLogical, fixture.LayoutGPT, fixture.LayoutMBR:
		raw, _ := fixture.Disk(t, layout, fixture.Part{Image: fsImg, Name: "root"})
		return raw, 1
	default:
		raw, _ := fixture.Disk(t, layout, fixture.Part{Image: fsImg})
		return raw, 1
	}
}

func checkCell(t *testing.T, k fsKind, imgPath, driver string, wantFS int, want map[string][]byte) {
	img, err := image.Open(imgPath, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	sameBytes(t, img, fixture.ToRawFrom(t, imgPath, driver))

	d, err := disk.Open(img, img.Size())
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, f := range d.FileSystems {
		if f.FS == nil {
			if !strings.Contains(f.Problem, "all zeros") {
				t.Errorf("volume %s: %s", f.Volume.Name, f.Problem)
			}
			continue
		}
		found++
		if !strings.HasPrefix(f.Type, strings.TrimRight(k.name, "0123456789")) {
			t.Errorf("volume %s: file system %q, want %s", f.Volume.Name, f.Type, k.name)
		}
		checkFiles(t, k, f, want)
	}
	if found != wantFS {
		t.Fatalf("found %d file systems, want %d: %+v", found, wantFS, d.Layout.Volumes)
	}
}

// sameBytes compares the reader's whole guest disk with qemu-img's raw conversion.
func sameBytes(t *testing.T, img image.Image, refPath string) {
	ref, err := os.Open(refPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	st, _ := ref.Stat()
	if st.Size() != img.Size() {
		t.Fatalf("virtual size %d, qemu-img says %d", img.Size(), st.Size())
	}
	a, b := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); off < st.Size(); off += int64(len(a)) {
		n := min(int64(len(a)), st.Size()-off)
		if _, err := img.ReadAt(a[:n], off); err != nil && err != io.EOF {
			t.Fatalf("read at %d: %v", off, err)
		}
		if _, err := ref.ReadAt(b[:n], off); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if !bytes.Equal(a[:n], b[:n]) {
			i := 0
			for a[i] == b[i] {
				i++
			}
			t.Fatalf("guest bytes differ from qemu-img at offset %d", off+int64(i))
		}
	}
}

func checkFiles(t *testing.T, k fsKind, f disk.FileSystem, planted map[string][]byte) {
	want := planted
	if !k.symlinks { // mcopy copies what a link points to
		want = maps.Clone(planted)
		want["/etc/hostname-link"] = planted["/etc/passwd"]
	}
	got := map[string]bool{}
	err := fs.WalkDir(f.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." || !d.Type().IsRegular() {
			return nil
		}
		got["/"+p] = true
		return nil
	})
	if err != nil {
		t.Fatalf("%s: walk: %v", f.Volume.Name, err)
	}
	for p, data := range want {
		if p == deletedPath && k.remove != nil {
			if got[p] {
				t.Errorf("%s: deleted file %s still listed", f.Volume.Name, p)
			}
			continue
		}
		if !got[p] {
			t.Errorf("%s: %s missing", f.Volume.Name, p)
			continue
		}
		b, err := fs.ReadFile(f.FS, p[1:])
		if err != nil {
			t.Errorf("%s: read %s: %v", f.Volume.Name, p, err)
		} else if !bytes.Equal(b, data) {
			t.Errorf("%s: %s: content differs (sha256 %s, want %s)", f.Volume.Name, p, sum(b), sum(data))
		}
		if k.perms {
			info, _ := fs.Stat(f.FS, p[1:])
			wantPerm := fs.FileMode(0o644)
			if strings.Contains(p, "shadow") || strings.Contains(p, "credentials") {
				wantPerm = 0o600
			}
			if info.Mode().Perm() != wantPerm {
				t.Errorf("%s: %s: mode %v, want %v", f.Volume.Name, p, info.Mode(), wantPerm)
			}
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok && !strings.HasPrefix(p, "/lost+found") {
			t.Errorf("%s: unexpected file %s", f.Volume.Name, p)
		}
	}
	if k.symlinks {
		if target, err := f.FS.ReadLink("etc/hostname-link"); err != nil || target != "passwd" {
			t.Errorf("%s: symlink: %q, %v", f.Volume.Name, target, err)
		}
	}
	if k.remove != nil {
		checkDeleted(t, f)
	}
}

func checkDeleted(t *testing.T, f disk.FileSystem) {
	res, ok := f.FS.Tree().(filesystem.Residual)
	if !ok {
		t.Errorf("%s: %s reader has no residual data", f.Volume.Name, f.Type)
		return
	}
	for d, err := range res.Deleted(t.Context()) {
		if err != nil {
			t.Errorf("%s: deleted: %v", f.Volume.Name, err)
			continue
		}
		if !strings.EqualFold(d.Path, deletedPath) && !strings.HasSuffix(d.Path, deletedPath[2:]) {
			continue
		}
		if d.Content == nil {
			t.Errorf("%s: deleted %s found but its content is not recoverable", f.Volume.Name, d.Path)
			return
		}
		b := make([]byte, d.Size)
		n, _ := d.Content.ReadAt(b, 0)
		if !bytes.Equal(b[:n], deletedData) {
			t.Errorf("%s: deleted %s: recovered %q", f.Volume.Name, d.Path, b[:n])
		}
		return
	}
	t.Errorf("%s: deleted file %s not reported", f.Volume.Name, deletedPath)
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:8]) }

// checkIndependent proves the planted tree is what an independent reader sees in the image, so
// that comparing snapwatch with the planted tree is comparing it with that reader.
func checkIndependent(t *testing.T, k fsKind, img string, want map[string][]byte) {
	seen := map[string]bool{}
	for _, p := range k.list(t, img) {
		seen[p] = true
	}
	var missing []string
	for p := range want {
		if !seen[p] && !seen[strings.ToUpper(p)] {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("independent reader does not see %d planted files, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
}
