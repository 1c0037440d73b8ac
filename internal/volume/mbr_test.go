package volume

import (
	"fmt"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// testTree is a small file tree for the file-system images put in partitions.
func testTree(t testing.TB) string {
	return fixture.WriteTree(t, []fixture.File{
		{Path: "etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/bash\n")},
		{Path: "home/u/.aws/credentials", Data: []byte(strings.Repeat("aws_secret_access_key = x\n", 500))},
	})
}

func TestMBRPrimary(t *testing.T) {
	src := testTree(t)
	ext := fixture.Ext4(t, src, 8)
	fat := fixture.FAT(t, src, 16, 16)
	img, placed := fixture.Disk(t, fixture.LayoutMBR, fixture.Part{Image: ext}, fixture.Part{Image: fat, Type: "c"})
	l := discoverFile(t, img)
	if l.Scheme != SchemeMBR || l.SectorSize != 512 {
		t.Fatalf("scheme %s sector %d", l.Scheme, l.SectorSize)
	}
	sameExtents(t, "vs sfdisk", dataPartitions(l), sfdiskExtents(t, img))
	sameExtents(t, "vs mmls", dataPartitions(l), mmlsExtents(t, img))
	if len(placed) != 2 || len(l.Volumes) != 2 {
		t.Fatalf("volumes: %s", dumpLayout(l))
	}
	p1, p2 := volumeNamed(t, l, "p1"), volumeNamed(t, l, "p2")
	if p1.Type != "Linux" || p1.TypeID != "0x83" || p1.Index != 1 || p2.Type != "W95 FAT32 (LBA)" || p2.TypeID != "0x0c" || p2.Index != 2 {
		t.Errorf("types: %+v / %+v", p1, p2)
	}
	sameContent(t, p1, ext)
	sameContent(t, p2, fat)
	if len(l.Leaves()) != 2 || len(l.Warnings) != 0 {
		t.Errorf("leaves %d, warnings %v", len(l.Leaves()), l.Warnings)
	}
	out := fixture.Run(t, "sfdisk", "--dump", img)
	if !strings.Contains(out, "label-id: "+l.DiskID) {
		t.Errorf("disk id %s not in sfdisk dump:\n%s", l.DiskID, out)
	}
}

func TestMBRLogical(t *testing.T) {
	src := testTree(t)
	ext := fixture.Ext4(t, src, 8)
	fat := fixture.FAT(t, src, 8, 12)
	img, placed := fixture.Disk(t, fixture.LayoutMBRLogical, fixture.Part{Image: ext}, fixture.Part{Image: fat, Type: "e"})
	l := discoverFile(t, img)
	sameExtents(t, "vs sfdisk", dataPartitions(l), sfdiskExtents(t, img))
	sameExtents(t, "vs mmls", dataPartitions(l), mmlsExtents(t, img))
	var names []string
	for _, v := range l.Volumes {
		names = append(names, v.Name+"<"+v.Parent)
	}
	if got := strings.Join(names, " "); got != "p1< p2< p5<p2 p6<p2" {
		t.Errorf("tree %q", got)
	}
	p2 := volumeNamed(t, l, "p2")
	if !p2.Container || p2.Reader != nil || p2.Type != "Extended" {
		t.Errorf("extended: %+v", p2)
	}
	p5, p6 := volumeNamed(t, l, "p5"), volumeNamed(t, l, "p6")
	if p5.Offset != placed[0].Start || p6.Offset != placed[1].Start || p5.Index != 5 || p6.Index != 6 {
		t.Errorf("logicals %+v %+v vs %+v", p5, p6, placed)
	}
	sameContent(t, p5, ext)
	sameContent(t, p6, fat)
	if len(l.Warnings) != 0 {
		t.Errorf("warnings: %v", l.Warnings)
	}
}

// TestMBRManyLogicals builds 20 logical partitions behind a bootable primary with sfdisk.
func TestMBRManyLogicals(t *testing.T) {
	var s strings.Builder
	s.WriteString("label: dos\nunit: sectors\n\nsize=2048, type=83, bootable\ntype=f\n")
	for i := range 20 {
		fmt.Fprintf(&s, "size=%d, type=%s\n", 2048+i*8, []string{"83", "82", "7", "8e"}[i%4])
	}
	img := sfdiskImage(t, 64, s.String())
	l := discoverFile(t, img)
	sameExtents(t, "vs sfdisk", dataPartitions(l), sfdiskExtents(t, img))
	sameExtents(t, "vs mmls", dataPartitions(l), mmlsExtents(t, img))
	if !volumeNamed(t, l, "p1").Bootable || volumeNamed(t, l, "p5").Bootable {
		t.Error("boot flags")
	}
	last := volumeNamed(t, l, "p24")
	if last.Parent != "p2" || last.Type != "Linux LVM" || last.Size != int64(2048+19*8)*512 {
		t.Errorf("p24: %+v", last)
	}
	if volumeNamed(t, l, "p2").Type != "W95 Extended (LBA)" || len(l.Warnings) != 0 {
		t.Errorf("warnings %v", l.Warnings)
	}
}

// TestMBRTruncated cuts a disk in the middle of its second partition: that one reads clipped,
// with a problem; a partition wholly past the end has no reader.
func TestMBRTruncated(t *testing.T) {
	img := sfdiskImage(t, 16, "label: dos\nunit: sectors\n\nstart=2048, size=4096, type=83\nstart=8192, size=8192, type=83\nstart=20480, size=2048, type=83\n")
	fixture.Run(t, "truncate", "-s", fmt.Sprint(12288*512), img)
	l := discoverFile(t, img)
	p1, p2, p3 := volumeNamed(t, l, "p1"), volumeNamed(t, l, "p2"), volumeNamed(t, l, "p3")
	if p1.Problem != "" || p1.Reader.Size() != 4096*512 {
		t.Errorf("p1: %+v", p1)
	}
	if p2.Size != 8192*512 || p2.Reader == nil || p2.Reader.Size() != 4096*512 || !strings.Contains(p2.Problem, "truncated") {
		t.Errorf("p2: %+v", p2)
	}
	if p3.Reader != nil || !strings.Contains(p3.Problem, "past the end") {
		t.Errorf("p3: %+v", p3)
	}
	if len(l.Leaves()) != 2 {
		t.Errorf("leaves: %d", len(l.Leaves()))
	}
}

// TestWholeDiskFileSystems: a file system written at sector 0 is no partition table, even
// when its boot sector ends in 0x55AA (FAT, NTFS).
func TestWholeDiskFileSystems(t *testing.T) {
	src := testTree(t)
	images := map[string]func() string{
		"fat12": func() string { return fixture.FAT(t, src, 4, 12) },
		"fat16": func() string { return fixture.FAT(t, src, 16, 16) },
		"fat32": func() string { return fixture.FAT(t, src, 40, 32) },
		"ntfs":  func() string { return fixture.NTFS(t, "", 8) },
		"ext4":  func() string { return fixture.Ext4(t, src, 8) },
		"xfs":   func() string { return fixture.XFS(t, "", 32) },
	}
	for name, mk := range images {
		t.Run(name, func(t *testing.T) {
			img, _ := fixture.Disk(t, fixture.LayoutNone, fixture.Part{Image: mk()})
			l := discoverFile(t, img)
			if l.Scheme != SchemeNone || len(l.Volumes) != 1 || l.Volumes[0].Name != "disk" || l.Volumes[0].Scheme != SchemeNone {
				t.Fatalf("layout:\n%s", dumpLayout(l))
			}
			if len(l.Warnings) != 0 {
				t.Errorf("warnings: %v", l.Warnings)
			}
			sameContent(t, l.Volumes[0], img)
			sector0 := make([]byte, 512)
			if _, err := l.Volumes[0].Reader.ReadAt(sector0, 0); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"fat12": "FAT", "fat16": "FAT", "fat32": "FAT", "ntfs": "NTFS"}[name]
			if got := bootSectorFS(sector0); got != want {
				t.Errorf("boot sector detected as %q, want %q", got, want)
			}
			if want != "" && parseMBR(sector0) == nil {
				t.Errorf("%s boot sector lacks 0x55AA: the test does not exercise the VBR check", name)
			}
			if out, err := fixture.RunEnv(nil, "sfdisk", "--json", img); err == nil && strings.Contains(out, `"partitions"`) {
				t.Errorf("sfdisk sees partitions:\n%s", out)
			}
		})
	}
}

func TestEmptyAndTinyDisks(t *testing.T) {
	for _, size := range []int{0, 1, 511, 512, 4096} {
		l, err := Discover(strings.NewReader(strings.Repeat("\x00", size)), int64(size))
		if err != nil {
			t.Fatal(err)
		}
		if l.Scheme != SchemeNone || len(l.Volumes) != 1 || l.Volumes[0].Size != int64(size) {
			t.Errorf("size %d:\n%s", size, dumpLayout(l))
		}
	}
	// An empty DOS label: the table is there, the whole disk is still offered to the prober.
	img := sfdiskImage(t, 4, "label: dos\n")
	l := discoverFile(t, img)
	if l.Scheme != SchemeMBR || len(l.Volumes) != 1 || l.Volumes[0].Name != "disk" || !hasWarning(l, "empty") {
		t.Errorf("empty label:\n%s", dumpLayout(l))
	}
}
