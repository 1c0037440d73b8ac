package vmdk

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStreamOptimizedFooter reads the layout of VMware and AWS exports (grain directory found
// through the footer), checked against qemu-img, which reads that layout too, and vmdkinfo.
func TestStreamOptimizedFooter(t *testing.T) {
	raw := rawDisk(t)
	disk, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    streamOptions
	}{
		{"zlib", streamOptions{}},
		{"zlib-128k-grains", streamOptions{grainSize: 256}},
		{"raw-deflate", streamOptions{rawDeflate: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "disk.vmdk")
			writeStreamOptimized(t, path, disk, tc.o)
			img := mustOpen(t, path, Options{CacheBytes: 1 << 20})
			if img.Subformat() != "streamOptimized" {
				t.Errorf("Subformat() = %q", img.Subformat())
			}
			if tc.o.rawDeflate {
				// qemu and libvmdk only inflate zlib streams: compare with the source disk.
				sameAsFile(t, img, raw)
				return
			}
			info := vmdkinfo(t, path)
			if info["Disk type"] != "Stream optimized" || mediaSize(info) != itoa(img.Size()) {
				t.Errorf("vmdkinfo: %q, %s bytes", info["Disk type"], mediaSize(info))
			}
			sameAsReference(t, img, path)
			concurrentReads(t, img, img.Size(), raw)
		})
	}
}
