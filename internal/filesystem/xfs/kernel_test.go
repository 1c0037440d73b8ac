package xfs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// Tests that need the kernel's XFS driver: deleting files, fragmenting files, preallocating
// unwritten extents and holding unlinked files open all need a mounted file system. They run
// when a loop mount works here and skip otherwise (xfsprogs alone cannot do any of it).

// mountXFS mounts an image through a loop device; it skips the test when mounting fails.
func mountXFS(t *testing.T, img string) (mnt string, unmount func()) {
	t.Helper()
	fixture.Need(t, "mount", "umount")
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	mnt = t.TempDir()
	if _, err := fixture.RunEnv(nil, "mount", "-t", "xfs", "-o", "loop", img, mnt); err != nil {
		t.Skipf("kernel mount of an XFS loop image does not work here: %v", err)
	}
	done := false
	unmount = func() {
		if done {
			return
		}
		done = true
		if _, err := fixture.RunEnv(nil, "umount", mnt); err != nil {
			t.Errorf("umount %s: %v", mnt, err)
		}
	}
	t.Cleanup(unmount)
	return mnt, unmount
}

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDeletedThroughKernel deletes files with the kernel and checks what Deleted recovers.
func TestDeletedThroughKernel(t *testing.T) {
	img := fixture.XFS(t, "", 64)
	mnt, unmount := mountXFS(t, img)
	for i := 1; i <= 20; i++ {
		writeFile(t, filepath.Join(mnt, "blk", fmt.Sprintf("secret_file_%02d.txt", i)), []byte(fmt.Sprintf("secret %d\n", i)))
	}
	for i := range 300 {
		writeFile(t, filepath.Join(mnt, "leafdir", fmt.Sprintf("config-%03d.yaml", i)), []byte("k: v\n"))
	}
	writeFile(t, filepath.Join(mnt, "sf", "aaa"), []byte("a"))
	writeFile(t, filepath.Join(mnt, "sf", "deleted_last"), []byte("b"))
	victim := make([]byte, 100_000)
	for i := range victim {
		victim[i] = byte(i * 7)
	}
	writeFile(t, filepath.Join(mnt, "blk", "victim.bin"), victim)
	fixture.Run(t, "sync")
	removed := map[string]uint64{}
	for _, p := range []string{"blk/secret_file_05.txt", "blk/secret_file_06.txt", "blk/secret_file_20.txt",
		"blk/victim.bin", "sf/deleted_last", "leafdir/config-100.yaml", "leafdir/config-200.yaml"} {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(mnt, p), &st); err != nil {
			t.Fatal(err)
		}
		removed["/"+p] = st.Ino
		if err := os.Remove(filepath.Join(mnt, p)); err != nil {
			t.Fatal(err)
		}
	}
	unmount()

	f := openImage(t, img)
	got := map[string]uint64{}
	for d, err := range f.Deleted(context.Background()) {
		if err != nil {
			t.Errorf("Deleted: %v", err)
			continue
		}
		t.Logf("deleted: %s ino %d mode %v content %v", d.Path, d.Ino, d.Mode, d.Content != nil)
		got[d.Path] = d.Ino
		if d.Mode.Type() != 0 {
			t.Errorf("%s: mode %v, want a regular file", d.Path, d.Mode)
		}
	}
	for p, ino := range removed {
		g, ok := got[p]
		switch {
		case strings.HasPrefix(p, "/sf/"):
			// Short-form directories shift entries and current kernels zero the slack: nothing
			// is expected, but a report must name the right inode.
			if ok && g != ino {
				t.Errorf("%s: inode %d, was %d", p, g, ino)
			}
		case !ok:
			t.Errorf("deleted entry %s (inode %d) not reported", p, ino)
		case g != ino:
			t.Errorf("%s: inode %d, was %d", p, g, ino)
		}
		delete(got, p)
	}
	for p := range got {
		t.Errorf("reported %s, which was never deleted", p)
	}
}

// TestUnlinkedOpenFile deletes a file a process still holds open, copies the frozen file system
// as a snapshot would, and expects the file back from the AGI unlinked list with all its bytes.
func TestUnlinkedOpenFile(t *testing.T) {
	fixture.Need(t, "xfs_freeze", "cp")
	img := fixture.XFS(t, "", 64)
	mnt, unmount := mountXFS(t, img)
	secret := bytes.Repeat([]byte("AKIAEXAMPLEKEY0123456789 "), 4000)
	p := filepath.Join(mnt, "home", "app", "credentials.log")
	writeFile(t, p, secret)
	fh, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	fixture.Run(t, "xfs_freeze", "-f", mnt)
	snap := filepath.Join(t.TempDir(), "snapshot.img")
	_, cpErr := fixture.RunEnv(nil, "cp", "--sparse=always", img, snap)
	fixture.Run(t, "xfs_freeze", "-u", mnt)
	if cpErr != nil {
		t.Fatal(cpErr)
	}
	fh.Close()
	unmount()

	f := openImage(t, snap)
	found := false
	for d, err := range f.Deleted(context.Background()) {
		if err != nil {
			t.Errorf("Deleted: %v", err)
			continue
		}
		t.Logf("deleted: %s ino %d size %d recovered %d", d.Path, d.Ino, d.Size, d.Recovered)
		if d.Content == nil || d.Size != int64(len(secret)) {
			continue
		}
		got := make([]byte, d.Size)
		if _, err := d.Content.ReadAt(got, 0); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, secret) || d.Recovered != d.Size || d.Mode.Perm() != 0o644 {
			t.Errorf("unlinked file: content equal %v, recovered %d of %d, mode %v", bytes.Equal(got, secret), d.Recovered, d.Size, d.Mode)
		}
		found = true
	}
	if !found {
		t.Error("the unlinked-but-open file was not reported")
	}
}

// TestKernelFragmented writes sparse, fragmented and preallocated files through the kernel
// (a btree-format data fork, holes, unwritten extents) and compares everything with xfs_db.
func TestKernelFragmented(t *testing.T) {
	img := fixture.XFS(t, "", 64)
	mnt, unmount := mountXFS(t, img)
	mirror := t.TempDir() // the same files on the host, for content comparison
	for _, dir := range []string{mnt, mirror} {
		if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name string, fn func(fh *os.File)) {
		name = "data/" + name
		for _, dir := range []string{mnt, mirror} {
			fh, err := os.Create(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			fn(fh)
			if err := fh.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	chunk := func(i int) []byte { return bytes.Repeat([]byte{byte(i), byte(i >> 8), 'x', '\n'}, 1024) }
	// One 4 KiB block every 8 KiB: every block is its own extent, far more than the inode holds.
	write("sparse-fragmented.bin", func(fh *os.File) {
		for i := range 400 {
			if _, err := fh.WriteAt(chunk(i), int64(i)*8192); err != nil {
				t.Fatal(err)
			}
		}
	})
	// Preallocated (unwritten) space with a few written blocks inside it.
	write("prealloc.bin", func(fh *os.File) {
		if err := syscall.Fallocate(int(fh.Fd()), 0, 0, 1<<20); err != nil {
			t.Skipf("fallocate: %v", err)
		}
		for _, off := range []int64{0, 300 << 10, 700 << 10} {
			if _, err := fh.WriteAt(chunk(int(off)), off); err != nil {
				t.Fatal(err)
			}
		}
	})
	// Interleaved appends with fsync, so two files take turns in the allocator.
	write("interleaved-a.bin", func(*os.File) {})
	write("interleaved-b.bin", func(*os.File) {})
	for i := range 64 {
		for _, name := range []string{"interleaved-a.bin", "interleaved-b.bin"} {
			for _, dir := range []string{mnt, mirror} {
				fh, err := os.OpenFile(filepath.Join(dir, "data", name), os.O_APPEND|os.O_WRONLY|os.O_SYNC, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := fh.Write(chunk(i)); err != nil {
					t.Fatal(err)
				}
				fh.Close()
			}
		}
	}
	unmount()

	out := xfsDB(t, img, "path /data/sparse-fragmented.bin", "print core.format core.nextents")
	if !strings.Contains(out, "core.format = 3 (btree)") {
		t.Fatalf("the fragmented file did not get a btree data fork:\n%s", out)
	}
	verifyImage(t, img, mirror)
}
