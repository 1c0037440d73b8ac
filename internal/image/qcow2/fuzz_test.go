package qcow2

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// FuzzQCOW2 opens arbitrary bytes as a qcow2 image and reads from all over the guest disk.
// Seeds: the committed ones in testdata/fuzz/FuzzQCOW2 and, when qemu-img is installed, small
// images of every flavour made by it now.
func FuzzQCOW2(f *testing.F) {
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
	backing := bytes.Repeat([]byte("backing!"), 1024)
	opt := Options{
		CacheBytes:  64 << 10,
		OpenBacking: func(string) (io.ReaderAt, int64, error) { return bytes.NewReader(backing), int64(len(backing)), nil },
	}
	img, err := Open(bytes.NewReader(data), int64(len(data)), opt)
	if err != nil {
		return
	}
	_, _ = img.BackingFile(), img.BackingFormat()
	size := img.Size()
	if size < 0 {
		t.Fatalf("negative size %d", size)
	}
	var offsets []int64
	for i := range int64(8) {
		offsets = append(offsets, i*8<<10)
		offsets = append(offsets, size/8*i+int64(i)*777)
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
		full := off <= size-int64(len(buf))
		if err == nil && n != len(buf) {
			t.Fatalf("ReadAt(%d) = %d bytes and no error", off, n)
		}
		if err == nil && !full {
			t.Fatalf("ReadAt(%d) past the end (size %d) without io.EOF", off, size)
		}
		if err != nil {
			continue
		}
		// The same bytes again (now from the cache) and in two halves must agree.
		half := len(again) / 3
		n1, err1 := img.ReadAt(again[:half], off)
		n2, err2 := img.ReadAt(again[half:], off+int64(half))
		if err1 != nil || err2 != nil || n1+n2 != len(again) || !bytes.Equal(buf, again) {
			t.Fatalf("ReadAt(%d) not repeatable: %v %v", off, err1, err2)
		}
	}
}

// toolSeeds makes small images with qemu-img when it is installed (none otherwise).
func toolSeeds(f testing.TB) [][]byte {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		return nil
	}
	dir := f.TempDir()
	raw := filepath.Join(dir, "seed.raw")
	// Small and printable, so that the images also make committed seeds under 64 KiB.
	guest := make([]byte, 16<<10)
	for i := range guest {
		if (i/4096)%3 != 1 {
			guest[i] = 'a' + byte((i*31+i/511)%26)
		}
	}
	if err := os.WriteFile(raw, guest, 0o644); err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	for i, args := range [][]string{
		{"-O", "qcow2", "-o", "cluster_size=512"},
		{"-O", "qcow2", "-o", "cluster_size=512,compat=0.10"},
		{"-c", "-O", "qcow2", "-o", "cluster_size=512"},
		{"-c", "-O", "qcow2", "-o", "cluster_size=512,compression_type=zstd"},
		{"-c", "-O", "qcow2", "-o", "cluster_size=4k,compression_type=zstd"},
		{"-O", "qcow2", "-o", "cluster_size=16k,extended_l2=on"},
		{"-c", "-O", "qcow2", "-o", "cluster_size=16k,extended_l2=on"},
	} {
		out := filepath.Join(dir, fmt.Sprintf("seed%d.qcow2", i))
		cmd := exec.Command("qemu-img", append(append([]string{"convert", "-f", "raw"}, args...), raw, out)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			f.Fatalf("qemu-img %v: %v\n%s", args, err, b)
		}
		if b, err := os.ReadFile(out); err == nil {
			seeds = append(seeds, b)
		}
	}
	// Top images over a backing file, with zero clusters, and with subclusters.
	for i, opts := range []string{"cluster_size=512", "cluster_size=16k,extended_l2=on"} {
		top := filepath.Join(dir, fmt.Sprintf("top%d.qcow2", i))
		for _, args := range [][]string{
			{"qemu-img", "create", "-q", "-f", "qcow2", "-o", opts, "-b", "seed.raw", "-F", "raw", top},
			{"qemu-io", "-f", "qcow2", "-c", "write -P 0x41 1k 1k", "-c", "write -z 8k 2k", "-c", "write -z -u 12k 4k", top},
		} {
			if b, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
				f.Logf("%v: %v\n%s", args, err, b)
				return seeds
			}
		}
		if b, err := os.ReadFile(top); err == nil {
			seeds = append(seeds, b)
		}
	}
	return seeds
}
