package ext4

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// haveTool is fixture.Need without the skip: a fuzz target keeps its committed seeds when the
// tools are missing.
func haveTool(name string) bool {
	if _, err := exec.LookPath(name); err == nil {
		return true
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return true
		}
	}
	return false
}

// FuzzExt4 opens arbitrary bytes as an ext2/3/4 volume and exercises every reader path.
// Seeds: 1 MiB images made by mke2fs (when installed) and truncated images under testdata.
func FuzzExt4(f *testing.F) {
	if haveTool("mke2fs") {
		src := fixture.WriteTree(f, []fixture.File{
			{Path: "etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/bash\n")},
			{Path: "big", Data: randomBytes(30, 40_000)},
			{Path: "d/e/f", Data: []byte("nested\n")},
			{Path: "link", Link: "etc/passwd"},
			{Path: "slow", Link: "d/e/f/../../../d/e/f/../../../d/e/f/../../../d/e/f/../../../d/e/f"}, // > 60 bytes
		})
		for _, extra := range [][]string{
			{"-t", "ext4", "-b", "1024", "-O", "^has_journal"},
			{"-t", "ext4", "-b", "1024", "-I", "256", "-O", "inline_data,^has_journal"},
			{"-t", "ext2", "-b", "1024"},
		} {
			img := filepath.Join(f.TempDir(), "seed.img")
			fixture.Sparse(f, img, 1<<20)
			args := append([]string{"-q", "-F", "-N", "64", "-d", src}, extra...)
			if _, err := fixture.RunEnv(nil, "mke2fs", append(args, img)...); err != nil {
				f.Fatal(err)
			}
			b, err := os.ReadFile(img)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4<<20 {
			return
		}
		exercise(t, data)
	})
}
