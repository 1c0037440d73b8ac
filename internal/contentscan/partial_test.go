package contentscan

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/filesystem/ext4"
	"github.com/snapwatch/snapwatch/internal/filesystem/fat"
	"github.com/snapwatch/snapwatch/internal/fixture"
	"github.com/snapwatch/snapwatch/internal/target"
)

const (
	partialDir    = "etc/many"
	partialSecret = "zz-secret.env"
)

func partialFillers() []string {
	var names []string
	for i := range 120 {
		names = append(names, fmt.Sprintf("entry-with-a-long-name-to-fill-blocks-%03d.txt", i))
	}
	return names
}

// dirExtents opens a file-system image with open and returns the volume extents of dir.
func dirExtents(t *testing.T, img string, open func([]byte) (filesystem.Tree, error)) []filesystem.Extent {
	t.Helper()
	data, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := open(data)
	if err != nil {
		t.Fatal(err)
	}
	info, err := filesystem.New(tree).Stat(partialDir)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := tree.(filesystem.Extenter).Extents(info.Sys().(*filesystem.Stat).Inode)
	if err != nil {
		t.Fatal(err)
	}
	return ext
}

// scanPartial wraps a damaged file-system image in a GPT disk, scans it, and checks that the
// planted secret of the damaged directory is found and that exactly one error, naming the
// directory, is reported.
func scanPartial(t *testing.T, img string, words ...string) {
	t.Helper()
	raw, _ := fixture.Disk(t, fixture.LayoutGPT, fixture.Part{Image: img})
	tg, err := target.Open(context.Background(), raw, target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	s := New(Options{})
	if err := s.Scan(context.Background(), tg); err != nil {
		t.Fatal(err)
	}
	want := "secret/aws-access-key-pair /" + partialDir + "/" + partialSecret
	found := false
	for _, f := range s.Findings() {
		found = found || f.Rule+" "+f.Location.Path == want
	}
	if !found {
		t.Errorf("%s not found in the partly listed directory; findings %v", want, s.Findings())
	}
	errs := s.Errors()
	if len(errs) != 1 {
		t.Fatalf("want one error, got %+v", errs)
	}
	if !strings.Contains(errs[0].Where, "/"+partialDir) {
		t.Errorf("error at %q, want the directory /%s", errs[0].Where, partialDir)
	}
	for _, w := range words {
		if !strings.Contains(errs[0].Message, w) {
			t.Errorf("error %q does not say %q", errs[0].Message, w)
		}
	}
	t.Logf("%s: %s", errs[0].Where, errs[0].Message)
}

// TestPartialDirectoryScan damages one block of a multi-block directory (ext4), one INDX block of
// its $I30 index (NTFS) or breaks its cluster chain (FAT32), and scans: the secret listed in a
// good block is still found.
func TestPartialDirectoryScan(t *testing.T) {
	secret := []byte("[default]\n" + awsPair)

	t.Run("ext4", func(t *testing.T) {
		t.Parallel()
		files := []fixture.File{{Path: partialDir + "/" + partialSecret, Data: secret}}
		for _, n := range partialFillers() {
			files = append(files, fixture.File{Path: partialDir + "/" + n, Data: []byte("nothing\n")})
		}
		img := fixture.Ext4(t, fixture.WriteTree(t, files), 8, "-b", "1024")
		ext := dirExtents(t, img, func(b []byte) (filesystem.Tree, error) { return ext4.Open(bytes.NewReader(b), int64(len(b))) })
		data, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		// Damage the first block past block 0 that does not hold the secret's entry.
		const bs = 1024
		for _, e := range ext {
			for off := e.Physical; off < e.Physical+e.Length; off += bs {
				if e.Logical == 0 && off == e.Physical {
					continue
				}
				if blk := data[off : off+bs]; !bytes.Contains(blk, []byte(partialSecret)) {
					binary.LittleEndian.PutUint16(blk[4:], 0) // rec_len 0
					if err := os.WriteFile(img, data, 0o600); err != nil {
						t.Fatal(err)
					}
					scanPartial(t, img, "directory inode", "rec_len 0")
					return
				}
			}
		}
		t.Fatal("no block without the secret")
	})

	t.Run("ntfs", func(t *testing.T) {
		t.Parallel()
		// 320 long names written through ntfs-3g give the $I30 index of etc/many dozens of INDX
		// blocks. One leaf block that does not hold the secret's entry loses its magic.
		files := []fixture.File{{Path: partialDir + "/" + partialSecret, Data: secret}}
		for i := range 320 {
			files = append(files, fixture.File{Path: fmt.Sprintf("%s/entry-with-a-long-name-to-fill-index-blocks-%03d.txt", partialDir, i), Data: []byte("nothing\n")})
		}
		img := fixture.NTFS(t, fixture.WriteTree(t, files), 16)
		data, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		utf16 := func(s string) []byte {
			var b []byte
			for _, c := range []byte(s) {
				b = append(b, c, 0)
			}
			return b
		}
		filler, planted := utf16("entry-with-a-long-name-to-fill-index-blocks-"), utf16(partialSecret)
		clusterSize := int64(binary.LittleEndian.Uint16(data[0x0B:])) * int64(data[0x0D])
		const indexBlock = 4096 // mkntfs's index block size; INDX blocks start on clusters
		for off := int64(0); off+indexBlock <= int64(len(data)); off += clusterSize {
			blk := data[off : off+indexBlock]
			// A leaf: the node header at 0x18 has no "has children" flag (0x24 bit 0).
			if string(blk[:4]) != "INDX" || blk[0x24]&1 != 0 {
				continue
			}
			// Its live entries, fixups applied (the slack after them keeps stale copies of
			// entries that splits moved away, the secret's among them).
			fixed := bytes.Clone(blk)
			usa := int(binary.LittleEndian.Uint16(fixed[4:]))
			for i := range indexBlock / 512 {
				copy(fixed[(i+1)*512-2:(i+1)*512], fixed[usa+2+2*i:])
			}
			live := fixed[0x18+binary.LittleEndian.Uint32(fixed[0x18:]) : 0x18+binary.LittleEndian.Uint32(fixed[0x1C:])]
			if !bytes.Contains(live, filler) || bytes.Contains(live, planted) {
				continue
			}
			copy(blk, "INDY")
			if err := os.WriteFile(img, data, 0o600); err != nil {
				t.Fatal(err)
			}
			scanPartial(t, img, "MFT record", "INDX block at VCN", "bad signature")
			return
		}
		t.Fatal("no INDX leaf of the directory without the secret")
	})

	t.Run("fat32", func(t *testing.T) {
		t.Parallel()
		img := fixture.FAT(t, "", 40, 32)
		src := t.TempDir()
		mtools := func(args ...string) {
			if _, err := fixture.RunEnv([]string{"MTOOLS_SKIP_CHECK=1"}, args[0], append([]string{"-i", img}, args[1:]...)...); err != nil {
				t.Fatal(err)
			}
		}
		mtools("mmd", "::/etc")
		mtools("mmd", "::/"+partialDir)
		// The secret first, so that it is in the directory's first cluster.
		put := func(name string, b []byte) {
			p := filepath.Join(src, name)
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			mtools("mcopy", p, "::/"+partialDir+"/"+name)
		}
		put(partialSecret, secret)
		for _, n := range partialFillers()[:40] {
			put(n, []byte("nothing\n"))
		}
		ext := dirExtents(t, img, func(b []byte) (filesystem.Tree, error) { return fat.Open(bytes.NewReader(b), int64(len(b))) })
		data, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		bps := int64(binary.LittleEndian.Uint16(data[11:]))
		clusterSize := bps * int64(data[13])
		reserved := int64(binary.LittleEndian.Uint16(data[14:]))
		fats := int64(data[16])
		fatSize := int64(binary.LittleEndian.Uint32(data[36:])) * bps
		heap := reserved*bps + fats*fatSize
		var total int64
		for _, e := range ext {
			total += e.Length
		}
		if total < 2*clusterSize {
			t.Fatalf("directory of %d bytes spans one cluster of %d", total, clusterSize)
		}
		first := (ext[0].Physical-heap)/clusterSize + 2
		if !bytes.Contains(data[ext[0].Physical:ext[0].Physical+clusterSize], []byte{'z', 0, 'z', 0, '-', 0, 's', 0}) {
			t.Fatal("the secret's entry is not in the directory's first cluster")
		}
		// Mark the first cluster bad in every FAT: the chain breaks after it.
		for i := range fats {
			binary.LittleEndian.PutUint32(data[reserved*bps+i*fatSize+4*first:], 0x0FFFFFF7)
		}
		if err := os.WriteFile(img, data, 0o600); err != nil {
			t.Fatal(err)
		}
		scanPartial(t, img, "marked bad")
	})
}
