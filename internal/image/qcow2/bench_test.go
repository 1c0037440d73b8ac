package qcow2

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// benchDiskSize is the guest size of the benchmark images.
const benchDiskSize = 256 << 20

// benchRaw writes a raw disk whose 64 KiB stretches are, in turn, random (incompressible),
// low-entropy (text-like, compressible about 2:1), random, and zeros: a mix like a used disk.
func benchRaw(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.raw")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(11, 12))
	chunk := make([]byte, 64<<10)
	for off := int64(0); off < benchDiskSize; off += int64(len(chunk)) {
		switch (off / int64(len(chunk))) % 4 {
		case 0, 2:
			for i := range chunk {
				chunk[i] = byte(rng.Uint32())
			}
		case 1:
			for i := range chunk {
				chunk[i] = "etaoin shrdlu\n/=:"[rng.IntN(17)]
			}
		case 3:
			clear(chunk)
		}
		if _, err := f.WriteAt(chunk, off); err != nil {
			b.Fatal(err)
		}
	}
	return path
}

// BenchmarkSequentialRead reads a 256 MiB guest disk front to back in 1 MiB ReadAt calls; the
// file is in the page cache, so the figure is the reader's own cost. "raw-file" is os.File
// reading the raw disk, the ceiling.
func BenchmarkSequentialRead(b *testing.B) {
	fixture.Need(b, "qemu-img")
	raw := benchRaw(b)
	for _, v := range []struct {
		name string
		args []string
	}{
		{"raw-file", nil},
		{"uncompressed", []string{"-O", "qcow2"}},
		{"compressed-zlib", []string{"-c", "-O", "qcow2"}},
		{"compressed-zstd", []string{"-c", "-O", "qcow2", "-o", "compression_type=zstd"}},
	} {
		var r io.ReaderAt
		if v.args == nil {
			f, err := os.Open(raw)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			r = f
		} else {
			r = openFile(b, convert(b, raw, v.args...), Options{})
		}
		b.Run(v.name, func(b *testing.B) {
			buf := make([]byte, 1<<20)
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			cpu := processCPU()
			for i := range b.N {
				off := int64(i%(benchDiskSize>>20)) << 20
				if _, err := r.ReadAt(buf, off); err != nil && err != io.EOF {
					b.Fatal(err)
				}
			}
			// Wall-clock MB/s depends on what else the machine runs; MB per CPU second
			// is the reader's own cost.
			if used := (processCPU() - cpu).Seconds(); used > 0 {
				b.ReportMetric(float64(b.N)*float64(len(buf))/1e6/used, "MB/cpu-s")
			}
		})
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
