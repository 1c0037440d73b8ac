package ntfs

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// benchImage builds a volume of 10,000 files in 100 directories: 70% small (resident), 25% of
// 8 KiB, 5% of 200 KiB, about 120 MiB in all.
func benchImage(b *testing.B) string {
	b.Helper()
	img, _ := buildNTFS(b, 256, func(p *populator) {
		for i := range 10_000 {
			size := 300
			switch {
			case i%20 == 0:
				size = 200 << 10
			case i%4 == 1:
				size = 8 << 10
			}
			p.file(fmt.Sprintf("dir%02d/file%05d.bin", i%100, i), p.random(size))
		}
	})
	return img
}

// BenchmarkWalkRead opens the volume, walks it through the io/fs adapter and reads every file,
// as the content scanner does.
func BenchmarkWalkRead(b *testing.B) {
	img := benchImage(b)
	f, err := os.Open(img)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	buf := make([]byte, 256<<10)
	var files, bytes int64
	b.ResetTimer()
	for b.Loop() {
		files, bytes = 0, 0
		v, err := Open(f, st.Size())
		if err != nil {
			b.Fatal(err)
		}
		fsys := filesystem.New(v)
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			fh, err := fsys.Open(p)
			if err != nil {
				return err
			}
			n, err := io.CopyBuffer(io.Discard, fh.(io.Reader), buf)
			fh.Close()
			files++
			bytes += n
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(files), "files/op")
	b.SetBytes(bytes)
	if os.Getenv("SNAPWATCH_BENCH_PEERS") == "1" {
		b.StopTimer()
		benchPeers(b, img)
	}
}

// benchPeers times the peer tools on the same image: The Sleuth Kit extracting every allocated
// file (tsk_recover -a), and a walk reading every file through an ntfs-3g FUSE mount.
func benchPeers(b *testing.B, img string) {
	start := time.Now()
	if _, err := fixture.RunEnv(nil, "tsk_recover", "-a", img, b.TempDir()); err != nil {
		b.Log(err)
	}
	b.Logf("tsk_recover -a: %v", time.Since(start))
	mnt, unmount := fixture.MountNTFS(b, img)
	defer unmount()
	start = time.Now()
	n := int64(0)
	err := fs.WalkDir(os.DirFS(mnt), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(mnt + "/" + p)
		n += int64(len(data))
		return err
	})
	b.Logf("ntfs-3g FUSE walk+read: %v (%d bytes, %v)", time.Since(start), n, err)
}
