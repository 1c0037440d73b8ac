package volume

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// discoverBytes runs Discover on an in-memory disk, failing on an error or after 5 s (a hang).
func discoverBytes(t *testing.T, disk []byte) *Layout {
	t.Helper()
	done := make(chan struct{})
	var l *Layout
	var err error
	go func() {
		defer close(done)
		l, err = Discover(bytes.NewReader(disk), int64(len(disk)))
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Discover did not return within 5 s")
	}
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	t.Logf("%s", dumpLayout(l))
	readAllBounded(t, l)
	return l
}

// readAllBounded reads the start, middle and end of every volume with a reader, as the fuzz
// target does; errors are fine, panics and hangs are not.
func readAllBounded(t testing.TB, l *Layout) {
	buf := make([]byte, 64<<10)
	for _, v := range l.Volumes {
		if v.Reader == nil {
			continue
		}
		n := v.Reader.Size()
		for _, off := range []int64{0, n / 2, n - int64(len(buf))} {
			if off >= 0 {
				v.Reader.ReadAt(buf, off)
			}
		}
	}
}

func TestHostileEBRChains(t *testing.T) {
	const sectors = 4096
	cases := []struct {
		name     string
		build    func(d []byte)
		logicals int
		warn     string
	}{
		{"self loop", func(d []byte) {
			putMBR(d, 64, 0, testEntry{typ: 0x83, start: 1, sectors: 8}, testEntry{typ: 0x05, start: 0, sectors: 16})
		}, 1, "loops back to sector 64"},
		{"two-EBR cycle", func(d []byte) {
			putMBR(d, 64, 0, testEntry{typ: 0x83, start: 1, sectors: 8}, testEntry{typ: 0x05, start: 100, sectors: 16})
			putMBR(d, 164, 0, testEntry{typ: 0x83, start: 1, sectors: 8}, testEntry{typ: 0x05, start: 0, sectors: 16})
		}, 2, "loops back to sector 64"},
		{"300 EBRs", func(d []byte) {
			for i := range 300 {
				putMBR(d, int64(64+2*i), 0, testEntry{typ: 0x83, start: 1, sectors: 1}, testEntry{typ: 0x05, start: uint32(2 * (i + 1)), sectors: 2})
			}
		}, maxLogicalPartitions, "more than 128 logical partitions"},
		{"1000 empty EBRs", func(d []byte) {
			for i := range 1000 {
				putMBR(d, int64(64+i), 0, testEntry{typ: 0x05, start: uint32(i + 1), sectors: 1})
			}
		}, 0, "longer than 256 records"},
		{"link past the end", func(d []byte) {
			putMBR(d, 64, 0, testEntry{typ: 0x83, start: 1, sectors: 8}, testEntry{typ: 0x0f, start: 0xFFFFFFF0, sectors: 16})
		}, 1, "cannot be read"},
		{"EBR without signature", func(d []byte) {
			putMBR(d, 64, 0, testEntry{typ: 0x83, start: 1, sectors: 8}, testEntry{typ: 0x05, start: 50, sectors: 16})
		}, 1, "lacks the 0x55AA signature"},
		{"logical outside the extended partition", func(d []byte) {
			putMBR(d, 64, 0, testEntry{typ: 0x83, start: 4000, sectors: 0xFFFFFFFF})
		}, 1, "lies outside its extended partition"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := make([]byte, sectors*512)
			putMBR(d, 0, 0x1234, testEntry{typ: 0x83, start: 32, sectors: 32}, testEntry{typ: 0x05, start: 64, sectors: 3000})
			c.build(d)
			l := discoverBytes(t, d)
			logicals := 0
			for _, v := range l.Volumes {
				if v.Parent == "p2" {
					logicals++
				}
			}
			if logicals != c.logicals || !hasWarning(l, c.warn) {
				t.Errorf("%d logicals, warnings %q; want %d and %q", logicals, l.Warnings, c.logicals, c.warn)
			}
		})
	}
}

func TestHostileMBR(t *testing.T) {
	d := make([]byte, 1<<20)
	putMBR(d, 0, 0xdeadbeef,
		testEntry{status: 0x80, typ: 0x83, start: 0, sectors: 100},
		testEntry{typ: 0x07, start: 50, sectors: 100},
		testEntry{typ: 0x0c, start: 1000, sectors: 0xFFFFFFFF},
		testEntry{typ: 0x42, start: 0xFFFFFF00, sectors: 10})
	l := discoverBytes(t, d)
	if l.Scheme != SchemeMBR || l.DiskID != "0xdeadbeef" || len(l.Volumes) != 4 {
		t.Fatalf("layout:\n%s", dumpLayout(l))
	}
	if !hasWarning(l, "p1 starts at sector 0") || !hasWarning(l, "p2 overlaps p1") || !hasWarning(l, "p4 overlaps p3") {
		t.Errorf("warnings %q", l.Warnings)
	}
	p3, p4 := volumeNamed(t, l, "p3"), volumeNamed(t, l, "p4")
	if p3.Reader.Size() != int64(len(d))-1000*512 || !strings.Contains(p3.Problem, "truncated") || p4.Reader != nil || p4.Type != "Windows dynamic (LDM)" {
		t.Errorf("p3 %+v p4 %+v", p3, p4)
	}

	// Boot flags other than 0 and 0x80: not a partition table (Linux agrees).
	d = make([]byte, 1<<20)
	putMBR(d, 0, 0, testEntry{status: 0x12, typ: 0x83, start: 64, sectors: 100})
	l = discoverBytes(t, d)
	if l.Scheme != SchemeNone || !hasWarning(l, "invalid boot flags") {
		t.Errorf("bad flags:\n%s", dumpLayout(l))
	}
}

// TestBootSectorsAtSectorZero uses synthetic VBRs: an exFAT and an NTFS boot sector with junk
// where the entries would be, and a FAT one whose "entries" are zero.
func TestBootSectorsAtSectorZero(t *testing.T) {
	for _, oem := range []string{"EXFAT   ", "NTFS    "} {
		d := make([]byte, 1<<20)
		copy(d[3:], oem)
		for i := 0x1BE; i < 0x1FE; i++ {
			d[i] = byte(i * 7)
		}
		d[510], d[511] = 0x55, 0xAA
		if l := discoverBytes(t, d); l.Scheme != SchemeNone || len(l.Warnings) != 0 {
			t.Errorf("%q:\n%s", oem, dumpLayout(l))
		}
	}
	d := make([]byte, 1<<20)
	d[0], d[1], d[2] = 0xEB, 0x3C, 0x90
	binary.LittleEndian.PutUint16(d[11:], 512)
	d[13], d[14], d[16], d[21] = 4, 1, 2, 0xF8
	copy(d[0x36:], "FAT16   ")
	d[510], d[511] = 0x55, 0xAA
	if l := discoverBytes(t, d); l.Scheme != SchemeNone || len(l.Warnings) != 0 {
		t.Errorf("FAT:\n%s", dumpLayout(l))
	}
	// A FAT boot sector that also holds a plausible table is a partitioned disk.
	putMBR(d, 0, 0, testEntry{typ: 0x0c, start: 64, sectors: 1000})
	if l := discoverBytes(t, d); l.Scheme != SchemeMBR {
		t.Errorf("FAT with table:\n%s", dumpLayout(l))
	}
}

func TestHostileGPT(t *testing.T) {
	const size = 1 << 20
	cases := []struct {
		name string
		spec gptSpec
		warn string
	}{
		{"a million entries", gptSpec{tweak: func(h []byte) { binary.LittleEndian.PutUint32(h[80:], 1_000_000) }},
			"entry array of 1000000 × 128 bytes exceeds the 1048576-byte cap"},
		{"entry size 0", gptSpec{tweak: func(h []byte) { binary.LittleEndian.PutUint32(h[84:], 0) }},
			"entry size 0 is not a multiple of 8 of at least 128"},
		{"entry size 130", gptSpec{tweak: func(h []byte) { binary.LittleEndian.PutUint32(h[84:], 130) }},
			"entry size 130"},
		{"header size 10000", gptSpec{tweak: func(h []byte) { binary.LittleEndian.PutUint32(h[12:], 10000) }},
			"header size 10000 outside [92, 512]"},
		{"array past the end", gptSpec{tweak: func(h []byte) { binary.LittleEndian.PutUint64(h[72:], 1<<40) }},
			"lies past the end of the disk"},
		{"first usable after last usable", gptSpec{tweak: func(h []byte) { binary.LittleEndian.PutUint64(h[40:], 1<<62) }},
			"first usable LBA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := make([]byte, size)
			c.spec.parts = []testGPTPart{{typ: linuxFSType, first: 100, last: 200}}
			putGPT(d, c.spec)
			l := discoverBytes(t, d)
			if l.Scheme != SchemeGPT || len(l.Volumes) != 1 || l.Volumes[0].Name != "disk" || l.Volumes[0].Problem == "" || !hasWarning(l, c.warn) {
				t.Errorf("layout:\n%s\nwant a warning with %q", dumpLayout(l), c.warn)
			}
		})
	}

	t.Run("bad entries", func(t *testing.T) {
		d := make([]byte, size)
		putGPT(d, gptSpec{parts: []testGPTPart{
			{index: 0, typ: linuxFSType, first: 100, last: 200, name: "a"},
			{index: 1, typ: linuxFSType, first: 150, last: 300},         // overlaps p1
			{index: 2, typ: linuxFSType, first: 400, last: 300},         // ends before it starts
			{index: 3, typ: linuxFSType, first: 1900, last: 1 << 40},    // past the end
			{index: 4, typ: linuxFSType, first: 1 << 62, last: 1 << 63}, // beyond any disk
			{index: 127, typ: linuxFSType, first: 10, last: 20},         // before the first usable LBA
		}})
		l := discoverBytes(t, d)
		if len(l.Volumes) != 6 || !hasWarning(l, "p2 overlaps p1") || !hasWarning(l, "p128 (LBA 10-20) lies outside the usable LBAs") {
			t.Fatalf("layout:\n%s", dumpLayout(l))
		}
		for name, problem := range map[string]string{"p3": "before it starts", "p4": "past the end", "p5": "beyond any disk"} {
			if v := volumeNamed(t, l, name); !strings.Contains(v.Problem, problem) {
				t.Errorf("%s: problem %q, want %q", name, v.Problem, problem)
			}
		}
	})
	t.Run("256 entries of 4096 bytes", func(t *testing.T) {
		d := make([]byte, 4<<20)
		putGPT(d, gptSpec{entryCount: 256, entrySize: 4096, parts: []testGPTPart{{index: 255, typ: linuxFSType, first: 4000, last: 4100, name: "last"}}})
		l := discoverBytes(t, d)
		if v := volumeNamed(t, l, "p256"); v.Label != "last" || v.Offset != 4000*512 || len(l.Warnings) != 0 {
			t.Errorf("layout:\n%s", dumpLayout(l))
		}
	})
	t.Run("4K sectors", func(t *testing.T) {
		d := make([]byte, 4<<20)
		putGPT(d, gptSpec{ss: 4096, parts: []testGPTPart{{typ: linuxFSType, first: 100, last: 199, name: "x"}}})
		l := discoverBytes(t, d)
		if l.SectorSize != 4096 || volumeNamed(t, l, "p1").Offset != 100*4096 || volumeNamed(t, l, "p1").Size != 100*4096 {
			t.Errorf("layout:\n%s", dumpLayout(l))
		}
	})
}

// testVG is VG metadata with one 48-extent PV (64 KiB extents, pe_start 1 MiB) and the LVs given.
func testVG(lvs string) string {
	return fmt.Sprintf(`# a comment
vg0 {
id = "AAAAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGGGG"
seqno = 3
extent_size = 128
physical_volumes {
pv0 {
id = %q
pe_start = 2048
pe_count = 48
}
}
logical_volumes {
%s
}
}
contents = "Text Format Volume Group"
version = 1
`, formatLVMUUID(testPVUUID(0)), lvs)
}

// segLV is an LV section with the given segment bodies (start_extent etc. included).
func segLV(name string, segments ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s {\nid = \"lvid-%s\"\nstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n", name, name)
	for i, s := range segments {
		fmt.Fprintf(&b, "segment%d {\n%s\n}\n", i+1, s)
	}
	b.WriteString("}\n")
	return b.String()
}

// pvDisk is a 4 MiB whole-disk PV carrying the metadata text.
func pvDisk(metadata string) []byte {
	d := make([]byte, 4<<20)
	putPV(d, 0, lvmPV{uuid: testPVUUID(0), devSize: 4 << 20, metadata: metadata})
	return d
}

func TestHostileLVMMetadata(t *testing.T) {
	linear := func(start, count int64, pe int64) string {
		return fmt.Sprintf("start_extent = %d\nextent_count = %d\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", %d]", start, count, pe)
	}
	cases := []struct {
		name    string
		text    string
		lv      string // LV volume to check ("" for none)
		problem string // wanted in its problem ("" for none)
		warn    string // wanted in a warning ("" for none)
	}{
		{"good linear", testVG(segLV("ok", linear(0, 2, 0), linear(2, 3, 10))), "vg0/ok", "", ""},
		{"huge extent count", testVG(segLV("big", linear(0, 9_000_000_000_000_000_000, 0))), "vg0/big", "overflow the LV size", ""},
		{"extent count beyond the PV", testVG(segLV("big", linear(0, 1<<40, 0))), "vg0/big", "beyond the 48 extents", ""},
		{"negative start", testVG(segLV("neg", linear(-5, 2, 0))), "vg0/neg", "negative start_extent", ""},
		{"negative PV extent", testVG(segLV("neg", linear(0, 2, -1))), "vg0/neg", "non-negative extent", ""},
		{"integer overflow", testVG(segLV("o", "start_extent = 0\nextent_count = 99999999999999999999")), "", "", "is not a 64-bit number"},
		{"gap", testVG(segLV("gap", linear(0, 2, 0), linear(5, 2, 2))), "vg0/gap", "gap or overlap", ""},
		{"overlap", testVG(segLV("ov", linear(0, 2, 0), linear(1, 2, 2))), "vg0/ov", "gap or overlap", ""},
		{"unknown PV key", testVG(segLV("u", "start_extent = 0\nextent_count = 2\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv9\", 0]")),
			"vg0/u", `physical volume "pv9", which is not in the metadata`, ""},
		{"stripe_count 0", testVG(segLV("s", "start_extent = 0\nextent_count = 2\ntype = \"striped\"\nstripe_count = 0\nstripes = []")),
			"vg0/s", "stripe_count 0 is not in [1, 128]", ""},
		{"stripe_size 0", testVG(segLV("s", "start_extent = 0\nextent_count = 2\ntype = \"striped\"\nstripe_count = 2\nstripe_size = 0\nstripes = [\"pv0\", 0, \"pv0\", 4]")),
			"vg0/s", "stripe_size 0", ""},
		{"stripes do not split", testVG(segLV("s", "start_extent = 0\nextent_count = 3\ntype = \"striped\"\nstripe_count = 2\nstripe_size = 16\nstripes = [\"pv0\", 0, \"pv0\", 4]")),
			"vg0/s", "do not split into 2 stripes", ""},
		{"stripe list mismatch", testVG(segLV("s", "start_extent = 0\nextent_count = 2\ntype = \"striped\"\nstripe_count = 2\nstripe_size = 16\nstripes = [\"pv0\", 0]")),
			"vg0/s", "1 stripes listed for stripe_count 2", ""},
		{"stripe size not dividing", testVG(segLV("s", "start_extent = 0\nextent_count = 2\ntype = \"striped\"\nstripe_count = 2\nstripe_size = 48\nstripes = [\"pv0\", 0, \"pv0\", 4]")),
			"vg0/s", "not a multiple of the 24576-byte stripe size", ""},
		{"mirror of itself", testVG(segLV("m", "start_extent = 0\nextent_count = 2\ntype = \"mirror\"\nmirrors = [\"m\", 0]")),
			"vg0/m", "reads through itself", ""},
		{"raid1 cycle", testVG(segLV("a", "start_extent = 0\nextent_count = 2\ntype = \"raid1\"\nraids = [\"x\", \"b\"]") +
			segLV("b", "start_extent = 0\nextent_count = 2\ntype = \"raid1\"\nraids = [\"x\", \"a\"]")),
			"vg0/a", "reads through itself", ""},
		{"raid1 leg unknown", testVG(segLV("r", "start_extent = 0\nextent_count = 2\ntype = \"raid1\"\nraids = [\"x\", \"nothere\"]")),
			"vg0/r", `LV "nothere" is not in the metadata`, ""},
		{"mirror chain too deep", testVG(
			segLV("m0", "start_extent = 0\nextent_count = 1\ntype = \"mirror\"\nmirrors = [\"m1\", 0]") +
				segLV("m1", "start_extent = 0\nextent_count = 1\ntype = \"mirror\"\nmirrors = [\"m2\", 0]") +
				segLV("m2", "start_extent = 0\nextent_count = 1\ntype = \"mirror\"\nmirrors = [\"m3\", 0]") +
				segLV("m3", "start_extent = 0\nextent_count = 1\ntype = \"mirror\"\nmirrors = [\"m4\", 0]") +
				segLV("m4", "start_extent = 0\nextent_count = 1\ntype = \"mirror\"\nmirrors = [\"m5\", 0]") +
				segLV("m5", "start_extent = 0\nextent_count = 1\ntype = \"mirror\"\nmirrors = [\"m6\", 0]") +
				segLV("m6", linear(0, 1, 0))),
			"vg0/m0", "more than 4 other LVs", ""},
		{"mirror leg too short", testVG(segLV("m", "start_extent = 0\nextent_count = 4\ntype = \"mirror\"\nmirrors = [\"leg\", 0]") + segLV("leg", linear(0, 2, 0))),
			"vg0/m", "shorter than the segment", ""},
		{"no segments", testVG("empty {\nid = \"x\"\nstatus = [\"VISIBLE\"]\n}\n"), "vg0/empty", "no segments", ""},
		{"thin", testVG(segLV("t", "start_extent = 0\nextent_count = 100\ntype = \"thin\"\nthin_pool = \"p\"")), "vg0/t", "segment type thin not supported", ""},
		{"extent size 0", strings.Replace(testVG(""), "extent_size = 128", "extent_size = 0", 1), "", "", "extent_size 0 is not in"},
		{"nested 100000 deep", strings.Repeat("a {\n", 100_000), "", "", "sections nest deeper than 32"},
		{"unclosed", "vg0 {\nid = \"x\"\n", "", "", "is not closed"},
		{"no VG id", "vg0 {\nextent_size = 8\n}\n", "", "", "has no id"},
		{"PV missing from the disk", strings.Replace(testVG(segLV("l", linear(0, 2, 0))), "pv0 {", "pv1 {\nid = \"missingmissingmissingmissingmiss\"\npe_start = 2048\npe_count = 4\n}\npv0 {", 1),
			"vg0/l", "", "1 of 2 physical volumes missing: pv1 (missin-gmis-sing-miss-ingm-issi-ngmiss)"},
		{"duplicate LV names", testVG(segLV("d", linear(0, 2, 0)) + segLV("d", linear(0, 4, 0))), "vg0/d", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := discoverBytes(t, pvDisk(c.text))
			if c.lv != "" {
				v := volumeNamed(t, l, c.lv)
				if (c.problem == "") != (v.Problem == "") || !strings.Contains(v.Problem, c.problem) {
					t.Errorf("%s: problem %q, want %q", c.lv, v.Problem, c.problem)
				}
			}
			if c.warn != "" && !hasWarning(l, c.warn) {
				t.Errorf("warnings %q, want %q", l.Warnings, c.warn)
			}
		})
	}
}

// TestLVMReaderAcrossBoundaries reads a multi-segment LV with a striped segment through every
// boundary and compares with a byte-wise mapping computed independently here.
func TestLVMReaderAcrossBoundaries(t *testing.T) {
	const eb = 64 << 10
	text := testVG(segLV("mix",
		"start_extent = 0\nextent_count = 3\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 40]",
		"start_extent = 3\nextent_count = 6\ntype = \"striped\"\nstripe_count = 3\nstripe_size = 16\nstripes = [\"pv0\", 0, \"pv0\", 10, \"pv0\", 20]",
		"start_extent = 9\nextent_count = 2\ntype = \"zero\"",
		"start_extent = 11\nextent_count = 1\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 30]"))
	d := pvDisk(text)
	for i := 1 << 20; i < len(d); i++ {
		d[i] = byte(i*31 + i>>9)
	}
	// physical byte of LV byte o, per the lvm2 dm-stripe rules
	phys := func(o int64) int64 {
		const dataStart = 1 << 20
		switch {
		case o < 3*eb:
			return dataStart + 40*eb + o
		case o < 9*eb:
			rel := o - 3*eb
			chunk, within := rel/(16*512), rel%(16*512)
			stripe, row := chunk%3, chunk/3
			return dataStart + []int64{0, 10, 20}[stripe]*eb + row*16*512 + within
		case o < 11*eb:
			return -1
		}
		return dataStart + 30*eb + o - 11*eb
	}
	want := make([]byte, 12*eb)
	for o := range want {
		if p := phys(int64(o)); p >= 0 {
			want[o] = d[p]
		}
	}
	l := discoverBytes(t, d)
	v := volumeNamed(t, l, "vg0/mix")
	if v.Size != 12*eb || v.Problem != "" || v.Type != "zero LV" && v.TypeID != "zero" {
		t.Fatalf("%+v", v)
	}
	got := make([]byte, len(want))
	if _, err := v.Reader.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("whole read: %v", err)
	}
	// reads of awkward sizes at awkward offsets
	for _, off := range []int64{0, 1, 8191, 8192, 3*eb - 7, 3*eb + 8190, 9*eb - 3, 11*eb - 1, 12*eb - 5} {
		for _, n := range []int{1, 7, 8193, 70000} {
			buf := make([]byte, n)
			k, err := v.Reader.ReadAt(buf, off)
			end := min(off+int64(n), 12*eb)
			if k != int(end-off) || !bytes.Equal(buf[:k], want[off:end]) {
				t.Errorf("ReadAt(%d bytes at %d) = %d, %v", n, off, k, err)
			}
			if end < off+int64(n) && err != io.EOF {
				t.Errorf("short read at %d: %v, want EOF", off, err)
			}
		}
	}
}

// TestLVMLabelAndAreaDamage: damaged LVM structures are warnings, never failures.
func TestLVMLabelAndAreaDamage(t *testing.T) {
	text := testVG(segLV("ok", "start_extent = 0\nextent_count = 2\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 0]"))
	cases := []struct {
		name   string
		damage func(d []byte)
		warn   string
	}{
		{"label CRC", func(d []byte) { d[512+100] ^= 1 }, "LVM2 label in sector 1: label CRC"},
		{"metadata area CRC", func(d []byte) { d[4096+100] ^= 1 }, "metadata area header at byte 4096: CRC"},
		{"metadata text CRC", func(d []byte) { d[4096+512+10] ^= 1 }, "metadata text at byte 4608: CRC"},
		{"text size beyond the ring", func(d []byte) {
			binary.LittleEndian.PutUint64(d[4096+48:], 1<<40)
			binary.LittleEndian.PutUint32(d[4096:], lvmCRC(lvmInitialCRC, d[4096+4:4096+512]))
		}, "exceeds the"},
		{"area past the PV", func(d []byte) {
			binary.LittleEndian.PutUint64(d[512+32+40+32:], 1<<50)
			binary.LittleEndian.PutUint32(d[512+16:], lvmCRC(lvmInitialCRC, d[512+20:1024]))
		}, "lies past the end of the PV"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := pvDisk(text)
			c.damage(d)
			l := discoverBytes(t, d)
			if !hasWarning(l, c.warn) {
				t.Errorf("warnings %q, want %q", l.Warnings, c.warn)
			}
		})
	}
}

// TestVGNameCollision: a VG called like a partition volume gets a suffix.
func TestVGNameCollision(t *testing.T) {
	l := discoverBytes(t, pvDisk(strings.Replace(testVG(""), "vg0 {", "disk {", 1)))
	if v := volumeNamed(t, l, "disk~2"); v.Type != "LVM2 VG" || v.Label != "disk" || !hasWarning(l, `reported as "disk~2"`) {
		t.Errorf("layout:\n%s", dumpLayout(l))
	}
}

// TestLVMLegFanOut: raid1 LVs of 128 legs reading through each other, four deep, whose legs all
// fail. The problem texts must not multiply with every level.
// The fuzzer found this one as a hang: the problem text grew 128-fold per level.
func TestLVMLegFanOut(t *testing.T) {
	start := time.Now()
	l := discoverBytes(t, pvDisk(legFanOutMetadata()))
	v := volumeNamed(t, l, "vg0/l0")
	if v.Reader != nil || len(v.Problem) > 1000 || time.Since(start) > time.Second {
		t.Errorf("problem of %d bytes after %v", len(v.Problem), time.Since(start))
	}
}

// legFanOutMetadata is a VG of raid1 LVs with 128 legs each, reading through each other five
// deep down to an LV that does not exist.
func legFanOutMetadata() string {
	var lvs strings.Builder
	for level := range 5 {
		var raids []string
		for range 128 {
			raids = append(raids, `"meta"`, fmt.Sprintf(`"l%d"`, level+1))
		}
		lvs.WriteString(segLV(fmt.Sprintf("l%d", level), fmt.Sprintf("start_extent = 0\nextent_count = 1\ntype = \"raid1\"\nraids = [%s]", strings.Join(raids, ", "))))
	}
	return testVG(lvs.String())
}

// TestManyPVsAndVGs: 2000 GPT partitions, each a PV of its own VG, all VGs called "vg". Names
// must stay unique and the work linear.
func TestManyPVsAndVGs(t *testing.T) {
	const n = 2000
	d := make([]byte, 20<<20)
	var parts []testGPTPart
	for i := range n {
		first := uint64(1000 + 16*i)
		parts = append(parts, testGPTPart{index: i, typ: linuxFSType, first: first, last: first + 15})
		text := fmt.Sprintf("vg {\nid = \"vg-%d\"\nseqno = 1\nextent_size = 8\nphysical_volumes {\npv0 {\nid = %q\npe_start = 16\npe_count = 0\n}\n}\n}\n",
			i, formatLVMUUID(testPVUUID(i)))
		putPV(d, int64(first)*512, lvmPV{uuid: testPVUUID(i), devSize: 8192, metadata: text, mdaSize: 4096})
	}
	putGPT(d, gptSpec{entryCount: 2048, parts: parts})
	start := time.Now()
	l := discoverBytes(t, d)
	if len(l.Volumes) != 2*n || volumeNamed(t, l, "vg~2000").Type != "LVM2 VG" || time.Since(start) > 3*time.Second {
		t.Errorf("%d volumes in %v", len(l.Volumes), time.Since(start))
	}
}
