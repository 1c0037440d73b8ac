package ext4

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// TestEncryptedAndHuge covers what mke2fs -d cannot make directly: fscrypt inodes (the flag is
// set by hand: names then are unreadable bytes) and a file past 4 GiB (i_size_high).
func TestEncryptedAndHuge(t *testing.T) {
	src := fixture.WriteTree(t, []fixture.File{
		{Path: "enc/secret.txt", Data: []byte("ciphertext, really\n")},
	})
	const hugeSize = 5<<30 + 10
	f, err := os.Create(filepath.Join(src, "huge"))
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("0123456789"), 5<<30)
	f.Close()
	img := fixture.Ext4(t, src, 64, "-b", "4096")
	x := openImage(t, img)
	for _, p := range []string{"enc", "enc/secret.txt"} {
		patchInode(t, x, img, p, func(raw []byte) { put32(raw, 0x20, le32(raw, 0x20)|flagEncrypt) })
	}
	x = openImage(t, img)

	root, err := x.ReadDir(rootIno)
	if err != nil {
		t.Fatal(err)
	}
	var enc uint64
	for _, e := range root {
		if e.Name == "enc" {
			enc = e.Ino
		}
	}
	entries, err := x.ReadDir(enc)
	if err != nil || len(entries) != 1 {
		t.Fatalf("ReadDir(enc) = %v, %v", entries, err)
	}
	want := encryptedPrefix + hex.EncodeToString([]byte("secret.txt"))
	if entries[0].Name != want {
		t.Errorf("encrypted name %q, want %q", entries[0].Name, want)
	}
	if e, err := x.Lookup(enc, want); err != nil || e.Ino != entries[0].Ino {
		t.Errorf("Lookup(%q) = %+v, %v", want, e, err)
	}
	if st, err := x.Stat(entries[0].Ino); err != nil || !st.Encrypted {
		t.Errorf("Stat: %+v, %v (want Encrypted)", st, err)
	}

	hugeIno := inodeOf(t, x, "huge")
	st, err := x.Stat(hugeIno)
	if err != nil || st.Size != hugeSize || !st.Sparse {
		t.Fatalf("huge: %+v, %v", st, err)
	}
	r, err := x.Open(hugeIno)
	if err != nil {
		t.Fatal(err)
	}
	tail := make([]byte, 20)
	n, _ := r.ReadAt(tail, hugeSize-20)
	if n != 20 || string(tail) != strings.Repeat("\x00", 10)+"0123456789" {
		t.Errorf("huge tail %q (%d bytes)", tail, n)
	}
	ext, err := x.Extents(hugeIno)
	if err != nil || len(ext) != 2 || ext[0].Physical != -1 || ext[0].Length != 5<<30 || ext[1].Physical < 0 {
		t.Errorf("huge extents %+v, %v", ext, err)
	}
}
