package vmdk

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// vmdkFormats is every VMDK variant qemu-img writes, with the subformat each must report.
func vmdkFormats() []struct {
	format    fixture.ImageFormat
	subformat string
	diskType  string // vmdkinfo's "Disk type"
} {
	byName := map[string]fixture.ImageFormat{}
	for _, f := range fixture.ImageFormats {
		byName[f.Name] = f
	}
	vmdk := func(name, opts string) fixture.ImageFormat {
		return fixture.ImageFormat{Name: name, Args: []string{"-O", "vmdk", "-o", opts}}
	}
	return []struct {
		format    fixture.ImageFormat
		subformat string
		diskType  string
	}{
		{byName["vmdk-sparse"], "monolithicSparse", "Monolithic sparse"},
		{byName["vmdk-stream"], "streamOptimized", "Stream optimized"},
		{vmdk("vmdk-flat", "subformat=monolithicFlat"), "monolithicFlat", "Monolithic flat"},
		{vmdk("vmdk-2gb-sparse", "subformat=twoGbMaxExtentSparse"), "twoGbMaxExtentSparse", "2GB extent sparse"},
		{vmdk("vmdk-2gb-flat", "subformat=twoGbMaxExtentFlat"), "twoGbMaxExtentFlat", "2GB extent flat"},
		{vmdk("vmdk-compat6", "compat6=on"), "monolithicSparse", "Monolithic sparse"},
		{vmdk("vmdk-zeroed-grain", "zeroed_grain=on"), "monolithicSparse", "Monolithic sparse"},
		{vmdk("vmdk-stream-compat6", "subformat=streamOptimized,compat6=on"), "streamOptimized", "Stream optimized"},
	}
}

// TestQemuImages reads every VMDK variant qemu-img makes of a disk holding an ext4 file system,
// random data and holes, and compares all guest bytes with qemu-img's own raw conversion.
func TestQemuImages(t *testing.T) {
	raw := rawDisk(t)
	for _, tc := range vmdkFormats() {
		t.Run(tc.format.Name, func(t *testing.T) {
			t.Parallel()
			path := fixture.Convert(t, raw, tc.format)
			img := mustOpen(t, path, Options{CacheBytes: 1 << 20})
			if img.Subformat() != tc.subformat {
				t.Errorf("Subformat() = %q, want %q", img.Subformat(), tc.subformat)
			}
			if img.BackingFile() != "" {
				t.Errorf("BackingFile() = %q, want none", img.BackingFile())
			}
			info := vmdkinfo(t, path)
			if info["Disk type"] != tc.diskType || mediaSize(info) != itoa(img.Size()) {
				t.Errorf("vmdkinfo says %q of %s bytes; we read %q of %d", info["Disk type"], mediaSize(info), img.Subformat(), img.Size())
			}
			ref := fixture.ToRaw(t, path)
			sameAsFile(t, img, ref)
			concurrentReads(t, img, img.Size(), ref)
		})
	}
}

// TestTwoGbMaxExtent makes qemu-img split a 2.06 GiB disk into 2 GiB extents, with data on
// both sides of the boundary.
func TestTwoGbMaxExtent(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 2 GiB twice")
	}
	fixture.Need(t, "qemu-img")
	raw := filepath.Join(t.TempDir(), "big.raw")
	const size = 2<<30 + 24*mib
	fixture.Sparse(t, raw, size)
	f, err := os.OpenFile(raw, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, w := range []struct{ off, n int64 }{{0, mib}, {2<<30 - 300<<10 - 5, 600 << 10}, {size - 70<<10, 70 << 10}} {
		buf := make([]byte, w.n)
		fillRandom(rng, buf)
		if _, err := f.WriteAt(buf, w.off); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	for _, sub := range []string{"twoGbMaxExtentSparse", "twoGbMaxExtentFlat"} {
		t.Run(sub, func(t *testing.T) {
			path := fixture.Convert(t, raw, fixture.ImageFormat{Name: "vmdk", Args: []string{"-O", "vmdk", "-o", "subformat=" + sub}})
			img := mustOpen(t, path, Options{})
			if len(img.spans) != 2 || img.Subformat() != sub {
				t.Fatalf("%d extents of %q; want 2 of %q", len(img.spans), img.Subformat(), sub)
			}
			info := vmdkinfo(t, path)
			if info["Number of extents"] != "2" || mediaSize(info) != itoa(img.Size()) {
				t.Errorf("vmdkinfo: %d extents, %s bytes", 2, mediaSize(info))
			}
			sameAsReference(t, img, path)
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
