package fat

import (
	"context"
	"io/fs"
	"sync"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// TestConcurrent reads one volume from many goroutines at once, every method mixed, from a
// fresh reader (so that caches and claims fill up under contention); run it with -race.
func TestConcurrent(t *testing.T) {
	fixture.Need(t, "mkfs.vfat", "mcopy")
	files := testTree(treeOptions{big: true, manyDir: 100})
	img := fixture.FAT(t, fixture.WriteTree(t, files), 64, 32)
	want := map[string]string{}
	for _, f := range files {
		if !f.Dir {
			want[f.Path] = sum(f.Data)
		}
	}
	for _, v := range []*FS{openImage(t, img), mustOpenBytes(t, handmadeExFAT())} {
		fsys := filesystem.New(v)
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
					if err != nil {
						return err
					}
					info, err := d.Info()
					if err != nil {
						return err
					}
					if _, err := v.Extents(info.Sys().(*filesystem.Stat).Inode); err != nil {
						return err
					}
					if d.IsDir() {
						return nil
					}
					if w, ok := want[p]; ok && v.Type() == "fat32" && sum(readAll(t, fsys, p)) != w {
						t.Errorf("goroutine %d: %s differs", g, p)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
				if g%2 == 0 {
					for _, err := range v.Deleted(context.Background()) {
						if err != nil {
							t.Error(err)
						}
					}
				} else {
					for _, err := range v.Unallocated(context.Background()) {
						if err != nil {
							t.Error(err)
						}
					}
				}
				v.Label()
			}(g)
		}
		wg.Wait()
	}
}

func mustOpenBytes(t *testing.T, b []byte) *FS {
	t.Helper()
	v, err := openBytes(t, b)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
