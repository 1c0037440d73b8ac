package disk

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// FuzzDisk runs the whole stack below the image on arbitrary disk bytes: partition tables, LVM,
// every file-system prober and reader, a full walk with reads, and the residual iterators.
func FuzzDisk(f *testing.F) {
	f.Add(make([]byte, 4096))
	addToolSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, fsys := range d.FileSystems {
			if fsys.FS == nil {
				continue
			}
			exercise(t.Context(), fsys.FS)
		}
	})
}

// exercise touches everything a scan would, with a budget so that a hostile image that is
// legitimately large (a sparse file of 2^40 bytes) cannot make the fuzzer crawl.
func exercise(ctx context.Context, f *filesystem.FS) {
	budget := 2000
	buf := make([]byte, 64<<10)
	fs.WalkDir(f, ".", func(p string, d fs.DirEntry, err error) error {
		if budget--; budget < 0 {
			return fs.SkipAll
		}
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		file, err := f.Open(p)
		if err != nil {
			return nil
		}
		defer file.Close()
		io.CopyBuffer(io.Discard, io.LimitReader(file, 1<<20), buf)
		return nil
	})
	if res, ok := f.Tree().(filesystem.Residual); ok {
		n := 0
		for range res.Unallocated(ctx) {
			if n++; n > 10000 {
				break
			}
		}
		n = 0
		for d, err := range res.Deleted(ctx) {
			if n++; err != nil || n > 1000 {
				break
			}
			if d.Content != nil {
				d.Content.ReadAt(buf, 0)
			}
		}
	}
}

// addToolSeeds adds small disks made by the real tools, when they are installed: a GPT disk with
// ext4 and FAT12 partitions, and an MBR disk with a logical FAT16 one.
func addToolSeeds(f *testing.F) {
	for _, tool := range []string{"mke2fs", "mkfs.vfat", "mcopy", "sfdisk"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				return
			}
		}
	}
	src := fixture.WriteTree(f, []fixture.File{
		{Path: "etc/passwd", Data: []byte("root:x:0:0::/root:/bin/sh\n")},
		{Path: "home/u/.aws/credentials", Data: []byte("[default]\naws_access_key_id = AKIAQWERTYUIOPASDFGH\n")},
		{Path: "home/u/link", Link: "../../etc/passwd"},
	})
	ext := fixture.Ext4(f, src, 1, "-N", "32")
	fat := fixture.FAT(f, src, 1, 12)
	for _, layout := range []string{fixture.LayoutGPT, fixture.LayoutMBRLogical} {
		raw, _ := fixture.Disk(f, layout, fixture.Part{Image: ext}, fixture.Part{Image: fat, Type: "c"})
		if b, err := os.ReadFile(raw); err == nil {
			f.Add(b)
		}
	}
}
