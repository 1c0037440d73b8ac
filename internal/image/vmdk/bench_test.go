package vmdk

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// BenchmarkSequentialRead reads a 256 MiB disk (half random, half text-like 4 KiB blocks, as
// real disks mix incompressible and compressible data) in sequential 1 MiB ReadAt calls, the
// way the content scanner walks a file system. MB/s is guest bytes delivered.
func BenchmarkSequentialRead(b *testing.B) {
	fixture.Need(b, "qemu-img")
	dir := b.TempDir()
	raw := filepath.Join(dir, "bench.raw")
	if err := os.WriteFile(raw, mixedData(rand.New(rand.NewPCG(1, 2)), 256*mib), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, sub := range []string{"monolithicSparse", "streamOptimized"} {
		path := filepath.Join(dir, sub+".vmdk")
		fixture.Run(b, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+sub, raw, path)
		b.Run(sub, func(b *testing.B) {
			img := mustOpen(b, path, Options{})
			buf := make([]byte, mib)
			b.SetBytes(mib)
			b.ResetTimer()
			off := int64(0)
			for b.Loop() {
				if _, err := img.ReadAt(buf, off); err != nil {
					b.Fatal(err)
				}
				off = (off + mib) % img.Size()
			}
		})
	}
}
