package volume

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// sfdiskGPT is what sfdisk --json says of a GPT beyond offsets: ids and names.
type sfdiskGPT struct {
	PartitionTable struct {
		ID         string `json:"id"`
		SectorSize int64  `json:"sectorsize"`
		Partitions []struct {
			Node  string `json:"node"`
			Start int64  `json:"start"`
			Size  int64  `json:"size"`
			Type  string `json:"type"`
			UUID  string `json:"uuid"`
			Name  string `json:"name"`
			Attrs string `json:"attrs"`
		} `json:"partitions"`
	} `json:"partitiontable"`
}

// checkAgainstSfdiskGPT compares every GPT volume with sfdisk --json on the same disk (path may
// be a loop device for 4K sectors).
func checkAgainstSfdiskGPT(t *testing.T, l *Layout, path string) {
	t.Helper()
	var doc sfdiskGPT
	if err := json.Unmarshal([]byte(fixture.Run(t, "sfdisk", "--json", path)), &doc); err != nil {
		t.Fatal(err)
	}
	pt := doc.PartitionTable
	if l.DiskID != pt.ID || int64(l.SectorSize) != pt.SectorSize {
		t.Errorf("disk id %s sector %d, sfdisk: %s %d", l.DiskID, l.SectorSize, pt.ID, pt.SectorSize)
	}
	if len(l.Volumes) != len(pt.Partitions) {
		t.Fatalf("%d volumes, sfdisk lists %d", len(l.Volumes), len(pt.Partitions))
	}
	for i, p := range pt.Partitions {
		v := l.Volumes[i]
		want := Volume{Offset: p.Start * pt.SectorSize, Size: p.Size * pt.SectorSize, TypeID: p.Type, UUID: p.UUID, Label: p.Name,
			Bootable: strings.Contains(p.Attrs, "LegacyBIOSBootable")}
		got := Volume{Offset: v.Offset, Size: v.Size, TypeID: v.TypeID, UUID: v.UUID, Label: v.Label, Bootable: v.Bootable}
		if got != want || !strings.HasSuffix(p.Node, fmt.Sprint(v.Index)) || v.Name != fmt.Sprintf("p%d", v.Index) {
			t.Errorf("%s: got %+v, sfdisk %+v (node %s)", v.Name, got, want, p.Node)
		}
	}
}

func TestGPT(t *testing.T) {
	src := testTree(t)
	ext := fixture.Ext4(t, src, 8)
	fat := fixture.FAT(t, src, 16, 16)
	img, _ := fixture.Disk(t, fixture.LayoutGPT,
		fixture.Part{Image: ext, Name: "root fs ü"}, fixture.Part{Image: fat, Type: "c", Name: "ESP-like"},
		fixture.Part{SizeMiB: 1, Type: "21686148-6449-6E6F-744E-656564454649"})
	l := discoverFile(t, img)
	if l.Scheme != SchemeGPT || l.SectorSize != 512 || len(l.Warnings) != 0 {
		t.Fatalf("layout:\n%s", dumpLayout(l))
	}
	checkAgainstSfdiskGPT(t, l, img)
	sameExtents(t, "vs mmls", dataPartitions(l), mmlsExtents(t, img))
	p1, p2, p3 := volumeNamed(t, l, "p1"), volumeNamed(t, l, "p2"), volumeNamed(t, l, "p3")
	if p1.Type != "Linux filesystem" || p1.Label != "root fs ü" || p2.Type != "Microsoft basic data" || p3.Type != "BIOS boot" {
		t.Errorf("types/names: %q %q %q %q", p1.Type, p1.Label, p2.Type, p3.Type)
	}
	sameContent(t, p1, ext)
	sameContent(t, p2, fat)
}

// TestGPTTypesAndFlags: empty names, type names, the legacy BIOS bootable attribute, and an
// unused entry between used ones (the index, not the position in the list, names a partition).
func TestGPTTypesAndFlags(t *testing.T) {
	img := sfdiskImage(t, 16, `label: gpt
unit: sectors

1: start=2048, size=2048, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
2: start=4096, size=2048, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, attrs="LegacyBIOSBootable"
4: start=8192, size=2048, type=BC13C2FF-59E6-4262-A352-B275FD6F7172, name="boot"
5: start=10240, size=2048, type=3CB8E202-3B7E-47DD-8A3C-7FF2A13CFCEC
6: start=12288, size=2048, type=01234567-89AB-CDEF-0123-456789ABCDEF
`)
	l := discoverFile(t, img)
	checkAgainstSfdiskGPT(t, l, img)
	want := map[string]string{"p1": "EFI System", "p2": "Linux root (x86-64)", "p4": "Linux extended boot", "p5": "ChromeOS root fs",
		"p6": "Unknown (01234567-89AB-CDEF-0123-456789ABCDEF)"}
	for name, typ := range want {
		if v := volumeNamed(t, l, name); v.Type != typ {
			t.Errorf("%s: type %q, want %q", name, v.Type, typ)
		}
	}
	if !volumeNamed(t, l, "p2").Bootable || volumeNamed(t, l, "p1").Bootable || volumeNamed(t, l, "p1").Label != "" {
		t.Error("flags/names")
	}
}

// TestGPTManyEntries: a table of 256 entries with 130 partitions.
func TestGPTManyEntries(t *testing.T) {
	var s strings.Builder
	s.WriteString("label: gpt\nunit: sectors\ntable-length: 256\n\n")
	for i := range 130 {
		fmt.Fprintf(&s, "start=%d, size=%d, type=L\n", 2048+40*i, 16+8*(i%3))
	}
	img := sfdiskImage(t, 8, s.String())
	l := discoverFile(t, img)
	if len(l.Volumes) != 130 {
		t.Fatalf("%d volumes", len(l.Volumes))
	}
	checkAgainstSfdiskGPT(t, l, img)
	sameExtents(t, "vs mmls", dataPartitions(l), mmlsExtents(t, img))
}

// TestGPT4K: a GPT written by sfdisk on a loop device with 4096-byte logical sectors.
func TestGPT4K(t *testing.T) {
	fixture.Need(t, "losetup", "sfdisk")
	if os.Geteuid() != 0 {
		t.Skip("needs root for loop devices")
	}
	ext := fixture.Ext4(t, testTree(t), 8, "-b", "4096")
	img := t.TempDir() + "/disk4k.raw"
	fixture.Sparse(t, img, 24<<20)
	loop, err := fixture.RunEnv(nil, "losetup", "--show", "-f", "-b", "4096", img)
	if err != nil {
		t.Skipf("no 4K loop device: %v", err)
	}
	loop = strings.TrimSpace(loop)
	defer fixture.RunEnv(nil, "losetup", "-d", loop)
	fixture.SFDisk(t, loop, "label: gpt\nunit: sectors\n\nsize=2048, type=L, name=\"data\"\nsize=512, type=U\n")
	l := discoverFile(t, img)
	if l.SectorSize != 4096 || len(l.Warnings) != 0 {
		t.Fatalf("layout:\n%s", dumpLayout(l))
	}
	checkAgainstSfdiskGPT(t, l, loop)
	sameExtents(t, "vs mmls", dataPartitions(l), mmlsExtents(t, img))
	p1 := volumeNamed(t, l, "p1")
	fixture.CopyInto(t, img, p1.Offset, ext)
	sameContent(t, p1, ext)

	// With the primary header gone, the backup at the last 4096-byte LBA still finds it.
	writeAt(t, img, 4096, make([]byte, 4096))
	l2 := discoverFile(t, img)
	if l2.SectorSize != 4096 || len(l2.Volumes) != 2 || l2.Volumes[0].Offset != p1.Offset || !hasWarning(l2, "backup GPT header at LBA 6143") {
		t.Errorf("backup at 4K:\n%s", dumpLayout(l2))
	}
}

// TestGPTHybridMBR: sgdisk's hybrid MBR holds data entries next to the 0xEE one; the GPT rules.
func TestGPTHybridMBR(t *testing.T) {
	fixture.Need(t, "sgdisk")
	img := sfdiskImage(t, 16, "label: gpt\nunit: sectors\n\nsize=4096, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\nsize=4096, type=L\nsize=4096, type=L\n")
	fixture.Run(t, "sgdisk", "-h", "1:2", img)
	head := make([]byte, 512)
	f, _ := os.Open(img)
	f.ReadAt(head, 0)
	f.Close()
	if m := parseMBR(head); m == nil || m.dataCount() != 2 || !m.hasProtective() {
		t.Fatalf("sgdisk made no hybrid MBR: %+v", m)
	}
	l := discoverFile(t, img)
	if l.Scheme != SchemeGPT || len(l.Volumes) != 3 || len(l.Warnings) != 0 {
		t.Fatalf("layout:\n%s", dumpLayout(l))
	}
	checkAgainstSfdiskGPT(t, l, img)
	sameExtents(t, "vs mmls", dataPartitions(l), mmlsExtents(t, img, "-t", "gpt"))

	// With both GPT headers gone, the hybrid entries still give the data partitions.
	writeAt(t, img, 512, make([]byte, 512))
	writeAt(t, img, 16<<20-512, make([]byte, 512))
	l = discoverFile(t, img)
	if l.Scheme != SchemeMBR || len(l.Volumes) != 2 || !hasWarning(l, "hybrid MBR") {
		t.Errorf("hybrid fallback:\n%s", dumpLayout(l))
	}
}

// TestGPTDamage: the backup replaces a damaged primary header or array, with a warning; a
// damaged backup is reported while the primary is used.
func TestGPTDamage(t *testing.T) {
	const size = 16 << 20
	script := "label: gpt\nunit: sectors\n\nsize=4096, type=L, name=\"a\"\nsize=8192, type=S, name=\"b\"\n"
	fresh := func() (string, []extent) {
		img := sfdiskImage(t, 16, script)
		return img, sfdiskExtents(t, img)
	}
	lastLBA := int64(size/512 - 1)
	cases := []struct {
		name   string
		damage func(img string)
		warn   []string
	}{
		{"primary header zeroed", func(img string) { writeAt(t, img, 512, make([]byte, 512)) },
			[]string{"primary GPT header at LBA 1 is missing", fmt.Sprintf("used the backup GPT header at LBA %d", lastLBA)}},
		{"primary header CRC", func(img string) { writeAt(t, img, 512+0x30, []byte{0xff}) },
			[]string{"header CRC32", "used the backup"}},
		{"primary array", func(img string) { writeAt(t, img, 1024+56, []byte{'X', 0}) },
			[]string{"entry array CRC32", "used the backup"}},
		{"backup header zeroed", func(img string) { writeAt(t, img, lastLBA*512, make([]byte, 512)) },
			[]string{fmt.Sprintf("backup GPT header at LBA %d is damaged", lastLBA), "the primary was used"}},
		{"backup array", func(img string) { writeAt(t, img, (lastLBA-32)*512+56, []byte{'X', 0}) },
			[]string{"backup GPT header", "entry array CRC32", "the primary was used"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, want := fresh()
			c.damage(img)
			l := discoverFile(t, img)
			sameExtents(t, "vs sfdisk before damage", dataPartitions(l), want)
			if volumeNamed(t, l, "p2").Label != "b" || volumeNamed(t, l, "p2").Type != "Linux swap" {
				t.Errorf("p2: %+v", volumeNamed(t, l, "p2"))
			}
			if !hasWarning(l, c.warn...) || len(l.Warnings) != 1 {
				t.Errorf("warnings %q, want one with %q", l.Warnings, c.warn)
			}
		})
	}
	t.Run("both headers zeroed", func(t *testing.T) {
		img, _ := fresh()
		writeAt(t, img, 512, make([]byte, 512))
		writeAt(t, img, lastLBA*512, make([]byte, 512))
		l := discoverFile(t, img)
		if l.Scheme != SchemeGPT || len(l.Volumes) != 1 || l.Volumes[0].Name != "disk" || l.Volumes[0].Problem == "" {
			t.Errorf("layout:\n%s", dumpLayout(l))
		}
	})
	t.Run("protective MBR wiped", func(t *testing.T) {
		img, want := fresh()
		writeAt(t, img, 0, make([]byte, 512))
		l := discoverFile(t, img)
		sameExtents(t, "partitions", dataPartitions(l), want)
		if !hasWarning(l, "without a protective MBR") {
			t.Errorf("warnings %q", l.Warnings)
		}
	})
	t.Run("truncated image", func(t *testing.T) {
		img, want := fresh()
		fixture.Run(t, "truncate", "-s", fmt.Sprint(4<<20), img)
		l := discoverFile(t, img)
		sameExtents(t, "partitions", dataPartitions(l), want)
		if !hasWarning(l, "past the end of the disk (truncated image?)") || !strings.Contains(volumeNamed(t, l, "p2").Problem, "truncated") {
			t.Errorf("layout:\n%s", dumpLayout(l))
		}
	})
}
