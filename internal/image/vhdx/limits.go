package vhdx

// Sizes fixed by MS-VHDX and caps this package puts on what a file may declare.
const (
	kib = 1 << 10
	mib = 1 << 20

	headerSectionBytes = 1 * mib   // file identifier, two headers, two region tables
	header1Offset      = 64 * kib  // the two headers, 4 KiB each, in 64 KiB slots
	header2Offset      = 128 * kib //
	headerBytes        = 4 * kib
	regionTable1Offset = 192 * kib
	regionTable2Offset = 256 * kib
	regionTableBytes   = 64 * kib
	maxRegionEntries   = 2047
	metadataTableBytes = 64 * kib
	maxMetadataEntries = 2047
	maxMetadataItem    = 1 * mib
	logSectorBytes     = 4 * kib
	sectorBitmapBytes  = 1 * mib // one sector bitmap block covers a chunk
	sectorsPerChunk    = 1 << 23 // bits in a sector bitmap block
	minBlockBytes      = 1 * mib // payload block size bounds
	maxBlockBytes      = 256 * mib
	maxVirtualBytes    = 64 << 40 // 64 TiB

	// maxLogBytes bounds the log, which Open reads whole to replay it (Hyper-V and qemu make
	// 1 MiB logs).
	maxLogBytes = 64 * mib
	// maxFileBytes bounds the file size a log may extend the file to (LastFileOffset and the
	// ends of log writes); it is far beyond what a 64 TiB disk needs.
	maxFileBytes = 1 << 50

	// batPageEntries is how many BAT entries are read and cached together (32 KiB).
	batPageEntries = 4096

	defaultCacheBytes = 64 * mib
	minCachedPages    = 8
)
