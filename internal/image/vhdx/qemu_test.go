package vhdx

import (
	"strconv"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// TestQemuImages reads every VHDX variant qemu-img writes of a disk holding an ext4 file system,
// random data and holes, and compares all guest bytes with qemu-img's own raw conversion.
func TestQemuImages(t *testing.T) {
	raw := rawDisk(t)
	var fromFixture fixture.ImageFormat
	for _, f := range fixture.ImageFormats {
		if f.Name == "vhdx" {
			fromFixture = f
		}
	}
	vhdx := func(name, opts string) fixture.ImageFormat {
		return fixture.ImageFormat{Name: name, Args: []string{"-O", "vhdx", "-o", opts}}
	}
	for _, tc := range []struct {
		format    fixture.ImageFormat
		diskType  string // vhdiinfo's
		blockSize int64
	}{
		{fromFixture, "Dynamic", 0},
		{vhdx("vhdx-dynamic-1m", "subformat=dynamic,block_size=1M"), "Dynamic", mib},
		{vhdx("vhdx-dynamic-32m", "subformat=dynamic,block_size=32M"), "Dynamic", 32 * mib},
		{vhdx("vhdx-fixed-1m", "subformat=fixed,block_size=1M"), "Fixed", mib},
		{vhdx("vhdx-fixed-32m", "subformat=fixed,block_size=32M"), "Fixed", 32 * mib},
		{vhdx("vhdx-log-4m", "subformat=dynamic,log_size=4M,block_size=2M"), "Dynamic", 2 * mib},
	} {
		t.Run(tc.format.Name, func(t *testing.T) {
			t.Parallel()
			path := fixture.Convert(t, raw, tc.format)
			img := mustOpen(t, path, Options{CacheBytes: 256 << 10})
			if tc.blockSize != 0 && img.geo.blockSize != tc.blockSize {
				t.Errorf("block size %d, want %d", img.geo.blockSize, tc.blockSize)
			}
			if img.LogicalSectorSize() != 512 || img.BackingFile() != "" {
				t.Errorf("LogicalSectorSize() = %d, BackingFile() = %q", img.LogicalSectorSize(), img.BackingFile())
			}
			info := vhdiinfo(t, path)
			if info["Disk type"] != tc.diskType || !strings.Contains(info["Media size"], "("+strconv.FormatInt(img.Size(), 10)+" bytes)") ||
				!strings.EqualFold(info["Identifier"], img.hdr.dataWriteGUID.String()) {
				t.Errorf("vhdiinfo: %q, %q, %q; we read %d bytes, data write GUID %s", info["Disk type"], info["Media size"],
					info["Identifier"], img.Size(), img.hdr.dataWriteGUID)
			}
			ref := fixture.ToRaw(t, path)
			sameAsFile(t, img, ref)
			concurrentReads(t, img, img.Size(), ref)
		})
	}
}
