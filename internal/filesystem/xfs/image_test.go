package xfs

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// Test images: a tree written with fixture.WriteTree, rendered by fixture.Protofile, plus a few
// nodes the tree cannot hold (FIFO, devices, a file owned by 1000:1001), built by mkfs.xfs -p.

// nodeDirFiles is enough entries for a node directory whose block map needs a btree fork.
const nodeDirFiles = 5000

// testTree returns the files of the standard test tree, with sizes straddling 1 KiB and 4 KiB
// block boundaries.
func testTree() []fixture.File {
	rng := rand.New(rand.NewPCG(7, 11))
	rnd := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	files := []fixture.File{
		{Path: "empty", Data: nil},
		{Path: "one", Data: []byte("1")},
		{Path: "1k-minus-1", Data: rnd(1023)},
		{Path: "1k", Data: rnd(1024)},
		{Path: "1k-plus-1", Data: rnd(1025)},
		{Path: "4k-minus-1", Data: rnd(4095)},
		{Path: "4k", Data: rnd(4096)},
		{Path: "4k-plus-1", Data: rnd(4097)},
		{Path: "big.bin", Data: rnd(1<<20 + 12345)},
		{Path: "huge.bin", Data: rnd(3<<20 + 7)},
		{Path: "bin/setuid", Data: []byte("#!/bin/sh\n"), Mode: 0o4755},
		{Path: "tmp", Dir: true, Mode: 0o1777},
		{Path: "private", Dir: true, Mode: 0o700},
		{Path: "a/b/c/d/e/deep.txt", Data: []byte("deep\n")},
		{Path: "small/x", Data: []byte("x")},
		{Path: "small/y", Data: []byte("y")},
		{Path: "small/z", Data: []byte("z")},
		{Path: "links/inline", Link: "../one"},
		{Path: "links/remote", Link: strings.Repeat("./", 300) + "../one"},
		{Path: "links/dir", Link: "../a/b"},
		{Path: "ünïcödé/日本語.txt", Data: []byte("こんにちは\n")},
		{Path: "ünïcödé/emoji-😀", Data: []byte("smile")},
		{Path: "etc/ssh/ssh_host_ed25519_key", Data: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n"), Mode: 0o600},
	}
	for i := range 20 {
		files = append(files, fixture.File{Path: fmt.Sprintf("block/block-dir-entry-%02d.txt", i), Data: []byte(fmt.Sprintf("block %d\n", i))})
	}
	for i := range 200 {
		files = append(files, fixture.File{Path: fmt.Sprintf("leaf/entry-%03d.conf", i), Data: rnd(i * 37)})
	}
	for i := range 30 {
		name := fmt.Sprintf("%03d-%s", i, strings.Repeat("n", 251))
		files = append(files, fixture.File{Path: "long/" + name, Data: []byte(name[:3])})
	}
	for i := range nodeDirFiles {
		var data []byte
		if i%500 == 0 {
			data = rnd(i + 1)
		}
		files = append(files, fixture.File{Path: fmt.Sprintf("node/node-file-%05d", i), Data: data})
	}
	return files
}

// specials are protofile lines for nodes fixture.WriteTree cannot create; %s is replaced by a
// file path that supplies content.
const specials = ` fifo p--644 0 0
 chardev c--600 0 0 1 3
 blockdev b--660 0 6 7 0
 owned ---640 1000 1001 %s
`

// makeXFS builds an image of sizeMiB from the directory src (written by fixture.WriteTree) with
// mkfs.xfs and extra options.
func makeXFS(t testing.TB, src string, sizeMiB int, extra ...string) (img string) {
	t.Helper()
	fixture.Need(t, "mkfs.xfs", "xfs_db")
	proto := fixture.Protofile(t, src)
	// Insert the special nodes into the root directory, before its closing "$".
	i := strings.LastIndex(proto, "$")
	proto = proto[:i] + fmt.Sprintf(specials, filepath.Join(src, "one")) + proto[i:]
	dir := t.TempDir()
	protoPath := filepath.Join(dir, "proto")
	if err := os.WriteFile(protoPath, []byte(proto), 0o600); err != nil {
		t.Fatal(err)
	}
	img = filepath.Join(dir, "xfs.img")
	fixture.Sparse(t, img, int64(sizeMiB)<<20)
	args := append([]string{"-q", "-f", "-p", protoPath}, extra...)
	args = append(args, img)
	// Same override as fixture.XFS: lets mkfs.xfs make file systems below 300 MiB.
	if _, err := fixture.RunEnv([]string{"TEST_DIR=1", "TEST_DEV=1", "QA_CHECK_FS=1"}, "mkfs.xfs", args...); err != nil {
		t.Fatal(err)
	}
	return img
}

// openImage opens an image file as an XFS file system.
func openImage(t testing.TB, img string) *FS {
	t.Helper()
	fh, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	st, err := fh.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if !Detect(fh, st.Size()) {
		t.Fatalf("Detect(%s) = false", img)
	}
	f, err := Open(fh, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// dirForm names a directory's format as the XFS documentation does: "short-form", "block",
// "leaf" or "node", with "+btree" when its block map lives in a bmbt.
func dirForm(t testing.TB, f *FS, ino uint64) string {
	t.Helper()
	d, err := f.openDir(ino)
	if err != nil {
		t.Fatal(err)
	}
	if d.m == nil {
		return "short-form"
	}
	form := "node"
	if b0, err := d.block(0); err == nil && b0 != nil {
		if l, err := f.layoutDataBlock(b0, ""); err == nil && l.blockForm {
			form = "block"
		}
	}
	if form == "node" {
		if b, err := d.block(d.leafStart()); err == nil && b != nil {
			if m := binary.BigEndian.Uint16(b[8:]); m == leaf1MagicV4 || m == leaf1MagicV5 {
				form = "leaf"
			}
		}
	}
	if d.n.format == formatBtree {
		form += "+btree"
	}
	return form
}
