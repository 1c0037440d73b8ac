package volume

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// FuzzDiscover feeds whole-disk bytes to Discover and reads every volume it returns.
func FuzzDiscover(f *testing.F) {
	for _, seed := range syntheticDiskSeeds() {
		f.Add(seed)
	}
	for _, seed := range toolDiskSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Discover(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("Discover failed on readable bytes: %v", err)
		}
		checkLayoutInvariants(t, l, int64(len(data)))
		readAllBounded(t, l)
	})
}

// FuzzLVMMetadata feeds metadata text to the config parser and, when it parses, assembles the
// VG over stand-in PVs and reads every LV.
func FuzzLVMMetadata(f *testing.F) {
	for _, seed := range metadataSeeds() {
		f.Add([]byte(seed))
	}
	if text := toolMetadataSeed(f); text != nil {
		f.Add(text)
	}
	stand := bytes.NewReader(make([]byte, 1<<20))
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := parseConfig(data)
		if err != nil {
			return
		}
		vg, err := parseVGMetadata(root)
		if err != nil {
			return
		}
		// Every PV the metadata names is present: a 1 MiB zero device.
		pvs := make(map[string]*physicalVolume)
		for i, p := range vg.pvs {
			if i < 8 {
				pvs[p.id] = &physicalVolume{uuid: p.id, volume: p.key, r: stand, size: stand.Size()}
			}
		}
		d := &discovery{layout: &Layout{SectorSize: 512}}
		d.addVG(vg, pvs, make(map[string]bool))
		checkLayoutInvariants(t, d.layout, 1<<20)
		readAllBounded(t, d.layout)
	})
}

// checkLayoutInvariants holds for every layout, however hostile the disk.
func checkLayoutInvariants(t *testing.T, l *Layout, diskSize int64) {
	t.Helper()
	if l.SectorSize != 512 && l.SectorSize != 4096 {
		t.Errorf("sector size %d", l.SectorSize)
	}
	if len(l.Warnings) > maxWarnings+1 {
		t.Errorf("%d warnings", len(l.Warnings))
	}
	seen := make(map[string]bool)
	for _, v := range l.Volumes {
		if v.Name == "" || seen[v.Name] {
			t.Errorf("volume name %q empty or repeated", v.Name)
		}
		if v.Parent != "" && !seen[v.Parent] {
			t.Errorf("%s: parent %q not listed before it", v.Name, v.Parent)
		}
		seen[v.Name] = true
		if v.Reader != nil && v.Offset >= 0 && v.Offset+v.Reader.Size() > diskSize {
			t.Errorf("%s: reader [%d, +%d) exceeds the %d-byte disk", v.Name, v.Offset, v.Reader.Size(), diskSize)
		}
		if v.Reader != nil && v.Reader.Size() > v.Size {
			t.Errorf("%s: reader of %d bytes for a volume of %d", v.Name, v.Reader.Size(), v.Size)
		}
	}
}

// tinyPVMetadata fits the 12 KiB synthetic PV: pe_start 8 KiB, 1 KiB extents, 4 extents.
const tinyPVMetadata = `tiny {
id = "TinyVG-0000-0000-0000-0000-0000-000000"
seqno = 7
extent_size = 2
physical_volumes {
pv0 {
id = "SnapWa-tchT-estP-hysi-calV-olum-e00000"
pe_start = 16
pe_count = 4
}
}
logical_volumes {
lin {
id = "l"
status = ["READ", "WRITE", "VISIBLE"]
segment1 {
start_extent = 0
extent_count = 1
type = "striped"
stripe_count = 1
stripes = ["pv0", 0]
}
segment2 {
start_extent = 1
extent_count = 1
type = "zero"
}
}
str {
id = "s"
status = ["READ", "VISIBLE"]
segment1 {
start_extent = 0
extent_count = 2
type = "striped"
stripe_count = 2
stripe_size = 1
stripes = ["pv0", 2, "pv0", 3]
}
}
r {
id = "r"
status = ["VISIBLE"]
segment1 {
start_extent = 0
extent_count = 1
type = "raid1"
raids = ["r_rmeta_0", "r_rimage_0"]
}
}
r_rimage_0 {
id = "ri"
status = ["READ"]
segment1 {
start_extent = 0
extent_count = 1
type = "striped"
stripe_count = 1
stripes = ["pv0", 1]
}
}
t {
id = "t"
status = ["VISIBLE"]
segment1 {
start_extent = 0
extent_count = 9
type = "thin"
}
}
}
}
`

// syntheticDiskSeeds are small disks (≤ 12 KiB, so that committed corpus files stay small) of
// every structure Discover parses.
func syntheticDiskSeeds() [][]byte {
	const size = 12 << 10
	var seeds [][]byte

	mbr := make([]byte, size)
	putMBR(mbr, 0, 0xabcd, testEntry{status: 0x80, typ: 0x83, start: 2, sectors: 2}, testEntry{typ: 0x0f, start: 4, sectors: 20})
	putMBR(mbr, 4, 0, testEntry{typ: 0x07, start: 1, sectors: 3}, testEntry{typ: 0x05, start: 4, sectors: 8})
	putMBR(mbr, 8, 0, testEntry{typ: 0x8e, start: 2, sectors: 2}, testEntry{typ: 0x05, start: 8, sectors: 8})
	putMBR(mbr, 12, 0, testEntry{typ: 0x0c, start: 1, sectors: 11}, testEntry{typ: 0x05, start: 0, sectors: 4}) // loops back
	seeds = append(seeds, mbr)

	gpt := make([]byte, size)
	putGPT(gpt, gptSpec{entryCount: 16, parts: []testGPTPart{
		{index: 0, typ: linuxFSType, first: 6, last: 9, name: "root"},
		{index: 3, typ: linuxFSType, first: 10, last: 17, attrs: gptAttrLegacyBoot},
	}})
	seeds = append(seeds, gpt)

	pv := make([]byte, size)
	putPV(pv, 0, lvmPV{uuid: testPVUUID(0), devSize: size, metadata: tinyPVMetadata, mdaSize: 4096})
	for i := 8 << 10; i < size; i++ {
		pv[i] = byte(i / 512)
	}
	seeds = append(seeds, pv)

	vbr := make([]byte, 2048)
	copy(vbr[3:], "NTFS    ")
	vbr[510], vbr[511] = 0x55, 0xAA
	seeds = append(seeds, vbr)
	return seeds
}

// haveTool reports whether a tool is installed (without skipping, unlike fixture.Need).
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

// toolDiskSeeds are small disks written by the real tools, when installed: sfdisk DOS and GPT
// tables, and the head of a mkfs.vfat file system.
func toolDiskSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	dir := tb.TempDir()
	if haveTool("sfdisk") {
		scripts := []string{
			"label: dos\nunit: sectors\n\nstart=2, size=2, type=83, bootable\nstart=4, size=20, type=5\nstart=6, size=2, type=7\nstart=10, size=2, type=8e\nstart=14, size=8, type=c\n",
			"label: gpt\nunit: sectors\ntable-length: 4\nfirst-lba: 3\n\nstart=3, size=4, type=L, name=\"root\"\nstart=8, size=2, type=S\nstart=12, size=8, type=U, name=\"EFI\"\n",
		}
		for i, script := range scripts {
			img := filepath.Join(dir, fmt.Sprintf("sfdisk%d.img", i))
			fixture.Sparse(tb, img, 12<<10)
			fixture.SFDisk(tb, img, script)
			if b, err := os.ReadFile(img); err == nil {
				seeds = append(seeds, b)
			}
		}
	}
	if haveTool("mkfs.vfat") {
		img := filepath.Join(dir, "fat.img")
		fixture.Sparse(tb, img, 1<<20)
		if _, err := fixture.RunEnv(nil, "mkfs.vfat", "-F", "12", img); err == nil {
			if b, err := os.ReadFile(img); err == nil {
				seeds = append(seeds, b[:12<<10])
			}
		}
	}
	return seeds
}

// metadataSeeds are metadata texts: the synthetic ones of the tests and a few broken ones.
func metadataSeeds() []string {
	return []string{
		tinyPVMetadata,
		testVG(segLV("mix",
			"start_extent = 0\nextent_count = 3\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 40]",
			"start_extent = 3\nextent_count = 6\ntype = \"striped\"\nstripe_count = 3\nstripe_size = 16\nstripes = [\"pv0\", 0, \"pv0\", 10, \"pv0\", 20]")),
		testVG(segLV("m", "start_extent = 0\nextent_count = 2\ntype = \"mirror\"\nmirrors = [\"leg\", 0, \"m\", 0]") +
			segLV("leg", "start_extent = 0\nextent_count = 2\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 1]") +
			"snapshot0 {\nsegment1 {\nstart_extent = 0\nextent_count = 1\ntype = \"snapshot\"\norigin = \"leg\"\ncow_store = \"m\"\n}\n}\n"),
		"a { b = [1, \"x\", -2.5e3] c = 'q\\'s' # c\n}\n",
		strings.Repeat("a {", 40),
	}
}

// toolMetadataSeed is the metadata text lvm2 writes for a VG with a linear and a striped LV.
func toolMetadataSeed(tb testing.TB) []byte {
	if !haveTool("lvm") || !haveTool("losetup") || os.Geteuid() != 0 {
		return nil
	}
	text, _ := realPVHead(tb)
	return text
}

// realPVHead builds a VG with lvm2 on a loop device and returns its metadata text and the first
// 16 KiB of the PV with the metadata area header shrunk to fit them (so that a fuzz seed holds a
// real label, area header and text).
func realPVHead(tb testing.TB) (text, head []byte) {
	img := filepath.Join(tb.TempDir(), "pv.raw")
	fixture.Sparse(tb, img, 8<<20)
	out, err := fixture.RunEnv(nil, "losetup", "--show", "-f", img)
	if err != nil {
		return nil, nil
	}
	loop := strings.TrimSpace(out)
	defer fixture.RunEnv(nil, "losetup", "-d", loop)
	lvm := func(args ...string) error {
		_, err := fixture.RunEnv(nil, "lvm", append([]string{args[0], "--config", testLVMConfig}, args[1:]...)...)
		return err
	}
	for _, cmd := range [][]string{
		{"pvcreate", "-q", "--metadatasize", "32k", "--dataalignment", "64k", loop},
		{"vgcreate", "-q", "-s", "64k", "vgseed", loop},
		{"lvcreate", "-q", "-an", "-Zn", "-y", "-n", "lin", "-l", "3", "vgseed"},
		{"lvcreate", "-q", "-an", "-Zn", "-y", "-n", "two", "-l", "2", "vgseed"},
		{"lvextend", "-q", "-l", "+2", "vgseed/lin"},
	} {
		if lvm(cmd...) != nil {
			return nil, nil
		}
	}
	disk, err := os.ReadFile(img)
	if err != nil {
		return nil, nil
	}
	f := bytes.NewReader(disk)
	pv, err := readPVLabel(f, f.Size())
	if err != nil || pv == nil || len(pv.metadataAreas) == 0 {
		return nil, nil
	}
	text, err = pv.metadataText(pv.metadataAreas[0], maxMetadataBytes)
	if err != nil {
		return nil, nil
	}
	head = bytes.Clone(disk[:16<<10])
	mda := head[pv.metadataAreas[0].offset:]
	binary.LittleEndian.PutUint64(mda[32:], uint64(16<<10)-pv.metadataAreas[0].offset)
	binary.LittleEndian.PutUint32(mda, lvmCRC(lvmInitialCRC, mda[4:512]))
	return text, head
}

// TestWriteFuzzSeeds regenerates the committed corpus under testdata/fuzz when
// SNAPWATCH_WRITE_FUZZ_SEEDS=1 (the seeds are small real and synthetic structures).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SNAPWATCH_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set SNAPWATCH_WRITE_FUZZ_SEEDS=1 to regenerate testdata/fuzz")
	}
	write := func(target, name string, data []byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if len(body) >= 64<<10 {
			t.Fatalf("%s/%s: %d bytes, over the 64 KiB limit", target, name, len(body))
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, name := range []string{"synthetic-mbr-ebr-loop", "synthetic-gpt-16-entries", "synthetic-lvm-pv", "synthetic-ntfs-vbr"} {
		write("FuzzDiscover", name, syntheticDiskSeeds()[i])
	}
	for i, name := range []string{"sfdisk-dos-logical", "sfdisk-gpt", "mkfs-vfat-head"} {
		write("FuzzDiscover", name, toolDiskSeeds(t)[i])
	}
	text, head := realPVHead(t)
	if text == nil {
		t.Fatal("lvm2 seed could not be made")
	}
	if l, _ := Discover(bytes.NewReader(head), int64(len(head))); len(l.Volumes) < 3 {
		t.Fatalf("the lvm2 seed does not assemble:\n%s", dumpLayout(l))
	}
	write("FuzzDiscover", "lvm2-pv-head", head)
	write("FuzzLVMMetadata", "lvm2-metadata", text)
	write("FuzzLVMMetadata", "synthetic-tiny", []byte(tinyPVMetadata))
	write("FuzzLVMMetadata", "regression-leg-fanout", []byte(legFanOutMetadata()))
}

// TestSyntheticSeedsAreMeaningful: each synthetic seed reaches the structure it is meant to
// exercise, so the fuzzer starts deep inside the parsers.
func TestSyntheticSeedsAreMeaningful(t *testing.T) {
	seeds := syntheticDiskSeeds()
	want := []string{
		"p1 p2 p5 p6 p7", // MBR with an EBR chain that loops
		"p1 p4",          // GPT of 16 entries
		"disk tiny tiny/lin tiny/str tiny/r tiny/t", // whole-disk PV
		"disk", // NTFS boot sector
	}
	for i, seed := range seeds {
		l := discoverBytes(t, seed)
		var names []string
		for _, v := range l.Volumes {
			names = append(names, v.Name)
		}
		if got := strings.Join(names, " "); got != want[i] {
			t.Errorf("seed %d: volumes %q, want %q", i, got, want[i])
		}
	}
}
