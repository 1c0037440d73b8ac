// Package vmdk reads VMware virtual disks (VMDK) as the guest sees them, through io.ReaderAt.
//
// It understands the hosted sparse extent ("KDMV", versions 1-3: monolithicSparse,
// streamOptimized with compressed grains and markers, with the grain directory in the header or
// in the footer), the ESX sparse extent ("COWD", vmfsSparse delta disks), text descriptor files
// naming SPARSE, FLAT, VMFS, VMFSSPARSE and ZERO extents (monolithicFlat, twoGbMaxExtentSparse,
// twoGbMaxExtentFlat, vmfs...), and delta disks whose unallocated grains come from a parent.
//
// Every size and offset read from the image is checked against the file size and against the
// caps in limits.go before it is used, so a hostile image yields an error naming the broken
// structure, never a panic, a hang or an unbounded allocation. Grain tables and decompressed
// grains are kept in bounded LRU caches; every exported method is safe for concurrent use.
package vmdk
