package vmdk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// TestDescriptorExtentKinds reads a hand-written descriptor that mixes every extent kind and
// access mode. qemu-img skips ZERO and non-RW extents (shifting the rest), so the expected disk
// is assembled here from the extent files; vmdkinfo checks the extent list.
func TestDescriptorExtentKinds(t *testing.T) {
	fixture.Need(t, "qemu-img")
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 12))
	random := func(n int) []byte { b := make([]byte, n); fillRandom(rng, b); return b }

	flat := random(3000 * sectorSize)
	vmfs := random(1000 * sectorSize)
	sparseDisk := random(4096 * sectorSize)
	clear(sparseDisk[mib/2 : mib]) // a hole in the sparse extent
	streamDisk := random(256 * sectorSize)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("flat.bin", flat)
	write("vmfs-flat.vmdk", vmfs)
	fixture.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", write("sparse.raw", sparseDisk), filepath.Join(dir, "sparse.vmdk"))
	writeStreamOptimized(t, filepath.Join(dir, "stream.vmdk"), streamDisk, streamOptions{})

	desc := `# Disk DescriptorFile
version=1
encoding="UTF-8"
CID=fffffffe
parentCID=ffffffff
createType="custom"

# Extent description
RW 2048 FLAT "flat.bin" 100
RDONLY 1024 ZERO
RW 4096 SPARSE "sparse.vmdk"
NOACCESS 512 FLAT "flat.bin" 0
RW 1000 VMFS "vmfs-flat.vmdk"
RDONLY 64 SPARSE "stream.vmdk"

# The Disk Data Base
#DDB

ddb.virtualHWVersion = "4"
ddb.adapterType = "lsilogic"
`
	path := write("custom.vmdk", []byte(desc))
	var want []byte
	want = append(want, flat[100*sectorSize:2148*sectorSize]...)
	want = append(want, make([]byte, 1024*sectorSize)...)
	want = append(want, sparseDisk...)
	want = append(want, make([]byte, 512*sectorSize)...) // NOACCESS reads as zeros
	want = append(want, vmfs...)
	want = append(want, streamDisk[:64*sectorSize]...)
	write("want.raw", want)

	img := mustOpen(t, path, Options{})
	if img.Subformat() != "custom" || len(img.spans) != 6 {
		t.Errorf("Subformat() = %q with %d extents", img.Subformat(), len(img.spans))
	}
	info := vmdkinfo(t, path)
	if info["Number of extents"] != "6" || mediaSize(info) != itoa(int64(len(want))) {
		t.Errorf("vmdkinfo: %s extents of %s bytes", info["Number of extents"], mediaSize(info))
	}
	sameAsFile(t, img, filepath.Join(dir, "want.raw"))

	// Without OpenExtent the first file is named in the error.
	f, _ := os.Open(path)
	defer f.Close()
	_, err := Open(f, int64(len(desc)), Options{OpenExtent: nil})
	if !errors.Is(err, ErrNeedsFile) || !strings.Contains(err.Error(), `"flat.bin"`) {
		t.Errorf("Open without OpenExtent: %v", err)
	}
	// A missing extent file is named too.
	_, err = Open(f, int64(len(desc)), Options{OpenExtent: func(name string) (io.ReaderAt, int64, error) {
		if name == "sparse.vmdk" {
			return nil, 0, os.ErrNotExist
		}
		return fileOpener(dir)(name)
	}})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), `"sparse.vmdk"`) {
		t.Errorf("Open with a missing extent: %v", err)
	}
}

func TestDetect(t *testing.T) {
	kdmv := []byte("KDMV\x01\x00\x00\x00")
	for _, tc := range []struct {
		head []byte
		want bool
	}{
		{kdmv, true},
		{[]byte("COWD\x01\x00\x00\x00"), true},
		{[]byte("# Disk DescriptorFile\nversion=1\n"), true},
		{[]byte("\xef\xbb\xbf\n# disk descriptorfile\n"), true},
		{[]byte("KDM"), false},
		{[]byte("# Disk Descriptor"), false},
		{[]byte("vhdxfile"), false},
		{nil, false},
	} {
		if got := Detect(tc.head); got != tc.want {
			t.Errorf("Detect(%q) = %v", tc.head, got)
		}
	}
}

func TestParseDescriptor(t *testing.T) {
	d, err := parseDescriptor([]byte("# Disk DescriptorFile\r\nCID=1\r\nparentCID=2\r\n" +
		"createType = \"twoGbMaxExtentSparse\"\r\nparentFileNameHint=\"my parent.vmdk\"\r\n" +
		"RW 100 SPARSE \"a b.vmdk\"\r\nRDONLY 0 ZERO\r\nRW 5 FLAT \"c.vmdk\" 7\r\n" +
		"RW 6 FLAT unquoted.vmdk\r\nbogus line\r\n\x00\x00garbage after NUL"))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s|%s|%s|%s|%+v", d.createType, d.parentHint, d.cid, d.parentCID, d.extents)
	want := `twoGbMaxExtentSparse|my parent.vmdk|1|2|[{line:6 access:RW sectors:100 kind:SPARSE file:a b.vmdk offset:0} ` +
		`{line:8 access:RW sectors:5 kind:FLAT file:c.vmdk offset:7} {line:9 access:RW sectors:6 kind:FLAT file:unquoted.vmdk offset:0}]`
	if got != want {
		t.Errorf("parsed\n%s\nwant\n%s", got, want)
	}
	for _, bad := range []string{
		"RW x SPARSE \"a\"",
		"RW -5 SPARSE \"a\"",
		"RW 5 SPARSE",
		"RW 5 WEIRD \"a\"",
		"RW 5 FLAT \"a\" notanumber",
		"RW 5 FLAT \"unterminated",
		"RW 5",
		fmt.Sprintf("RW %d ZERO\nRW %d ZERO", int64(maxVirtualBytes)/sectorSize, 1),
		"RW 9223372036854775807 ZERO",
		strings.Repeat("RW 1 ZERO\n", maxExtents+1),
	} {
		if _, err := parseDescriptor([]byte(bad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("parseDescriptor(%.40q) = %v, want a corruption error", bad, err)
		}
	}
}

// TestThousandsOfExtents opens a descriptor of 16384 extents (the cap) of one file each:
// memory stays proportional to the descriptor, and reads cross extent boundaries.
func TestThousandsOfExtents(t *testing.T) {
	var desc bytes.Buffer
	desc.WriteString("# Disk DescriptorFile\ncreateType=\"twoGbMaxExtentFlat\"\n")
	for i := range maxExtents {
		fmt.Fprintf(&desc, "RW 1 FLAT \"e%d\" %d\n", i, i%7)
	}
	backing := make([]byte, 8*sectorSize)
	fillRandom(rand.New(rand.NewPCG(1, 1)), backing)
	opens := 0
	img, err := Open(bytes.NewReader(desc.Bytes()), int64(desc.Len()), Options{
		OpenExtent: func(string) (io.ReaderAt, int64, error) {
			opens++
			return bytes.NewReader(backing), int64(len(backing)), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if opens != maxExtents || img.Size() != maxExtents*sectorSize {
		t.Fatalf("%d opens, size %d", opens, img.Size())
	}
	for _, off := range []int64{0, 10*sectorSize - 100, img.Size() - 3*sectorSize - 1} {
		got := make([]byte, 3*sectorSize)
		if _, err := img.ReadAt(got, off); err != nil {
			t.Fatal(err)
		}
		for k := range got {
			guest := off + int64(k)
			if want := backing[guest/sectorSize%7*sectorSize+guest%sectorSize]; got[k] != want {
				t.Fatalf("byte 0x%x: %d, want %d (extent %d)", guest, got[k], want, guest/sectorSize)
			}
		}
	}
	// One more extent is refused.
	desc.WriteString("RW 1 FLAT \"one-too-many\" 0\n")
	if _, err := Open(bytes.NewReader(desc.Bytes()), int64(desc.Len()), Options{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("descriptor of %d extents: %v", maxExtents+1, err)
	}
}

// TestDescriptorInSparseHeader opens a KDMV file of capacity 0 that only carries a descriptor
// (qemu accepts this form too): its extents are opened like a standalone descriptor's.
func TestDescriptorInSparseHeader(t *testing.T) {
	desc := "# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\nRW 8 FLAT \"data.bin\" 2\n"
	file := make([]byte, 2*sectorSize)
	copy(file, "KDMV")
	binary.LittleEndian.PutUint32(file[4:], 1)
	binary.LittleEndian.PutUint64(file[20:], 128) // grain size
	binary.LittleEndian.PutUint64(file[28:], 1)   // descriptor at sector 1
	binary.LittleEndian.PutUint64(file[36:], 1)
	binary.LittleEndian.PutUint32(file[44:], 512)
	copy(file[sectorSize:], desc)
	data := make([]byte, 10*sectorSize)
	fillRandom(rand.New(rand.NewPCG(4, 4)), data)
	img, err := Open(bytes.NewReader(file), int64(len(file)), Options{OpenExtent: func(name string) (io.ReaderAt, int64, error) {
		if name != "data.bin" {
			return nil, 0, os.ErrNotExist
		}
		return bytes.NewReader(data), int64(len(data)), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, img.Size())
	if n, err := img.ReadAt(got, 0); n != 8*sectorSize || err != nil || !bytes.Equal(got, data[2*sectorSize:]) {
		t.Errorf("ReadAt = %d, %v; equal %v", n, err, bytes.Equal(got, data[2*sectorSize:]))
	}
	if img.Subformat() != "monolithicFlat" {
		t.Errorf("Subformat() = %q", img.Subformat())
	}
}
