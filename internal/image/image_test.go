package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// rawDisk is a small disk with a recognisable pattern in every MiB.
func rawDisk(t *testing.T) (string, []byte) {
	b := make([]byte, 8<<20)
	for i := 0; i < len(b); i += 1 << 20 {
		copy(b[i:], []byte("snapwatch-mib-"+string(rune('A'+i>>20))))
	}
	p := filepath.Join(t.TempDir(), "disk.raw")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func readAll(t *testing.T, img Image) []byte {
	t.Helper()
	b := make([]byte, img.Size())
	if _, err := img.ReadAt(b, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return b
}

func TestSniffsEveryFormatByContent(t *testing.T) {
	raw, want := rawDisk(t)
	formats := map[string]string{
		"raw": "raw", "qcow2": "qcow2", "qcow2-v2": "qcow2", "qcow2-compressed": "qcow2",
		"vmdk-sparse": "vmdk", "vmdk-stream": "vmdk", "vhd-fixed": "vhd", "vhd-dynamic": "vhd", "vhdx": "vhdx",
	}
	for _, f := range fixture.ImageFormats {
		t.Run(f.Name, func(t *testing.T) {
			p := fixture.Convert(t, raw, f)
			// A misleading extension must not matter.
			misnamed := p + ".iso"
			if err := os.Rename(p, misnamed); err != nil {
				t.Fatal(err)
			}
			img, err := Open(misnamed, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if img.Format() != formats[f.Name] {
				t.Errorf("format %q, want %q", img.Format(), formats[f.Name])
			}
			if !bytes.Equal(readAll(t, img), want) {
				t.Error("guest bytes differ")
			}
		})
	}
}

func TestBackingChainNeedsPermission(t *testing.T) {
	fixture.Need(t, "qemu-img", "qemu-io")
	raw, want := rawDisk(t)
	dir := t.TempDir()
	base := filepath.Join(dir, "base.qcow2")
	fixture.Run(t, "qemu-img", "convert", "-O", "qcow2", raw, base)
	top := filepath.Join(dir, "top.qcow2")
	fixture.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top)
	fixture.Run(t, "qemu-io", "-c", "write -P 0xab 1M 64k", top)
	copy(want[1<<20:], bytes.Repeat([]byte{0xab}, 64<<10))

	if _, err := Open(top, Options{}); err == nil || !strings.Contains(err.Error(), "base.qcow2") {
		t.Fatalf("backing file followed without permission: %v", err)
	}
	img, err := Open(top, Options{AllowBacking: true})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if !bytes.Equal(readAll(t, img), want) {
		t.Error("chain bytes differ")
	}
}

func TestBackingChainThatLoopsEnds(t *testing.T) {
	fixture.Need(t, "qemu-img")
	dir := t.TempDir()
	a := filepath.Join(dir, "a.qcow2")
	b := filepath.Join(dir, "b.qcow2")
	fixture.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", b, "8M")
	fixture.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", "b.qcow2", "-F", "qcow2", a)
	// Point b back at a: qemu-img rebase -u writes the header without checking.
	fixture.Run(t, "qemu-img", "rebase", "-u", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", b)
	_, err := Open(a, Options{AllowBacking: true})
	if err == nil || !strings.Contains(err.Error(), "loops") {
		t.Fatalf("want a loop error, got %v", err)
	}
}

// A VMDK descriptor names its extent files; one that names a file outside its directory (a
// hostile image trying to read /etc/shadow as a disk) is refused.
func TestVMDKExtentsStayBesideTheDescriptor(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "disk-flat.vmdk"), bytes.Repeat([]byte("x"), 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	desc := func(extent string) string {
		return "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\n" +
			"RW 2048 FLAT \"" + extent + "\" 0\n\nddb.virtualHWVersion = \"4\"\n"
	}
	good := filepath.Join(dir, "good.vmdk")
	os.WriteFile(good, []byte(desc("disk-flat.vmdk")), 0o600)
	img, err := Open(good, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, img); len(b) != 1<<20 || b[0] != 'x' {
		t.Errorf("flat extent not read")
	}
	img.Close()
	for _, evil := range []string{"/etc/passwd", "../" + filepath.Base(dir) + "/disk-flat.vmdk", "../../etc/passwd"} {
		p := filepath.Join(dir, "evil.vmdk")
		os.WriteFile(p, []byte(desc(evil)), 0o600)
		if _, err := Open(p, Options{}); err == nil || !strings.Contains(err.Error(), "outside") {
			t.Errorf("extent %q: %v", evil, err)
		}
	}
}

func TestOVAIsReadInPlace(t *testing.T) {
	raw, want := rawDisk(t)
	vmdk := fixture.Convert(t, raw, fixture.ImageFormat{Name: "stream", Args: []string{"-O", "vmdk", "-o", "subformat=streamOptimized"}})
	disk, _ := os.ReadFile(vmdk)
	var ova bytes.Buffer
	tw := tar.NewWriter(&ova)
	for _, m := range []struct {
		name string
		data []byte
	}{{"appliance.ovf", []byte("<Envelope/>")}, {"appliance.mf", []byte("SHA256(x)= 00")}, {"appliance-disk1.vmdk", disk}} {
		tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg})
		tw.Write(m.data)
	}
	tw.Close()
	p := filepath.Join(t.TempDir(), "appliance.ova")
	os.WriteFile(p, ova.Bytes(), 0o600)
	img, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Format() != "ova/vmdk" || !bytes.Equal(readAll(t, img), want) {
		t.Errorf("format %s; bytes equal: %v", img.Format(), bytes.Equal(readAll(t, img), want))
	}
}

func TestRecognisedButUnreadFormatsAreNamed(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(make([]byte, 1<<20))
	w.Close()
	p := filepath.Join(t.TempDir(), "disk.raw.gz")
	os.WriteFile(p, gz.Bytes(), 0o600)
	if _, err := Open(p, Options{}); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Fatalf("gzip: %v", err)
	}
	if _, err := Open(t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("directory: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing"), Options{}); err == nil {
		t.Fatal("missing file opened")
	}
}

func TestRawReadsStopAtTheEnd(t *testing.T) {
	raw, _ := rawDisk(t)
	img, err := Open(raw, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	b := make([]byte, 100)
	if n, err := img.ReadAt(b, img.Size()-10); n != 10 || err != io.EOF {
		t.Fatalf("short read at end: %d %v", n, err)
	}
	if _, err := img.ReadAt(b, -1); err == nil {
		t.Fatal("negative offset accepted")
	}
}
