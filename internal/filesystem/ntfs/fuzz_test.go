package ntfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// Fuzz inputs are raw volumes, or sparse ones: sparseMagic, the volume size (u32), then chunks
// of an offset (u32), a length (u16) and that many bytes. The sparse form lets an input of a
// few KiB stand for a real mkntfs volume of 2 MiB whose metadata is spread over it, so that the
// fuzzer mutates structures rather than zeros.
const (
	sparseMagic   = "NTFSPRS1"
	maxFuzzVolume = 4 << 20
)

var fuzzLimits = exerciseLimits{entries: 2000, readBytes: 16 << 20, residual: 2000}

func fuzzVolume(data []byte) []byte {
	if !bytes.HasPrefix(data, []byte(sparseMagic)) {
		if len(data) > maxFuzzVolume {
			return nil
		}
		return data
	}
	data = data[len(sparseMagic):]
	if len(data) < 4 {
		return nil
	}
	size := int64(binary.LittleEndian.Uint32(data))
	if size > maxFuzzVolume {
		return nil
	}
	vol := make([]byte, size)
	for data = data[4:]; len(data) >= 6; {
		off := int64(binary.LittleEndian.Uint32(data))
		n := int(binary.LittleEndian.Uint16(data[4:]))
		data = data[6:]
		n = min(n, len(data))
		if off < size {
			copy(vol[off:], data[:n])
		}
		data = data[n:]
	}
	return vol
}

// sparseEncode is the inverse of fuzzVolume: it drops runs of 32 or more zero bytes.
func sparseEncode(vol []byte) []byte {
	const minGap = 32
	out := append([]byte(sparseMagic), binary.LittleEndian.AppendUint32(nil, uint32(len(vol)))...)
	for off := 0; off < len(vol); {
		if vol[off] == 0 {
			off++
			continue
		}
		end, zeros := off, 0
		for end < len(vol) && zeros < minGap && end-off < 60<<10 {
			if vol[end] == 0 {
				zeros++
			} else {
				zeros = 0
			}
			end++
		}
		end -= zeros
		out = binary.LittleEndian.AppendUint32(out, uint32(off))
		out = binary.LittleEndian.AppendUint16(out, uint16(end-off))
		out = append(out, vol[off:end]...)
		off = end
	}
	return out
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// seedVolume makes a 2 MiB volume of 512-byte clusters with a little of everything: resident,
// non-resident, compressed and sparse files, a stream, links, a directory with INDX blocks and
// deleted files. The $LogFile is zeroed (snapwatch does not read it) to keep the input small,
// and $UpCase too when small is set, which leaves lookups to the linear walk.
func seedVolume(t testing.TB, small bool) []byte {
	img, _ := buildNTFS(t, 2, func(p *populator) {
		p.file("a.txt", []byte("resident file"))
		p.file("d/b.bin", bytes.Repeat([]byte("non-resident "), 250)) // text quotes compactly in seeds
		p.mkdir("c")
		p.setAttrs("c", winCompressed)
		p.file("c/t.txt", bytes.Repeat([]byte("compress me "), 1500))
		p.file("s.txt", []byte("stream host"))
		p.stream("s.txt", "ads", []byte("alternate"))
		p.symlink("l", "d/b.bin")
		p.link("a.txt", "d/h.txt")
		// Long names fill INDX blocks with few files (and few MFT records).
		for i := range 8 {
			p.file(fmt.Sprintf("d/e/entry-%02d-%s.txt", i, bytes.Repeat([]byte("n"), 110)), []byte{byte(i)})
		}
		p.file("x/gone.txt", []byte("deleted"))
		if err := os.RemoveAll(p.abs("x")); err != nil {
			t.Fatal(err)
		}
	}, "-c", "512")
	vol, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Open(bytes.NewReader(vol), int64(len(vol)))
	if err != nil {
		t.Fatal(err)
	}
	// Metadata snapwatch does not read ($LogFile, and for small seeds $MFTMirr, $AttrDef, $Boot
	// past the boot sector, $Secure, $Extend, $UpCase) is zeroed, records and data.
	drop := []uint64{2}
	if small {
		drop = []uint64{1, 2, 4, 7, 8, 9, 10, 11, 12, 13, 14, 15}
		for num := uint64(firstUserEntry); num < v.records; num++ {
			rec, err := v.readRecord(num)
			if err == nil && rec.baseRef != (fileRef{}) {
				continue // an extension record
			}
			if n, err := v.loadNode(num, true); err != nil || len(n.names) == 0 || n.names[0].parent.num == 11 {
				drop = append(drop, num) // blank records and $Extend's children
			}
		}
	}
	pt := &patchable{t: t, v: v}
	for _, num := range drop {
		if n, err := v.loadNode(num, true); err == nil {
			for i := range n.attrs {
				a := &n.attrs[i]
				s, err := v.newStream([]*attribute{a}, "seed")
				if a.resident || err != nil {
					continue
				}
				for _, r := range s.runs {
					if !r.sparse() {
						clear(vol[max(r.lcn*v.geo.clusterSize, bootSectorSize) : (r.lcn+r.length)*v.geo.clusterSize])
					}
				}
			}
		}
		if small {
			for _, b := range pt.recordBlocks(num) {
				clear(vol[b : b+fixupStride])
			}
		}
	}
	return vol
}

func FuzzNTFS(f *testing.F) {
	if _, err := os.Stat("/dev/fuse"); err == nil {
		if vol := buildSeedOrSkip(f); vol != nil {
			f.Add(sparseEncode(vol))
			f.Add(sparseEncode(breakIndexBlock(f, vol, "d", "e")))
			f.Add(sparseEncode(partialSeed(f)))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vol := fuzzVolume(data)
		if len(vol) == 0 {
			return
		}
		Detect(bytes.NewReader(vol), int64(len(vol)))
		v, err := Open(bytes.NewReader(vol), int64(len(vol)))
		if err != nil {
			return
		}
		exercise(v, fuzzLimits)
	})
}

// buildSeedOrSkip builds the tool-made seed when the tools are there (nil otherwise: the
// committed seeds still run). fixture.Need would skip the whole fuzz target instead.
func buildSeedOrSkip(f *testing.F) []byte {
	for _, tool := range []string{"mkntfs", "ntfs-3g", "fusermount"} {
		if !haveTool(tool) {
			return nil
		}
	}
	return seedVolume(f, false)
}

func haveTool(name string) bool {
	if _, err := exec.LookPath(name); err == nil {
		return true
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

func FuzzLZNT1(f *testing.F) {
	f.Add([]byte{0x05, 0xB0, 0x00, 'a', 'b', 'c', 'd', 'e'}, uint8(0))
	f.Add([]byte{0x03, 0xB0, 0x02, 'a', 0x00, 0x00}, uint8(1))                      // a back-reference
	f.Add(append([]byte{0xFF, 0x3F}, bytes.Repeat([]byte{'u'}, 4096)...), uint8(2)) // a stored chunk
	f.Add([]byte{0x05, 0xB0, '0', '0', '0', '0', '0'}, uint8(0))                    // go-ntfs v0.2.1 panics on this
	f.Add([]byte{0x05, 0xB0, 0x00}, uint8(3))                                       // a header lying about its length
	f.Fuzz(func(t *testing.T, src []byte, unit uint8) {
		dst := make([]byte, 4096<<(unit%5)) // compression units of 4..64 KiB
		for i := range dst {
			dst[i] = 0xEE
		}
		if err := decompressLZNT1(dst, src); err != nil {
			return
		}
		// Whatever was not produced must read as zeros, never as stale bytes.
		if len(src) < 2 && !isZero(dst) {
			t.Fatal("output without input")
		}
	})
}

// TestWriteFuzzSeeds regenerates the committed FuzzNTFS seeds from a volume made by the real
// tools (SNAPWATCH_WRITE_SEEDS=1); they are sparse inputs under 64 KiB.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SNAPWATCH_WRITE_SEEDS") != "1" {
		t.Skip("set SNAPWATCH_WRITE_SEEDS=1 to regenerate testdata/fuzz/FuzzNTFS")
	}
	vol := seedVolume(t, true)
	seed := sparseEncode(vol)
	dir := filepath.Join("testdata", "fuzz", "FuzzNTFS")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if len(body) > 64<<10 {
			t.Fatalf("seed %s of %d bytes is too large to commit", name, len(body))
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("mkntfs-2m", seed)
	// The same volume with one INDX block of d/e broken: fuzzing starts from a partial listing.
	write("mkntfs-2m-broken-indx", sparseEncode(breakIndexBlock(t, vol, "d", "e")))
	// The same volume cut short after its MFT: reads past the end must fail cleanly.
	write("mkntfs-2m-truncated", sparseEncode(vol[:64<<10]))
	t.Logf("seed of %d bytes", len(seed))
	// A real compression unit for FuzzLZNT1: the stored clusters of c/t.txt's first unit.
	if v, err := Open(bytes.NewReader(vol), int64(len(vol))); err == nil {
		if ent, err := v.Lookup(rootRecord, "c"); err == nil {
			if ent, err = v.Lookup(ent.Ino, "t.txt"); err == nil {
				exts, _ := v.Extents(ent.Ino)
				var unit []byte
				for _, e := range exts {
					if e.Encoded && e.Logical < 8192 {
						unit = append(unit, vol[e.Physical:e.Physical+e.Length]...)
					}
				}
				lz := filepath.Join("testdata", "fuzz", "FuzzLZNT1")
				os.MkdirAll(lz, 0o755)
				body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(unit)) + ")\nuint8(1)\n"
				if err := os.WriteFile(filepath.Join(lz, "ntfs-3g-unit"), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if v, err := Open(bytes.NewReader(vol), int64(len(vol))); err != nil || exercise(v, fuzzLimits) != 0 {
		t.Errorf("the seed volume does not read cleanly: %v", err)
	}
}

// breakIndexBlock returns a copy of a volume in which the magic of one INDX block of the
// directory at path is broken ("INDY"): the middle leaf when the index has several blocks (the
// others still list), its only block otherwise (d/e of the committed seed, which its size
// bounds to one block).
func breakIndexBlock(tb testing.TB, vol []byte, path ...string) []byte {
	tb.Helper()
	v, err := Open(bytes.NewReader(vol), int64(len(vol)))
	if err != nil {
		tb.Fatal(err)
	}
	dir := uint64(rootRecord)
	for _, name := range path {
		e, err := v.Lookup(dir, name)
		if err != nil {
			tb.Fatal(err)
		}
		dir = e.Ino
	}
	ix, err := v.dirIndex(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var leaves []int64
	var visit func(entries []indexEntry)
	visit = func(entries []indexEntry) {
		for _, e := range entries {
			if e.sub < 0 {
				continue
			}
			children, err := ix.readNode(e.sub)
			if err != nil {
				tb.Fatal(err)
			}
			if children[0].sub < 0 {
				leaves = append(leaves, e.sub)
			}
			visit(children)
		}
	}
	visit(ix.root)
	if len(leaves) == 0 {
		tb.Fatalf("%v has no INDX block", path)
	}
	off := leaves[len(leaves)/2] * ix.vcnUnit
	cs := v.geo.clusterSize
	r := ix.alloc.runs[ix.alloc.findRun(off/cs)]
	at := (r.lcn+off/cs-r.vcn)*cs + off%cs
	out := bytes.Clone(vol)
	if string(out[at:at+4]) != "INDX" {
		tb.Fatalf("no INDX block at byte %d", at)
	}
	copy(out[at:], "INDY")
	return out
}

// partialSeed is a 2 MiB volume (512-byte clusters) whose directory "many" holds 40 long names
// over several INDX blocks, one of them broken: fuzzing starts from a partial listing. Built by
// FuzzNTFS when the tools are there; too large for the corpus format.
func partialSeed(tb testing.TB) []byte {
	img, _ := buildNTFS(tb, 2, func(p *populator) {
		for i := range 40 {
			p.file(fmt.Sprintf("many/entry-with-a-long-name-to-fill-index-blocks-%03d.txt", i), []byte{byte(i)})
		}
	}, "-c", "512")
	vol, err := os.ReadFile(img)
	if err != nil {
		tb.Fatal(err)
	}
	return breakIndexBlock(tb, vol, "many")
}

// TestBrokenIndexSeed checks the damaged-directory seeds: the committed one (d/e's only INDX
// block broken: an error naming its MFT record and the block, the rest of the volume listed) and
// the tool-built one (a partial listing of "many").
func TestBrokenIndexSeed(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzNTFS", "mkntfs-2m-broken-indx"))
	if err != nil {
		t.Fatal(err)
	}
	body, ok := bytes.CutPrefix(raw, []byte("go test fuzz v1\n[]byte("))
	if !ok {
		t.Fatal("not a []byte corpus entry")
	}
	quoted, _ := bytes.CutSuffix(bytes.TrimSpace(body), []byte(")"))
	data, err := strconv.Unquote(string(quoted))
	if err != nil {
		t.Fatal(err)
	}
	check := func(vol []byte, dir string, most int) {
		t.Helper()
		v, err := Open(bytes.NewReader(vol), int64(len(vol)))
		if err != nil {
			t.Fatal(err)
		}
		fsys := filesystem.New(v)
		info, err := fs.Stat(fsys, dir)
		if err != nil {
			t.Fatal(err)
		}
		ino := info.Sys().(*filesystem.Stat).Inode
		entries, err := v.ReadDir(ino)
		want := fmt.Sprintf("MFT record %d $I30 INDX block at VCN", ino)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "bad signature") || len(entries) > most {
			t.Fatalf("%s: %d entries, error %v; want at most %d and the damage named %q", dir, len(entries), err, most, want)
		}
		if _, err := fs.ReadFile(fsys, "a.txt"); dir == "d/e" && err != nil {
			t.Errorf("a.txt: %v", err)
		}
		t.Logf("%s: %d entries: %v", dir, len(entries), err)
	}
	check(fuzzVolume([]byte(data)), "d/e", 0)
	if !haveTool("mkntfs") || !haveTool("ntfs-3g") {
		fixture.Need(t, "mkntfs", "ntfs-3g")
	}
	vol := partialSeed(t)
	check(vol, "many", 39)
	v, _ := Open(bytes.NewReader(vol), int64(len(vol)))
	if entries, _ := fs.ReadDir(filesystem.New(v), "many"); len(entries) == 0 {
		t.Error("many: nothing listed")
	}
}
