package vmdk

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// TestQemuDeltaDisk reads a delta disk qemu-img made on top of a monolithicSparse parent and
// qemu-io wrote to: new data, a zeroed grain over the parent's data (entry 1, which must not
// show the parent), and untouched grains (entry 0, which must).
func TestQemuDeltaDisk(t *testing.T) {
	fixture.Need(t, "qemu-img", "qemu-io")
	raw := rawDisk(t)
	dir := t.TempDir()
	parent := filepath.Join(dir, "parent.vmdk")
	child := filepath.Join(dir, "child.vmdk")
	fixture.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", raw, parent)
	fixture.Run(t, "qemu-img", "create", "-q", "-f", "vmdk", "-o", "zeroed_grain=on", "-b", "parent.vmdk", "-F", "vmdk", child)
	fixture.Run(t, "qemu-io", "-f", "vmdk",
		"-c", "write -P 0x5a 1048576 102400", // inside the ext4 file system
		"-c", "write -P 0xa5 52428800 70000", // over the random data, not grain-aligned at the end
		"-c", "write -z 53477376 131072", // zeroed grains over the parent's random data
		"-c", "write -P 0x33 100597760 65536", // the disk's last grain
		child)

	img := mustOpen(t, child, Options{})
	if img.BackingFile() != "parent.vmdk" || img.Subformat() != "monolithicSparse" {
		t.Errorf("BackingFile() = %q, Subformat() = %q", img.BackingFile(), img.Subformat())
	}
	if info := vmdkinfo(t, child); info["Parent filename"] != img.BackingFile() {
		t.Errorf("vmdkinfo says the parent is %q", info["Parent filename"])
	}
	sameAsReference(t, img, child)

	// Without OpenBacking the delta disk is refused, naming its parent.
	f, _ := os.Open(child)
	defer f.Close()
	st, _ := f.Stat()
	_, err := Open(f, st.Size(), Options{})
	if !errors.Is(err, ErrNeedsFile) || !strings.Contains(err.Error(), `"parent.vmdk"`) {
		t.Errorf("Open without OpenBacking: %v", err)
	}
}

// TestVMFSSparseDelta reads an ESX delta disk: a vmfsSparse descriptor naming a COWD extent
// and its parent, as ESX snapshots are laid out. qemu-img reads the same chain.
func TestVMFSSparseDelta(t *testing.T) {
	raw := rawDisk(t)
	base, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fixture.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", raw, filepath.Join(dir, "parent.vmdk"))
	parentCID := embeddedCID(t, filepath.Join(dir, "parent.vmdk")) // qemu checks the chain
	// The child changes some ranges, among them one to zeros over the parent's data.
	disk := bytes.Clone(base)
	rng := rand.New(rand.NewPCG(7, 8))
	fillRandom(rng, disk[3*mib+100:3*mib+200<<10])
	fillRandom(rng, disk[60*mib:61*mib])
	clear(disk[50*mib+1<<20 : 50*mib+2<<20])
	for _, grain := range []uint32{1, 8} {
		t.Run(fmt.Sprintf("grain-%d-sectors", grain), func(t *testing.T) {
			name := fmt.Sprintf("child-%d-delta.vmdk", grain)
			gb := uint64(grain) * sectorSize
			writeCOWD(t, filepath.Join(dir, name), disk, grain, func(g uint64) bool {
				return bytes.Equal(disk[g*gb:(g+1)*gb], base[g*gb:(g+1)*gb]) // unchanged: left to the parent
			})
			desc := fmt.Sprintf("# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=%s\n"+
				"createType=\"vmfsSparse\"\nparentFileNameHint=\"parent.vmdk\"\n\n# Extent description\n"+
				"RW %d VMFSSPARSE %q\n\n# The Disk Data Base\n#DDB\nddb.virtualHWVersion = \"8\"\n", parentCID, len(disk)/sectorSize, name)
			path := filepath.Join(dir, fmt.Sprintf("child-%d.vmdk", grain))
			if err := os.WriteFile(path, []byte(desc), 0o644); err != nil {
				t.Fatal(err)
			}
			img := mustOpen(t, path, Options{})
			if img.BackingFile() != "parent.vmdk" || img.Subformat() != "vmfsSparse" {
				t.Errorf("BackingFile() = %q, Subformat() = %q", img.BackingFile(), img.Subformat())
			}
			ref := fixture.ToRaw(t, path)
			got, err := os.ReadFile(ref)
			if err != nil || !bytes.Equal(got, disk) {
				t.Fatal("qemu-img does not read the hand-made COWD delta as intended")
			}
			sameAsFile(t, img, ref)
		})
	}
}

// embeddedCID returns the CID in the descriptor embedded in a sparse extent.
func embeddedCID(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	head := make([]byte, sectorSize)
	f.ReadAt(head, 0)
	h, err := parseKDMV(head, "header")
	if err != nil {
		t.Fatal(err)
	}
	text, err := readEmbeddedDescriptor(f, st.Size(), h)
	d := parseDescriptorKeys(text)
	if err != nil || d.cid == "" {
		t.Fatalf("no CID in %s: %v", path, err)
	}
	return d.cid
}
