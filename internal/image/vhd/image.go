package vhd

import (
	"fmt"
	"io"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Options says how to open an image.
type Options struct {
	// OpenBacking opens the parent of a differencing disk by the name recorded in the image
	// (relative names are the caller's business). It returns the parent's guest bytes (already
	// decoded) and their size. nil means parents are refused: Open fails with an error that
	// names the parent and says that following it must be allowed explicitly.
	OpenBacking func(name string) (io.ReaderAt, int64, error)
	CacheBytes  int64 // bound of the cache of sector bitmaps; 0 = 64 MiB
}

// Image is an open VHD. Its methods are safe for concurrent use.
type Image struct {
	r        io.ReaderAt
	fileSize int64
	diskType uint32
	size     int64 // guest disk size

	// Dynamic and differencing disks only.
	blockSize   int64
	bitmapBytes int64
	bat         []uint32
	bitmaps     *lru.Cache[uint32, []byte] // sector bitmaps by block index
	parentName  string
	locators    []Locator
	parent      io.ReaderAt // differencing disks: where clear bitmap bits read from
	parentSize  int64
}

// Open reads the footer (and, for dynamic and differencing disks, the dynamic header and the
// BAT) of the VHD r of size bytes (the file size). A differencing disk's parent is opened
// through opt.OpenBacking, once: the chain's depth is the caller's to bound.
func Open(r io.ReaderAt, size int64, opt Options) (*Image, error) {
	if size < 0 {
		return nil, fmt.Errorf("vhd: negative file size %d", size)
	}
	f, dataEnd, err := findFooter(r, size)
	if err != nil {
		return nil, err
	}
	img := &Image{r: r, fileSize: size, diskType: f.diskType}
	switch f.diskType {
	case typeFixed:
		if f.currentSize > uint64(dataEnd) {
			return nil, corrupt("footer", "fixed disk of %d bytes does not fit in the %d bytes before the footer", f.currentSize, dataEnd)
		}
		img.size = int64(f.currentSize)
		return img, nil
	case typeDynamic, typeDifferencing:
		if err := img.openSparse(f, opt); err != nil {
			return nil, err
		}
		return img, nil
	default:
		return nil, fmt.Errorf("%w: disk type %d (only 2 fixed, 3 dynamic and 4 differencing are read)", ErrUnsupported, f.diskType)
	}
}

// openSparse reads the dynamic header and the BAT, and opens the parent of a differencing disk.
func (img *Image) openSparse(f footer, opt Options) error {
	h, err := readDynamicHeader(img.r, img.fileSize, f.dataOffset)
	if err != nil {
		return err
	}
	if f.currentSize > 1<<62 {
		return corrupt("footer", "disk size %d is too large", f.currentSize)
	}
	if img.bat, err = readBAT(img.r, img.fileSize, h, f.currentSize); err != nil {
		return err
	}
	img.size = int64(f.currentSize)
	img.blockSize = int64(h.blockSize)
	img.bitmapBytes = h.bitmapBytes()
	entries := opt.CacheBytes
	if entries <= 0 {
		entries = defaultCacheBytes
	}
	entries = max(minCacheEntries, entries/img.bitmapBytes)
	if img.bitmaps, err = lru.New[uint32, []byte](int(min(entries, 1<<20))); err != nil {
		return fmt.Errorf("vhd: cache: %w", err)
	}
	if img.diskType != typeDifferencing {
		return nil
	}
	img.parentName = h.parentName
	img.locators = readLocators(img.r, img.fileSize, h)
	if img.parentName == "" && len(img.locators) > 0 {
		// No parent name: fall back on a locator, the relative one first.
		img.parentName = img.locators[0].Path
		for _, l := range img.locators {
			if l.Platform == "W2ru" {
				img.parentName = l.Path
				break
			}
		}
	}
	if img.parentName == "" {
		return corrupt(fmt.Sprintf("dynamic disk header at %#x", f.dataOffset), "differencing disk with an empty parent name")
	}
	if opt.OpenBacking == nil {
		return fmt.Errorf("%w: differencing disk with parent %q; following it must be allowed explicitly (Options.OpenBacking)",
			ErrBackingRefused, img.parentName)
	}
	pr, psize, err := opt.OpenBacking(img.parentName)
	if err != nil {
		return fmt.Errorf("vhd: opening parent %q: %w", img.parentName, err)
	}
	if pr == nil || psize < 0 {
		return fmt.Errorf("vhd: opening parent %q: no reader or negative size %d", img.parentName, psize)
	}
	img.parent, img.parentSize = pr, psize
	return nil
}

// Size is the guest disk size in bytes (the footer's current size).
func (img *Image) Size() int64 { return img.size }

// BackingFile is the parent name of a differencing disk, "" for other types.
func (img *Image) BackingFile() string { return img.parentName }

// ParentLocators are the parent paths a differencing disk records besides its parent name
// (Windows relative and absolute paths, Mac OS X file URLs), for a caller that resolves the
// parent; nil for other types. Broken locators are left out.
func (img *Image) ParentLocators() []Locator { return img.locators }

// Type is "fixed", "dynamic" or "differencing".
func (img *Image) Type() string {
	switch img.diskType {
	case typeFixed:
		return "fixed"
	case typeDynamic:
		return "dynamic"
	default:
		return "differencing"
	}
}

// BlockSize is the block size of a dynamic or differencing disk, 0 for a fixed one.
func (img *Image) BlockSize() int64 { return img.blockSize }
