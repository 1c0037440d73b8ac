package vhdx

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// A VHDX spreads a few hundred meaningful bytes over megabytes of zeros. The fuzz input is
// those bytes only: window i of fuzzWindows is filled from the input in turn, and everything
// else of the 12 MiB file reads as zeros. The windows sit where this package's test writer and
// qemu-img put the structures: identifier, headers, region tables, log, BAT, metadata table and
// items, the first payload blocks and a sector bitmap.
var fuzzWindows = []struct{ off, n int64 }{
	{0, 128},
	{header1Offset, 128},
	{header2Offset, 128},
	{regionTable1Offset, 128},
	{regionTable2Offset, 128},
	{1 * mib, 2 * logSectorBytes}, // a log entry with one data sector
	{2 * mib, 256},                // BAT
	{3 * mib, 256},                // metadata table
	{3*mib + 64*kib, 512},         // metadata items
	{4 * mib, 256},                // payload blocks and sector bitmaps (test writer)
	{5 * mib, 256},
	{6 * mib, 256},
	{8 * mib, 256}, // payload blocks (qemu-img)
	{9 * mib, 256},
}

const fuzzFileBytes = 12 * mib

// windowFile is the 12 MiB file a fuzz input stands for.
type windowFile []byte

func (w windowFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= fuzzFileBytes {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), fuzzFileBytes-off))
	clear(p[:n])
	in := []byte(w)
	for _, win := range fuzzWindows {
		src := in[:min(int64(len(in)), win.n)]
		in = in[len(src):]
		lo, hi := max(off, win.off), min(off+int64(n), win.off+int64(len(src)))
		if lo < hi {
			copy(p[lo-off:hi-off], src[lo-win.off:hi-win.off])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// windowsOf extracts the fuzz input of a real file.
func windowsOf(file []byte) []byte {
	var out []byte
	for _, win := range fuzzWindows {
		b := make([]byte, win.n)
		if win.off < int64(len(file)) {
			copy(b, file[win.off:min(int64(len(file)), win.off+win.n)])
		}
		out = append(out, b...)
	}
	return out
}

// fuzzSeeds are small files of every kind: dynamic, fixed, 4 KiB sectors, differencing with
// partially present blocks, a pending log, and (when qemu-img is installed) qemu's own.
func fuzzSeeds(t testing.TB) map[string][]byte {
	data := make([]byte, 3*mib)
	for i := range data {
		data[i] = byte(i/512 + 1)
	}
	seeds := map[string][]byte{}
	seeds["dynamic"], _ = buildVHDX(spec{size: int64(len(data)), data: data})
	seeds["fixed"], _ = buildVHDX(spec{size: int64(len(data)), data: data, fixed: true})
	seeds["sector-4096"], _ = buildVHDX(spec{size: int64(len(data)), data: data, logicalSector: 4096})
	seeds["differencing"], _ = buildVHDX(spec{size: int64(len(data)), data: data, parentPath: `..\p.vhdx`,
		present: func(s int64) bool { return s%3 == 0 }})
	withLog, l := buildVHDX(spec{size: int64(len(data)), data: data})
	bat := bytes.Clone(withLog[l.batOffset : l.batOffset+logSectorBytes])
	clear(withLog[l.batOffset : l.batOffset+logSectorBytes])
	writeLogEntry(withLog[l.logOffset:l.logOffset+logLen], logEntrySpec{seq: 1, writes: []logWrite{{offset: l.batOffset, data: bat}}}, guid{5})
	setLogGUID(withLog, guid{5})
	seeds["log"] = withLog
	if _, err := fixture.RunEnv(nil, "qemu-img", "--version"); err == nil {
		dir := t.TempDir()
		raw := filepath.Join(dir, "d.raw")
		os.WriteFile(raw, data, 0o644)
		p := filepath.Join(dir, "q.vhdx")
		fixture.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M", raw, p)
		seeds["qemu"], _ = os.ReadFile(p)
	}
	return seeds
}

func FuzzVHDX(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(windowsOf(s))
	}
	parent := bytes.Repeat([]byte{0xee}, 64<<10)
	opt := Options{
		OpenBacking: func(string) (io.ReaderAt, int64, error) { return bytes.NewReader(parent), int64(len(parent)), nil },
		CacheBytes:  256 << 10,
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = openBytes(data, opt) // the input as a whole file: the short-file paths
		img, err := Open(windowFile(data), fuzzFileBytes, opt)
		if err != nil {
			return
		}
		if img.Size() < 0 || img.Size() > maxVirtualBytes {
			t.Fatalf("size %d", img.Size())
		}
		_, _, _ = img.LogicalSectorSize(), img.PhysicalSectorSize(), img.BackingFile()
		_ = readAll(img, 1<<20)
		buf := make([]byte, 64<<10)
		for i := range int64(32) {
			_, _ = img.ReadAt(buf, img.Size()/32*i+i*4097)
		}
	})
}

// TestWriteFuzzSeeds regenerates the committed seeds (SNAPWATCH_WRITE_SEEDS=1).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SNAPWATCH_WRITE_SEEDS") != "1" {
		t.Skip("set SNAPWATCH_WRITE_SEEDS=1 to rewrite testdata/fuzz")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzVHDX")
	os.MkdirAll(dir, 0o755)
	for name, s := range fuzzSeeds(t) {
		seed := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", windowsOf(s))
		if len(seed) > 64<<10 {
			t.Fatalf("seed %s is %d bytes", name, len(seed))
		}
		if err := os.WriteFile(filepath.Join(dir, name), seed, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFuzzWindowsRoundTrip: the window view of a seed reads as the seed itself, so the fuzzer
// starts from real, readable disks.
func TestFuzzWindowsRoundTrip(t *testing.T) {
	for name, s := range fuzzSeeds(t) {
		if name == "differencing" {
			continue // needs its parent
		}
		want, err := openBytes(s, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := Open(windowFile(windowsOf(s)), fuzzFileBytes, Options{})
		if err != nil {
			t.Fatalf("%s through the windows: %v", name, err)
		}
		a, b := make([]byte, 256), make([]byte, 256)
		for _, off := range []int64{0, mib} {
			want.ReadAt(a, off)
			got.ReadAt(b, off)
			if !bytes.Equal(a, b) {
				t.Errorf("%s: sector at %d differs through the windows", name, off)
			}
		}
	}
}
