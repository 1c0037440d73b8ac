package xfs

import (
	"io/fs"
	"os"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// InodeRange points at the record Stat decodes: it starts with the inode magic "IN".
func TestInodeRange(t *testing.T) {
	var files []fixture.File
	for i := range 100 {
		files = append(files, fixture.File{Path: "d/" + string(rune('a'+i%26)) + "/f" + string(rune('0'+i%10)), Data: []byte("x")})
	}
	img := fixture.XFS(t, fixture.WriteTree(t, files), 64)
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
		if !ok || string(raw[r.Off:r.Off+2]) != "IN" {
			t.Fatalf("%s: InodeRange(%d) = %+v, %v", p, st.Inode, r, ok)
		}
		n++
		return nil
	})
	if n < 20 {
		t.Fatalf("%d entries", n)
	}
}
