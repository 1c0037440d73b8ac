package xfs

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// TestConcurrentWalkers runs several walkers over one FS at once (as the parallel walker does)
// and expects each to see exactly what a lone walker sees. Run with -race to check the cache.
func TestConcurrentWalkers(t *testing.T) {
	var files []fixture.File
	for i := range 300 {
		files = append(files, fixture.File{Path: fmt.Sprintf("d%d/file-%03d", i%7, i), Data: []byte(fmt.Sprintf("%0*d", i*41, i))})
	}
	f := openImage(t, fixture.XFS(t, fixture.WriteTree(t, files), 64))
	walk := func() (map[string]string, error) {
		sums := map[string]string{}
		fsys := filesystem.New(f)
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			fh, err := fsys.Open(p)
			if err != nil {
				return err
			}
			defer fh.Close()
			h := sha256.New()
			if _, err := io.Copy(h, fh); err != nil {
				return err
			}
			sums[p] = fmt.Sprintf("%x", h.Sum(nil))
			return nil
		})
		return sums, err
	}
	want, err := walk()
	if err != nil || len(want) != len(files) {
		t.Fatalf("lone walk: %d files, %v", len(want), err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := walk()
			if err != nil {
				errs <- err
				return
			}
			for p, s := range want {
				if got[p] != s {
					errs <- fmt.Errorf("%s: concurrent walker read %s, lone walker %s", p, got[p], s)
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
