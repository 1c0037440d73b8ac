package fat

import (
	lru "github.com/hashicorp/golang-lru/v2"
)

// bitmapChunk is how much of the allocation bitmap is read at a time (256 Ki clusters).
const bitmapChunk = 32 << 10

// exfatBitmap is exFAT's allocation bitmap: one bit per cluster, set when it is in use. Unlike
// FAT12/16/32, exFAT decides allocation here, not in the FAT (contiguous files have no FAT
// entries at all).
type exfatBitmap struct {
	g      *geometry
	r      *chainReader
	bytes  int64
	chunks *lru.Cache[int64, []byte]
}

func newExFATBitmap(v *exfatVolume, first uint32, length uint64) (*exfatBitmap, error) {
	need := (uint64(v.g.clusters) + 7) / 8
	if length < need {
		return nil, v.g.corrupt("allocation bitmap", "%d bytes cannot hold the bits of %d clusters", length, v.g.clusters)
	}
	n := (need + uint64(v.g.clusterSize) - 1) / uint64(v.g.clusterSize)
	spec := chainSpec{what: "allocation bitmap", want: n}
	l := v.table.walkChain(first, spec)
	if l.broken != nil {
		// Formatters may leave the bitmap's FAT entries empty: it is contiguous then.
		l = v.g.contiguousRuns(first, n, spec)
	}
	if l.broken != nil {
		return nil, l.broken
	}
	// The bitmap's clusters are nobody else's.
	if c, ok := v.claims.take(&v.g, exfatBitmapIno, l.runs); !ok {
		return nil, v.g.corrupt("allocation bitmap", "cluster %d is claimed twice", c)
	}
	chunks, err := lru.New[int64, []byte](16)
	if err != nil {
		return nil, err
	}
	return &exfatBitmap{g: &v.g, r: newChainReader(&v.g, "allocation bitmap", l, int64(need), int64(need)), bytes: int64(need), chunks: chunks}, nil
}

func (b *exfatBitmap) chunk(i int64) ([]byte, error) {
	if c, ok := b.chunks.Get(i); ok {
		return c, nil
	}
	c, err := b.readChunk(i, nil)
	if err != nil {
		return nil, err
	}
	b.chunks.Add(i, c)
	return c, nil
}

func (b *exfatBitmap) readChunk(i int64, buf []byte) ([]byte, error) {
	n := min(int64(bitmapChunk), b.bytes-i*bitmapChunk)
	if int64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := b.r.ReadAt(buf, i*bitmapChunk); err != nil {
		return nil, err
	}
	return buf, nil
}

// isFree reports whether the bitmap marks cluster c free (unreadable bits count as in use).
func (b *exfatBitmap) isFree(c uint32) bool {
	if !b.g.validCluster(c) {
		return false
	}
	bit := int64(c - 2)
	chunk, err := b.chunk(bit / 8 / bitmapChunk)
	if err != nil {
		return false
	}
	return chunk[bit/8%bitmapChunk]&(1<<(bit%8)) == 0
}

// forEachFree calls fn for every maximal run of free clusters, ascending.
func (b *exfatBitmap) forEachFree(stop func() bool, fn func(first, count uint32) bool) error {
	var runStart, runLen uint32
	var buf []byte
	last := b.g.lastCluster()
	for i := int64(0); i*bitmapChunk < b.bytes; i++ {
		if stop() {
			return nil
		}
		chunk, err := b.readChunk(i, buf)
		if err != nil {
			return err
		}
		buf = chunk
		for k, by := range chunk {
			for bit := 0; bit < 8; bit++ {
				c := uint64(i*bitmapChunk+int64(k))*8 + uint64(bit) + 2
				if c > uint64(last) {
					break
				}
				if by&(1<<bit) == 0 {
					if runLen == 0 {
						runStart = uint32(c)
					}
					runLen++
					continue
				}
				if runLen > 0 {
					if !fn(runStart, runLen) {
						return nil
					}
					runLen = 0
				}
			}
		}
	}
	if runLen > 0 {
		fn(runStart, runLen)
	}
	return nil
}
