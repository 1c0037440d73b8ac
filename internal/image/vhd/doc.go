// Package vhd reads Microsoft Virtual Hard Disk (VHD, "Virtual PC") images — fixed, dynamic and
// differencing — as the guest sees them, through io.ReaderAt.
//
// The on-disk format is Microsoft's "Virtual Hard Disk Image Format Specification" 1.0: a
// 512-byte footer at the end of the file (and, for dynamic and differencing disks, a copy at
// offset 0), a dynamic disk header, a block allocation table (BAT), and blocks made of a sector
// bitmap followed by the sector data. Fixed disks are raw data followed by the footer and are
// read straight through. A differencing disk reads the sectors its bitmaps do not mark from its
// parent, which the caller opens: this package never opens files by name and never recurses.
//
// Images come from attackers too: every count and offset read from the file is checked against
// the file size and the caps below before it is used to allocate or read, and every error says
// what is broken and where.
package vhd

import "errors"

// Errors that callers can test with errors.Is.
var (
	// ErrCorrupt reports a structure of the image that contradicts the format.
	ErrCorrupt = errors.New("vhd: corrupt image")
	// ErrUnsupported reports an image type this reader does not read.
	ErrUnsupported = errors.New("vhd: unsupported image")
	// ErrBackingRefused reports a differencing disk opened without Options.OpenBacking.
	ErrBackingRefused = errors.New("vhd: parent disk refused")
)

// Disk types (footer field at offset 60).
const (
	typeFixed        = 2
	typeDynamic      = 3
	typeDifferencing = 4
)

const (
	sectorSize        = 512
	footerSize        = 512
	dynamicHeaderSize = 1024
	footerCookie      = "conectix"
	dynamicCookie     = "cxsparse"
	unallocatedBlock  = 0xFFFFFFFF // BAT entry of a block not in the file
	parentNameBytes   = 512        // UTF-16BE parent unicode name in the dynamic header

	// maxBATBytes caps the block allocation table read at Open: 16 Mi entries, which with the
	// usual 2 MiB blocks covers 32 TiB, sixteen times the format's 2040 GiB limit.
	maxBATBytes = 64 << 20
	// maxBlockSize caps the block size (a power of two): its sector bitmap is then at most
	// 64 KiB. Virtual PC and Hyper-V use 512 KiB and 2 MiB.
	maxBlockSize      = 256 << 20
	defaultCacheBytes = 64 << 20 // Options.CacheBytes when 0
	minCacheEntries   = 16
)
