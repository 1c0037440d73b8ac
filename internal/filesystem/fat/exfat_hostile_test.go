package fat

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

func openBytes(t *testing.T, b []byte) (*FS, error) {
	t.Helper()
	r := bytes.NewReader(b)
	if !Detect(r, int64(len(b))) {
		t.Error("Detect rejects the volume")
	}
	return Open(r, int64(len(b)))
}

// TestExFATHandmade reads the hand-made volume, which has what exfat-fuse does not write.
func TestExFATHandmade(t *testing.T) {
	v, err := openBytes(t, handmadeExFAT())
	if err != nil {
		t.Fatal(err)
	}
	if v.Type() != "exfat" || v.Label() != "HANDMÄ" || v.UUID() != "C0FF-EE42" {
		t.Errorf("type %q label %q uuid %q", v.Type(), v.Label(), v.UUID())
	}
	fsys := filesystem.New(v)
	if got := readAll(t, fsys, "hello.txt"); string(got) != "hello\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Errorf("hello.txt = %q: bytes past the valid data length must read as zeros", got)
	}
	if got := readAll(t, fsys, "sub/inner.bin"); !bytes.Equal(got, hmInner) {
		t.Error("sub/inner.bin differs (FAT chain 7 → 9)")
	}
	for p, want := range map[string]time.Time{
		"hello.txt":     time.Date(2024, 2, 29, 11, 37, 43, 230e6, time.UTC), // UTC+2
		"sub/inner.bin": time.Date(2024, 2, 29, 14, 37, 43, 230e6, time.UTC), // UTC-1
	} {
		info, err := fsys.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := info.Sys().(*filesystem.Stat)
		if !st.ModTime.Equal(want) || !st.BirthTime.Equal(want) || !st.AccessTime.Equal(want.Add(-1230*time.Millisecond)) {
			t.Errorf("%s: times %v %v %v, want %v", p, st.ModTime, st.BirthTime, st.AccessTime, want)
		}
		if p == "sub/inner.bin" && info.Mode() != 0o444 {
			t.Errorf("%s: mode %v", p, info.Mode())
		}
		ext, err := v.Extents(st.Inode)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %+v", p, ext)
		if p == "sub/inner.bin" && (len(ext) != 2 || ext[1].Physical != int64(hmHeap+7)*hmSector || ext[1].Length != 300) {
			t.Errorf("%s: extents %+v", p, ext)
		}
	}
	deleted := map[string]filesystem.Deleted{}
	for d, err := range v.Deleted(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		deleted[d.Path] = d
	}
	if d := deleted["/gone.txt"]; d.Recovered != int64(len(hmGone)) || string(readContent(t, d)) != string(hmGone) {
		t.Errorf("/gone.txt: %+v", d)
	}
	if d := deleted["/sub/A rather long name for a deleted file that spans clusters.dat"]; d.Size != 700 || d.Recovered != 700 {
		t.Errorf("deleted long name: %+v (all: %v)", d, deleted)
	}
	var free []filesystem.Range
	for r, err := range v.Unallocated(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		free = append(free, r)
	}
	c := func(n int64) int64 { return (hmHeap + n - 2) * hmSector }
	if want := []filesystem.Range{{Off: c(8), Len: hmSector}, {Off: c(10), Len: 8 * hmSector}}; !equalRanges(free, want) {
		t.Errorf("free %v, want %v", free, want)
	}
	if errs := exercise(v); len(errs) != 0 {
		t.Errorf("errors on a sound volume: %v", errs)
	}
}

func readContent(t *testing.T, d filesystem.Deleted) []byte {
	if d.Content == nil {
		return nil
	}
	b, err := io.ReadAll(io.NewSectionReader(d.Content, 0, d.Size))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func equalRanges(a, b []filesystem.Range) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestExFATHostile breaks the hand-made volume in each way exFAT can be broken.
func TestExFATHostile(t *testing.T) {
	sector := func(n int) int { return n * hmSector }
	cl := func(n int) int { return sector(hmHeap + n - 2) }
	setFAT := func(img []byte, c int, v uint32) { binary.LittleEndian.PutUint32(img[sector(24)+4*c:], v) }
	cases := []struct {
		name    string
		edit    func(img []byte)
		openErr string   // Open must fail with this
		errs    []string // or exercising must report a corrupt error with these words
	}{
		{"main boot checksum broken: backup used", func(img []byte) { img[sector(11)] ^= 1 }, "", nil},
		{"both boot checksums broken", func(img []byte) { img[sector(11)] ^= 1; img[sector(23)] ^= 1 }, "checksum sector holds", nil},
		{"bytes per sector shift 13", func(img []byte) { img[108] = 13; sealExFATBoot(img) }, "bytes-per-sector shift 13", nil},
		{"clusters of 64 MiB", func(img []byte) { img[109] = 17; sealExFATBoot(img) }, "over 32 MiB", nil},
		{"cluster count 2^32-1", func(img []byte) { binary.LittleEndian.PutUint32(img[92:], 0xFFFFFFFF); sealExFATBoot(img) }, "cluster count", nil},
		{"volume length past clusters", func(img []byte) { binary.LittleEndian.PutUint64(img[72:], 30); sealExFATBoot(img) }, "run past the volume length", nil},
		{"FAT too small", func(img []byte) {
			binary.LittleEndian.PutUint32(img[92:], 200)
			binary.LittleEndian.PutUint64(img[72:], 1<<20)
			sealExFATBoot(img)
		}, "holds fewer than", nil},
		{"root cluster 0", func(img []byte) { binary.LittleEndian.PutUint32(img[96:], 0); sealExFATBoot(img) }, "root directory cluster 0", nil},
		{"huge volume on a small image", func(img []byte) {
			binary.LittleEndian.PutUint64(img[72:], 1<<40)
			binary.LittleEndian.PutUint32(img[84:], 1<<21)
			binary.LittleEndian.PutUint32(img[88:], 1<<22)
			binary.LittleEndian.PutUint32(img[92:], 1<<27)
			sealExFATBoot(img)
		}, "past the end of the volume", nil},
		{"no bitmap entry", func(img []byte) { img[cl(4)+32] = 0x01 }, "no allocation bitmap", nil},
		{"bitmap too small", func(img []byte) { binary.LittleEndian.PutUint64(img[cl(4)+32+24:], 1) }, "cannot hold the bits", nil},
		{"entry set checksum wrong: skipped and reported", func(img []byte) { img[cl(4)+96+2] ^= 1 }, "", []string{"root directory entry set", "checksum"}},
		{"contiguous file past the heap", func(img []byte) {
			set := img[cl(4)+96 : cl(4)+96+96]
			binary.LittleEndian.PutUint32(set[32+20:], 17)
			binary.LittleEndian.PutUint64(set[32+24:], 5000)
			binary.LittleEndian.PutUint64(set[32+8:], 5000)
			binary.LittleEndian.PutUint16(set[2:], setChecksum(set, false))
		}, "", []string{`file "hello.txt"`, "leave the heap"}},
		{"FAT chain cycle", func(img []byte) { setFAT(img, 7, 7) }, "", []string{`"inner.bin"`, "twice (cycle)"}},
		{"FAT chain past the heap", func(img []byte) { setFAT(img, 7, 100) }, "", []string{`"inner.bin"`, "outside the heap"}},
		{"FAT chain ends early", func(img []byte) { setFAT(img, 7, 0xFFFFFFFF) }, "", []string{`"inner.bin"`, "ends after 1 of 2"}},
		{"directory loop", func(img []byte) {
			setFAT(img, 6, 6)
			binary.LittleEndian.PutUint64(img[cl(4)+192+32+24:], 4096)
			fixSet(img, cl(4)+192)
		}, "", []string{`"sub"`, "cycle"}},
		{"directory is the root", func(img []byte) { binary.LittleEndian.PutUint32(img[cl(4)+192+32+20:], 4); fixSet(img, cl(4)+192) }, "", []string{`"sub"`, "root directory's"}},
		{"directory over 256 MiB", func(img []byte) { binary.LittleEndian.PutUint64(img[cl(4)+192+32+24:], 1<<40); fixSet(img, cl(4)+192) }, "", []string{`"sub"`, "larger than the volume"}},
		{"file as big as 2^64", func(img []byte) { binary.LittleEndian.PutUint64(img[cl(4)+96+32+24:], 1<<64-1); fixSet(img, cl(4)+96) }, "", []string{`"hello.txt"`}},
		{"cross-linked file", func(img []byte) { binary.LittleEndian.PutUint32(img[cl(6)+32+20:], 5); fixSet(img, cl(6)) }, "", []string{"cross-linked"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := handmadeExFAT()
			c.edit(img)
			v, err := Open(bytes.NewReader(img), int64(len(img)))
			if c.openErr != "" {
				if !errors.Is(err, filesystem.ErrCorrupt) || !strings.Contains(err.Error(), c.openErr) {
					t.Fatalf("Open: %v, want a corrupt error mentioning %q", err, c.openErr)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.errs == nil {
				if errs := exercise(v); len(errs) != 0 {
					t.Errorf("errors: %v", errs)
				}
				return
			}
			mustFailCorrupt(t, v, c.errs...)
		})
	}
}

// fixSet recomputes the checksum of the entry set at off.
func fixSet(img []byte, off int) {
	n := int(img[off+1]) + 1
	set := img[off : off+n*direntSize]
	binary.LittleEndian.PutUint16(set[2:], setChecksum(set, false))
}
