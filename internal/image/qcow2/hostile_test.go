package qcow2

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// smallImage makes a 4 MiB qcow2 image (64 KiB clusters unless args say otherwise) with data
// in a few clusters, and returns its bytes and those of its guest disk.
func smallImage(t testing.TB, args ...string) (file, guest []byte) {
	t.Helper()
	fixture.Need(t, "qemu-img")
	dir := t.TempDir()
	raw := filepath.Join(dir, "small.raw")
	fixture.Sparse(t, raw, 4<<20)
	f, err := os.OpenFile(raw, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, off := range []int64{0, 70000, 1 << 20, 3<<20 + 5} {
		pattern := bytes.Repeat([]byte{byte(0x31 + i), 0x20, byte(i * 7)}, 30000)
		if _, err := f.WriteAt(pattern, off); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	path := filepath.Join(dir, "small.qcow2")
	fixture.Run(t, "qemu-img", append(append([]string{"convert", "-f", "raw", "-O", "qcow2"}, args...), raw, path)...)
	if file, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if guest, err = os.ReadFile(raw); err != nil {
		t.Fatal(err)
	}
	return file, guest
}

// readAll opens b and reads the whole guest disk, returning the first error.
func readAll(b []byte, opt Options) ([]byte, error) {
	img, err := Open(bytes.NewReader(b), int64(len(b)), opt)
	if err != nil {
		return nil, err
	}
	out := make([]byte, img.Size())
	n, err := img.ReadAt(out, 0)
	if err == io.EOF && n == len(out) {
		err = nil
	}
	return out, err
}

// parsed opens b and returns its header and L1 table, to know where to patch.
func parsed(t testing.TB, b []byte) *Image {
	t.Helper()
	img, err := Open(bytes.NewReader(b), int64(len(b)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func put64(b []byte, off int64, v uint64) []byte {
	c := bytes.Clone(b)
	binary.BigEndian.PutUint64(c[off:], v)
	return c
}

func put32(b []byte, off int64, v uint32) []byte {
	c := bytes.Clone(b)
	binary.BigEndian.PutUint32(c[off:], v)
	return c
}

// wantErr checks that err is non-nil, matches target (if any) and mentions every word.
func wantErr(t *testing.T, err, target error, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one mentioning %q", words)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("error %q is not %v", err, target)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestHostileHeaders(t *testing.T) {
	file, guest := smallImage(t)
	img := parsed(t, file)
	l1Off := int64(img.h.l1Offset)
	cases := []struct {
		name   string
		b      []byte
		target error
		words  []string
	}{
		{"l1-size-2^31", put32(file, 36, 1<<31), ErrCorrupt, []string{"L1 table", "2147483648", "cap"}},
		{"l1-size-too-small", put32(file, 36, 0), ErrCorrupt, []string{"too small"}},
		{"l1-past-eof", put64(file, 40, uint64(len(file))&^0xffff+1<<30), ErrCorrupt, []string{"L1 table", "past the end"}},
		{"l1-unaligned", put64(file, 40, uint64(l1Off+8)), ErrCorrupt, []string{"not cluster aligned"}},
		{"cluster-bits-8", put32(file, 20, 8), ErrCorrupt, []string{"cluster_bits 8"}},
		{"cluster-bits-22", put32(file, 20, 22), ErrCorrupt, []string{"cluster_bits 22"}},
		{"cluster-bits-huge", put32(file, 20, 1<<31), ErrCorrupt, []string{"cluster_bits"}},
		{"size-2^63", put64(file, 24, 1<<63), ErrCorrupt, []string{"virtual size"}},
		{"size-huge-l1", put64(file, 24, 1<<62), ErrCorrupt, []string{"L1 table"}},
		{"version-1", put32(file, 4, 1), ErrUnsupported, []string{"version 1"}},
		{"version-4", put32(file, 4, 4), ErrUnsupported, []string{"version 4"}},
		{"bad-magic", put32(file, 0, 0x51464900), ErrCorrupt, []string{"magic"}},
		{"aes", put32(file, 32, 1), ErrUnsupported, []string{"encrypted", "AES"}},
		{"luks", put32(file, 32, 2), ErrUnsupported, []string{"encrypted", "LUKS"}},
		{"crypt-99", put32(file, 32, 99), ErrUnsupported, []string{"encrypted", "99"}},
		{"unknown-incompatible", put64(file, 72, 1<<40), ErrUnsupported, []string{"bit 40"}},
		{"external-data", put64(file, 72, incompatExternalData), ErrUnsupported, []string{"external data file"}},
		{"compression-bit-zlib", put64(file, 72, incompatCompression), ErrCorrupt, []string{"compression"}},
		{"compression-type-7", func() []byte {
			b := put64(file, 72, incompatCompression)
			b[104] = 7
			return b
		}(), ErrUnsupported, []string{"compression_type 7"}},
		{"header-length-small", put32(file, 100, 16), ErrCorrupt, []string{"header_length 16"}},
		{"header-length-huge", put32(file, 100, 1<<30), ErrCorrupt, []string{"header_length"}},
		{"extension-overflow", func() []byte {
			b := put32(file, 112, 0x12345678) // first extension: unknown type...
			return put32(b, 116, 1<<31)       // ...with a length past the cluster
		}(), ErrCorrupt, []string{"header extension", "past the end"}},
		{"backing-name-too-long", func() []byte {
			b := put64(file, 8, 0x200)
			return put32(b, 16, 5000)
		}(), ErrCorrupt, []string{"backing file name", "5000"}},
		{"backing-name-past-cluster", func() []byte {
			b := put64(file, 8, 0xfff0)
			return put32(b, 16, 100)
		}(), ErrCorrupt, []string{"backing file name"}},
		{"backing-name-offset-huge", func() []byte {
			b := put64(file, 8, 1<<63)
			return put32(b, 16, 100)
		}(), ErrCorrupt, []string{"backing file name"}},
		{"extended-l2-small-cluster", func() []byte {
			b := put64(file, 72, incompatExtendedL2)
			return put32(b, 20, 12)
		}(), ErrCorrupt, []string{"extended L2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readAll(c.b, Options{})
			wantErr(t, err, c.target, c.words...)
		})
	}

	t.Run("unknown-incompatible-named", func(t *testing.T) {
		// Name bit 40 in the feature name table qemu-img wrote, then set it.
		idx := bytes.Index(file, []byte("dirty bit"))
		if idx < 2 {
			t.Fatal("no feature name table in the image")
		}
		b := put64(file, 72, 1<<40)
		b[idx-1] = 40
		_, err := readAll(b, Options{})
		wantErr(t, err, ErrUnsupported, "bit 40 (dirty bit)")
	})
	t.Run("dirty-and-corrupt-tolerated", func(t *testing.T) {
		got, err := readAll(put64(file, 72, incompatDirty|incompatCorrupt), Options{})
		if err != nil || !bytes.Equal(got, guest) {
			t.Fatalf("dirty+corrupt image: err %v, same data %v", err, bytes.Equal(got, guest))
		}
	})
	t.Run("unknown-extension-skipped", func(t *testing.T) {
		// Turn the feature name table into an unknown extension: still readable.
		idx := bytes.Index(file, []byte{0x68, 0x03, 0xf8, 0x57})
		if idx < 0 {
			t.Fatal("no feature name table")
		}
		got, err := readAll(put32(file, int64(idx), 0x0badcafe), Options{})
		if err != nil || !bytes.Equal(got, guest) {
			t.Fatalf("image with an unknown extension: err %v", err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		l2 := int64(img.l1[0] & l2EntryOffsetMask)
		for _, cut := range []int64{0, 3, 8, 71, 72, 103, 104, 200, l1Off, l1Off + 4, l2 + 100, l2 + 65535, int64(len(file)) - 70000, int64(len(file)) - 1} {
			b := file[:cut]
			got, err := readAll(b, Options{})
			if err == nil && !bytes.Equal(got, guest) {
				// Only the tail of the last cluster may be cut without an error, and it
				// must then read as zeros, as in QEMU.
				if cut != int64(len(file))-1 {
					t.Errorf("cut at %d: no error but wrong data", cut)
				}
			}
			if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("cut at %d: %v", cut, err)
			}
		}
	})
}

// TestHostileTables patches the L1 and L2 tables and compressed cluster descriptors.
func TestHostileTables(t *testing.T) {
	file, _ := smallImage(t)
	img := parsed(t, file)
	l1Off := int64(img.h.l1Offset)
	l2 := int64(img.l1[0] & l2EntryOffsetMask)
	t.Run("l2-past-eof", func(t *testing.T) {
		_, err := readAll(put64(file, l1Off, 1<<40|oflagCopied), Options{})
		wantErr(t, err, ErrCorrupt, "L1 table at", "entry 0", "past the end of the file")
	})
	t.Run("l2-unaligned", func(t *testing.T) {
		_, err := readAll(put64(file, l1Off, uint64(l2+512)), Options{})
		wantErr(t, err, ErrCorrupt, "entry 0", "not cluster aligned")
	})
	t.Run("cluster-past-eof", func(t *testing.T) {
		_, err := readAll(put64(file, l2+3*8, 1<<40|oflagCopied), Options{})
		wantErr(t, err, ErrCorrupt, "L2 table at", "entry 3", "past the end of the file")
	})
	t.Run("cluster-at-max-offset", func(t *testing.T) {
		_, err := readAll(put64(file, l2, 0x00ffffffffff0000), Options{})
		wantErr(t, err, ErrCorrupt, "entry 0", "past the end")
	})
	t.Run("cluster-unaligned", func(t *testing.T) {
		_, err := readAll(put64(file, l2, 0x10200|oflagCopied), Options{})
		wantErr(t, err, ErrCorrupt, "entry 0", "not cluster aligned")
	})
	t.Run("cluster-is-l2-table", func(t *testing.T) {
		// A data cluster pointing at metadata is not detectable, but must read fine.
		if _, err := readAll(put64(file, l2, uint64(l2)|oflagCopied), Options{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("l2-is-l1-loop", func(t *testing.T) {
		// L1 entry pointing at the L1 table itself: bounded, no loop possible.
		if _, err := readAll(put64(file, l1Off, uint64(l1Off)), Options{}); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatal(err)
		}
	})
}

func TestHostileCompressed(t *testing.T) {
	file, guest := smallImage(t, "-c")
	img := parsed(t, file)
	l2 := int64(img.l1[0] & l2EntryOffsetMask)
	entry := binary.BigEndian.Uint64(file[l2:])
	if entry&l2CompressedFlag == 0 {
		t.Fatalf("first cluster is not compressed: %#x", entry)
	}
	x := 62 - (img.h.clusterBits - 8)
	off := entry & (1<<x - 1)
	t.Run("size-beyond-cluster", func(t *testing.T) {
		// Claim the most sectors the field holds (two clusters' worth): decompression stops
		// at a full cluster, so the data is unchanged and no more than that is read.
		maxed := entry | (1<<(img.h.clusterBits-8)-1)<<x
		b := put64(file, l2, maxed)
		c := &countingReader{r: bytes.NewReader(b)}
		im, err := Open(c, int64(len(b)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		c.bytes = 0
		buf := make([]byte, 4096)
		if _, err := im.ReadAt(buf, 0); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, guest[:4096]) {
			t.Error("data differs")
		}
		if limit := int64(2*img.h.clusterSize() + img.h.clusterSize()); c.bytes > limit {
			t.Errorf("read %d file bytes for one compressed cluster, limit %d", c.bytes, limit)
		}
	})
	t.Run("offset-past-eof", func(t *testing.T) {
		_, err := readAll(put64(file, l2, l2CompressedFlag|uint64(len(file))+4096), Options{})
		wantErr(t, err, ErrCorrupt, "compressed cluster", "past the end")
	})
	t.Run("garbage", func(t *testing.T) {
		b := bytes.Clone(file)
		for i := range 64 {
			b[int(off)+i] = 0xff
		}
		_, err := readAll(b, Options{})
		wantErr(t, err, ErrCorrupt, "compressed cluster at")
	})
	t.Run("too-short", func(t *testing.T) {
		// One sector of a cluster's compressed stream cannot make a whole cluster.
		_, err := readAll(put64(file, l2, entry&^((1<<(img.h.clusterBits-8)-1)<<x)), Options{})
		if err != nil {
			wantErr(t, err, ErrCorrupt, "compressed cluster")
		}
	})
}

// TestHostileSubclusters checks contradictory extended L2 bitmaps.
func TestHostileSubclusters(t *testing.T) {
	file, _ := smallImage(t, "-o", "extended_l2=on")
	img := parsed(t, file)
	l2 := int64(img.l1[0] & l2EntryOffsetMask)
	t.Run("allocated-and-zero", func(t *testing.T) {
		_, err := readAll(put64(file, l2+8, 0x00000001_00000001), Options{})
		wantErr(t, err, ErrCorrupt, "both allocated and zero")
	})
	t.Run("allocated-without-cluster", func(t *testing.T) {
		b := put64(file, l2, 0)
		_, err := readAll(put64(b, l2+8, 0x1), Options{})
		wantErr(t, err, ErrCorrupt, "unallocated cluster")
	})
}
