package vmdk

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// fuzzOptions serves extent files for descriptors: a name starting with "c" is a small COWD
// extent, with "s" a small streamOptimized one, anything else the fuzzed bytes themselves; delta
// disks get a small parent. So every path is reachable from a descriptor input too.
func fuzzOptions(data []byte) Options {
	parent := bytes.Repeat([]byte{0xee}, 64<<10)
	return Options{
		OpenExtent: func(name string) (io.ReaderAt, int64, error) {
			b := data
			switch {
			case strings.HasPrefix(name, "c"):
				b = fuzzCOWD
			case strings.HasPrefix(name, "s"):
				b = fuzzStream
			}
			return bytes.NewReader(b), int64(len(b)), nil
		},
		OpenBacking: func(string) (io.ReaderAt, int64, error) {
			return bytes.NewReader(parent), int64(len(parent)), nil
		},
		CacheBytes: 256 << 10,
	}
}

// exercise reads a bounded sample of an image: the first 1 MiB, then 64 KiB at 32 places
// spread over the disk, whatever its declared size.
func exercise(img *Image) {
	_, _, _ = img.Size(), img.Subformat(), img.BackingFile()
	_ = readAll(img, 1<<20)
	buf := make([]byte, 64<<10)
	for i := range int64(32) {
		_, _ = img.ReadAt(buf, img.Size()/32*i+int64(i)*4097)
	}
}

// fuzzDescriptorSeed names extents that fuzzOptions serves: COWD, streamOptimized, itself.
const fuzzDescriptorSeed = "# Disk DescriptorFile\ncreateType=\"custom\"\nparentFileNameHint=\"p\"\n" +
	"RW 128 SPARSE \"c.vmdk\"\nRDONLY 64 SPARSE \"s.vmdk\"\nRW 8 ZERO\nRW 4 FLAT \"self\" 1\nNOACCESS 2 VMFS \"self\"\n"

func FuzzVMDK(f *testing.F) {
	// Small images of every layout (made by qemu-img when it is installed) keep executions fast.
	for _, b := range imagesOf(f, tinyDisk()[:32<<10]) {
		f.Add(b)
	}
	f.Add([]byte(fuzzDescriptorSeed))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Open(bytes.NewReader(data), int64(len(data)), fuzzOptions(data))
		if err != nil {
			return
		}
		if img.Size() < 0 || img.Size() > maxVirtualBytes {
			t.Fatalf("size %d", img.Size())
		}
		exercise(img)
	})
}

func FuzzDescriptor(f *testing.F) {
	f.Add([]byte("# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\n" +
		"RW 4194304 SPARSE \"a-s001.vmdk\"\nRW 100 FLAT \"b.vmdk\" 3\nRDONLY 5 ZERO\nNOACCESS 7 VMFS \"c\"\n"))
	f.Add([]byte("# Disk DescriptorFile\nparentFileNameHint=\"p.vmdk\"\nRW 8 VMFSSPARSE \"d-delta.vmdk\"\n"))
	f.Add([]byte("# Disk DescriptorFile\nRW 9223372036854775807 ZERO\nRW 1 ZERO\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		d, err := parseDescriptor(text)
		if err != nil {
			return
		}
		var total int64
		for _, e := range d.extents {
			if e.sectors <= 0 || e.offset < 0 {
				t.Fatalf("extent %+v", e)
			}
			total += e.sectors
		}
		if len(d.extents) > maxExtents || total > maxVirtualBytes/sectorSize || total < 0 {
			t.Fatalf("%d extents of %d sectors", len(d.extents), total)
		}
		// Open it too, with every extent file a small sparse extent.
		text = append([]byte("# Disk DescriptorFile\n"), text...)
		img, err := Open(bytes.NewReader(text), int64(len(text)), fuzzOptions(fuzzCOWD))
		if err == nil {
			exercise(img)
		}
	})
}

// fuzzCOWD is a 64 KiB COWD extent of 4 KiB grains, every other one present.
var fuzzCOWD = cowdBytes(tinyDisk()[:64<<10], 8, func(g uint64) bool { return g%2 == 1 })

// fuzzStream is a 64 KiB streamOptimized extent of 4 KiB grains, directory in the footer.
var fuzzStream = streamBytes(tinyDisk()[:64<<10], streamOptions{grainSize: 8})

// TestWriteFuzzSeeds regenerates the committed seeds (SNAPWATCH_WRITE_SEEDS=1): small images of
// each layout and cuts of real qemu-img output, each under 64 KiB.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SNAPWATCH_WRITE_SEEDS") != "1" {
		t.Skip("set SNAPWATCH_WRITE_SEEDS=1 to rewrite testdata/fuzz")
	}
	// Text-like content keeps the quoted seed files small.
	disk := mixedData(rand.New(rand.NewPCG(1, 1)), 64<<10)
	clear(disk[:16<<10])
	for i := range 4096 {
		disk[40<<10+i*3] = byte(i)
	}
	images := imagesOf(t, disk)
	names := make([]string, 0, len(images))
	for n := range images {
		names = append(names, n)
	}
	sort.Strings(names)
	dir := filepath.Join("testdata", "fuzz", "FuzzVMDK")
	os.MkdirAll(dir, 0o755)
	for _, n := range names {
		writeSeed(t, filepath.Join(dir, n), images[n])
	}
	writeSeed(t, filepath.Join(dir, "descriptor"), []byte(fuzzDescriptorSeed))
	dir = filepath.Join("testdata", "fuzz", "FuzzDescriptor")
	os.MkdirAll(dir, 0o755)
	writeSeed(t, filepath.Join(dir, "split"), []byte("# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"+
		"parentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\n\n# Extent description\n"+
		"RW 4194304 SPARSE \"a-s001.vmdk\"\nRW 100 FLAT \"b.vmdk\" 3\nRDONLY 5 ZERO\nNOACCESS 7 VMFS \"c\"\n"))
}

// writeSeed writes b as a seed file, cut short (a truncated real structure is a good seed too)
// when its quoted form would exceed 60 KiB.
func writeSeed(t *testing.T, path string, b []byte) {
	t.Helper()
	seed := func(b []byte) []byte { return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b) }
	for len(seed(b)) > 60<<10 {
		b = b[:len(b)*7/8]
	}
	if err := os.WriteFile(path, seed(b), 0o644); err != nil {
		t.Fatal(err)
	}
}
