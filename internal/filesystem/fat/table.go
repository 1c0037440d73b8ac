package fat

import (
	"encoding/binary"
	"fmt"

	lru "github.com/hashicorp/golang-lru/v2"
)

const (
	// smallFATMax is the largest FAT read whole into memory: a FAT16 of 65525 clusters needs
	// 128 KiB, a FAT12 6 KiB. 32-bit FATs can be a gigabyte and are read in chunks instead.
	smallFATMax = 132 << 10
	// fatChunkSize and fatChunkCache bound the memory a 32-bit FAT costs: 64 chunks of 64 KiB.
	fatChunkSize  = 64 << 10
	fatChunkCache = 64
)

// link is what a FAT entry says about the cluster after the one it belongs to.
type link int

const (
	linkNext     link = iota // another cluster of the chain
	linkEnd                  // end of chain
	linkFree                 // the cluster is free
	linkBad                  // the cluster is marked bad
	linkReserved             // 1, or a number past the last cluster
)

// fatTable reads entries of the FAT copy in use.
type fatTable struct {
	g      *geometry
	off    int64 // volume offset of the FAT copy
	bits   int   // 12, 16, 32
	exfat  bool  // exFAT uses all 32 bits; FAT32 only the low 28
	whole  []byte
	chunks *lru.Cache[int64, []byte]
}

// newFATTable prepares access to the FAT at off, which must hold an entry for every cluster.
func newFATTable(g *geometry, off int64, bits int, exfat bool) (*fatTable, error) {
	t := &fatTable{g: g, off: off, bits: bits, exfat: exfat}
	need := t.byteLen()
	if need <= smallFATMax {
		t.whole = make([]byte, need)
		if err := g.readFull(t.whole, off, "FAT"); err != nil {
			return nil, err
		}
		return t, nil
	}
	c, err := lru.New[int64, []byte](fatChunkCache)
	if err != nil {
		return nil, err
	}
	t.chunks = c
	return t, nil
}

// byteLen is how many bytes of the FAT hold entries 0..lastCluster.
func (t *fatTable) byteLen() int64 {
	n := int64(t.g.clusters) + 2
	return (n*int64(t.bits) + 7) / 8
}

// entry returns the raw FAT entry of cluster c (c ≤ lastCluster).
func (t *fatTable) entry(c uint32) (uint32, error) {
	if c > t.g.lastCluster() {
		return 0, fmt.Errorf("cluster %d past the last cluster %d", c, t.g.lastCluster())
	}
	switch t.bits {
	case 12:
		i := int(c) + int(c)/2
		v := uint32(binary.LittleEndian.Uint16(t.whole[i:]))
		if c&1 == 1 {
			return v >> 4, nil
		}
		return v & 0xFFF, nil
	case 16:
		return uint32(binary.LittleEndian.Uint16(t.whole[2*int(c):])), nil
	}
	pos := 4 * int64(c)
	if t.whole != nil {
		return t.mask(binary.LittleEndian.Uint32(t.whole[pos:])), nil
	}
	chunk, err := t.chunk(pos / fatChunkSize)
	if err != nil {
		return 0, err
	}
	return t.mask(binary.LittleEndian.Uint32(chunk[pos%fatChunkSize:])), nil
}

func (t *fatTable) mask(v uint32) uint32 {
	if t.exfat {
		return v
	}
	return v & 0x0FFFFFFF
}

// chunk returns chunk i of a 32-bit FAT through the cache. Chunks never straddle an entry
// because fatChunkSize is a multiple of 4.
func (t *fatTable) chunk(i int64) ([]byte, error) {
	if b, ok := t.chunks.Get(i); ok {
		return b, nil
	}
	b, err := t.readChunk(i, nil)
	if err != nil {
		return nil, err
	}
	t.chunks.Add(i, b)
	return b, nil
}

// readChunk reads chunk i of the FAT into buf (allocated when too small), without caching.
func (t *fatTable) readChunk(i int64, buf []byte) ([]byte, error) {
	start := i * fatChunkSize
	n := min(int64(fatChunkSize), t.byteLen()-start)
	if int64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if err := t.g.readFull(buf, t.off+start, "FAT"); err != nil {
		return nil, err
	}
	return buf, nil
}

// classify says what a FAT entry value means.
func (t *fatTable) classify(v uint32) link {
	var bad uint32
	switch {
	case t.exfat:
		bad = 0xFFFFFFF7
	case t.bits == 12:
		bad = 0xFF7
	case t.bits == 16:
		bad = 0xFFF7
	default:
		bad = 0x0FFFFFF7
	}
	switch {
	case v == 0:
		return linkFree
	case v == bad:
		return linkBad
	case v > bad:
		return linkEnd
	case t.g.validCluster(v):
		return linkNext
	}
	return linkReserved
}

// forEachFree calls fn for every maximal run of free clusters (FAT entry 0), ascending. It reads
// the FAT sequentially in chunks and never fills the cache with them.
func (t *fatTable) forEachFree(stop func() bool, fn func(first, count uint32) bool) error {
	var runStart, runLen uint32
	flush := func() bool {
		if runLen == 0 {
			return true
		}
		ok := fn(runStart, runLen)
		runLen = 0
		return ok
	}
	visit := func(c, v uint32) bool {
		if v == 0 {
			if runLen == 0 {
				runStart = c
			}
			runLen++
			return true
		}
		return flush()
	}
	last := t.g.lastCluster()
	if t.whole != nil || t.bits != 32 {
		for c := uint32(2); c <= last; c++ {
			if c&0xFFFF == 0 && stop() {
				return nil
			}
			v, err := t.entry(c)
			if err != nil {
				return err
			}
			if !visit(c, v) {
				return nil
			}
		}
		flush()
		return nil
	}
	var buf []byte
	perChunk := uint32(fatChunkSize / 4)
	for c := uint32(2); c <= last; {
		if stop() {
			return nil
		}
		ci := int64(c / perChunk)
		b, err := t.readChunk(ci, buf)
		if err != nil {
			return err
		}
		buf = b
		for ; c <= last && int64(c/perChunk) == ci; c++ {
			v := t.mask(binary.LittleEndian.Uint32(b[4*(c%perChunk):]))
			if !visit(c, v) {
				return nil
			}
		}
	}
	flush()
	return nil
}
