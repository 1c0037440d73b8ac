package volume

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// testLVMConfig keeps lvm2 away from the host's devices, device-mapper (absent in containers)
// and udev (waiting for it costs most of a second per command).
const testLVMConfig = `global{activation=0} devices{use_devicesfile=0 filter=["a|^/dev/loop|","r|.*|"] scan_lvs=0 obtain_device_list_from_udev=0} activation{udev_sync=0 udev_rules=0} backup{backup=0 archive=0}`

// needLVM skips unless lvm2 and loop devices can be used.
func needLVM(t testing.TB) {
	t.Helper()
	fixture.Need(t, "lvm", "losetup")
	if os.Geteuid() != 0 {
		t.Skip("LVM tests need root for loop devices")
	}
}

// lvmCmd runs an lvm2 command with the test configuration.
func lvmCmd(t testing.TB, args ...string) string {
	t.Helper()
	out, err := fixture.RunEnv(nil, "lvm", append([]string{args[0], "--config", testLVMConfig}, args[1:]...)...)
	if err != nil {
		t.Fatalf("lvm: %v", err)
	}
	return out
}

// attachLoops attaches a loop device over each extent of img; they are detached at cleanup.
func attachLoops(t testing.TB, img string, parts ...extent) []string {
	t.Helper()
	var loops []string
	for _, p := range parts {
		out, err := fixture.RunEnv(nil, "losetup", "--show", "-f", "-o", strconv.FormatInt(p.start, 10),
			"--sizelimit", strconv.FormatInt(p.size, 10), img)
		if err != nil {
			t.Skipf("no loop devices here: %v", err)
		}
		loop := strings.TrimSpace(out)
		t.Cleanup(func() { fixture.RunEnv(nil, "losetup", "-d", loop) })
		loops = append(loops, loop)
	}
	return loops
}

// lvmReport runs an lvm2 reporting command with JSON output and returns its rows.
func lvmReport(t testing.TB, kind string, args ...string) []map[string]string {
	t.Helper()
	out := lvmCmd(t, append([]string{kind, "--reportformat", "json", "--units", "b", "--nosuffix"}, args...)...)
	var doc struct {
		Report []map[string][]map[string]string `json:"report"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%s report: %v\n%s", kind, err, out)
	}
	var rows []map[string]string
	for _, r := range doc.Report {
		for _, rs := range r {
			rows = append(rows, rs...)
		}
	}
	return rows
}

// checkAgainstLVMTools compares the VG and LV volumes with what lvs and vgs report on the same
// PVs (attached as loop devices), and every PV volume's UUID with pvs.
func checkAgainstLVMTools(t *testing.T, l *Layout, loops []string, pvVolumes []string) {
	t.Helper()
	for i, row := range lvmReport(t, "pvs", append([]string{"-o", "pv_name,pv_uuid"}, loops...)...) {
		v := volumeNamed(t, l, pvVolumes[i])
		if row["pv_uuid"] != v.UUID || v.Type != "LVM2 PV" || !v.Container {
			t.Errorf("%s: uuid %s type %q; pvs says %s", v.Name, v.UUID, v.Type, row["pv_uuid"])
		}
	}
	for _, row := range lvmReport(t, "vgs", "-o", "vg_name,vg_uuid,vg_size") {
		v := volumeNamed(t, l, row["vg_name"])
		if v.UUID != row["vg_uuid"] || strconv.FormatInt(v.Size, 10) != row["vg_size"] || v.Type != "LVM2 VG" || !v.Container {
			t.Errorf("VG %s: %+v; vgs says %v", v.Name, v, row)
		}
	}
	lvs := lvmReport(t, "lvs", "-o", "vg_name,lv_name,lv_uuid,lv_size")
	listed := 0
	for _, v := range l.Volumes {
		if v.Scheme == SchemeLVM && v.Parent != "" {
			listed++
		}
	}
	if listed != len(lvs) {
		t.Errorf("%d LV volumes, lvs lists %d: %v", listed, len(lvs), lvs)
	}
	for _, row := range lvs {
		v := volumeNamed(t, l, row["vg_name"]+"/"+row["lv_name"])
		if v.UUID != row["lv_uuid"] || strconv.FormatInt(v.Size, 10) != row["lv_size"] || v.Label != row["lv_name"] {
			t.Errorf("LV %s: uuid %s size %d; lvs says %v", v.Name, v.UUID, v.Size, row)
		}
	}
}

// TestLVMFixture: two PVs in MBR partitions, a linear LV spanning both and striped LVs with two
// stripe sizes, all made by lvm2; the LVs must read back the images written into them.
func TestLVMFixture(t *testing.T) {
	src := testTree(t)
	ext := fixture.Ext4(t, src, 8)
	fat := fixture.FAT(t, src, 16, 16)
	ext2 := fixture.Ext2(t, src, 4)
	img := fixture.LVMDisk(t, "vgtest",
		fixture.LV{Name: "root", Image: ext},
		fixture.LV{Name: "data", Image: fat, Stripes: 2},
		fixture.LV{Name: "logs", Image: ext2, Stripes: 2, StripeKiB: 256})
	l := discoverFile(t, img)
	if len(l.Warnings) != 0 {
		t.Errorf("warnings: %v", l.Warnings)
	}
	var names []string
	for _, v := range l.Volumes {
		names = append(names, v.Name)
	}
	if got := strings.Join(names, " "); got != "p1 p2 vgtest vgtest/root vgtest/data vgtest/logs" {
		t.Fatalf("volumes %q", got)
	}
	root, data, logs := volumeNamed(t, l, "vgtest/root"), volumeNamed(t, l, "vgtest/data"), volumeNamed(t, l, "vgtest/logs")
	if root.Type != "linear LV" || data.Type != "striped LV" || logs.TypeID != "striped" || root.Parent != "vgtest" || root.Offset != -1 {
		t.Errorf("types: %+v %+v", root, data)
	}
	sameContent(t, root, ext)
	sameContent(t, data, fat)
	sameContent(t, logs, ext2)
	if leaves := l.Leaves(); len(leaves) != 3 {
		t.Errorf("leaves: %d", len(leaves))
	}
	p1, p2 := volumeNamed(t, l, "p1"), volumeNamed(t, l, "p2")
	loops := attachLoops(t, img, extent{p1.Offset, p1.Size}, extent{p2.Offset, p2.Size})
	checkAgainstLVMTools(t, l, loops, []string{"p1", "p2"})
}

// TestLVMMissingAndTruncatedPV: an LV spanning two PVs reads its first half when the second PV
// is gone, and fails, naming the missing PV, past it.
func TestLVMMissingAndTruncatedPV(t *testing.T) {
	ext := fixture.Ext4(t, testTree(t), 8)
	img := fixture.LVMDisk(t, "vgm", fixture.LV{Name: "root", Image: ext})
	l := discoverFile(t, img)
	p2 := volumeNamed(t, l, "p2")
	half := volumeNamed(t, l, "vgm/root").Size / 2
	wantFirst := make([]byte, half)
	f, _ := os.Open(ext)
	f.ReadAt(wantFirst, 0)
	f.Close()

	t.Run("missing", func(t *testing.T) {
		damaged := t.TempDir() + "/missing.raw"
		fixture.Run(t, "cp", "--sparse=always", img, damaged)
		writeAt(t, damaged, p2.Offset+512, make([]byte, 512)) // the label of the second PV
		l := discoverFile(t, damaged)
		root, vg := volumeNamed(t, l, "vgm/root"), volumeNamed(t, l, "vgm")
		if !strings.Contains(root.Problem, "physical volume pv1") || !strings.Contains(root.Problem, "missing") || root.Reader == nil {
			t.Fatalf("root: %+v", root)
		}
		if !strings.Contains(vg.Problem, "1 of 2 physical volumes missing") || !hasWarning(l, "volume group vgm") {
			t.Errorf("vg: %+v, warnings %v", vg, l.Warnings)
		}
		got := make([]byte, half)
		if _, err := root.Reader.ReadAt(got, 0); err != nil || string(got) != string(wantFirst) {
			t.Errorf("first half: %v", err)
		}
		if _, err := root.Reader.ReadAt(got[:10], half-5); err == nil || !strings.Contains(err.Error(), "missing physical volume pv1") {
			t.Errorf("read across into the missing PV: %v", err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		cut := t.TempDir() + "/cut.raw"
		fixture.Run(t, "cp", "--sparse=always", img, cut)
		fixture.Run(t, "truncate", "-s", fmt.Sprint(p2.Offset+p2.Size/2), cut)
		l := discoverFile(t, cut)
		root := volumeNamed(t, l, "vgm/root")
		if !strings.Contains(root.Problem, "truncated") || root.Reader == nil {
			t.Fatalf("root: %+v", root)
		}
		buf := make([]byte, 4096)
		if _, err := root.Reader.ReadAt(buf, root.Size-4096); err == nil {
			t.Error("reading past the cut succeeded")
		}
	})
}

// pattern is deterministic content for extent e of an LV.
func pattern(lv string, e int64, n int) []byte {
	b := make([]byte, n)
	seed := uint32(e*2654435761) ^ uint32(len(lv))*40503
	for _, c := range lv {
		seed = seed*31 + uint32(c)
	}
	for i := range b {
		seed = seed*1664525 + 1013904223
		b[i] = byte(seed >> 24)
	}
	return b
}

// writeLVsPerLVM fills every extent of every listed LV with pattern(), at the places lvm2 itself
// reports (lvs --segments seg_pe_ranges), so that the test does not rely on our mapping.
// Only linear segments are supported here. base maps each loop device to its offset in img.
func writeLVsPerLVM(t *testing.T, img string, base map[string]int64, extentBytes int64, lvNames ...string) {
	t.Helper()
	peStart := map[string]int64{}
	for _, row := range lvmReport(t, "pvs", "-o", "pv_name,pe_start") {
		peStart[row["pv_name"]], _ = strconv.ParseInt(row["pe_start"], 10, 64)
	}
	for _, row := range lvmReport(t, "lvs", "-a", "--segments", "-o", "lv_name,seg_start_pe,seg_size_pe,stripes,seg_pe_ranges") {
		name := strings.Trim(row["lv_name"], "[]") // hidden LVs are listed in brackets
		if !slices.Contains(lvNames, name) {
			continue
		}
		if row["stripes"] != "1" {
			t.Fatalf("writeLVsPerLVM: %v is not linear", row)
		}
		le, _ := strconv.ParseInt(row["seg_start_pe"], 10, 64)
		count, _ := strconv.ParseInt(row["seg_size_pe"], 10, 64)
		dev, rng, _ := strings.Cut(row["seg_pe_ranges"], ":")
		var first, last int64
		fmt.Sscanf(rng, "%d-%d", &first, &last)
		if last-first+1 != count {
			t.Fatalf("range %v", row)
		}
		for i := range count {
			off := base[dev] + peStart[dev] + (first+i)*extentBytes
			writeAt(t, img, off, pattern(name, le+i, int(extentBytes)))
		}
	}
}

// checkPattern fails unless the volume reads as pattern() extent by extent.
func checkPattern(t *testing.T, v Volume, lvName string, extentBytes int64) {
	t.Helper()
	if v.Reader == nil {
		t.Fatalf("%s has no reader: %s", v.Name, v.Problem)
	}
	buf := make([]byte, extentBytes)
	for e := int64(0); e*extentBytes < v.Size; e++ {
		if _, err := v.Reader.ReadAt(buf, e*extentBytes); err != nil {
			t.Fatalf("%s extent %d: %v", v.Name, e, err)
		}
		if string(buf) != string(pattern(lvName, e, int(extentBytes))) {
			t.Fatalf("%s extent %d differs from what lvm2 placed there", v.Name, e)
		}
	}
}

// TestLVMWholeDisk: a PV on the whole disk (no partition table), 64 KiB extents, an LV in two
// non-adjacent segments, checked extent by extent against lvm2's own placement.
func TestLVMWholeDisk(t *testing.T) {
	needLVM(t)
	img := t.TempDir() + "/pv.raw"
	fixture.Sparse(t, img, 16<<20)
	loop := attachLoops(t, img, extent{0, 16 << 20})[0]
	lvmCmd(t, "pvcreate", "-q", loop)
	lvmCmd(t, "vgcreate", "-q", "-s", "64k", "vgwhole", loop)
	lvmCmd(t, "lvcreate", "-q", "-an", "-Zn", "-y", "-n", "a", "-l", "3", "vgwhole")
	lvmCmd(t, "lvcreate", "-q", "-an", "-Zn", "-y", "-n", "b", "-l", "2", "vgwhole")
	lvmCmd(t, "lvextend", "-q", "-l", "+4", "vgwhole/a")
	writeLVsPerLVM(t, img, map[string]int64{loop: 0}, 64<<10, "a", "b")
	l := discoverFile(t, img)
	if l.Scheme != SchemeNone || l.Volumes[0].Name != "disk" || l.Volumes[0].Type != "LVM2 PV" || len(l.Warnings) != 0 {
		t.Fatalf("layout:\n%s", dumpLayout(l))
	}
	checkAgainstLVMTools(t, l, []string{loop}, []string{"disk"})
	checkPattern(t, volumeNamed(t, l, "vgwhole/a"), "a", 64<<10)
	checkPattern(t, volumeNamed(t, l, "vgwhole/b"), "b", 64<<10)
}

// TestLVMMetadataWrap: a small metadata area whose ring buffer wraps; the newest text is read
// across the wrap.
func TestLVMMetadataWrap(t *testing.T) {
	needLVM(t)
	img := t.TempDir() + "/pv.raw"
	fixture.Sparse(t, img, 8<<20)
	loop := attachLoops(t, img, extent{0, 8 << 20})[0]
	lvmCmd(t, "pvcreate", "-q", "--metadatasize", "32k", "--dataalignment", "64k", loop)
	lvmCmd(t, "vgcreate", "-q", "-s", "1m", "vgwrap", loop)
	wrapped := func() bool {
		f, _ := os.Open(img)
		defer f.Close()
		h := make([]byte, 512)
		f.ReadAt(h, 4096)
		area := uint64(h[32]) | uint64(h[33])<<8 | uint64(h[34])<<16
		off := uint64(h[40]) | uint64(h[41])<<8 | uint64(h[42])<<16
		size := uint64(h[48]) | uint64(h[49])<<8 | uint64(h[50])<<16
		return off+size > area
	}
	for i := 0; !wrapped(); i++ {
		if i == 40 {
			t.Fatal("metadata never wrapped")
		}
		args := []string{"vgchange", "-q"}
		for k := range 4 {
			args = append(args, "--addtag", fmt.Sprintf("%s%d_%d", strings.Repeat("t", 900), i, k))
		}
		lvmCmd(t, append(args, "vgwrap")...)
		if i%3 == 0 {
			lvmCmd(t, "lvcreate", "-q", "-an", "-Zn", "-y", "-n", fmt.Sprintf("lv%d", i), "-l", "1", "vgwrap")
		}
	}
	writeLVsPerLVM(t, img, map[string]int64{loop: 0}, 1<<20, "lv0")
	l := discoverFile(t, img)
	if len(l.Warnings) != 0 {
		t.Errorf("warnings %v", l.Warnings)
	}
	checkAgainstLVMTools(t, l, []string{loop}, []string{"disk"})
	checkPattern(t, volumeNamed(t, l, "vgwrap/lv0"), "lv0", 1<<20)
}
