package fat

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// benchImage is a 128 MiB FAT32 volume with 5000 files (0-16 KiB, 40 MiB in all) in 50
// directories, plus a few large ones.
func benchImage(b *testing.B) string {
	b.Helper()
	var files []fixture.File
	for i := 0; i < 5000; i++ {
		files = append(files, fixture.File{
			Path: fmt.Sprintf("dir-%02d/file number %04d.dat", i%50, i),
			Data: randomBytes(uint64(i), (i*7919)%16384),
		})
	}
	for i := 0; i < 4; i++ {
		files = append(files, fixture.File{Path: fmt.Sprintf("large/big-%d.bin", i), Data: randomBytes(uint64(9000+i), 4<<20)})
	}
	return fixture.FAT(b, fixture.WriteTree(b, files), 128, 32)
}

// BenchmarkWalkRead walks a FAT32 volume of 5000 files and reads every byte through io/fs;
// the mtools and tsk_recover sub-benchmarks extract the same volume, for scale.
func BenchmarkWalkRead(b *testing.B) {
	fixture.Need(b, "mkfs.vfat", "mcopy")
	img := benchImage(b)
	f, err := os.Open(img)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	b.Run("snapwatch", func(b *testing.B) {
		var files, bytes int64
		buf := make([]byte, 128<<10)
		for b.Loop() {
			v, err := Open(f, st.Size())
			if err != nil {
				b.Fatal(err)
			}
			fsys := filesystem.New(v)
			files, bytes = 0, 0
			err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				r, err := fsys.Open(p)
				if err != nil {
					return err
				}
				defer r.Close()
				n, err := io.CopyBuffer(io.Discard, r, buf)
				files++
				bytes += n
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(bytes)
		b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
	})
	b.Run("mcopy", func(b *testing.B) {
		args := []string{"-s", "-n", "-i", img, "::/large"}
		for i := 0; i < 50; i++ {
			args = append(args, fmt.Sprintf("::/dir-%02d", i))
		}
		for b.Loop() {
			mtools(b, "mcopy", append(args, b.TempDir()+"/")...)
		}
	})
	b.Run("tsk_recover", func(b *testing.B) {
		fixture.Need(b, "tsk_recover")
		for b.Loop() {
			fixture.Run(b, "tsk_recover", "-a", img, b.TempDir())
		}
	})
}
