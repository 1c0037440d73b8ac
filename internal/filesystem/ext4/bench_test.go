package ext4

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// benchImage builds an image with about 20,000 files of mixed sizes in 100 directories.
func benchImage(b *testing.B) string {
	b.Helper()
	root := b.TempDir()
	for d := range 100 {
		dir := filepath.Join(root, fmt.Sprintf("dir%03d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for i := range 200 {
			n := (d*200 + i) % 9 * 1500 // 0 .. 12 KB
			if i == 0 {
				n = 1 << 20 // and a few large files
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", i)), randomBytes(int64(d*1000+i), n), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	return fixture.Ext4(b, root, 512, "-b", "4096")
}

// walkAndRead lists every directory and reads every regular file, as a scanner does.
func walkAndRead(b *testing.B, fsys *filesystem.FS) (files int, bytes int64) {
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, f)
		f.Close()
		files++
		bytes += n
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return files, bytes
}

func BenchmarkWalkRead(b *testing.B) {
	img := benchImage(b)
	f, err := os.Open(img)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	var files int
	var total int64
	b.ResetTimer()
	for b.Loop() {
		x, err := Open(f, st.Size())
		if err != nil {
			b.Fatal(err)
		}
		files, total = walkAndRead(b, filesystem.New(x))
	}
	b.SetBytes(total)
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// TestConcurrentReads reads every file of a variant from many goroutines at once, sharing one
// *FS (run with -race to check the caches).
func TestConcurrentReads(t *testing.T) {
	src := sourceTree(t, 4096)
	manyFiles(t, src, "many", 300)
	img := fixture.Ext4(t, src, 64, "-b", "4096")
	x := openImage(t, img)
	want := ourHashes(t, filesystem.New(x))
	var paths []string
	for p := range want {
		paths = append(paths, p)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fsys := filesystem.New(x)
			for i := range paths {
				p := paths[(i+w*37)%len(paths)]
				b, err := fs.ReadFile(fsys, p[1:])
				if err != nil || sha(b) != want[p] {
					errs <- fmt.Errorf("%s: %v", p, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
