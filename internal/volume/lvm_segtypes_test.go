package volume

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// lvmUUID makes a valid lvm2 UUID (32 alphanumerics in 6-4-4-4-4-4-6 groups) from a seed.
func lvmUUID(seed int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	x := uint32(seed)*2654435761 + 12345
	for range 32 {
		x = x*1664525 + 1013904223
		b.WriteByte(chars[(x>>16)%uint32(len(chars))])
	}
	return formatLVMUUID(b.String())
}

// linearLV is the metadata text of an LV with one linear segment.
func linearLV(name string, seed int, visible bool, pv string, pe, count int) string {
	status := `"READ", "WRITE"`
	if visible {
		status += `, "VISIBLE"`
	}
	return fmt.Sprintf(`%s {
id = %q
status = [%s]
flags = []
segment_count = 1
segment1 {
start_extent = 0
extent_count = %d
type = "striped"
stripe_count = 1
stripes = [%q, %d]
}
}
`, name, lvmUUID(seed), status, count, pv, pe)
}

// oneSegmentLV is the metadata text of a visible LV whose single segment has the given body.
func oneSegmentLV(name string, seed, count int, body string) string {
	return fmt.Sprintf(`%s {
id = %q
status = ["READ", "WRITE", "VISIBLE"]
flags = []
segment_count = 1
segment1 {
start_extent = 0
extent_count = %d
%s
}
}
`, name, lvmUUID(seed), count, body)
}

// extraSegmentTypes are LVs of every segment type snapwatch meets, as lvm2 writes them. They are
// restored into a real VG with vgcfgrestore, which validates them.
func extraSegmentTypes() string {
	return oneSegmentLV("r1", 1, 2, `type = "raid1"
device_count = 2
region_size = 1024
raids = ["r1_rmeta_0", "r1_rimage_0", "r1_rmeta_1", "r1_rimage_1"]`) +
		linearLV("r1_rmeta_0", 2, false, "pv0", 20, 1) +
		linearLV("r1_rimage_0", 3, false, "pv0", 21, 2) +
		linearLV("r1_rmeta_1", 4, false, "pv0", 23, 1) +
		linearLV("r1_rimage_1", 5, false, "pv0", 24, 2) +
		oneSegmentLV("m1", 6, 2, `type = "mirror"
mirror_count = 2
region_size = 1024
mirrors = ["m1_mimage_0", 0, "m1_mimage_1", 0]`) +
		linearLV("m1_mimage_0", 7, false, "pv0", 26, 2) +
		linearLV("m1_mimage_1", 8, false, "pv0", 28, 2) +
		oneSegmentLV("pool", 9, 4, `type = "thin-pool"
metadata = "pool_tmeta"
pool = "pool_tdata"
transaction_id = 1
chunk_size = 128
discards = "passdown"
zero_new_blocks = 1`) +
		linearLV("pool_tmeta", 10, false, "pv0", 30, 1) +
		linearLV("pool_tdata", 11, false, "pv0", 31, 4) +
		oneSegmentLV("thin1", 12, 8, `type = "thin"
thin_pool = "pool"
transaction_id = 0
device_id = 1`) +
		linearLV("snap", 13, false, "pv0", 35, 2) +
		fmt.Sprintf(`snapshot0 {
id = %q
status = ["READ"]
flags = []
segment_count = 1
segment1 {
start_extent = 0
extent_count = 2
type = "snapshot"
chunk_size = 8
origin = "base"
cow_store = "snap"
}
}
`, lvmUUID(14)) +
		oneSegmentLV("zeros", 15, 3, `type = "zero"`) +
		oneSegmentLV("err", 16, 1, `type = "error"`)
}

// TestLVMSegmentTypes restores raid1, mirror, thin, snapshot, zero and error LVs into a real VG:
// raid1 and mirror read their first leg, zero reads zeros, the others are reported with a
// problem and no reader; hidden sub-LVs are not volumes.
func TestLVMSegmentTypes(t *testing.T) {
	needLVM(t)
	img := t.TempDir() + "/pv.raw"
	const extentBytes = 1 << 20
	fixture.Sparse(t, img, 48<<20)
	loop := attachLoops(t, img, extent{0, 48 << 20})[0]
	lvmCmd(t, "pvcreate", "-q", loop)
	lvmCmd(t, "vgcreate", "-q", "-s", "1m", "vgseg", loop)
	lvmCmd(t, "lvcreate", "-q", "-an", "-Zn", "-y", "-n", "base", "-l", "2", "vgseg")
	backup := t.TempDir() + "/vgseg.txt"
	lvmCmd(t, "vgcfgbackup", "-f", backup, "vgseg")
	text, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	// Insert the extra LVs at the end of the logical_volumes section (the last two braces
	// close it and the VG).
	s := string(text)
	end := strings.LastIndex(s[:strings.LastIndex(s, "}")], "}")
	s = s[:end] + extraSegmentTypes() + s[end:]
	if err := os.WriteFile(backup, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	lvmCmd(t, "vgcfgrestore", "--force", "-f", backup, "vgseg")
	writeLVsPerLVM(t, img, map[string]int64{loop: 0}, extentBytes, "base", "r1_rimage_0", "r1_rimage_1", "m1_mimage_0", "m1_mimage_1")

	l := discoverFile(t, img)
	checkAgainstLVMTools(t, l, []string{loop}, []string{"disk"})
	for _, v := range l.Volumes {
		if strings.Contains(v.Name, "_") || strings.Contains(v.Name, "snapshot0") {
			t.Errorf("hidden LV listed: %s", v.Name)
		}
	}
	checkPattern(t, volumeNamed(t, l, "vgseg/base"), "base", extentBytes)
	checkPattern(t, volumeNamed(t, l, "vgseg/r1"), "r1_rimage_0", extentBytes)
	checkPattern(t, volumeNamed(t, l, "vgseg/m1"), "m1_mimage_0", extentBytes)
	if r1 := volumeNamed(t, l, "vgseg/r1"); r1.Type != "raid1 LV" || r1.Problem != "" {
		t.Errorf("r1: %+v", r1)
	}
	zeros := volumeNamed(t, l, "vgseg/zeros")
	buf := make([]byte, zeros.Size)
	if _, err := zeros.Reader.ReadAt(buf, 0); err != nil || strings.Trim(string(buf), "\x00") != "" || zeros.Size != 3*extentBytes {
		t.Errorf("zeros: %v", err)
	}
	unsupported := map[string]string{
		"vgseg/pool":  "segment type thin-pool not supported",
		"vgseg/thin1": "segment type thin not supported",
		"vgseg/snap":  "snapshot of vgseg/base: segment type snapshot not supported",
		"vgseg/err":   "segment type error not supported",
	}
	for name, problem := range unsupported {
		v := volumeNamed(t, l, name)
		if v.Problem != problem || v.Reader != nil {
			t.Errorf("%s: problem %q reader %v, want %q", name, v.Problem, v.Reader != nil, problem)
		}
	}
	if !volumeNamed(t, l, "vgseg/pool").Container || volumeNamed(t, l, "vgseg/thin1").Size != 8*extentBytes {
		t.Error("pool must be a container; thin1 keeps its virtual size")
	}
	if len(l.Leaves()) != 4 { // base, r1, m1, zeros
		t.Errorf("leaves: %d", len(l.Leaves()))
	}
}
