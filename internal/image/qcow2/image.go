package qcow2

import (
	"encoding/binary"
	"fmt"
	"io"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Options says how to open an image.
type Options struct {
	// OpenBacking opens a backing file by the name recorded in the image (relative names are the
	// caller's business). It returns the backing image's guest bytes (already decoded: the caller
	// sniffs its format) and their size. nil means backing files are refused: Open fails with an
	// error that names the backing file and says that following it must be allowed explicitly.
	OpenBacking func(name string) (io.ReaderAt, int64, error)
	CacheBytes  int64 // bound of the cache of L2 tables and decompressed clusters; 0 = 64 MiB
}

// Image is an open qcow2 image. Its methods are safe for concurrent use.
type Image struct {
	r        io.ReaderAt
	fileSize int64
	h        *header
	l1       []uint64 // the active L1 table, only the entries that cover the virtual size

	backing     io.ReaderAt // nil: unallocated clusters read as zeros
	backingSize int64

	cache       *lru.Cache[cacheKey, []byte] // L2 tables and decompressed clusters
	decompress  func(dst, src []byte) error
	clusterMask int64
}

// cacheKey separates the two kinds of cached clusters, which may share a host offset only in
// a corrupt image, where a mix-up must not turn into wrong data.
type cacheKey struct {
	kind uint8 // cacheL2 or cacheCompressed
	off  uint64
}

const (
	cacheL2 = iota
	cacheCompressed
)

// Open reads the header and the active L1 table of the qcow2 image r of size bytes (the file
// size) and, if the image has one, opens its backing file through opt.OpenBacking, once: the
// chain's depth is the caller's to bound.
func Open(r io.ReaderAt, size int64, opt Options) (*Image, error) {
	if size < 0 {
		return nil, fmt.Errorf("qcow2: negative file size %d", size)
	}
	h, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	img := &Image{r: r, fileSize: size, h: h, clusterMask: h.clusterSize() - 1}
	if img.l1, err = readL1(r, h); err != nil {
		return nil, err
	}
	entries := opt.CacheBytes
	if entries <= 0 {
		entries = defaultCacheBytes
	}
	entries = max(minCacheEntries, entries/h.clusterSize())
	if img.cache, err = lru.New[cacheKey, []byte](int(min(entries, 1<<20))); err != nil {
		return nil, fmt.Errorf("qcow2: cache: %w", err)
	}
	img.decompress = newDecompressor(h.compressionType)
	if h.backingName != "" {
		if opt.OpenBacking == nil {
			return nil, fmt.Errorf("%w: image has backing file %q%s; following it must be allowed explicitly (Options.OpenBacking)",
				ErrBackingRefused, sanitize(h.backingName), formatSuffix(h.backingFormat))
		}
		br, bsize, err := opt.OpenBacking(h.backingName)
		if err != nil {
			return nil, fmt.Errorf("qcow2: opening backing file %q: %w", sanitize(h.backingName), err)
		}
		if br == nil || bsize < 0 {
			return nil, fmt.Errorf("qcow2: opening backing file %q: no reader or negative size %d", sanitize(h.backingName), bsize)
		}
		img.backing, img.backingSize = br, bsize
	}
	return img, nil
}

func formatSuffix(format string) string {
	if format == "" {
		return ""
	}
	return fmt.Sprintf(" (format %q)", sanitize(format))
}

// readL1 reads the L1 entries that cover the virtual size; readHeader has checked that they
// lie inside the file and under maxL1Bytes.
func readL1(r io.ReaderAt, h *header) ([]uint64, error) {
	need := h.l1Needed()
	if need == 0 {
		return nil, nil
	}
	raw := make([]byte, need*8)
	if n, err := r.ReadAt(raw, int64(h.l1Offset)); n < len(raw) {
		return nil, fmt.Errorf("qcow2: reading L1 table at %#x: %w", h.l1Offset, orShort(err))
	}
	l1 := make([]uint64, need)
	for i := range l1 {
		l1[i] = binary.BigEndian.Uint64(raw[i*8:])
	}
	return l1, nil
}

// Size is the virtual disk size in bytes.
func (img *Image) Size() int64 { return int64(img.h.size) }

// BackingFile is the backing file name recorded in the image, "" when there is none.
func (img *Image) BackingFile() string { return img.h.backingName }

// BackingFormat is the backing file's format recorded in the image ("qcow2", "raw", ...), ""
// when the image does not say. The caller may use it instead of sniffing.
func (img *Image) BackingFormat() string { return img.h.backingFormat }

// ClusterSize is the image's cluster size in bytes.
func (img *Image) ClusterSize() int64 { return img.h.clusterSize() }
