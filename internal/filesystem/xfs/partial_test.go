package xfs

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// TestPartialDirectory breaks the magic of the first data block of a leaf and a node directory
// (mkfs.xfs protofile image): the entries of the other data blocks are still listed, with an
// error naming the damaged block.
func TestPartialDirectory(t *testing.T) {
	for _, dir := range []string{"leaf", "node"} {
		t.Run(dir, func(t *testing.T) {
			m := hostileImage(t)
			ino, blk := m.dirBlock(t, dir)
			var lost []string
			m.f.walkDataBlock(blk, "test", func(e rawDirent) bool {
				lost = append(lost, string(e.name))
				return true
			}, nil)
			whole, err := m.f.ReadDir(ino)
			if err != nil {
				t.Fatal(err)
			}
			blk[0] ^= 0xFF // magic
			f, err := Open(bytes.NewReader(m.b), int64(len(m.b)))
			if err != nil {
				t.Fatal(err)
			}
			entries, err := f.ReadDir(ino)
			want := fmt.Sprintf("inode %d directory data block 0", ino)
			if err == nil || !errors.Is(err, filesystem.ErrCorrupt) || !strings.Contains(err.Error(), want) {
				t.Fatalf("ReadDir error %v, want one naming %q", err, want)
			}
			t.Log(err)
			gone := map[string]bool{}
			for _, n := range lost {
				gone[n] = true
			}
			got := map[string]bool{}
			for _, e := range entries {
				got[e.Name] = true
			}
			kept := 0
			for _, e := range whole {
				if !gone[e.Name] {
					kept++
					if !got[e.Name] {
						t.Errorf("%s missing from the partial listing", e.Name)
					}
				}
			}
			if kept == 0 || len(entries) != kept {
				t.Errorf("listed %d, want the %d entries of the good blocks (of %d)", len(entries), kept, len(whole))
			}
			// A name of a good block is still found through the hash index.
			for _, e := range whole {
				if !gone[e.Name] {
					if _, err := f.Lookup(ino, e.Name); err != nil {
						t.Errorf("Lookup(%s): %v", e.Name, err)
					}
					break
				}
			}
		})
	}
}
