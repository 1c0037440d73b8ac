// Package qcow2 reads QEMU copy-on-write version 2 and 3 disk images as the guest sees them,
// through io.ReaderAt, without QEMU.
//
// The on-disk format is QEMU's docs/interop/qcow2.txt. The reader follows the active L1 table
// only (internal snapshots are not exposed), decodes normal, zero, compressed (deflate or zstd)
// and extended-L2 (subcluster) clusters, and sends unallocated ranges to a backing image that
// the caller opens: this package never opens files by name and never recurses into a chain
// itself, so the caller decides how deep a chain may go and where names resolve.
//
// Images come from attackers too: every count and offset read from the file is checked against
// the file size and the constant caps below before it is used to allocate or to read, and every
// error says what is broken and where.
package qcow2

import "errors"

// Errors that callers can test with errors.Is.
var (
	// ErrCorrupt reports a structure of the image that contradicts the format.
	ErrCorrupt = errors.New("qcow2: corrupt image")
	// ErrUnsupported reports a valid image that uses a feature this reader refuses
	// (encryption, external data files, unknown incompatible features).
	ErrUnsupported = errors.New("qcow2: unsupported feature")
	// ErrBackingRefused reports an image with a backing file opened without Options.OpenBacking.
	ErrBackingRefused = errors.New("qcow2: backing file refused")
)

// Caps on what the header may ask of us. They are QEMU's own limits, so every image QEMU
// can open stays readable while a hostile header cannot make us allocate more.
const (
	minClusterBits     = 9                  // 512-byte clusters
	maxClusterBits     = 21                 // 2 MiB clusters
	maxL1Bytes         = 32 << 20           // QEMU's QCOW_MAX_L1_SIZE
	maxBackingNameLen  = 1023               // the spec's limit for backing_file_size
	defaultCacheBytes  = 64 << 20           // Options.CacheBytes when 0
	minCacheEntries    = 4                  // even a tiny cache holds an L2 table and a few clusters
	maxVirtualSize     = 1<<63 - 1          // guest offsets are int64
	extendedL2MinBits  = 14                 // the spec: extended L2 entries need ≥ 16 KiB clusters
	subclustersPerClus = 32                 // extended L2: 32 subclusters per cluster
	v2HeaderLength     = 72                 // version 2 headers end here
	v3MinHeaderLength  = 104                // version 3 headers are at least this long
	compressionTypeOff = 104                // offset of the v3 compression_type byte
	magic              = "QFI\xfb"          // the first four bytes of every qcow image
	sectorSize         = 512                // compressed cluster sizes are counted in sectors
	l2EntryOffsetMask  = 0x00fffffffffffe00 // bits 9-55: host cluster offset (L1 and L2 entries)
	l2CompressedFlag   = 1 << 62
	l2ZeroFlag         = 1 // v3 standard descriptor bit 0: the cluster reads as zeros
	oflagCopied        = 1 << 63
)
