package ntfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

var hostileLimits = exerciseLimits{entries: 5000, readBytes: 64 << 20, residual: 10000}

// wantCorrupt fails unless err reports a corrupt structure whose text mentions all of words.
func wantCorrupt(t *testing.T, err error, words ...string) {
	t.Helper()
	if !errors.Is(err, filesystem.ErrCorrupt) {
		t.Fatalf("error %v, want a corrupt-structure error", err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// TestHostile damages a real image structure by structure: every damage must end in an error
// naming the structure (or in data that reads without harm), never in a panic, a hang or a
// large allocation, and the rest of the volume must stay readable.
func TestHostile(t *testing.T) {
	img, _ := buildNTFS(t, 24, func(p *populator) {
		p.file("small.txt", []byte("resident"))
		p.file("big.bin", p.random(200_000))
		p.mkdir("comp")
		p.setAttrs("comp", winCompressed)
		var text []byte
		for i := 0; len(text) < 100_000; i++ {
			text = fmt.Appendf(text, "compressible %d\n", i)
		}
		p.file("comp/text.txt", text)
		for i := range 1500 {
			p.file(fmt.Sprintf("dir/entry-%04d-with-a-name-long-enough-for-levels.txt", i), []byte("e"))
		}
		p.file("links/base.bin", p.random(5000))
		for i := range 12 { // enough for extension records, few enough for a resident list
			p.link("links/base.bin", fmt.Sprintf("links/link-%02d-with-a-long-name-to-fill-the-mft-record", i))
		}
		p.file("gone/sub/x.bin", p.random(20_000))
		if err := os.RemoveAll(p.abs("gone")); err != nil {
			t.Fatal(err)
		}
	})
	p := newPatchable(t, img)
	if failures := exercise(p.v, hostileLimits); failures != 0 {
		t.Fatalf("the pristine image has %d failures", failures)
	}

	t.Run("BootSector", func(t *testing.T) {
		for _, c := range []struct {
			name string
			off  int
			val  []byte
		}{
			{"OEM id", 3, []byte("NTFX")},
			{"bytes per sector", 0x0B, []byte{0x2C, 0x01}}, // 300
			{"bytes per sector 8192", 0x0B, []byte{0x00, 0x20}},
			{"sectors per cluster 0", 0x0D, []byte{0}},
			{"sectors per cluster 3", 0x0D, []byte{3}},
			{"cluster 2^32 sectors", 0x0D, []byte{0xE0}},
			{"record size 2^31", 0x40, []byte{0xE1}},
			{"record size 0", 0x40, []byte{0}},
			{"record size 256 clusters", 0x40, []byte{0x7F}},
			{"total sectors 0", 0x28, make([]byte, 8)},
			{"total sectors 2^63", 0x28, []byte{0, 0, 0, 0, 0, 0, 0, 0x80}},
			{"MFT past the end", 0x30, []byte{0xFF, 0xFF, 0xFF, 0x7F}},
			{"signature", 0x1FE, []byte{0x55, 0xAB}},
		} {
			img := p.copy()
			copy(img[c.off:], c.val)
			if Detect(byteReader(img), int64(len(img))) {
				t.Errorf("%s: Detect still says NTFS", c.name)
			}
			_, err := open(img)
			if !errors.Is(err, filesystem.ErrCorrupt) || !strings.Contains(err.Error(), "boot sector") {
				t.Errorf("%s: Open error %v, want a corrupt boot sector", c.name, err)
			}
		}
	})

	t.Run("MFTMirrorFallback", func(t *testing.T) {
		img := p.copy()
		for _, num := range []uint64{mftRecord, volumeRecord} {
			b := p.recordBlocks(num)[1]
			img[b+510] ^= 0xFF // tear the second block of the record in $MFT
		}
		v, err := open(img)
		if err != nil {
			t.Fatalf("Open with records 0 and 3 torn: %v", err)
		}
		if v.Label() != "snapwatch" {
			t.Errorf("label %q: $Volume not read from $MFTMirr", v.Label())
		}
		if failures := exercise(v, hostileLimits); failures != 0 {
			t.Errorf("%d failures", failures)
		}
		// With the mirror torn as well, $MFT cannot be found.
		mirror := p.v.geo.mirrorLCN * p.v.geo.clusterSize
		img[mirror+510] ^= 0xFF
		_, err = open(img)
		wantCorrupt(t, err, "MFT record 0", "update sequence")
	})

	t.Run("TornRecord", func(t *testing.T) {
		img := p.copy()
		ino := p.ino["big.bin"]
		img[p.recordBlocks(ino)[1]+510] ^= 0x01
		v, err := open(img)
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Stat(ino)
		wantCorrupt(t, err, fmt.Sprintf("MFT record %d", ino), "torn write")
		if failures := exercise(v, hostileLimits); failures == 0 {
			t.Error("the torn record went unnoticed")
		}
		if _, err := v.Stat(p.ino["small.txt"]); err != nil {
			t.Errorf("a sound record fails: %v", err)
		}
	})

	t.Run("FixupArrayTooLong", func(t *testing.T) {
		img := p.copy()
		ino := p.ino["small.txt"]
		p.editRecord(img, ino, func(rec []byte) {})
		b := p.recordBlocks(ino)[0]
		binary.LittleEndian.PutUint16(img[b+6:], 200) // entries past the record's first block
		v, _ := open(img)
		_, err := v.Stat(ino)
		wantCorrupt(t, err, "update sequence array")
	})

	t.Run("AttributeLength", func(t *testing.T) {
		for _, length := range []uint32{0, 7, 1 << 20, 0xFFFFFFF8} {
			img := p.copy()
			ino := p.ino["big.bin"]
			p.editRecord(img, ino, func(rec []byte) {
				binary.LittleEndian.PutUint32(rec[p.mustAttr(rec, attrData)+4:], length)
			})
			v, _ := open(img)
			_, err := v.Stat(ino)
			wantCorrupt(t, err, fmt.Sprintf("MFT record %d", ino), "attribute 0x80")
			exercise(v, hostileLimits)
		}
	})

	t.Run("Runlists", func(t *testing.T) {
		ino := p.ino["big.bin"]
		total := p.v.geo.totalClusters
		clusters := (200_000 + p.v.geo.clusterSize - 1) / p.v.geo.clusterSize
		for _, c := range []struct {
			name    string
			runs    []run
			last    int64
			corrupt string // "" when the runlist is legal and must read
		}{
			{"LCN past the volume", []run{{0, total - 5, clusters}}, clusters - 1, "outside the volume"},
			{"run length 2^60", []run{{0, 100, 1 << 60}}, clusters - 1, "does not fit"},
			{"last VCN 2^60", []run{{0, 100, clusters}}, 1 << 60, "largest possible"},
			{"negative LCN", []run{{0, 10, 5}, {5, -30, clusters - 5}}, clusters - 1, "outside the volume"},
			{"runs short of the last VCN", []run{{0, 100, 5}}, clusters - 1, "runs cover"},
			{"runs past the last VCN", []run{{0, 100, clusters + 5}}, clusters - 1, "does not fit"},
			{"overlapping runs", []run{{0, 100, clusters}, {clusters, 100, 3}}, clusters + 2, ""},
			{"backward runs", []run{{0, 400, 10}, {10, 200, clusters - 10}}, clusters - 1, ""},
			{"unexpected hole", []run{{0, 100, 5}, {5, -1, clusters - 5}}, clusters - 1, ""},
		} {
			img := p.copy()
			p.editRecord(img, ino, func(rec []byte) {
				p.setRunlist(rec, p.mustAttr(rec, attrData), c.runs, c.last)
			})
			v, err := open(img)
			if err != nil {
				t.Fatal(err)
			}
			r, err := v.Open(ino)
			if err == nil {
				_, err = io.ReadAll(io.NewSectionReader(r, 0, 200_000))
			}
			if c.corrupt == "" {
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
				}
			} else if !errors.Is(err, filesystem.ErrCorrupt) || !strings.Contains(err.Error(), c.corrupt) ||
				!strings.Contains(err.Error(), "runlist") {
				t.Errorf("%s: error %v, want a corrupt runlist (%s)", c.name, err, c.corrupt)
			}
			exercise(v, hostileLimits)
		}
	})

	t.Run("MFTWithHole", func(t *testing.T) {
		img := p.copy()
		runs := p.v.mft.runs
		p.editRecord(img, mftRecord, func(rec []byte) {
			holed := append([]run{{0, runs[0].lcn, 16}, {16, -1, 4}}, run{20, runs[0].lcn + 20, runs[0].length - 20})
			holed = append(holed, runs[1:]...)
			p.setRunlist(rec, p.mustAttr(rec, attrData), holed, runs[len(runs)-1].vcn+runs[len(runs)-1].length-1)
		})
		_, err := open(img)
		wantCorrupt(t, err, "$MFT", "hole")
	})

	t.Run("AttributeListLoops", func(t *testing.T) {
		base := p.ino["links/base.bin"]
		n, err := p.v.node(base)
		if err != nil {
			t.Fatal(err)
		}
		list := firstAttr(n.attrs, attrAttributeList)
		if list == nil || list.resident {
			t.Fatal("links/base.bin has no non-resident attribute list: the fixture does not test it")
		}
		listStream, err := p.v.newStream([]*attribute{list}, "list")
		if err != nil {
			t.Fatal(err)
		}
		// entryRefs rewrites the record reference of every list entry that points elsewhere.
		entryRefs := func(img []byte, ref func(old fileRef) uint64) {
			p.editStream(img, listStream, func(buf []byte) {
				for off := 0; off+0x1A <= len(buf); off += int(binary.LittleEndian.Uint16(buf[off+4:])) {
					if old := parseRef(binary.LittleEndian.Uint64(buf[off+0x10:])); old.num != base {
						binary.LittleEndian.PutUint64(buf[off+0x10:], ref(old))
					}
				}
			})
		}
		small := p.ino["small.txt"]
		for _, c := range []struct {
			name string
			ref  func(old fileRef) uint64
			want string
		}{
			{"into another file", func(fileRef) uint64 { return small | 1<<48 }, "listed as an extension"},
			{"back to the base record", func(fileRef) uint64 { return base | 1<<48 }, ""},
			{"past the MFT", func(fileRef) uint64 { return 1<<40 | 1<<48 }, "does not exist"},
			{"to the MFT's own record", func(fileRef) uint64 { return 0 | 1<<48 }, "listed as an extension"},
		} {
			img := p.copy()
			entryRefs(img, c.ref)
			v, err := open(img)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Stat(base)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%s: %v", c.name, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("%s: error %v, want %q", c.name, err, c.want)
			}
			exercise(v, hostileLimits)
		}
	})

	t.Run("IndexCycles", func(t *testing.T) {
		dir := p.ino["dir"]
		ix := p.index(dir)
		// Find an INDX block with children (the tree has at least three levels).
		var inner int64 = -1
		var innerEntries []indexEntry
		for _, e := range ix.root {
			if e.sub < 0 {
				continue
			}
			children, err := ix.readNode(e.sub)
			if err != nil {
				t.Fatal(err)
			}
			if children[0].sub >= 0 {
				inner, innerEntries = e.sub, children
				break
			}
		}
		if inner < 0 {
			t.Fatal("dir/ has no inner INDX block: the fixture needs more entries")
		}
		entryOffsets := func(buf []byte) []int {
			hdr := 0x18
			off := hdr + int(binary.LittleEndian.Uint32(buf[hdr:]))
			var offs []int
			for range innerEntries {
				offs = append(offs, off)
				off += int(binary.LittleEndian.Uint16(buf[off+8:]))
			}
			return offs
		}
		for _, c := range []struct {
			name string
			edit func(buf []byte)
			want string
		}{
			{"block points to itself", func(buf []byte) {
				off := entryOffsets(buf)[0]
				l := int(binary.LittleEndian.Uint16(buf[off+8:]))
				binary.LittleEndian.PutUint64(buf[off+l-8:], uint64(inner))
			}, "reached twice"},
			{"block claims another VCN", func(buf []byte) {
				binary.LittleEndian.PutUint64(buf[0x10:], uint64(inner+1))
			}, "block says it is VCN"},
			{"child past the allocation", func(buf []byte) {
				off := entryOffsets(buf)[0]
				l := int(binary.LittleEndian.Uint16(buf[off+8:]))
				binary.LittleEndian.PutUint64(buf[off+l-8:], 1<<40)
			}, "past the"},
			{"entry length 0", func(buf []byte) {
				binary.LittleEndian.PutUint16(buf[entryOffsets(buf)[1]+8:], 0)
			}, "length 0"},
			{"entries past the block", func(buf []byte) {
				binary.LittleEndian.PutUint32(buf[0x18+4:], 1<<20)
			}, "do not fit"},
		} {
			img := p.copy()
			p.editIndexBlock(img, dir, inner, c.edit)
			v, err := open(img)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.ReadDir(dir)
			wantCorrupt(t, err, fmt.Sprintf("MFT record %d", dir), c.want)
			for _, name := range []string{"entry-0000-with-a-name-long-enough-for-levels.txt", "entry-1499-with-a-name-long-enough-for-levels.txt", "nope"} {
				v.Lookup(dir, name) // must end, found or not
			}
			exercise(v, hostileLimits)
		}
	})

	t.Run("IndexRoot", func(t *testing.T) {
		dir := p.ino["dir"]
		for _, c := range []struct {
			name string
			off  int
			val  uint32
			want string
		}{
			{"block size 2^31", 8, 1 << 31, "index block size"},
			{"block size 3000", 8, 3000, "index block size"},
			{"indexes $DATA", 0, attrData, "not $FILE_NAME"},
			{"entries offset past the value", 0x10, 1 << 30, "do not fit"},
		} {
			img := p.copy()
			p.editRecord(img, dir, func(rec []byte) {
				a := p.mustAttr(rec, attrIndexRoot)
				voff := a + int(binary.LittleEndian.Uint16(rec[a+0x14:]))
				binary.LittleEndian.PutUint32(rec[voff+c.off:], c.val)
			})
			v, err := open(img)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.ReadDir(dir)
			wantCorrupt(t, err, "$INDEX_ROOT", c.want)
			exercise(v, hostileLimits)
		}
	})

	t.Run("CompressedData", func(t *testing.T) {
		ino := p.ino["comp/text.txt"]
		exts, err := p.v.Extents(ino)
		if err != nil {
			t.Fatal(err)
		}
		var first int64 = -1
		for _, e := range exts {
			if e.Encoded {
				first = e.Physical
				break
			}
		}
		if first < 0 {
			t.Fatal("comp/text.txt has no compressed unit")
		}
		for _, header := range []uint16{0xBFFF, 0xB000, 0x3FFF, 0xFFFF} {
			img := p.copy()
			binary.LittleEndian.PutUint16(img[first:], header) // a chunk header lying about its length
			v, err := open(img)
			if err != nil {
				t.Fatal(err)
			}
			r, err := v.Open(ino)
			if err != nil {
				t.Fatal(err)
			}
			// Either an error naming the compression unit or some bytes: never a panic.
			if _, err := io.ReadAll(io.NewSectionReader(r, 0, 100_000)); err != nil {
				wantCorrupt(t, err, "compression unit")
			}
		}
	})

	t.Run("BitmapTooSmall", func(t *testing.T) {
		img := p.copy()
		p.editRecord(img, bitmapRecord, func(rec []byte) {
			a := p.mustAttr(rec, attrData)
			binary.LittleEndian.PutUint64(rec[a+0x30:], 3) // data size
			binary.LittleEndian.PutUint64(rec[a+0x38:], 3) // initialized size
		})
		v, err := open(img)
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range v.Unallocated(t.Context()) {
			wantCorrupt(t, err, "$Bitmap")
			break
		}
		exercise(v, hostileLimits)
	})

	t.Run("EncryptedFlag", func(t *testing.T) {
		img := p.copy()
		ino := p.ino["small.txt"]
		p.editRecord(img, ino, func(rec []byte) {
			a := p.mustAttr(rec, attrStandardInformation)
			voff := a + int(binary.LittleEndian.Uint16(rec[a+0x14:]))
			binary.LittleEndian.PutUint32(rec[voff+0x20:], binary.LittleEndian.Uint32(rec[voff+0x20:])|fileEncrypted)
		})
		v, _ := open(img)
		st, err := v.Stat(ino)
		if err != nil || !st.Encrypted {
			t.Fatalf("Stat = %+v, %v: want Encrypted", st, err)
		}
	})

	t.Run("DeletedParentLoop", func(t *testing.T) {
		var gone, sub uint64
		for d, err := range p.v.Deleted(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			switch d.Path {
			case "/gone":
				gone = d.Ino
			case "/gone/sub":
				sub = d.Ino
			}
		}
		if gone == 0 || sub == 0 {
			t.Fatal("the deleted fixture directories are missing")
		}
		img := p.copy()
		seqOf := func(num uint64) uint16 {
			n, err := p.v.loadNode(num, true)
			if err != nil {
				t.Fatal(err)
			}
			return n.seq
		}
		// gone's parent is sub and sub's parent is gone, each reference matching a deleted record.
		for _, c := range [][2]uint64{{gone, sub}, {sub, gone}} {
			parent := c[1] | uint64(seqOf(c[1])-1)<<48
			p.editRecord(img, c[0], func(rec []byte) {
				a := p.mustAttr(rec, attrFileName)
				voff := a + int(binary.LittleEndian.Uint16(rec[a+0x14:]))
				binary.LittleEndian.PutUint64(rec[voff:], parent)
			})
		}
		v, _ := open(img)
		paths := map[string]bool{}
		for d, err := range v.Deleted(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			paths[d.Path] = true
		}
		for _, want := range []string{"/$OrphanFiles/sub/gone", "/$OrphanFiles/gone/sub", "/$OrphanFiles/gone/sub/x.bin"} {
			if !paths[want] {
				t.Errorf("deleted paths %v: want %s (a parent cycle ends in $OrphanFiles)", paths, want)
			}
		}
	})

	t.Run("VolumeLargerThanImage", func(t *testing.T) {
		img := p.copy()
		binary.LittleEndian.PutUint64(img[0x28:], 1<<40) // 512 TiB claimed
		v, err := open(img)
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range v.Unallocated(t.Context()) {
			wantCorrupt(t, err, "$Bitmap")
			break
		}
		if failures := exercise(v, hostileLimits); failures != 1 {
			t.Errorf("%d failures, want only Unallocated's", failures)
		}
	})

	t.Run("TruncatedImage", func(t *testing.T) {
		for _, size := range []int{len(p.pristine) / 2, len(p.pristine) / 8, 8192, 600} {
			v, err := open(p.pristine[:size])
			if err != nil {
				continue
			}
			exercise(v, hostileLimits)
		}
	})
}

type byteReader []byte

func (b byteReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
