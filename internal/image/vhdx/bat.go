package vhdx

import (
	"encoding/binary"
	"fmt"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Payload block states (MS-VHDX 2.5.1.1) and sector bitmap block states (2.5.1.2).
const (
	payloadNotPresent       = 0
	payloadUndefined        = 1
	payloadZero             = 2
	payloadUnmapped         = 3
	payloadFullyPresent     = 6
	payloadPartiallyPresent = 7

	bitmapPresent = 6
)

// geometry derives the BAT layout from the metadata.
type geometry struct {
	blockSize     int64
	chunkRatio    int64 // payload blocks per sector bitmap block
	payloadBlocks int64
	batEntries    int64 // entries the BAT must hold
}

func newGeometry(m *metadata) (geometry, error) {
	g := geometry{blockSize: m.blockSize}
	// 2^23 sectors per chunk; both sizes are powers of two in range, so the ratio is an integer
	// from 16 (256 MiB blocks of 512-byte sectors) to 32768 (1 MiB blocks of 4 KiB sectors).
	g.chunkRatio = sectorsPerChunk * m.logicalSector / m.blockSize
	if g.chunkRatio < 1 || g.chunkRatio*m.blockSize != sectorsPerChunk*m.logicalSector {
		return g, corrupt("metadata", "block size %d and sector size %d give no whole chunk ratio", m.blockSize, m.logicalSector)
	}
	g.payloadBlocks = (m.virtualSize + m.blockSize - 1) / m.blockSize
	switch {
	case g.payloadBlocks == 0:
	case m.hasParent:
		bitmaps := (g.payloadBlocks + g.chunkRatio - 1) / g.chunkRatio
		g.batEntries = bitmaps * (g.chunkRatio + 1)
	default:
		g.batEntries = g.payloadBlocks + (g.payloadBlocks-1)/g.chunkRatio
	}
	return g, nil
}

// payloadIndex is the BAT index of payload block b: a sector bitmap entry follows every chunk.
func (g geometry) payloadIndex(b int64) int64 { return b + b/g.chunkRatio }

// bitmapIndex is the BAT index of the sector bitmap entry of the chunk holding block b.
func (g geometry) bitmapIndex(b int64) int64 {
	return b/g.chunkRatio*(g.chunkRatio+1) + g.chunkRatio
}

// bat reads BAT entries a page at a time, through a bounded cache.
type bat struct {
	v       *view
	region  region
	entries int64
	pages   *lru.Cache[int64, []uint64]
}

func (t *bat) entry(i int64) (uint64, error) {
	p := i / batPageEntries
	if page, ok := t.pages.Get(p); ok {
		return page[i%batPageEntries], nil
	}
	first := p * batPageEntries
	n := min(batPageEntries, t.entries-first)
	raw := make([]byte, n*8)
	at := t.region.offset + first*8
	if err := readFull(t.v, raw, at); err != nil {
		return 0, fmt.Errorf("vhdx: reading BAT entries %d-%d at 0x%x: %w", first, first+n-1, at, err)
	}
	page := make([]uint64, n)
	for j := range page {
		page[j] = binary.LittleEndian.Uint64(raw[j*8:])
	}
	t.pages.Add(p, page)
	return page[i%batPageEntries], nil
}

// entryLocation splits a BAT entry into its state and file offset; an offset too large for any
// file this package reads (it would overflow int64) comes back as -1.
func entryLocation(e uint64) (state uint64, offset int64) {
	mb := e >> 20
	if mb > maxFileBytes/mib {
		return e & 7, -1
	}
	return e & 7, int64(mb) * mib
}

// where names BAT entry i for error messages.
func (t *bat) where(i int64) string {
	return fmt.Sprintf("BAT entry %d at 0x%x", i, t.region.offset+i*8)
}
