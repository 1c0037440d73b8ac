package vhd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// smallDynamic is a 1 MiB dynamic disk with 64 KiB blocks, every other one allocated.
func smallDynamic() (file, guest []byte) {
	const size, bs = 1 << 20, 64 << 10
	guest = pattern(size, 5)
	file = buildSparse(sparseSpec{
		diskType: typeDynamic, size: size, blockSize: bs, guest: guest,
		allocated: func(b int64) bool { return b%2 == 0 },
		present:   func(int64) bool { return true },
	})
	for i := range guest {
		if (i/bs)%2 == 1 {
			guest[i] = 0
		}
	}
	return file, guest
}

// Offsets in smallDynamic's file.
const (
	dynHeaderAt = footerSize
	batAt       = footerSize + dynamicHeaderSize
)

// patch returns a copy of b with f applied, then the checksums of both footers and of the
// dynamic header recomputed, so that only the patched field is wrong.
func patch(b []byte, f func(b []byte)) []byte {
	c := bytes.Clone(b)
	f(c)
	be := binary.BigEndian
	for _, at := range []int{0, len(c) - footerSize} {
		if at >= 0 && string(c[at:at+8]) == footerCookie {
			be.PutUint32(c[at+64:], checksum(c[at:at+footerSize], 64))
		}
	}
	if len(c) >= dynHeaderAt+dynamicHeaderSize && string(c[dynHeaderAt:dynHeaderAt+8]) == dynamicCookie {
		be.PutUint32(c[dynHeaderAt+36:], checksum(c[dynHeaderAt:dynHeaderAt+dynamicHeaderSize], 36))
	}
	return c
}

// bothFooters sets a 64-bit field of both footers.
func bothFooters(off int, v uint64) func([]byte) {
	return func(b []byte) {
		binary.BigEndian.PutUint64(b[off:], v)
		binary.BigEndian.PutUint64(b[len(b)-footerSize+off:], v)
	}
}

func bothFooters32(off int, v uint32) func([]byte) {
	return func(b []byte) {
		binary.BigEndian.PutUint32(b[off:], v)
		binary.BigEndian.PutUint32(b[len(b)-footerSize+off:], v)
	}
}

func put32At(off int, v uint32) func([]byte) {
	return func(b []byte) { binary.BigEndian.PutUint32(b[off:], v) }
}

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

func TestHostile(t *testing.T) {
	file, guest := smallDynamic()
	if got, err := readAll(file, Options{}); err != nil || !bytes.Equal(got, guest) {
		t.Fatalf("the unpatched image does not read back: %v", err)
	}
	lastBlock := func(b []byte) {
		binary.BigEndian.PutUint32(b[batAt+14*4:], uint32((len(b)-footerSize-1000)/sectorSize))
	}
	cases := []struct {
		name   string
		b      []byte
		target error
		words  []string
	}{
		{"bat-entry-past-eof", patch(file, put32At(batAt+2*4, 0x7fffffff)), ErrCorrupt, []string{"BAT entry 2", "past the end of the file"}},
		{"bat-entry-max", patch(file, put32At(batAt+4*4, 0xfffffffe)), ErrCorrupt, []string{"BAT entry 4", "past the end"}},
		{"block-runs-past-eof", patch(file, lastBlock), ErrCorrupt, []string{"block 14", "runs past the end"}},
		{"bat-too-small", patch(file, put32At(dynHeaderAt+28, 3)), ErrCorrupt, []string{"do not cover"}},
		{"bat-past-eof", patch(file, func(b []byte) { binary.BigEndian.PutUint64(b[dynHeaderAt+16:], 1<<40) }), ErrCorrupt, []string{"block allocation table", "past the end"}},
		{"bat-huge", patch(file, func(b []byte) {
			binary.BigEndian.PutUint32(b[dynHeaderAt+28:], 0xffffffff)
			bothFooters(48, 1<<41)(b)
		}), ErrCorrupt, []string{"exceed the cap"}},
		{"size-2^63", patch(file, bothFooters(48, 1<<63)), ErrCorrupt, []string{"too large"}},
		{"block-size-0", patch(file, put32At(dynHeaderAt+32, 0)), ErrCorrupt, []string{"block size 0"}},
		{"block-size-3", patch(file, put32At(dynHeaderAt+32, 3)), ErrCorrupt, []string{"block size 3"}},
		{"block-size-1G", patch(file, put32At(dynHeaderAt+32, 1<<30)), ErrCorrupt, []string{"block size 1073741824"}},
		{"block-size-odd", patch(file, put32At(dynHeaderAt+32, 3<<16)), ErrCorrupt, []string{"power of two"}},
		{"dynamic-cookie", patch(file, func(b []byte) { copy(b[dynHeaderAt:], "cxspare!") }), ErrCorrupt, []string{"dynamic disk header", "cookie"}},
		{"dynamic-checksum", func() []byte {
			b := bytes.Clone(file)
			b[dynHeaderAt+100] ^= 1
			return b
		}(), ErrCorrupt, []string{"dynamic disk header at 0x200", "bad checksum"}},
		{"header-past-eof", patch(file, bothFooters(16, 1<<62)), ErrCorrupt, []string{"dynamic disk header", "past the end"}},
		{"header-offset-max", patch(file, bothFooters(16, ^uint64(0))), ErrCorrupt, []string{"dynamic disk header"}},
		{"type-5", patch(file, bothFooters32(60, 5)), ErrUnsupported, []string{"disk type 5"}},
		{"type-0", patch(file, bothFooters32(60, 0)), ErrUnsupported, []string{"disk type 0"}},
		{"no-cookie", func() []byte {
			b := bytes.Clone(file)
			copy(b, "xxxxxxxx")
			copy(b[len(b)-footerSize:], "xxxxxxxx")
			return b
		}(), ErrCorrupt, []string{"footer at", "cookie"}},
		{"tiny", []byte("conectix"), ErrCorrupt, []string{"shorter than a footer"}},
		{"differencing-empty-parent", patch(file, bothFooters32(60, typeDifferencing)), ErrCorrupt, []string{"empty parent name"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readAll(c.b, Options{})
			wantErr(t, err, c.target, c.words...)
		})
	}

	t.Run("fixed-larger-than-file", func(t *testing.T) {
		b := append(make([]byte, 4096), makeFooter(typeFixed, 1<<30, ^uint64(0))...)
		_, err := readAll(b, Options{})
		wantErr(t, err, ErrCorrupt, "does not fit")
	})
	t.Run("fixed-truncated-data", func(t *testing.T) {
		// A footer that claims less than the file holds is fine: the tail is not the disk.
		b := append(pattern(8192, 1), makeFooter(typeFixed, 4096, ^uint64(0))...)
		got, err := readAll(b, Options{})
		if err != nil || !bytes.Equal(got, b[:4096]) {
			t.Fatalf("fixed disk smaller than its file: %v", err)
		}
	})
	t.Run("parent-open-fails", func(t *testing.T) {
		b := buildSparse(sparseSpec{
			diskType: typeDifferencing, size: 1 << 20, blockSize: 64 << 10, parentName: "gone\x01.vhd",
			guest: pattern(1<<20, 2), allocated: func(int64) bool { return false }, present: func(int64) bool { return false },
		})
		_, err := readAll(b, Options{OpenBacking: func(string) (io.ReaderAt, int64, error) { return nil, 0, errors.New("no such file") }})
		wantErr(t, err, nil, `parent "gone?.vhd"`, "no such file")
	})
	t.Run("parent-from-locator", func(t *testing.T) {
		b := buildSparse(sparseSpec{
			diskType: typeDifferencing, size: 1 << 20, blockSize: 64 << 10,
			guest: pattern(1<<20, 2), allocated: func(int64) bool { return false }, present: func(int64) bool { return false },
			locators: []Locator{{"MacX", "file://localhost/vms/p.vhd"}, {"W2ru", `.\p.vhd`}},
		})
		var asked string
		_, err := readAll(b, Options{OpenBacking: func(name string) (io.ReaderAt, int64, error) {
			asked = name
			return bytes.NewReader(nil), 0, nil
		}})
		if err != nil || asked != `.\p.vhd` {
			t.Fatalf("differencing disk without a parent name: asked for %q, %v", asked, err)
		}
	})
	t.Run("locator-past-eof", func(t *testing.T) {
		b := buildSparse(sparseSpec{
			diskType: typeDifferencing, size: 1 << 20, blockSize: 64 << 10, parentName: "p.vhd",
			guest: pattern(1<<20, 2), allocated: func(int64) bool { return false }, present: func(int64) bool { return false },
			locators: []Locator{{"W2ru", `.\p.vhd`}, {"W2ku", `C:\p.vhd`}},
		})
		b = patch(b, func(b []byte) { binary.BigEndian.PutUint64(b[dynHeaderAt+576+16:], 1<<50) })
		img, err := Open(bytes.NewReader(b), int64(len(b)), Options{OpenBacking: func(string) (io.ReaderAt, int64, error) {
			return bytes.NewReader(nil), 0, nil
		}})
		if err != nil || len(img.ParentLocators()) != 1 || img.ParentLocators()[0].Platform != "W2ku" {
			t.Fatalf("broken locator: %v, %v", err, img.ParentLocators())
		}
	})
	t.Run("parent-shorter", func(t *testing.T) {
		b := buildSparse(sparseSpec{
			diskType: typeDifferencing, size: 1 << 20, blockSize: 64 << 10, parentName: "p.vhd",
			guest: pattern(1<<20, 2), allocated: func(int64) bool { return false }, present: func(int64) bool { return false },
		})
		parent := bytes.Repeat([]byte{7}, 1000)
		got, err := readAll(b, Options{OpenBacking: func(string) (io.ReaderAt, int64, error) { return bytes.NewReader(parent), 1000, nil }})
		if err != nil || !bytes.Equal(got[:1000], parent) || !allZero(got, 1000, 1<<20) {
			t.Fatalf("differencing disk over a short parent: %v", err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		for _, cut := range []int{0, 8, 511, 512, 600, 1535, 1536, 1540, 2048, 4000, 70000, len(file) - footerSize - 1, len(file) - 1} {
			b := file[:cut]
			got, err := readAll(b, Options{})
			if err == nil && !bytes.Equal(got, guest) {
				t.Errorf("cut at %d: no error but wrong data", cut)
			}
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Errorf("cut at %d: %v is not ErrCorrupt", cut, err)
			}
		}
	})
	t.Run("negative-offset", func(t *testing.T) {
		img, err := Open(bytes.NewReader(file), int64(len(file)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := img.ReadAt(make([]byte, 1), -1); err == nil {
			t.Error("ReadAt(-1) succeeded")
		}
	})
}
