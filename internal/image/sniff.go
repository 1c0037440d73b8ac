package image

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/snapwatch/snapwatch/internal/image/qcow2"
	"github.com/snapwatch/snapwatch/internal/image/vhd"
	"github.com/snapwatch/snapwatch/internal/image/vhdx"
	"github.com/snapwatch/snapwatch/internal/image/vmdk"
)

// decode picks the container format by content and opens it.
func (o *opener) decode(r io.ReaderAt, size int64, dir string, depth int) (Image, error) {
	head := make([]byte, 1024)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	head = head[:n]
	cache := o.opt.CacheBytes
	switch {
	case qcow2.Detect(head):
		img, err := qcow2.Open(r, size, qcow2.Options{OpenBacking: o.backing(dir, depth), CacheBytes: cache})
		if err != nil {
			return nil, err
		}
		return &named{img, "qcow2"}, nil
	case vhdx.Detect(head):
		img, err := vhdx.Open(r, size, vhdx.Options{OpenBacking: o.backing(dir, depth), CacheBytes: cache})
		if err != nil {
			return nil, err
		}
		return &named{img, "vhdx"}, nil
	case vmdk.Detect(head):
		img, err := vmdk.Open(r, size, vmdk.Options{OpenExtent: o.extent(dir), OpenBacking: o.backing(dir, depth), CacheBytes: cache})
		if err != nil {
			return nil, err
		}
		return &named{img, "vmdk"}, nil
	case vhd.Detect(r, size):
		img, err := vhd.Open(r, size, vhd.Options{OpenBacking: o.backing(dir, depth), CacheBytes: cache})
		if err != nil {
			return nil, err
		}
		return &named{img, "vhd"}, nil
	}
	if off, member, n, ok := ovaDisk(r, size); ok {
		sec := io.NewSectionReader(r, off, n)
		if !vmdk.Detect(peek(sec)) {
			return nil, fmt.Errorf("OVA member %q is not a VMDK disk", member)
		}
		img, err := vmdk.Open(sec, n, vmdk.Options{OpenBacking: o.backing(dir, depth), CacheBytes: cache})
		if err != nil {
			return nil, fmt.Errorf("OVA member %q: %w", member, err)
		}
		return &named{img, "ova/vmdk"}, nil
	}
	if name, ok := unsupported(head); ok {
		return nil, fmt.Errorf("%s is not a disk image format snapwatch reads", name)
	}
	return &raw{r: r, size: size}, nil
}

func peek(r io.ReaderAt) []byte {
	b := make([]byte, 512)
	n, _ := r.ReadAt(b, 0)
	return b[:n]
}

// unsupported names container and compression formats we recognise but do not read, so that
// they are not mistaken for a raw disk with no partition table.
func unsupported(head []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "a gzip-compressed file (decompress it first)", true
	case bytes.HasPrefix(head, []byte("\xfd7zXZ\x00")):
		return "an xz-compressed file (decompress it first)", true
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "a zstd-compressed file (decompress it first)", true
	case bytes.HasPrefix(head, []byte("BZh")) && len(head) > 4 && bytes.HasPrefix(head[4:], []byte("1AY&SY")):
		return "a bzip2-compressed file (decompress it first)", true
	case len(head) >= 0x44 && bytes.Equal(head[0x40:0x44], []byte{0x7f, 0x10, 0xda, 0xbe}):
		return "a VirtualBox VDI image (convert it: qemu-img convert -O raw)", true
	case bytes.HasPrefix(head, []byte("QEVM")):
		return "a QED image (convert it: qemu-img convert -O raw)", true
	}
	return "", false
}

// named attaches the format name to a reader from a sub-package.
type named struct {
	r interface {
		io.ReaderAt
		Size() int64
	}
	format string
}

func (n *named) ReadAt(p []byte, off int64) (int, error) { return n.r.ReadAt(p, off) }
func (n *named) Size() int64                             { return n.r.Size() }
func (n *named) Format() string                          { return n.format }
func (n *named) Close() error                            { return nil }

// raw is a disk stored byte for byte.
type raw struct {
	r    io.ReaderAt
	size int64
}

func (r *raw) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("raw: negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	if rest := r.size - off; int64(len(p)) > rest {
		n, err := r.r.ReadAt(p[:rest], off)
		if err == nil {
			err = io.EOF
		}
		return n, err
	}
	return r.r.ReadAt(p, off)
}
func (r *raw) Size() int64    { return r.size }
func (r *raw) Format() string { return "raw" }
func (r *raw) Close() error   { return nil }
