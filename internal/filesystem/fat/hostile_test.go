package fat

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// hostileImage is a small volume with a few files to break, and the reader's view of it.
type hostileImage struct {
	img string
	v   *fatVolume
}

func newHostile(t *testing.T, sizeMiB, bits int) *hostileImage {
	t.Helper()
	fixture.Need(t, "mkfs.vfat", "mcopy")
	var files []fixture.File
	files = append(files,
		fixture.File{Path: "file.bin", Data: randomBytes(1, 10_000)},
		fixture.File{Path: "dir/inner.txt", Data: []byte("inner\n")},
		fixture.File{Path: "dir/sub/deep.txt", Data: []byte("deep\n")},
		fixture.File{Path: "A Long Name.txt", Data: []byte("long\n")},
	)
	for i := 0; i < 40; i++ { // enough entries for "dir" to span several clusters
		files = append(files, fixture.File{Path: "dir/entry-with-long-name-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + itoa(i), Data: []byte{byte(i)}})
	}
	img := fixture.FAT(t, fixture.WriteTree(t, files), sizeMiB, bits, "-s", "1")
	return &hostileImage{img: img, v: openImage(t, img).v.(*fatVolume)}
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func (h *hostileImage) reopen(t *testing.T) *FS { return openImage(t, h.img) }

// lookup finds the id of a path with a fresh reader.
func (h *hostileImage) lookup(t *testing.T, p string) uint64 {
	t.Helper()
	info, err := filesystem.New(h.reopen(t)).Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return info.Sys().(*filesystem.Stat).Inode
}

// clusters lists the clusters of a file or directory.
func (h *hostileImage) clusters(t *testing.T, p string) []uint32 {
	t.Helper()
	v := h.reopen(t)
	ext, err := v.Extents(h.lookup(t, p))
	if err != nil {
		t.Fatal(err)
	}
	g := &h.v.g
	var out []uint32
	for _, e := range ext {
		for off := int64(0); off < e.Length; off += g.clusterSize {
			out = append(out, uint32((e.Physical+off-g.heapOff)/g.clusterSize)+2)
		}
	}
	return out
}

// setFAT writes a FAT entry in every copy of the FAT.
func (h *hostileImage) setFAT(t *testing.T, c, val uint32) {
	t.Helper()
	p := h.v.bpb
	for i := uint32(0); i < p.numFATs; i++ {
		base := int64(p.reservedSectors+i*p.fatSectors) * int64(p.bytesPerSector)
		switch h.v.bits {
		case 12:
			off := base + int64(c+c/2)
			b := make([]byte, 2)
			f, _ := os.Open(h.img)
			f.ReadAt(b, off)
			f.Close()
			old := uint16(b[0]) | uint16(b[1])<<8
			if c&1 == 1 {
				old = old&0x000F | uint16(val)<<4
			} else {
				old = old&0xF000 | uint16(val&0xFFF)
			}
			patch(t, h.img, off, le16(old))
		case 16:
			patch(t, h.img, base+2*int64(c), le16(uint16(val)))
		default:
			patch(t, h.img, base+4*int64(c), le32(val))
		}
	}
}

// entryOff is the volume offset of the directory entry of a path.
func (h *hostileImage) entryOff(t *testing.T, p string) int64 {
	return int64(h.lookup(t, p)) * direntSize
}

// mustFailCorrupt runs everything on the broken image, in bounded time, and wants a Corrupt
// error whose text holds each of the words.
func mustFailCorrupt(t *testing.T, v *FS, words ...string) {
	t.Helper()
	done := make(chan []error, 1)
	go func() { done <- exercise(v) }()
	var errs []error
	select {
	case errs = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("reader did not finish on a hostile image")
	}
	for _, err := range errs {
		if !errors.Is(err, filesystem.ErrCorrupt) {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(err.Error(), w)
		}
		if ok {
			t.Logf("got: %v", err)
			return
		}
	}
	t.Errorf("no corrupt error mentioning %q among %v", words, errs)
}

var fatSizes = []struct {
	name          string
	sizeMiB, bits int
}{{"fat12", 2, 12}, {"fat16", 16, 16}, {"fat32", 64, 32}}

func TestHostileChains(t *testing.T) {
	for _, c := range fatSizes {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			t.Run("cycle", func(t *testing.T) {
				h := newHostile(t, c.sizeMiB, c.bits)
				cl := h.clusters(t, "file.bin")
				h.setFAT(t, cl[5], cl[2]) // back to the third cluster
				v := h.reopen(t)
				mustFailCorrupt(t, v, `"file.bin"`, "twice (cycle)")
				// The bytes before the loop are still read.
				r, err := v.Open(h.lookup(t, "file.bin"))
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(io.NewSectionReader(r, 0, 10_000))
				if !errors.Is(err, filesystem.ErrCorrupt) || len(b) != 6*int(h.v.g.clusterSize) {
					t.Errorf("read %d bytes, err %v; want the 6 clusters before the loop and a corrupt error", len(b), err)
				}
				if string(b) != string(randomBytes(1, 10_000)[:len(b)]) {
					t.Error("bytes before the loop differ")
				}
			})
			t.Run("self-loop", func(t *testing.T) {
				h := newHostile(t, c.sizeMiB, c.bits)
				cl := h.clusters(t, "file.bin")
				h.setFAT(t, cl[0], cl[0])
				mustFailCorrupt(t, h.reopen(t), `"file.bin"`, "cycle")
			})
			t.Run("past-the-end", func(t *testing.T) {
				h := newHostile(t, c.sizeMiB, c.bits)
				cl := h.clusters(t, "file.bin")
				h.setFAT(t, cl[1], h.v.g.lastCluster()+3)
				mustFailCorrupt(t, h.reopen(t), `"file.bin"`, "outside the heap")
			})
			t.Run("into-free", func(t *testing.T) {
				h := newHostile(t, c.sizeMiB, c.bits)
				cl := h.clusters(t, "file.bin")
				h.setFAT(t, cl[3], 0)
				mustFailCorrupt(t, h.reopen(t), `"file.bin"`, "marked free")
			})
			t.Run("bad-cluster", func(t *testing.T) {
				h := newHostile(t, c.sizeMiB, c.bits)
				cl := h.clusters(t, "file.bin")
				h.setFAT(t, cl[3], map[int]uint32{12: 0xFF7, 16: 0xFFF7, 32: 0x0FFFFFF7}[c.bits])
				mustFailCorrupt(t, h.reopen(t), `"file.bin"`, "marked bad")
			})
			t.Run("short-chain", func(t *testing.T) {
				h := newHostile(t, c.sizeMiB, c.bits)
				cl := h.clusters(t, "file.bin")
				h.setFAT(t, cl[2], 0x0FFFFFFF)
				mustFailCorrupt(t, h.reopen(t), `"file.bin"`, "ends after 3 of")
			})
			t.Run("size-beyond-volume", func(t *testing.T) {
				h := newHostile(t, c.sizeMiB, c.bits)
				patch(t, h.img, h.entryOff(t, "file.bin")+28, le32(0xFFFFFFFF))
				mustFailCorrupt(t, h.reopen(t), `"file.bin"`)
			})
			t.Run("start-past-the-end", func(t *testing.T) {
				h := newHostile(t, c.sizeMiB, c.bits)
				off := h.entryOff(t, "file.bin")
				patch(t, h.img, off+26, le16(0xFFF0))
				patch(t, h.img, off+20, le16(0x0FFF))
				mustFailCorrupt(t, h.reopen(t), `"file.bin"`, "first cluster")
			})
			t.Run("directory-loop", func(t *testing.T) {
				h := newHostile(t, c.sizeMiB, c.bits)
				cl := h.clusters(t, "dir")
				if len(cl) < 2 {
					t.Fatalf("dir has %d clusters", len(cl))
				}
				h.setFAT(t, cl[len(cl)-1], cl[0])
				mustFailCorrupt(t, h.reopen(t), `"dir"`, "cycle")
			})
			t.Run("directory-is-root", func(t *testing.T) {
				h := newHostile(t, c.sizeMiB, c.bits)
				off := h.entryOff(t, "dir")
				root := uint32(0)
				if c.bits == 32 {
					root = h.v.bpb.rootCluster
				}
				patch(t, h.img, off+26, le16(uint16(root)))
				patch(t, h.img, off+20, le16(uint16(root>>16)))
				mustFailCorrupt(t, h.reopen(t), `"dir"`, "root directory's")
			})
			t.Run("directory-is-parent", func(t *testing.T) {
				// dir/sub points at dir's own clusters: listing it gives dir's entries again.
				h := newHostile(t, c.sizeMiB, c.bits)
				first := h.clusters(t, "dir")[0]
				off := h.entryOff(t, "dir/sub")
				patch(t, h.img, off+26, le16(uint16(first)))
				patch(t, h.img, off+20, le16(uint16(first>>16)))
				mustFailCorrupt(t, h.reopen(t), `directory "sub"`, "cross-linked")
			})
			t.Run("cross-linked-files", func(t *testing.T) {
				// Every entry of dir points at file.bin's clusters: the first read (in walk
				// order, dir/... before file.bin) wins, the others are cross-linked, so the
				// clusters are read once.
				h := newHostile(t, c.sizeMiB, c.bits)
				first := h.clusters(t, "file.bin")[0]
				entries, err := h.reopen(t).ReadDir(h.lookup(t, "dir"))
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					off := int64(e.Ino) * direntSize
					patch(t, h.img, off+11, []byte{attrArchive})
					patch(t, h.img, off+26, le16(uint16(first)))
					patch(t, h.img, off+20, le16(uint16(first>>16)))
					patch(t, h.img, off+28, le32(10_000))
				}
				v := h.reopen(t)
				mustFailCorrupt(t, v, "cross-linked")
				var read, failed int
				entries = append(entries, filesystem.Entry{Ino: h.lookup(t, "file.bin")})
				for _, e := range entries {
					r, err := v.Open(e.Ino)
					if err != nil {
						failed++
						continue
					}
					if b, _ := io.ReadAll(io.NewSectionReader(r, 0, 10_000)); sum(b) == sum(randomBytes(1, 10_000)) {
						read++
					}
				}
				if read != 1 || failed != len(entries)-1 {
					t.Errorf("%d entries read file.bin's clusters again, %d failed (of %d)", read, failed, len(entries))
				}
			})
			t.Run("truncated", func(t *testing.T) {
				h := newHostile(t, c.sizeMiB, c.bits)
				cl := h.clusters(t, "file.bin")
				cut := h.v.g.clusterOff(cl[2])
				if err := os.Truncate(h.img, cut); err != nil {
					t.Fatal(err)
				}
				mustFailCorrupt(t, h.reopen(t), "past the end of the volume")
			})
		})
	}
}

func TestHostileBootSector(t *testing.T) {
	h := newHostile(t, 2, 12)
	fat32 := newHostile(t, 64, 32)
	cases := []struct {
		name string
		off  int64
		b    []byte
		want string
	}{
		{"zero bytes per sector", 11, le16(0), "bytes per sector 0"},
		{"odd bytes per sector", 11, le16(520), "bytes per sector 520"},
		{"zero sectors per cluster", 13, []byte{0}, "sectors per cluster 0"},
		{"three sectors per cluster", 13, []byte{3}, "sectors per cluster 3"},
		{"no reserved sectors", 14, le16(0), "no reserved sectors"},
		{"no FATs", 16, []byte{0}, "FAT count 0"},
		{"nine FATs", 16, []byte{9}, "FAT count 9"},
		{"no total sectors", 19, le16(0), "total sector count is 0"},
		{"2^32-1 sectors on a small image", 19, le16(0), "FAT32 by count, but the boot sector has the FAT12/16 layout"},
		{"FAT too small", 22, le16(1), "holds fewer than"},
		{"huge FAT", 22, le16(0xFFFF), "fill the 4096 sectors"},
		{"media byte", 21, []byte{0x12}, "media descriptor"},
		{"FAT32 2^32-1 sectors on a small image", 32, le32(0xFFFFFFFF), "exceed the FAT32 maximum"},
		{"FAT32 2^32-1 sectors, big clusters", 32, le32(0xFFFFFFFF), "holds fewer than"},
		{"FAT32 2^32-1 sectors, big clusters, FAT to match", 32, le32(0xFFFFFFFF), "past the end of the volume"},
		{"FAT32 huge FAT", 36, le32(0x7FFFFFFF), "fill the"},
		{"FAT32 root cluster 0", 44, le32(0), "root directory cluster 0"},
		{"FAT32 root cluster past the end", 44, le32(0x0FFFFFF0), "root directory cluster 268435440"},
		{"FAT32 with fixed root entries", 17, le16(512), "fixed root entries"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, src := t.TempDir()+"/img", h.img
			if strings.HasPrefix(c.name, "FAT32") {
				src = fat32.img
			}
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			copy(data[c.off:], c.b)
			switch c.name {
			case "2^32-1 sectors on a small image":
				copy(data[32:], le32(0xFFFFFFFF))
			case "FAT32 2^32-1 sectors, big clusters, FAT to match":
				copy(data[36:], le32(0x40000))
				fallthrough
			case "FAT32 2^32-1 sectors, big clusters":
				data[13] = 128
			}
			if err := os.WriteFile(img, data, 0o644); err != nil {
				t.Fatal(err)
			}
			f, _ := os.Open(img)
			defer f.Close()
			if Detect(f, int64(len(data))) {
				t.Error("Detect accepts the broken boot sector")
			}
			_, err = Open(f, int64(len(data)))
			if !errors.Is(err, filesystem.ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Open: %v, want a corrupt error mentioning %q", err, c.want)
			}
			t.Log(err)
		})
	}
}

// TestLongNameOrdinals breaks the long-name sequence of a file in several ways; each time the
// file must still be listed, under its 8.3 name, and the lost long name reported.
func TestLongNameOrdinals(t *testing.T) {
	for _, c := range []struct {
		name  string
		entry int  // which long-name entry before the short entry (1 = nearest)
		off   int  // byte to change
		val   byte // new value
	}{
		{"wrong ordinal", 1, 0, 0x03},
		{"missing last flag", 2, 0, 0x02},
		{"ordinal too big", 2, 0, 0x40 | 25},
		{"wrong checksum", 1, 13, 0x00},
		{"type not zero", 1, 12, 0x01},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHostile(t, 2, 12)
			off := h.entryOff(t, "A Long Name.txt")
			patch(t, h.img, off-int64(c.entry)*direntSize+int64(c.off), []byte{c.val})
			v := h.reopen(t)
			entries, err := v.ReadDir(rootIno)
			if err == nil || !strings.Contains(err.Error(), "long name lost") || !strings.Contains(err.Error(), "ALONGN~1.TXT") {
				t.Fatalf("ReadDir error %v, want the lost long name reported", err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name)
			}
			if !strings.Contains(strings.Join(names, "|"), "ALONGN~1.TXT") {
				t.Errorf("names %q, want the short name ALONGN~1.TXT", names)
			}
		})
	}
}

// TestSurrogateNames writes a long name with a character outside the BMP (a UTF-16 surrogate
// pair; mtools drops such characters, so the test patches one in) and an unpaired surrogate.
func TestSurrogateNames(t *testing.T) {
	fixture.Need(t, "fls")
	h := newHostile(t, 2, 12)
	off := h.entryOff(t, "A Long Name.txt")
	// "A Long Name.txt": part 1 holds "A Long Name.t"; put U+1F600 in place of "Lo".
	lfn := off - direntSize
	patch(t, h.img, lfn+5, le16(0xD83D))
	patch(t, h.img, lfn+7, le16(0xDE00))
	fsys := filesystem.New(h.reopen(t))
	if _, err := fs.Stat(fsys, "A 😀ng Name.txt"); err != nil {
		t.Error(err)
	}
	if out := fixture.Run(t, "fls", h.img); !strings.Contains(out, "A 😀ng Name.txt") {
		t.Errorf("fls does not agree:\n%s", out)
	}
	patch(t, h.img, lfn+7, le16('x'))
	fsys = filesystem.New(h.reopen(t))
	if _, err := fs.Stat(fsys, "A \uFFFDxng Name.txt"); err != nil {
		t.Error(err)
	}
}

// TestActiveFAT checks the FAT32 mirroring flag: with mirroring off the FAT it names is used.
func TestActiveFAT(t *testing.T) {
	h := newHostile(t, 64, 32)
	p := h.v.bpb
	zero := make([]byte, int64(p.fatSectors)*int64(p.bytesPerSector))
	patch(t, h.img, int64(p.reservedSectors)*int64(p.bytesPerSector), zero) // wipe FAT 0
	patch(t, h.img, 40, le16(0x81))                                         // only FAT 1 is active
	v := h.reopen(t)
	if errs := exercise(v); len(errs) != 0 {
		t.Errorf("with FAT 1 active: %v", errs)
	}
	if b := readAll(t, filesystem.New(v), "file.bin"); sum(b) != sum(randomBytes(1, 10_000)) {
		t.Error("file.bin differs")
	}
	patch(t, h.img, 40, le16(0x00)) // mirrored: FAT 0, now empty, is the one to read
	mustFailCorrupt(t, h.reopen(t), "marked free")
	patch(t, h.img, 40, le16(0x85)) // FAT 5 of 2
	f, _ := os.Open(h.img)
	defer f.Close()
	if _, err := Open(f, 64<<20); err == nil || !strings.Contains(err.Error(), "active FAT 5 of 2") {
		t.Errorf("Open: %v", err)
	}
}

// TestSmallFAT32 opens the FAT32 volumes mkfs.fat makes below the specification's FAT32
// cluster minimum (4 KiB sectors, 32 KiB clusters on 64 MiB): the FAT32 layout decides.
func TestSmallFAT32(t *testing.T) {
	for _, extra := range [][]string{{"-S", "4096"}, {"-s", "64"}} {
		img := fixture.FAT(t, "", 64, 32, extra...)
		v := openImage(t, img)
		if v.Type() != "fat32" || v.Label() != "SNAPWATCH" {
			t.Errorf("%v: type %q label %q", extra, v.Type(), v.Label())
		}
		entries, err := v.ReadDir(rootIno)
		if err != nil || len(entries) != 0 {
			t.Errorf("%v: root %v %v", extra, entries, err)
		}
		fv := v.v.(*fatVolume)
		var free int64
		for r, err := range v.Unallocated(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			free += r.Len
		}
		if want := int64(fv.g.clusters-1) * fv.g.clusterSize; free != want {
			t.Errorf("%v: %d bytes free, want all clusters but the root's (%d)", extra, free, want)
		}
	}
}

// TestNamesDifferingInCase: FAT compares names without case, so no tool puts "Case-A.txt" and
// "Case-a.txt" in one directory; a damaged or hand-edited volume can, and both must be listed
// and read under their own names.
func TestNamesDifferingInCase(t *testing.T) {
	fixture.Need(t, "mkfs.vfat", "mcopy", "fls")
	img := fixture.FAT(t, fixture.WriteTree(t, []fixture.File{
		{Path: "Case-A.txt", Data: []byte("upper\n")},
		{Path: "Case-B.txt", Data: []byte("lower\n")},
	}), 2, 12)
	info, err := filesystem.New(openImage(t, img)).Stat("Case-B.txt")
	if err != nil {
		t.Fatal(err)
	}
	// The long name's sixth character is the first of the second group, at byte 14.
	lfn := int64(info.Sys().(*filesystem.Stat).Inode)*direntSize - direntSize
	patch(t, img, lfn+14, le16('a'))
	fsys := filesystem.New(openImage(t, img))
	if got := string(readAll(t, fsys, "Case-A.txt")); got != "upper\n" {
		t.Errorf("Case-A.txt = %q", got)
	}
	if got := string(readAll(t, fsys, "Case-a.txt")); got != "lower\n" {
		t.Errorf("Case-a.txt = %q", got)
	}
	if out := fixture.Run(t, "fls", img); !strings.Contains(out, "Case-a.txt") || !strings.Contains(out, "Case-A.txt") {
		t.Errorf("fls does not agree:\n%s", out)
	}
}

// TestDeletedDirectoryBomb fills 3000 free clusters with what looks like deleted directories,
// each full (no end marker) of deleted subdirectory entries pointing at the others. Read
// naively, every one of them would be read as a 2 MiB directory: 3000 × 2 MiB. Each cluster
// must be read once.
func TestDeletedDirectoryBomb(t *testing.T) {
	h := newHostile(t, 2, 12)
	const first, n = 1000, 3000
	cs := h.v.g.clusterSize
	per := int(cs / direntSize)
	entry := func(name string, attr byte, cluster uint32) []byte {
		e := make([]byte, direntSize)
		copy(e, name)
		e[11] = attr
		copy(e[26:], le16(uint16(cluster)))
		return e
	}
	img, err := os.ReadFile(h.img)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		c := uint32(first + i)
		off := h.v.g.clusterOff(c)
		copy(img[off:], entry(".          ", attrDirectory, c))
		copy(img[off+32:], entry("..         ", attrDirectory, 0))
		for j := 2; j < per; j++ {
			target := uint32(first + (i*per+j*7)%n)
			copy(img[off+int64(j)*direntSize:], entry("\xe5IR"+itoa(j)+"    DIR", attrDirectory, target))
		}
	}
	// A deleted directory entry in the root pointing at the first of them.
	root := h.v.bpb.rootOff
	for img[root] != 0 {
		root += direntSize
	}
	copy(img[root:], entry("\xe5OMB       ", attrDirectory, first))
	if err := os.WriteFile(h.img, img, 0o644); err != nil {
		t.Fatal(err)
	}
	v := h.reopen(t)
	start := time.Now()
	count := 0
	for _, err := range v.Deleted(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Deleted took %v", d)
	}
	if count > n*per {
		t.Errorf("%d deleted entries from %d clusters of %d entries: clusters were read more than once", count, n, per)
	}
	t.Logf("%d deleted entries in %v", count, time.Since(start))
}
