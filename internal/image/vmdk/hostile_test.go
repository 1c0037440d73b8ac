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

// tinyDisk is 256 KiB of random data with a 64 KiB hole.
func tinyDisk() []byte {
	d := make([]byte, 256<<10)
	fillRandom(rand.New(rand.NewPCG(21, 22)), d)
	clear(d[64<<10 : 128<<10])
	return d
}

// tinyImages returns small images of every sparse layout of tinyDisk, keyed by name.
func tinyImages(t testing.TB) map[string][]byte { return imagesOf(t, tinyDisk()) }

// imagesOf returns images of every sparse layout of disk (a multiple of 4 KiB), keyed by name.
func imagesOf(t testing.TB, disk []byte) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	out := map[string][]byte{}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	writeStreamOptimized(t, filepath.Join(dir, "stream.vmdk"), disk, streamOptions{grainSize: 8})
	out["stream-footer"] = read("stream.vmdk")
	writeCOWD(t, filepath.Join(dir, "cowd.vmdk"), disk, 8, func(g uint64) bool { return g%5 == 0 })
	out["cowd"] = read("cowd.vmdk")
	if _, err := fixture.RunEnv(nil, "qemu-img", "--version"); err == nil {
		rawPath := filepath.Join(dir, "tiny.raw")
		os.WriteFile(rawPath, disk, 0o644)
		for _, sub := range []string{"monolithicSparse", "streamOptimized"} {
			fixture.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+sub, rawPath, filepath.Join(dir, sub))
			out["qemu-"+sub] = read(sub)
		}
	}
	return out
}

// readAll reads the whole image (bounded by the caller's choice of image) in odd-sized chunks
// and returns the first error.
func readAll(img *Image, limit int64) error {
	buf := make([]byte, 70<<10+3)
	for off := int64(0); off < min(img.Size(), limit); off += int64(len(buf)) {
		if _, err := img.ReadAt(buf, off); err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}

// TestTruncatedImages cuts every tiny image at many lengths: Open and reads must fail cleanly
// or succeed, never panic or hang.
func TestTruncatedImages(t *testing.T) {
	for name, file := range tinyImages(t) {
		cuts := []int{0, 1, 3, 4, 100, 511, 512, 513, 1024, 2048, len(file) - 1, len(file) - 511, len(file) - 512,
			len(file) - 1024, len(file) - 1536, len(file) - 2000, len(file) / 2}
		for c := 4096; c < len(file); c += 4096 + 512 {
			cuts = append(cuts, c)
		}
		for _, n := range cuts {
			if n < 0 || n > len(file) {
				continue
			}
			b := file[:n]
			img, err := Open(bytes.NewReader(b), int64(n), Options{})
			if err != nil {
				continue
			}
			_ = readAll(img, 1<<30)
		}
		_ = name
	}
}

// TestHostileHeaders edits header fields of the tiny images and expects errors that name the
// field, before anything is allocated from it.
func TestHostileHeaders(t *testing.T) {
	images := tinyImages(t)
	le := binary.LittleEndian
	stream := images["stream-footer"]
	footer := len(stream) - 1024 // the footer's header copy
	for _, tc := range []struct {
		name  string
		base  string
		edit  func(b []byte)
		error string // a part of the expected message
	}{
		{"grain size 0", "stream-footer", func(b []byte) { le.PutUint64(b[footer+20:], 0) }, "grain size of 0 sectors"},
		{"grain size 2^40", "stream-footer", func(b []byte) { le.PutUint64(b[footer+20:], 1<<40) }, "grain size of 1099511627776"},
		{"grain table of 2^31 entries", "stream-footer", func(b []byte) { le.PutUint32(b[footer+44:], 1<<31) }, "entries per grain table"},
		{"capacity 2^60 sectors", "stream-footer", func(b []byte) { le.PutUint64(b[footer+12:], 1<<60) }, "capacity"},
		{"directory too big for memory", "stream-footer", func(b []byte) {
			le.PutUint64(b[footer+12:], 1<<39)
			le.PutUint64(b[footer+20:], 1)
		}, "grain directory of"},
		{"directory past EOF", "stream-footer", func(b []byte) { le.PutUint64(b[footer+56:], 1<<40) }, "past the end"},
		{"footer says GD at end", "stream-footer", func(b []byte) { le.PutUint64(b[footer+56:], gdAtEnd) }, "footer also says"},
		{"no footer marker", "stream-footer", func(b []byte) { le.PutUint32(b[footer-512+12:], 7) }, "footer marker"},
		{"no EOS marker", "stream-footer", func(b []byte) { le.PutUint32(b[len(b)-512+12:], 7) }, "end-of-stream"},
		{"version 4", "stream-footer", func(b []byte) { le.PutUint32(b[4:], 4) }, "version 4"},
		{"compression 2", "stream-footer", func(b []byte) { le.PutUint16(b[footer+77:], 2) }, "compression algorithm 2"},
		{"text-mode transfer", "stream-footer", func(b []byte) { copy(b[73:], "\n \n\n") }, "text mode"},
		{"COWD grain size 0", "cowd", func(b []byte) { le.PutUint32(b[16:], 0) }, "grain size"},
		{"COWD directory past EOF", "cowd", func(b []byte) { le.PutUint32(b[20:], 1<<31) }, "past the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(images[tc.base])
			tc.edit(b)
			_, err := Open(bytes.NewReader(b), int64(len(b)), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("Open: %v; want an error about %q", err, tc.error)
			}
		})
	}
}

// TestHostileGrains damages grain tables and grain markers of a streamOptimized image: each
// read of a damaged grain fails with an error naming it, and the other grains still read.
func TestHostileGrains(t *testing.T) {
	file := tinyImages(t)["stream-footer"]
	h, err := readFooter(bytes.NewReader(file), int64(len(file)), "x")
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	gt := int(le.Uint32(file[h.gdOffset*sectorSize:])) * sectorSize
	grain0 := int(le.Uint32(file[gt:])) * sectorSize
	for _, tc := range []struct {
		name  string
		edit  func(b []byte)
		error string
	}{
		{"table entry past EOF", func(b []byte) { le.PutUint32(b[gt:], 1<<30) }, "past the end"},
		{"marker size 2^32-1", func(b []byte) { le.PutUint32(b[grain0+8:], 0xffffffff) }, "more than the"},
		{"marker size beyond the grain", func(b []byte) { le.PutUint32(b[grain0+8:], 4096*2) }, "more than the"},
		{"marker size past EOF", func(b []byte) { le.PutUint32(b[grain0+8:], 4096) }, ""},
		{"table points at a metadata marker", func(b []byte) { le.PutUint32(b[gt:], uint32(h.gdOffset-1)) }, "metadata marker"},
		{"garbage deflate", func(b []byte) { copy(b[grain0+12:], "\x78\x9c\xff\xff\xff\xff\xff\xff") }, "deflate"},
		{"short deflate", func(b []byte) {
			c := compress(make([]byte, 100), false)
			le.PutUint32(b[grain0+8:], uint32(len(c)))
			copy(b[grain0+12:], c)
		}, "decompresses to 100 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(file)
			tc.edit(b)
			img, err := Open(bytes.NewReader(b), int64(len(b)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = img.ReadAt(make([]byte, 100), 10)
			if tc.error == "" {
				return // may or may not be readable: only no panic
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.error) || !strings.Contains(err.Error(), "grain 0") {
				t.Errorf("ReadAt: %v; want an error about grain 0: %q", err, tc.error)
			}
			if _, err := img.ReadAt(make([]byte, 100), 200<<10); err != nil {
				t.Errorf("reading another grain: %v", err)
			}
		})
	}
}

// TestHugeDescriptorExtents: a descriptor may declare sizes no file backs.
func TestHugeDescriptorExtents(t *testing.T) {
	for _, desc := range []string{
		"# Disk DescriptorFile\nRW 562949953421312 ZERO\n",                  // 2^49 sectors
		"# Disk DescriptorFile\nRW 1000000000000 FLAT \"f\" 0\n",            // more than the file
		"# Disk DescriptorFile\nRW 10 FLAT \"f\" 562949953421311\n",         // offset past the file
		"# Disk DescriptorFile\nRW 10 SPARSE \"f\"\n",                       // not a sparse file
		"# Disk DescriptorFile\nRW 10 SESPARSE \"f\"\n",                     // unsupported
		"# Disk DescriptorFile\nRW 10 VMFSRDM \"f\"\n",                      // unsupported
		"# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\n",            // no extents
		"# Disk DescriptorFile\n" + strings.Repeat(" ", maxDescriptorBytes), // too big
	} {
		_, err := Open(strings.NewReader(desc), int64(len(desc)), Options{
			OpenExtent: func(string) (io.ReaderAt, int64, error) { return bytes.NewReader(make([]byte, 4096)), 4096, nil },
		})
		if err == nil {
			t.Errorf("Open(%.60q) succeeded", desc)
		}
	}
	// A huge ZERO extent within the cap opens and reads as zeros, without allocating.
	desc := fmt.Sprintf("# Disk DescriptorFile\nRW %d ZERO\n", int64(maxVirtualBytes)/sectorSize)
	img, err := Open(strings.NewReader(desc), int64(len(desc)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4096)
	got[0] = 1
	if n, err := img.ReadAt(got, img.Size()-4096); n != 4096 || err != nil || got[0] != 0 {
		t.Errorf("ReadAt near 256 TiB: %d, %v", n, err)
	}
}

func TestNotVMDK(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("KD"), []byte("hello world"), make([]byte, 4096)} {
		if _, err := Open(bytes.NewReader(b), int64(len(b)), Options{}); err == nil {
			t.Errorf("Open(%.20q) succeeded", b)
		}
	}
	if _, err := Open(bytes.NewReader(nil), -1, Options{}); err == nil {
		t.Error("negative size accepted")
	}
	img, err := Open(bytes.NewReader(tinyImages(t)["cowd"]), int64(len(tinyImages(t)["cowd"])), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := img.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("negative offset accepted")
	}
}
