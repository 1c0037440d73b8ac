package xfs

import (
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// BenchmarkWalkRead walks an image of 20,000 files in 100 directories and reads every file,
// as a content scan does; it reports files/s and MB/s (content bytes, image in page cache).
func BenchmarkWalkRead(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	var files []fixture.File
	var total int64
	for i := range 20000 {
		size := rng.IntN(8 << 10)
		if i%400 == 0 {
			size = 1 << 20
		}
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(j * i)
		}
		total += int64(size)
		files = append(files, fixture.File{Path: fmt.Sprintf("dir%02d/file-%05d.txt", i%100, i), Data: data})
	}
	img := fixture.XFS(b, fixture.WriteTree(b, files), 400)
	buf := make([]byte, 1<<20)
	b.ResetTimer()
	start := time.Now()
	var nFiles, nBytes int64
	for range b.N {
		f := openImage(b, img) // a fresh reader each time: metadata caches start cold
		fsys := filesystem.New(f)
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			fh, err := fsys.Open(p)
			if err != nil {
				return err
			}
			n, err := io.CopyBuffer(io.Discard, fh, buf)
			fh.Close()
			nFiles++
			nBytes += n
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start).Seconds()
	if nBytes != total*int64(b.N) {
		b.Fatalf("read %d bytes, want %d", nBytes, total*int64(b.N))
	}
	b.ReportMetric(float64(nFiles)/elapsed, "files/s")
	b.ReportMetric(float64(nBytes)/elapsed/1e6, "MB/s")
}
