package vhdx

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// TestWriterAgainstQemu checks the test writer itself: qemu-img must read what it writes as
// the disk it was given (qemu reads only 512-byte sectors).
func TestWriterAgainstQemu(t *testing.T) {
	raw := rawDisk(t)
	data, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, bs := range []int64{mib, 32 * mib} {
		t.Run(strconv.FormatInt(bs/mib, 10)+"MiB", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "w.vhdx")
			writeVHDX(t, path, spec{size: int64(len(data)), blockSize: bs, data: data})
			got, err := os.ReadFile(fixture.ToRaw(t, path))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("qemu-img reads the written VHDX differently: %v", err)
			}
			sameAsBytes(t, mustOpen(t, path, Options{}), data)
		})
	}
}

// TestLogicalSector4096 reads disks of 4 KiB logical sectors, which qemu-img cannot make:
// vhdiinfo checks the geometry, vhdimount (libvhdi through FUSE) the bytes when FUSE works.
func TestLogicalSector4096(t *testing.T) {
	raw := rawDisk(t)
	data, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, bs := range []int64{mib, 32 * mib} {
		t.Run(strconv.FormatInt(bs/mib, 10)+"MiB", func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "4k.vhdx")
			writeVHDX(t, path, spec{size: int64(len(data)), blockSize: bs, logicalSector: 4096, data: data})
			img := mustOpen(t, path, Options{})
			if img.LogicalSectorSize() != 4096 || img.PhysicalSectorSize() != 4096 {
				t.Errorf("sector sizes %d/%d", img.LogicalSectorSize(), img.PhysicalSectorSize())
			}
			if img.geo.chunkRatio != (1<<23)*4096/bs {
				t.Errorf("chunk ratio %d", img.geo.chunkRatio)
			}
			info := vhdiinfo(t, path)
			if info["Bytes per sector"] != "4096 bytes" || info["Disk type"] != "Dynamic" {
				t.Errorf("vhdiinfo: %q, %q", info["Bytes per sector"], info["Disk type"])
			}
			sameAsBytes(t, img, data)
			if ref, ok := vhdimount(t, path); ok {
				sameAsFile(t, img, ref)
			}
		})
	}
}

// TestBlockStates gives blocks every payload state: ZERO, UNMAPPED and UNDEFINED read as zeros
// (over data the file still holds elsewhere), NOT_PRESENT as zeros, FULLY_PRESENT as written.
func TestBlockStates(t *testing.T) {
	data := make([]byte, 8*mib)
	fillRandom(rand.New(rand.NewPCG(5, 5)), data)
	path := filepath.Join(t.TempDir(), "states.vhdx")
	writeVHDX(t, path, spec{size: int64(len(data)), data: data, states: map[int64]uint64{
		1: payloadZero, 2: payloadUnmapped | 40<<20, 3: payloadUndefined | 41<<20, 4: payloadNotPresent,
	}})
	want := bytes.Clone(data)
	clear(want[1*mib : 5*mib])
	sameAsBytes(t, mustOpen(t, path, Options{}), want)
	got, err := os.ReadFile(fixture.ToRaw(t, path))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("qemu-img reads the block states differently: %v", err)
	}
}

// TestDifferencing reads a differencing disk over a parent (made by qemu-img for 512-byte
// sectors): sectors the child holds, in partially present blocks through sector bitmaps and in
// fully present blocks, and sectors left to the parent. References: the disk the child was
// written from, and vhdimount (libvhdi through FUSE, following the parent locator).
func TestDifferencing(t *testing.T) {
	raw := rawDisk(t)
	base, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, lss := range []int64{512, 4096} {
		t.Run(strconv.FormatInt(lss, 10), func(t *testing.T) {
			dir := t.TempDir()
			parent := filepath.Join(dir, "parent.vhdx")
			if lss == 512 {
				fixture.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=8M", raw, parent)
			} else {
				writeVHDX(t, parent, spec{size: int64(len(base)), blockSize: 8 * mib, logicalSector: 4096, data: base})
			}
			child := bytes.Clone(base)
			rng := rand.New(rand.NewPCG(8, 9))
			fillRandom(rng, child[3*mib+1000:3*mib+9000]) // a few sectors: partially present
			fillRandom(rng, child[10*mib:12*mib])         // two whole blocks: fully present
			clear(child[40*mib+4096 : 40*mib+5*4096])     // zeros written over the parent's data
			fillRandom(rng, child[72*mib-lss:72*mib])     // the last sector
			present := func(sector int64) bool {
				s := child[sector*lss : (sector+1)*lss]
				return !bytes.Equal(s, base[sector*lss:(sector+1)*lss]) || sector%997 == 0 // some unchanged ones too
			}
			childRaw := filepath.Join(dir, "child.raw")
			if err := os.WriteFile(childRaw, child, 0o644); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "child.vhdx")
			writeVHDX(t, path, spec{size: int64(len(child)), logicalSector: lss, data: child, present: present,
				parentPath: `.\parent.vhdx`, parentID: dataWriteGUID(t, parent)})
			img := mustOpen(t, path, Options{CacheBytes: 64 << 10})
			if img.BackingFile() != "./parent.vhdx" {
				t.Errorf("BackingFile() = %q", img.BackingFile())
			}
			if info := vhdiinfo(t, path); info["Disk type"] != "Differential" ||
				!strings.EqualFold(info["Parent identifier"], dataWriteGUID(t, parent).String()) {
				t.Errorf("vhdiinfo: disk type %q, parent %q", info["Disk type"], info["Parent identifier"])
			}
			sameAsFile(t, img, childRaw)
			if ref, ok := vhdimount(t, path); ok {
				sameAsFile(t, img, ref)
			}
			concurrentReads(t, img, img.Size(), childRaw)

			// Without OpenBacking the parent is named in the error.
			f, _ := os.Open(filepath.Join(dir, "child.vhdx"))
			defer f.Close()
			st, _ := f.Stat()
			_, err := Open(f, st.Size(), Options{})
			if !errors.Is(err, ErrNeedsParent) || !strings.Contains(err.Error(), "parent.vhdx") {
				t.Errorf("Open without OpenBacking: %v", err)
			}
		})
	}
}

// vhdimount mounts path with libvhdi's vhdimount (through FUSE) and copies the disk out; ok is
// false where FUSE is unavailable.
func vhdimount(t testing.TB, path string) (string, bool) {
	t.Helper()
	fixture.Need(t, "vhdimount", "fusermount")
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return "", false
	}
	mnt := t.TempDir()
	if _, err := fixture.RunEnv(nil, "vhdimount", path, mnt); err != nil {
		t.Logf("vhdimount: %v", err)
		return "", false
	}
	defer fixture.RunEnv(nil, "fusermount", "-u", mnt)
	// vhdimount shows every layer of a chain, the parent first: the disk is the last one.
	layers, _ := filepath.Glob(filepath.Join(mnt, "vhdi*"))
	if len(layers) == 0 {
		t.Fatal("vhdimount shows no disk")
	}
	sort.Slice(layers, func(i, j int) bool {
		if len(layers[i]) != len(layers[j]) {
			return len(layers[i]) < len(layers[j]) // vhdi10 after vhdi9
		}
		return layers[i] < layers[j]
	})
	out := filepath.Join(t.TempDir(), "vhdimount.raw")
	if _, err := fixture.RunEnv(nil, "cp", "--sparse=always", layers[len(layers)-1], out); err != nil {
		t.Fatalf("copying from vhdimount: %v", err)
	}
	return out, true
}

// dataWriteGUID reads the DataWriteGuid of a VHDX file's current header: the identity a child's
// parent_linkage names.
func dataWriteGUID(t testing.TB, path string) guid {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	h, err := readHeader(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return h.dataWriteGUID
}
