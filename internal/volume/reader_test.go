package volume

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// failingReader fails every read that touches bytes at or past from.
type failingReader struct {
	data []byte
	from int64
}

var errInjected = errors.New("injected I/O error")

func (r failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.from {
		return 0, errInjected
	}
	return copy(p, r.data[off:]), nil
}

// TestReadErrors: a disk whose first sector cannot be read is an error; later read failures
// are warnings or problems.
func TestReadErrors(t *testing.T) {
	d := make([]byte, 1<<20)
	putGPT(d, gptSpec{parts: []testGPTPart{{typ: linuxFSType, first: 100, last: 200}}})
	if _, err := Discover(failingReader{d, 0}, int64(len(d))); !errors.Is(err, errInjected) {
		t.Errorf("unreadable first sector: %v", err)
	}
	l, err := Discover(failingReader{d, 1024}, int64(len(d)))
	if err != nil {
		t.Fatal(err)
	}
	if l.Scheme != SchemeGPT || !hasWarning(l, "injected I/O error") || l.Volumes[0].Problem == "" {
		t.Errorf("layout:\n%s", dumpLayout(l))
	}
	// An LV whose PV bytes fail to read reports the error with where it happened.
	text := testVG(segLV("lv", "start_extent = 0\nextent_count = 4\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 0]"))
	pv := pvDisk(text)
	l, err = Discover(failingReader{pv, 1<<20 + 2*64<<10}, int64(len(pv)))
	if err != nil {
		t.Fatal(err)
	}
	lv := volumeNamed(t, l, "vg0/lv")
	buf := make([]byte, 4096)
	if _, err := lv.Reader.ReadAt(buf, 3*64<<10); !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "lvm vg0/lv: reading byte 196608 from physical volume pv0 (disk)") {
		t.Errorf("read error: %v", err)
	}
	if _, err := lv.Reader.ReadAt(buf, 0); err != nil {
		t.Errorf("readable part: %v", err)
	}
}

// TestConcurrentReads reads a striped LV and a partition from many goroutines at once (run
// under -race); every read must match a sequential read.
func TestConcurrentReads(t *testing.T) {
	text := testVG(segLV("s", "start_extent = 0\nextent_count = 8\ntype = \"striped\"\nstripe_count = 4\nstripe_size = 8\nstripes = [\"pv0\", 0, \"pv0\", 10, \"pv0\", 20, \"pv0\", 30]"))
	d := pvDisk(text)
	for i := range d[1<<20:] {
		d[1<<20+i] = byte(i * 7 / 3)
	}
	l := discoverBytes(t, d)
	vols := []Volume{volumeNamed(t, l, "vg0/s"), volumeNamed(t, l, "disk")}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 500 {
				v := vols[rng.IntN(len(vols))]
				n := rng.IntN(20000) + 1
				off := rng.Int64N(v.Reader.Size() - int64(n))
				a, b := make([]byte, n), make([]byte, n)
				if _, err := v.Reader.ReadAt(a, off); err != nil {
					t.Error(err)
					return
				}
				for i := 0; i < n; i += 512 { // the same bytes, read in small pieces
					k := min(512, n-i)
					if _, err := v.Reader.ReadAt(b[i:i+k], off+int64(i)); err != nil {
						t.Error(err)
						return
					}
				}
				if !bytes.Equal(a, b) {
					t.Errorf("%s: reads at %d differ", v.Name, off)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkStripedLVRead reads a 4-stripe LV (64 KiB chunks) in 1 MiB requests from memory:
// the cost of the extent mapping itself.
func BenchmarkStripedLVRead(b *testing.B) {
	text := testVG(segLV("s", "start_extent = 0\nextent_count = 40\ntype = \"striped\"\nstripe_count = 4\nstripe_size = 128\nstripes = [\"pv0\", 0, \"pv0\", 10, \"pv0\", 20, \"pv0\", 30]"))
	d := make([]byte, 4<<20)
	putPV(d, 0, lvmPV{uuid: testPVUUID(0), devSize: 4 << 20, metadata: text})
	l, err := Discover(bytes.NewReader(d), int64(len(d)))
	if err != nil {
		b.Fatal(err)
	}
	var lv Volume
	for _, v := range l.Volumes {
		if v.Name == "vg0/s" {
			lv = v
		}
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		off := int64(i%2) << 20
		if _, err := lv.Reader.ReadAt(buf, off); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDiscoverGPT discovers a GPT disk of 128 partitions held in memory.
func BenchmarkDiscoverGPT(b *testing.B) {
	d := make([]byte, 8<<20)
	var parts []testGPTPart
	for i := range 128 {
		parts = append(parts, testGPTPart{index: i, typ: linuxFSType, first: uint64(100 + 100*i), last: uint64(199 + 100*i)})
	}
	putGPT(d, gptSpec{parts: parts})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Discover(bytes.NewReader(d), int64(len(d))); err != nil {
			b.Fatal(err)
		}
	}
}
