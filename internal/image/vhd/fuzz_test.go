package vhd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// FuzzVHD opens arbitrary bytes as a VHD and reads from all over the guest disk. Seeds: the
// committed ones in testdata/fuzz/FuzzVHD, the tests' own writer's, and, when qemu-img is
// installed, small images made by it now.
func FuzzVHD(f *testing.F) {
	for _, seed := range writerSeeds() {
		f.Add(seed)
	}
	for _, seed := range toolSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		exerciseImage(t, data)
	})
}

// exerciseImage opens data and reads a bounded sample of the guest disk: the start, points
// spread over the whole size, and the end. It checks the io.ReaderAt contract and that cached
// and uncached reads agree.
func exerciseImage(t *testing.T, data []byte) {
	parent := bytes.Repeat([]byte("parent!!"), 1024)
	opt := Options{
		CacheBytes:  8 << 10,
		OpenBacking: func(string) (io.ReaderAt, int64, error) { return bytes.NewReader(parent), int64(len(parent)), nil },
	}
	_ = Detect(bytes.NewReader(data), int64(len(data)))
	img, err := Open(bytes.NewReader(data), int64(len(data)), opt)
	if err != nil {
		return
	}
	_, _, _, _ = img.Type(), img.BackingFile(), img.BlockSize(), img.ParentLocators()
	size := img.Size()
	if size < 0 {
		t.Fatalf("negative size %d", size)
	}
	var offsets []int64
	for i := range int64(8) {
		offsets = append(offsets, i*8<<10)
		offsets = append(offsets, size/8*i+i*777)
	}
	offsets = append(offsets, size-1, size-5000, size, size+10)
	buf := make([]byte, 9<<10)
	again := make([]byte, len(buf))
	for _, off := range offsets {
		if off < 0 {
			continue
		}
		n, err := img.ReadAt(buf, off)
		if n < 0 || n > len(buf) {
			t.Fatalf("ReadAt returned n = %d", n)
		}
		if err == nil && (n != len(buf) || off > size-int64(len(buf))) {
			t.Fatalf("ReadAt(%d) = %d bytes and no error (size %d)", off, n, size)
		}
		if err != nil {
			continue
		}
		half := len(again) / 3
		n1, err1 := img.ReadAt(again[:half], off)
		n2, err2 := img.ReadAt(again[half:], off+int64(half))
		if err1 != nil || err2 != nil || n1+n2 != len(again) || !bytes.Equal(buf, again) {
			t.Fatalf("ReadAt(%d) not repeatable: %v %v", off, err1, err2)
		}
	}
}

// writerSeeds are small images from the tests' own writer: what qemu-img cannot make.
func writerSeeds() [][]byte {
	const size = 6 << 10 // small: committed seeds must encode under 64 KiB
	guest := pattern(size, 3)
	some := func(b int64) bool { return b%3 != 1 }
	var seeds [][]byte
	for _, s := range []sparseSpec{
		{diskType: typeDynamic, size: size, blockSize: 512, guest: guest, allocated: some, present: func(int64) bool { return true }},
		{diskType: typeDynamic, size: size, blockSize: 4096, guest: guest, allocated: some, present: func(s int64) bool { return s%3 == 0 }, junk: 0x55},
		{diskType: typeDifferencing, size: size + 4096, blockSize: 4096, parentName: "parent.vhd", guest: pattern(size+4096, 4),
			allocated: some, present: func(s int64) bool { return s%4 < 2 }},
	} {
		seeds = append(seeds, buildSparse(s))
	}
	fixed := append(pattern(4096, 6), makeFooter(typeFixed, 4096, ^uint64(0))...)
	old := append(pattern(4096, 7), makeFooter(typeFixed, 4096, ^uint64(0))[:511]...)
	headless := seeds[1][:len(seeds[1])-footerSize] // a dynamic disk whose end was cut off
	return append(seeds, fixed, old, headless)
}

// toolSeeds makes small VHDs with qemu-img when it is installed (none otherwise).
func toolSeeds(f testing.TB) [][]byte {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		return nil
	}
	dir := f.TempDir()
	raw := filepath.Join(dir, "seed.raw")
	if err := os.WriteFile(raw, pattern(64<<10, 8), 0o644); err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	for i, args := range [][]string{
		{"convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", raw},
		{"create", "-f", "vpc", "-o", "subformat=dynamic"},
		{"create", "-f", "vpc", "-o", "subformat=dynamic,force_size=on"},
	} {
		out := filepath.Join(dir, fmt.Sprintf("seed%d.vhd", i))
		args = append(args, out)
		if args[0] == "create" {
			args = append(args, "3M")
		}
		if b, err := exec.Command("qemu-img", args...).CombinedOutput(); err != nil {
			f.Fatalf("qemu-img %v: %v\n%s", args, err, b)
		}
		if b, err := os.ReadFile(out); err == nil {
			seeds = append(seeds, b)
		}
	}
	return seeds
}
