package vhd

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// guestDiskSize is a whole number of sectors but not of 2 MiB blocks: the last block is partial.
const guestDiskSize = 24<<20 + 7*512

// rawDisk builds a raw disk image that holds an ext4 file system with files of random content,
// a region of random data, a few unaligned random chunks and holes between them.
func rawDisk(t testing.TB) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	tree := fixture.WriteTree(t, []fixture.File{
		{Path: "etc/hostname", Data: []byte("snapwatch-test\n")},
		{Path: "home/user/.ssh/id_rsa", Data: random(1679)},
		{Path: "var/lib/blob.bin", Data: random(2<<20 + 99)},
		{Path: "empty", Dir: true},
	})
	ext4 := fixture.Ext4(t, tree, 8)
	disk := filepath.Join(t.TempDir(), "guest.raw")
	fixture.Sparse(t, disk, guestDiskSize)
	fixture.CopyInto(t, disk, 0, ext4)
	f, err := os.OpenFile(disk, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []struct {
		off int64
		n   int
	}{
		{12 << 20, 3 << 20},
		{17<<20 + 12345, 70000},
		{20<<20 - 100, 300},
		{guestDiskSize - 1000, 1000},
	} {
		if _, err := f.WriteAt(random(w.n), w.off); err != nil {
			t.Fatal(err)
		}
	}
	return disk
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openFile(t testing.TB, path string, opt Options) *Image {
	t.Helper()
	img, err := openPath(path, opt)
	if err != nil {
		t.Fatalf("Open %s: %v", filepath.Base(path), err)
	}
	return img
}

func openPath(path string, opt Options) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Open(f, st.Size(), opt)
}

// sameBytes reads the whole guest disk in chunks whose odd size crosses every kind of boundary
// and compares it with want, then checks the io.EOF behaviour at the end.
func sameBytes(t testing.TB, img *Image, want []byte) {
	t.Helper()
	if img.Size() != int64(len(want)) {
		t.Fatalf("Size() = %d, reference has %d bytes", img.Size(), len(want))
	}
	got := make([]byte, len(want))
	const chunk = 1<<20 + 4097
	for off := 0; off < len(got); off += chunk {
		end := min(off+chunk, len(got))
		n, err := img.ReadAt(got[off:end], int64(off))
		if n != end-off || (err != nil && !(err == io.EOF && end == len(got))) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v", end-off, off, n, err)
		}
	}
	if !bytes.Equal(got, want) {
		i := 0
		for got[i] == want[i] {
			i++
		}
		t.Fatalf("guest bytes differ from the reference first at offset %#x (sha256 %x, want %x)",
			i, sha256.Sum256(got), sha256.Sum256(want))
	}
	tail := make([]byte, 100)
	n, err := img.ReadAt(tail, img.Size()-10)
	if n != 10 || err != io.EOF || !bytes.Equal(tail[:10], want[len(want)-10:]) {
		t.Fatalf("ReadAt across the end = %d, %v", n, err)
	}
	if n, err := img.ReadAt(tail, img.Size()); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end = %d, %v", n, err)
	}
}

// viaVhdimount reads the guest disk of the VHD at path with libvhdi's vhdimount (FUSE), which
// opens a differencing disk's parent from the same directory by name: an independent reader.
// libvhdi 20210425 returns wrong data for reads that span sector ranges of different bitmap
// states, so the disk is read with 4 KiB direct reads, which never do for bitmaps made of
// whole bytes (8 sectors); see TestDynamicSectorBitmap.
func viaVhdimount(t testing.TB, path string) []byte {
	t.Helper()
	fixture.Need(t, "vhdimount", "fusermount")
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("vhdimount needs FUSE (/dev/fuse)")
	}
	mnt := t.TempDir()
	if _, err := fixture.RunEnv(nil, "vhdimount", path, mnt); err != nil {
		t.Skipf("cannot FUSE-mount with vhdimount here: %v", err)
	}
	defer func() {
		if _, err := fixture.RunEnv(nil, "fusermount", "-u", mnt); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	}()
	// vhdimount shows the whole chain: vhdi1 is the base, the highest number the image itself.
	entries, err := os.ReadDir(mnt)
	if err != nil || len(entries) == 0 {
		t.Fatalf("vhdimount shows nothing: %v", err)
	}
	last := filepath.Join(mnt, fmt.Sprintf("vhdi%d", len(entries)))
	out := filepath.Join(t.TempDir(), "vhdimount.raw")
	fixture.Run(t, "dd", "if="+last, "of="+out, "bs=4k", "iflag=direct", "status=none")
	return readFile(t, out)
}

// concurrentReads reads random ranges from many goroutines and compares them with want.
func concurrentReads(t *testing.T, img io.ReaderAt, want []byte) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			buf := make([]byte, 300<<10)
			for range 200 {
				off := rng.IntN(len(want))
				n := min(rng.IntN(len(buf))+1, len(want)-off)
				if _, err := img.ReadAt(buf[:n], int64(off)); err != nil && err != io.EOF {
					t.Errorf("ReadAt(%d at %d): %v", n, off, err)
					return
				}
				if !bytes.Equal(buf[:n], want[off:off+n]) {
					t.Errorf("concurrent ReadAt(%d at %d) differs", n, off)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// qemuRaw converts a VHD to raw with qemu-img, naming the format: qemu-img only probes the
// cookie at offset 0, so a fixed VHD (footer at the end only) would be taken for raw.
func qemuRaw(t testing.TB, path string) []byte {
	t.Helper()
	return readFile(t, fixture.ToRawFrom(t, path, "vpc"))
}
