package vhdx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

var sharedDir string // removed by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vhdx-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	sharedDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	rawDiskOnce sync.Once
	rawDiskPath string
	rawDiskErr  error
)

// rawDisk returns (building it once per test binary) a 72 MiB raw disk holding an ext4 file
// system of random files at 1 MiB, random data at unaligned places, and holes elsewhere.
func rawDisk(t testing.TB) string {
	t.Helper()
	fixture.Need(t, "mke2fs", "qemu-img") // here, not in the Once: a skip must not poison it
	rawDiskOnce.Do(func() { rawDiskPath, rawDiskErr = buildRawDisk(t) })
	if rawDiskErr != nil {
		t.Fatal(rawDiskErr)
	}
	return rawDiskPath
}

func buildRawDisk(t testing.TB) (string, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var files []fixture.File
	for i := range 30 {
		files = append(files, fixture.File{
			Path: fmt.Sprintf("dir%d/file%02d.bin", i%4, i),
			Data: mixedData(rng, 1+rng.IntN(300<<10)),
		})
	}
	fs := fixture.Ext4(t, fixture.WriteTree(t, files), 32)
	path := filepath.Join(sharedDir, "disk.raw")
	fixture.Sparse(t, path, 72*mib)
	fixture.CopyInto(t, path, mib, fs)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, w := range []struct{ off, n int64 }{
		{40*mib + 4096 + 3*512 + 7, 3*mib + 777}, // across 1 MiB block boundaries, unaligned
		{60*mib - 1000, 100 << 10},
		{72*mib - 64<<10, 64 << 10}, // the last bytes
	} {
		buf := make([]byte, w.n)
		fillRandom(rng, buf)
		clear(buf[len(buf)/2 : len(buf)/2+len(buf)/4])
		if _, err := f.WriteAt(buf, w.off); err != nil {
			return "", err
		}
	}
	return path, nil
}

// mixedData is half text-like (compressible) and half random, as real disks are.
func mixedData(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	const text = "snapwatch reads disks without mounting them\n"
	for i := 0; i < n; i += 4096 {
		end := min(n, i+4096)
		if rng.IntN(2) == 0 {
			fillRandom(rng, b[i:end])
			continue
		}
		for j := i; j < end; j++ {
			b[j] = text[j%len(text)]
		}
	}
	return b
}

func fillRandom(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// openPath opens a VHDX file whose parent (if any) is a VHDX next to it.
func openPath(path string, opt Options) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if opt.OpenBacking == nil {
		opt.OpenBacking = func(name string) (io.ReaderAt, int64, error) {
			p, err := openPath(filepath.Join(filepath.Dir(path), name), Options{})
			if err != nil {
				return nil, 0, err
			}
			return p, p.Size(), nil
		}
	}
	return Open(f, st.Size(), opt)
}

func mustOpen(t testing.TB, path string, opt Options) *Image {
	t.Helper()
	img, err := openPath(path, opt)
	if err != nil {
		t.Fatalf("open %s: %v", filepath.Base(path), err)
	}
	return img
}

// sameAsFile compares every guest byte with the raw file ref, in unaligned chunks (holes of
// ref, found with SEEK_HOLE, are compared with zeros without reading them), then checks random
// small reads and io.EOF at the end.
func sameAsFile(t testing.TB, img *Image, ref string) {
	t.Helper()
	f, err := os.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	if img.Size() != st.Size() {
		t.Fatalf("size %d, reference %d", img.Size(), st.Size())
	}
	chunk := 4*mib + 4096 + 512 + 3
	got, want, zero := make([]byte, chunk), make([]byte, chunk), make([]byte, chunk)
	for off := int64(0); off < img.Size(); {
		dataEnd, holeEnd := nextHole(f, off, img.Size())
		n := int(min(int64(chunk), max(dataEnd, holeEnd)-off))
		k, err := img.ReadAt(got[:n], off)
		if k != n || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", off, n, k, err)
		}
		expect := zero[:n]
		if dataEnd > off {
			if m, _ := f.ReadAt(want[:n], off); m != n {
				t.Fatalf("reference short at %d", off)
			}
			expect = want[:n]
		}
		if !bytes.Equal(got[:n], expect) {
			t.Fatalf("guest bytes differ from the reference at 0x%x", off+int64(firstDiff(got[:n], expect)))
		}
		off += int64(n)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		readAndCompare(t, img, f, rng.Int64N(img.Size()), rng.IntN(200<<10))
	}
	if n, err := img.ReadAt(make([]byte, 10), img.Size()); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt(Size) = %d, %v; want 0, io.EOF", n, err)
	}
	if n, err := img.ReadAt(make([]byte, 10), img.Size()-4); n != 4 || err != io.EOF {
		t.Fatalf("ReadAt(Size-4) = %d, %v; want 4, io.EOF", n, err)
	}
}

// sameAsBytes compares the whole guest disk with want.
func sameAsBytes(t testing.TB, img *Image, want []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "want.raw")
	if err := os.WriteFile(p, want, 0o644); err != nil {
		t.Fatal(err)
	}
	sameAsFile(t, img, p)
}

// nextHole says what lies at off in f: data up to dataEnd (> off), or else a hole up to holeEnd.
func nextHole(f *os.File, off, size int64) (dataEnd, holeEnd int64) {
	const seekData, seekHole = 3, 4 // Linux lseek whence values
	data, err := f.Seek(off, seekData)
	if err != nil {
		if errors.Is(err, syscall.ENXIO) {
			return off, size
		}
		return size, 0
	}
	if data > off {
		return off, data
	}
	hole, err := f.Seek(off, seekHole)
	if err != nil {
		return size, 0
	}
	return hole, 0
}

func readAndCompare(t testing.TB, img io.ReaderAt, ref io.ReaderAt, off int64, n int) {
	t.Helper()
	got, want := make([]byte, n), make([]byte, n)
	k, err := img.ReadAt(got, off)
	if err != nil && err != io.EOF {
		t.Errorf("ReadAt(%d, %d): %v", off, n, err)
		return
	}
	m, _ := ref.ReadAt(want, off)
	if k != m || !bytes.Equal(got[:k], want[:m]) {
		t.Errorf("ReadAt(%d, %d): %d bytes differ from the reference's %d", off, n, k, m)
	}
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}

// concurrentReads reads random ranges from 8 goroutines and compares them with ref.
func concurrentReads(t *testing.T, img io.ReaderAt, size int64, ref string) {
	t.Helper()
	f, err := os.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for range 150 {
				readAndCompare(t, img, f, rng.Int64N(size), rng.IntN(300<<10))
			}
		})
	}
	wg.Wait()
}

// vhdiinfo runs libyal's vhdiinfo and returns its "key: value" lines (the first of each key).
func vhdiinfo(t testing.TB, path string) map[string]string {
	t.Helper()
	fixture.Need(t, "vhdiinfo")
	out := fixture.Run(t, "vhdiinfo", path)
	info := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if k = strings.TrimSpace(k); ok {
			if _, seen := info[k]; !seen {
				info[k] = strings.TrimSpace(v)
			}
		}
	}
	return info
}
