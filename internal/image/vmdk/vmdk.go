package vmdk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Detect reports whether head (first 512 bytes or fewer) starts a hosted sparse extent ("KDMV"),
// an ESX sparse extent ("COWD") or a text descriptor ("# Disk DescriptorFile").
func Detect(head []byte) bool {
	if len(head) >= 4 {
		if m := binary.LittleEndian.Uint32(head); m == magicKDMV || m == magicCOWD {
			return true
		}
	}
	return looksLikeDescriptor(head)
}

// Options says how to open the files an image names and how much to cache.
type Options struct {
	// OpenExtent opens a file that a descriptor names (flat/sparse extents of a split or flat
	// VMDK), returning its raw bytes and size. nil: such VMDKs fail with an error naming the file.
	OpenExtent func(name string) (io.ReaderAt, int64, error)
	// OpenBacking opens the parent of a delta disk (parentFileNameHint), returning the parent's
	// guest bytes (already decoded) and size. nil: delta disks fail with a clear error.
	OpenBacking func(name string) (io.ReaderAt, int64, error)
	CacheBytes  int64 // bound of grain-table and decompressed-grain caches; 0 = 64 MiB
}

// Image is an open VMDK: its guest bytes through ReadAt. Its methods are safe for concurrent use.
type Image struct {
	size      int64
	subformat string
	backing   string
	spans     []span // the extents in disk order, back to back from 0 to size

	parent     io.ReaderAt // nil: unallocated grains read as zeros
	parentSize int64

	tables *lru.Cache[cacheKey, []uint32] // grain tables
	grains *lru.Cache[cacheKey, []byte]   // decompressed grains
}

// span places an extent in the disk.
type span struct {
	start, length int64
	ext           extent
}

// cacheKey names a grain table or a grain of one extent.
type cacheKey struct {
	extent uint32
	index  uint64
}

// Open reads the VMDK r of size bytes (the file size): a sparse extent with its embedded
// descriptor, or a descriptor file whose extents opt.OpenExtent opens. A delta disk's parent is
// opened through opt.OpenBacking, once: the chain's depth is the caller's to bound.
func Open(r io.ReaderAt, size int64, opt Options) (*Image, error) {
	if size < 0 {
		return nil, fmt.Errorf("vmdk: negative file size %d", size)
	}
	head := make([]byte, min(size, sectorSize))
	if err := readFull(r, head, 0); err != nil {
		return nil, fmt.Errorf("vmdk: reading the first sector: %w", err)
	}
	img := &Image{}
	var err error
	magic := uint32(0)
	if len(head) >= 4 {
		magic = binary.LittleEndian.Uint32(head)
	}
	switch {
	case magic == magicKDMV:
		err = img.openHostedSparse(r, size, head, opt)
	case magic == magicCOWD:
		err = img.openSingleCOWD(r, size)
	case looksLikeDescriptor(head):
		err = img.openDescriptorFile(r, size, opt)
	default:
		return nil, errors.New("vmdk: not a VMDK: no KDMV or COWD magic and no \"# Disk DescriptorFile\" line")
	}
	if err != nil {
		return nil, err
	}
	if err := img.makeCaches(opt.CacheBytes); err != nil {
		return nil, err
	}
	if img.backing != "" {
		if err := img.openParent(opt); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// openHostedSparse opens a file that starts with a KDMV header: a monolithicSparse or
// streamOptimized disk, or (capacity 0) a container for a descriptor.
func (img *Image) openHostedSparse(r io.ReaderAt, size int64, head []byte, opt Options) error {
	if len(head) < sectorSize {
		return corrupt("sparse extent header", "the %d-byte file is shorter than a header", size)
	}
	h, err := parseKDMV(head, "sparse extent header")
	if err != nil {
		return err
	}
	var d *descriptor
	if h.descOffset != 0 && h.descSectors != 0 {
		text, err := readEmbeddedDescriptor(r, size, h)
		if err != nil {
			return err
		}
		if h.capacity == 0 {
			// The file only carries a descriptor: its extents are the disk.
			if d, err = parseDescriptor(text); err != nil {
				return err
			}
			return img.openDescriptor(d, opt)
		}
		// The header says where the data is; the descriptor only adds createType and the
		// parent, so a damaged extent line in it does not matter.
		d = parseDescriptorKeys(text)
	}
	if h.gdOffset == gdAtEnd {
		if h, err = readFooter(r, size, "sparse extent"); err != nil {
			return err
		}
	}
	ext, err := newSparseExtent(0, "", r, size, int64(h.capacity)*sectorSize, h)
	if err != nil {
		return err
	}
	img.size = int64(h.capacity) * sectorSize
	img.spans = []span{{start: 0, length: img.size, ext: ext}}
	img.subformat = "monolithicSparse"
	if ext.compressed {
		img.subformat = "streamOptimized"
	}
	if d != nil {
		if d.createType != "" {
			img.subformat = d.createType
		}
		img.backing = d.parentHint
	}
	return nil
}

// openSingleCOWD opens a bare ESX sparse extent.
func (img *Image) openSingleCOWD(r io.ReaderAt, size int64) error {
	h, err := readCOWDHeader(r, size, "COWD extent header")
	if err != nil {
		return err
	}
	ext, err := newSparseExtent(0, "", r, size, int64(h.capacity)*sectorSize, h)
	if err != nil {
		return err
	}
	img.size = int64(h.capacity) * sectorSize
	img.spans = []span{{start: 0, length: img.size, ext: ext}}
	img.subformat = "vmfsSparse"
	return nil
}

func readCOWDHeader(r io.ReaderAt, size int64, what string) (*sparseHeader, error) {
	if size < sectorSize {
		return nil, corrupt(what, "the %d-byte file is shorter than a header", size)
	}
	head := make([]byte, sectorSize)
	if err := readFull(r, head, 0); err != nil {
		return nil, fmt.Errorf("vmdk: reading %s: %w", what, err)
	}
	return parseCOWD(head, what)
}

// readEmbeddedDescriptor reads the descriptor text a sparse extent carries.
func readEmbeddedDescriptor(r io.ReaderAt, size int64, h *sparseHeader) ([]byte, error) {
	what := fmt.Sprintf("embedded descriptor at sector %d", h.descOffset)
	if h.descOffset >= uint64(size)/sectorSize {
		return nil, corrupt(what, "lies past the end of the %d-byte file", size)
	}
	pos := int64(h.descOffset) * sectorSize
	n := min(size-pos, maxDescriptorBytes)
	if h.descSectors < uint64(n)/sectorSize {
		n = int64(h.descSectors) * sectorSize
	}
	text := make([]byte, n)
	if err := readFull(r, text, pos); err != nil {
		return nil, fmt.Errorf("vmdk: reading %s: %w", what, err)
	}
	return text, nil
}

// openDescriptorFile opens a standalone text descriptor.
func (img *Image) openDescriptorFile(r io.ReaderAt, size int64, opt Options) error {
	if size > maxDescriptorBytes {
		return corrupt("descriptor file", "%d bytes is more than the %d a descriptor may have", size, maxDescriptorBytes)
	}
	text := make([]byte, size)
	if err := readFull(r, text, 0); err != nil {
		return fmt.Errorf("vmdk: reading descriptor: %w", err)
	}
	d, err := parseDescriptor(text)
	if err != nil {
		return err
	}
	return img.openDescriptor(d, opt)
}

// openDescriptor opens every extent a descriptor lists, in order.
func (img *Image) openDescriptor(d *descriptor, opt Options) error {
	if len(d.extents) == 0 {
		return corrupt("descriptor", "lists no extents")
	}
	img.subformat, img.backing = d.createType, d.parentHint
	var start int64
	for i, x := range d.extents {
		ext, err := openExtent(uint32(i), x, opt)
		if err != nil {
			return err
		}
		length := x.sectors * sectorSize // parseDescriptor bounded the sum by maxVirtualBytes
		img.spans = append(img.spans, span{start: start, length: length, ext: ext})
		start += length
	}
	img.size = start
	return nil
}

// openExtent opens the file of one descriptor line.
func openExtent(id uint32, x extentLine, opt Options) (extent, error) {
	where := fmt.Sprintf("descriptor line %d", x.line)
	switch x.kind {
	case typeZero:
		return zeroExtent{}, nil
	case typeSESparse:
		return nil, unsupported("%s: seSparse extents (ESXi 6.5+ snapshots) are not read", where)
	case typeVMFSRDM, typeVMFSRaw:
		return nil, unsupported("%s: %s extents map a physical LUN, whose bytes are not in any file", where, x.kind)
	}
	if x.access == accessNOACCESS {
		return zeroExtent{}, nil // the guest may not read it: there is nothing to show
	}
	if opt.OpenExtent == nil {
		return nil, fmt.Errorf("vmdk: %w: %s names extent file %s, and Options.OpenExtent is nil",
			ErrNeedsFile, where, quote(x.file))
	}
	r, size, err := opt.OpenExtent(x.file)
	if err != nil {
		return nil, fmt.Errorf("vmdk: opening extent file %s (%s): %w", quote(x.file), where, err)
	}
	if size < 0 {
		return nil, fmt.Errorf("vmdk: extent file %s: negative size %d", quote(x.file), size)
	}
	what := fmt.Sprintf("extent %s", quote(x.file))
	switch x.kind {
	case typeFlat, typeVMFS:
		end := (x.offset + x.sectors) * sectorSize // both bounded by maxVirtualBytes/sectorSize
		if end > size {
			return nil, corrupt(what, "%s says it holds %d sectors from sector %d, but the file has only %d bytes",
				where, x.sectors, x.offset, size)
		}
		return &flatExtent{name: x.file, r: r, base: x.offset * sectorSize}, nil
	}
	// SPARSE or VMFSSPARSE: a KDMV or COWD file, whatever the line says.
	if size < sectorSize {
		return nil, corrupt(what, "the %d-byte file is shorter than a sparse extent header", size)
	}
	head := make([]byte, sectorSize)
	if err := readFull(r, head, 0); err != nil {
		return nil, fmt.Errorf("vmdk: reading %s header: %w", what, err)
	}
	var h *sparseHeader
	switch binary.LittleEndian.Uint32(head) {
	case magicKDMV:
		if h, err = parseKDMV(head, what+" header"); err != nil {
			return nil, err
		}
		if h.gdOffset == gdAtEnd {
			if h, err = readFooter(r, size, what); err != nil {
				return nil, err
			}
		}
	case magicCOWD:
		if h, err = parseCOWD(head, what+" header"); err != nil {
			return nil, err
		}
	default:
		return nil, corrupt(what, "%s says it is a sparse extent, but it has no KDMV or COWD magic", where)
	}
	return newSparseExtent(id, x.file, r, size, x.sectors*sectorSize, h)
}

// openParent opens the parent of a delta disk.
func (img *Image) openParent(opt Options) error {
	if opt.OpenBacking == nil {
		return fmt.Errorf("vmdk: %w: delta disk needs its parent %s, and Options.OpenBacking is nil",
			ErrNeedsFile, quote(img.backing))
	}
	r, size, err := opt.OpenBacking(img.backing)
	if err != nil {
		return fmt.Errorf("vmdk: opening parent %s: %w", quote(img.backing), err)
	}
	if size < 0 {
		return fmt.Errorf("vmdk: parent %s: negative size %d", quote(img.backing), size)
	}
	img.parent, img.parentSize = r, size
	return nil
}

// makeCaches sizes the grain-table and grain caches from the largest table and grain of the
// image's extents, within a budget of cacheBytes.
func (img *Image) makeCaches(cacheBytes int64) error {
	if cacheBytes <= 0 {
		cacheBytes = defaultCacheBytes
	}
	tableBytes, grainBytes := int64(4), int64(0)
	for _, s := range img.spans {
		if e, ok := s.ext.(*sparseExtent); ok {
			tableBytes = max(tableBytes, e.gtEntries*4)
			if e.compressed {
				grainBytes = max(grainBytes, e.grainBytes)
			}
		}
	}
	tableBudget := cacheBytes
	grainEntries := int64(minCachedGrains)
	if grainBytes > 0 {
		tableBudget = cacheBytes / 4
		grainEntries = max(grainEntries, (cacheBytes-tableBudget)/grainBytes)
	}
	tableEntries := max(minCachedTables, tableBudget/tableBytes)
	var err error
	if img.tables, err = lru.New[cacheKey, []uint32](int(min(tableEntries, 1<<24))); err != nil {
		return fmt.Errorf("vmdk: grain table cache: %w", err)
	}
	if img.grains, err = lru.New[cacheKey, []byte](int(min(grainEntries, 1<<24))); err != nil {
		return fmt.Errorf("vmdk: grain cache: %w", err)
	}
	return nil
}

// ReadAt reads the guest's bytes at off. It returns io.EOF when p reaches past Size.
func (img *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("vmdk: negative offset %d", off)
	}
	if off >= img.size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > img.size-off {
		want = int(img.size - off)
	}
	// The first span that ends after off.
	i := sort.Search(len(img.spans), func(i int) bool { return img.spans[i].start+img.spans[i].length > off })
	done := 0
	for done < want {
		s := img.spans[i]
		within := off + int64(done) - s.start
		n := int(min(int64(want-done), s.length-within))
		if err := s.ext.readAt(img, p[done:done+n], within, off+int64(done)); err != nil {
			return done, err
		}
		done += n
		i++
	}
	if done < len(p) {
		return done, io.EOF
	}
	return done, nil
}

// readParent fills p with the parent's bytes at off: zeros without a parent or past its end.
func (img *Image) readParent(p []byte, off int64) error {
	k := int64(0)
	if img.parent != nil && off < img.parentSize {
		k = min(int64(len(p)), img.parentSize-off)
		if err := readFull(img.parent, p[:k], off); err != nil {
			return fmt.Errorf("vmdk: reading parent %s at 0x%x: %w", quote(img.backing), off, err)
		}
	}
	clear(p[k:])
	return nil
}

// Size returns the virtual disk size in bytes.
func (img *Image) Size() int64 { return img.size }

// Subformat returns the descriptor's createType ("monolithicSparse", "streamOptimized",
// "monolithicFlat", "twoGbMaxExtentSparse", "vmfs", ...), or for a sparse extent without a
// descriptor what its header implies.
func (img *Image) Subformat() string { return img.subformat }

// BackingFile returns the parentFileNameHint of a delta disk, "" otherwise.
func (img *Image) BackingFile() string { return img.backing }
