// Package vhdx reads Hyper-V virtual disks (VHDX, MS-VHDX v1) as the guest sees them, through
// io.ReaderAt: fixed, dynamic and differencing disks, with 512- or 4096-byte logical sectors.
//
// Open picks the current of the two headers (CRC-32C, highest sequence number), replays the
// metadata log in memory when the header says it is not empty (the file is never written),
// reads the region table (or its copy), the metadata items and then the block allocation table
// (BAT) lazily, a page at a time. Blocks that are not present read as zeros, or from the parent
// in a differencing disk, whose partially present blocks are resolved through sector bitmaps.
//
// Every size and offset read from the file is checked against the file size and the caps in
// limits.go before it is used: a hostile file yields an error that names the broken structure,
// never a panic, a hang or an unbounded allocation. All methods are safe for concurrent use.
package vhdx
