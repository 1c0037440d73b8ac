package ext4

import (
	"encoding/binary"
	"io/fs"
	"os"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// InodeRange points at the record Stat decodes: the mode read there is the file's mode.
func TestInodeRange(t *testing.T) {
	src := sourceTree(t, 4096)
	manyFiles(t, src, "many", 50)
	img := fixture.Ext4(t, src, 16, "-b", "4096")
	x := openImage(t, img)
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	fs.WalkDir(filesystem.New(x), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		info, _ := d.Info()
		st := info.Sys().(*filesystem.Stat)
		r, ok := x.InodeRange(st.Inode)
		if !ok || r.Len != int64(x.sb.inodeSize) {
			t.Fatalf("%s: InodeRange(%d) = %+v, %v", p, st.Inode, r, ok)
		}
		mode := binary.LittleEndian.Uint16(raw[r.Off:])
		if fs.FileMode(mode&0o777) != st.Mode.Perm() {
			t.Errorf("%s: mode %o at the range, Stat says %v", p, mode, st.Mode)
		}
		n++
		return nil
	})
	if n < 50 {
		t.Fatalf("%d entries", n)
	}
	if _, ok := x.InodeRange(1 << 40); ok {
		t.Error("an inode past the last group has a range")
	}
}
