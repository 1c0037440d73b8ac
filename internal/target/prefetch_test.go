package target

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/image"
	"github.com/snapwatch/snapwatch/internal/sample"
)

// recorder is a disk that prefetches: it records the ranges it is told of.
type recorder struct {
	io.ReaderAt
	got []image.Range
}

func (r *recorder) Prefetch(rs []image.Range) { r.got = append(r.got, rs...) }

// TestMountPrefetch: a volume's ranges reach the disk in disk offsets (partition start added);
// a disk that does not prefetch gives mounts without Prefetch.
func TestMountPrefetch(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.qcow2")
	if err := sample.Write(p); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(p, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	rec := &recorder{ReaderAt: img}
	tg, err := FromDisk("x", finding.Resource{}, "raw", rec, img.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range tg.Mounts {
		if m.Prefetch == nil {
			t.Fatalf("%s: no Prefetch", m.Volume)
		}
		rec.got = nil
		m.Prefetch([]filesystem.Range{{Off: 4096, Len: 100}, {Off: m.Size - 10, Len: 100}})
		_, base, _ := m.Reader.(*io.SectionReader).Outer()
		want := []image.Range{{Off: base + 4096, Len: 100}, {Off: base + m.Size - 10, Len: 10}}
		if !slices.Equal(rec.got, want) {
			t.Errorf("%s: disk ranges %v, want %v", m.Volume, rec.got, want)
		}
	}
	plain, err := FromDisk("x", finding.Resource{}, "raw", img, img.Size())
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.Mounts) == 0 || plain.Mounts[0].Prefetch != nil {
		t.Errorf("mounts of a plain disk: %+v", plain.Mounts)
	}
}

func TestAddCloser(t *testing.T) {
	var order []int
	tg := &Target{}
	tg.AddCloser(func() error { order = append(order, 1); return errors.New("one") })
	tg.AddCloser(func() error { order = append(order, 2); return nil })
	if err := tg.Close(); err == nil || !slices.Equal(order, []int{2, 1}) {
		t.Errorf("close: %v, order %v", err, order)
	}
}
