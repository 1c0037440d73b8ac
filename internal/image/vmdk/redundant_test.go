package vmdk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// TestRedundantGrainDirectory damages the primary grain directory or grain tables of a
// monolithicSparse disk (qemu-img writes both copies) and expects the redundant copy to give
// the very bytes qemu-img reads from the undamaged file.
func TestRedundantGrainDirectory(t *testing.T) {
	raw := rawDisk(t)
	orig := fixture.Convert(t, raw, fixture.ImageFormat{Name: "vmdk", Args: []string{"-O", "vmdk"}})
	ref := fixture.ToRaw(t, orig)
	file, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseKDMV(file[:sectorSize], "header")
	if err != nil || h.flags&flagRedundantGD == 0 {
		t.Fatalf("qemu-img wrote no redundant grain directory: %v", err)
	}
	le := binary.LittleEndian
	gd, rgd := int(h.gdOffset)*sectorSize, int(h.rgdOffset)*sectorSize
	gt0, rgt0 := int(le.Uint32(file[gd:]))*sectorSize, int(le.Uint32(file[rgd:]))*sectorSize
	pastEOF := uint32(len(file)/sectorSize + 1000)

	damage := func(t *testing.T, edit func(b []byte)) *Image {
		b := bytes.Clone(file)
		edit(b)
		p := filepath.Join(t.TempDir(), "damaged.vmdk")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return mustOpen(t, p, Options{})
	}
	t.Run("directory entries past EOF", func(t *testing.T) {
		img := damage(t, func(b []byte) {
			for i := range int(h.gdEntries) {
				le.PutUint32(b[gd+4*i:], pastEOF)
			}
		})
		sameAsFile(t, img, ref)
	})
	t.Run("directory offset past EOF", func(t *testing.T) {
		img := damage(t, func(b []byte) { le.PutUint64(b[56:], 1<<40) })
		sameAsFile(t, img, ref)
	})
	t.Run("grain table entries past EOF", func(t *testing.T) {
		img := damage(t, func(b []byte) {
			for i := range 512 {
				le.PutUint32(b[gt0+4*i:], pastEOF)
			}
		})
		sameAsFile(t, img, ref)
	})
	t.Run("both copies damaged", func(t *testing.T) {
		img := damage(t, func(b []byte) {
			le.PutUint32(b[gt0+4*20:], pastEOF) // grain 20: 1.25 MiB, inside the file system
			le.PutUint32(b[rgt0+4*20:], pastEOF)
		})
		_, err := img.ReadAt(make([]byte, 4096), 20*64<<10)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "grain 20") {
			t.Errorf("reading the damaged grain: %v", err)
		}
		// The rest of the table still reads.
		got, want := make([]byte, 64<<10), make([]byte, 64<<10)
		if _, err := img.ReadAt(got, 21*64<<10); err != nil {
			t.Fatal(err)
		}
		f, _ := os.Open(ref)
		defer f.Close()
		f.ReadAt(want, 21*64<<10)
		if !bytes.Equal(got, want) {
			t.Error("grain 21 differs")
		}
	})
}
