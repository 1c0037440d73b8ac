package vhdx

import (
	"fmt"
	"io"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Detect reports whether head (first bytes of a file) starts with the VHDX file identifier.
func Detect(head []byte) bool {
	return len(head) >= 8 && string(head[:8]) == "vhdxfile"
}

// Options says how to open a differencing disk's parent and how much to cache.
type Options struct {
	// OpenBacking opens the parent of a differencing disk (BackingFile's name), returning the
	// parent's guest bytes (already decoded) and size. nil: differencing disks fail with an
	// error naming the parent.
	OpenBacking func(name string) (io.ReaderAt, int64, error)
	CacheBytes  int64 // bound of the BAT-page and sector-bitmap caches; 0 = 64 MiB
}

// Image is an open VHDX: its guest bytes through ReadAt. Its methods are safe for concurrent use.
type Image struct {
	hdr  *header
	v    *view // the file, with its log replayed
	meta *metadata
	geo  geometry
	bat  bat

	bitmaps *lru.Cache[int64, []byte] // sector bitmap bits of partially present blocks

	backing    string
	parent     io.ReaderAt
	parentSize int64
}

// Open reads the VHDX r of size bytes (the file size). A differencing disk's parent is opened
// through opt.OpenBacking, once: the chain's depth is the caller's to bound.
func Open(r io.ReaderAt, size int64, opt Options) (*Image, error) {
	if size < 0 {
		return nil, fmt.Errorf("vhdx: negative file size %d", size)
	}
	h, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	v, err := replayLog(r, size, h)
	if err != nil {
		return nil, err
	}
	batRegion, metaRegion, err := readRegions(v, v.size)
	if err != nil {
		return nil, err
	}
	meta, err := readMetadata(v, metaRegion)
	if err != nil {
		return nil, err
	}
	geo, err := newGeometry(meta)
	if err != nil {
		return nil, err
	}
	if geo.batEntries > batRegion.length/8 {
		return nil, corrupt(fmt.Sprintf("BAT region at 0x%x", batRegion.offset),
			"%d bytes hold %d entries, but a %d-byte disk of %d-byte blocks needs %d",
			batRegion.length, batRegion.length/8, meta.virtualSize, meta.blockSize, geo.batEntries)
	}
	img := &Image{hdr: h, v: v, meta: meta, geo: geo}
	if err := img.makeCaches(opt.CacheBytes, batRegion); err != nil {
		return nil, err
	}
	if meta.hasParent {
		img.backing = meta.backingName()
		if opt.OpenBacking == nil {
			return nil, fmt.Errorf("vhdx: %w %s, and Options.OpenBacking is nil", ErrNeedsParent, quote(img.backing))
		}
		if img.parent, img.parentSize, err = opt.OpenBacking(img.backing); err != nil {
			return nil, fmt.Errorf("vhdx: opening parent %s: %w", quote(img.backing), err)
		}
		if img.parentSize < 0 {
			return nil, fmt.Errorf("vhdx: parent %s: negative size %d", quote(img.backing), img.parentSize)
		}
	}
	return img, nil
}

// makeCaches splits the budget between BAT pages and sector bitmaps.
func (img *Image) makeCaches(cacheBytes int64, batRegion region) error {
	if cacheBytes <= 0 {
		cacheBytes = defaultCacheBytes
	}
	pages := max(minCachedPages, cacheBytes/2/(batPageEntries*8))
	bitmapBytes := img.geo.blockSize / img.meta.logicalSector / 8 // 32 B to 64 KiB per block
	bitmaps := max(minCachedPages, cacheBytes/2/bitmapBytes)
	var err error
	cache, err := lru.New[int64, []uint64](int(min(pages, 1<<20)))
	if err != nil {
		return fmt.Errorf("vhdx: BAT cache: %w", err)
	}
	img.bat = bat{v: img.v, region: batRegion, entries: img.geo.batEntries, pages: cache}
	if img.bitmaps, err = lru.New[int64, []byte](int(min(bitmaps, 1<<20))); err != nil {
		return fmt.Errorf("vhdx: sector bitmap cache: %w", err)
	}
	return nil
}

// Size returns the virtual disk size in bytes.
func (img *Image) Size() int64 { return img.meta.virtualSize }

// LogicalSectorSize returns the sector size the guest sees: 512 or 4096.
func (img *Image) LogicalSectorSize() int { return int(img.meta.logicalSector) }

// PhysicalSectorSize returns the physical sector size the disk reports: 512 or 4096.
func (img *Image) PhysicalSectorSize() int { return int(img.meta.physicalSector) }

// BackingFile returns the parent of a differencing disk as its parent locator records it
// (relative_path with '\' turned into '/', else volume_path or absolute_win32_path), "" for
// other disks.
func (img *Image) BackingFile() string { return img.backing }

// ReadAt reads the guest's bytes at off. It returns io.EOF when p reaches past Size.
func (img *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("vhdx: negative offset %d", off)
	}
	size := img.meta.virtualSize
	if off >= size {
		return 0, io.EOF
	}
	want := int(min(int64(len(p)), size-off))
	for done := 0; done < want; {
		pos := off + int64(done)
		n := int(min(int64(want-done), img.geo.blockSize-pos%img.geo.blockSize))
		if err := img.readBlock(p[done:done+n], pos); err != nil {
			return done, err
		}
		done += n
	}
	if want < len(p) {
		return want, io.EOF
	}
	return want, nil
}
