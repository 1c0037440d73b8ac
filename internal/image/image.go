// Package image opens disk images by content sniffing (never by extension) and exposes the guest
// disk as an io.ReaderAt: raw, qcow2, VMDK, VHD, VHDX, and the VMDK inside an OVA. Each container
// format lives in its own sub-package; this package picks one, follows backing chains when the user
// allows it, and confines the extra files an image may name.
package image

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Image is the guest disk of an opened image file.
type Image interface {
	io.ReaderAt
	Size() int64    // virtual disk size in bytes
	Format() string // "raw", "qcow2", "vmdk", "vhd", "vhdx", "ova/vmdk"
	Close() error   // closes every file the image opened
}

// Options control how images are opened.
type Options struct {
	// AllowBacking lets an image pull in the files it names as its backing (qcow2), parent (VHD,
	// VHDX, VMDK delta) chain. Off by default: a hostile image could name any file on this machine
	// and have it read as disk content.
	AllowBacking bool
	// CacheBytes bounds each format reader's cache of tables and decoded clusters (0: the
	// reader's default, 64 MiB).
	CacheBytes int64
}

// maxChain bounds backing chains, which also ends a chain that names itself.
const maxChain = 16

// Open opens the image at path.
func Open(path string, opt Options) (Image, error) {
	o := &opener{opt: opt, visiting: map[string]bool{}}
	img, err := o.open(path, 0)
	if err != nil {
		o.closeAll()
		return nil, err
	}
	return &owned{Image: img, closers: o.files}, nil
}

// opener tracks the files of one image and its chain, so that Close releases them all.
type opener struct {
	opt      Options
	files    []io.Closer
	visiting map[string]bool
}

func (o *opener) closeAll() {
	for _, c := range o.files {
		c.Close()
	}
	o.files = nil
}

func (o *opener) openFile(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	size, err := fileSize(f)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	o.files = append(o.files, f)
	return f, size, nil
}

// fileSize works for regular files and for block devices, whose Stat size is 0.
func fileSize(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.IsDir() {
		return 0, errors.New("is a directory, not a disk image")
	}
	if st.Mode().IsRegular() {
		return st.Size(), nil
	}
	return f.Seek(0, io.SeekEnd)
}

func (o *opener) open(path string, depth int) (Image, error) {
	if depth > maxChain {
		return nil, fmt.Errorf("%s: backing chain longer than %d images", path, maxChain)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if o.visiting[abs] {
		return nil, fmt.Errorf("%s: backing chain loops back to this image", path)
	}
	o.visiting[abs] = true
	defer delete(o.visiting, abs)

	f, size, err := o.openFile(path)
	if err != nil {
		return nil, err
	}
	img, err := o.decode(f, size, filepath.Dir(abs), depth)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// backing returns the callback a format reader uses to open the image its header names, or nil
// when chains are not allowed (the reader then fails with an error naming the file).
func (o *opener) backing(dir string, depth int) func(string) (io.ReaderAt, int64, error) {
	if !o.opt.AllowBacking {
		return nil
	}
	return func(name string) (io.ReaderAt, int64, error) {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		img, err := o.open(p, depth+1)
		if err != nil {
			return nil, 0, err
		}
		return img, img.Size(), nil
	}
}

// extent returns the callback a VMDK descriptor uses to open its extent files. Extents are part of
// the image itself, so they need no permission, but they must lie beside the descriptor: a name
// that climbs out of its directory or is absolute is refused.
func (o *opener) extent(dir string) func(string) (io.ReaderAt, int64, error) {
	return func(name string) (io.ReaderAt, int64, error) {
		clean := filepath.Clean(filepath.FromSlash(name))
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
			return nil, 0, fmt.Errorf("extent file %q lies outside the descriptor's directory; refused", name)
		}
		f, size, err := o.openFile(filepath.Join(dir, clean))
		if err != nil {
			return nil, 0, fmt.Errorf("extent file %q: %w", name, err)
		}
		return f, size, nil
	}
}

// owned closes the files of the chain with the image.
type owned struct {
	Image
	closers []io.Closer
}

func (o *owned) Close() error {
	var first error
	for _, c := range o.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
