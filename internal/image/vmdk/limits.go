package vmdk

// Caps on what an image may declare. Each is far above what VMware or qemu write, and low enough
// that the memory an image can make this package allocate stays bounded whatever its bytes say.
const (
	sectorSize = 512

	// maxDescriptorBytes bounds a text descriptor (standalone or embedded); qemu uses the same.
	maxDescriptorBytes = 1 << 20
	// maxExtents bounds the extents of a descriptor: 16384 split extents of 2 GiB are 32 TiB.
	maxExtents = 16384
	// maxVirtualBytes bounds the virtual disk (VMDK itself tops out at 62 TiB).
	maxVirtualBytes = 1 << 48
	// maxGrainSectors bounds a grain (VMware writes 128 sectors = 64 KiB): 16 MiB.
	maxGrainSectors = 1 << 15
	// maxGTEntries bounds the entries of one grain table (512 for KDMV, 4096 for COWD).
	maxGTEntries = 4096
	// maxGDBytes bounds one grain directory, which is held in memory for the life of the image.
	maxGDBytes = 32 << 20

	defaultCacheBytes = 64 << 20
	// minCachedGrains and minCachedTables keep the caches useful when CacheBytes is tiny.
	minCachedGrains = 4
	minCachedTables = 16
)
