package qcow2

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// guestDiskSize is not a multiple of any cluster size above 512, so the last cluster is partial.
const guestDiskSize = 32<<20 + 7*512

// rawDisk builds a raw disk image that holds an ext4 file system with files of random content,
// a region of random data, a few unaligned random chunks and holes between them.
func rawDisk(t testing.TB) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	tree := fixture.WriteTree(t, []fixture.File{
		{Path: "etc/hostname", Data: []byte("snapwatch-test\n")},
		{Path: "home/user/.ssh/id_ed25519", Data: random(411)},
		{Path: "var/lib/blob.bin", Data: random(3<<20 + 17)},
		{Path: "srv/small", Data: random(5000)},
		{Path: "empty", Dir: true},
	})
	ext4 := fixture.Ext4(t, tree, 12)
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
		{16 << 20, 3 << 20},          // a big random region
		{21<<20 + 12345, 70000},      // unaligned, crossing clusters
		{26<<20 - 100, 300},          // crossing a 2 MiB boundary
		{guestDiskSize - 1000, 1000}, // the very end
	} {
		if _, err := f.WriteAt(random(w.n), w.off); err != nil {
			t.Fatal(err)
		}
	}
	return disk
}

// convert makes an image from a raw disk with qemu-img convert and the given arguments.
func convert(t testing.TB, raw string, args ...string) string {
	t.Helper()
	fixture.Need(t, "qemu-img")
	out := filepath.Join(t.TempDir(), "disk.qcow2")
	fixture.Run(t, "qemu-img", append(append([]string{"convert", "-f", "raw"}, args...), raw, out)...)
	return out
}

// openFile opens an image file with Open.
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

// sameAsReference checks byte for byte that the guest disk equals qemu-img convert -O raw of
// the image, reading in chunks whose odd size crosses every kind of boundary.
func sameAsReference(t testing.TB, img *Image, path string) {
	t.Helper()
	want, err := os.ReadFile(fixture.ToRaw(t, path))
	if err != nil {
		t.Fatal(err)
	}
	sameBytes(t, img, want)
}

func sameBytes(t testing.TB, img interface {
	io.ReaderAt
	Size() int64
}, want []byte) {
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
	// Past the end: io.EOF, with the bytes before it.
	tail := make([]byte, 100)
	n, err := img.ReadAt(tail, img.Size()-10)
	if n != 10 || err != io.EOF || !bytes.Equal(tail[:10], want[len(want)-10:]) {
		t.Fatalf("ReadAt across the end = %d, %v", n, err)
	}
	if n, err := img.ReadAt(tail, img.Size()); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end = %d, %v", n, err)
	}
}

// concurrentReads reads random ranges from many goroutines and compares them with want.
func concurrentReads(t *testing.T, img io.ReaderAt, want []byte) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 99))
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
