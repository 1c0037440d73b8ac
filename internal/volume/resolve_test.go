package volume

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// TestResolve: the pieces Resolve names, read from the disk, are the bytes the volume reads, for
// a partition, a striped LV over two partitions, and an LV with a zero segment.
func TestResolve(t *testing.T) {
	disk := make([]byte, 4<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range disk {
		disk[i] = byte(rng.Uint32())
	}
	dr := bytes.NewReader(disk)
	p1 := io.NewSectionReader(dr, 1<<20, 1<<20)
	p2 := io.NewSectionReader(dr, 2<<20, 2<<20)
	lv := &extentMap{name: "vg/lv", size: 5 << 19, segs: []mappedSegment{
		{start: 0, length: 1 << 20, chunkBytes: 64 << 10, areas: []mappedArea{{r: p1, base: 0}, {r: p2, base: 4096}}},
		{start: 1 << 20, length: 512 << 10, chunkBytes: 512 << 10, zero: true},
		{start: 3 << 19, length: 1 << 20, chunkBytes: 1 << 20, areas: []mappedArea{{r: p2, base: 768 << 10}}},
	}}
	vols := map[string]*io.SectionReader{"p1": p1, "lv": io.NewSectionReader(lv, 0, lv.size)}
	for name, v := range vols {
		for range 200 {
			off := rng.Int64N(v.Size())
			n := 1 + rng.Int64N(300<<10)
			want := make([]byte, min(n, v.Size()-off))
			if _, err := v.ReadAt(want, off); err != nil && err != io.EOF {
				t.Fatal(err)
			}
			got := make([]byte, len(want))
			// Bytes not yielded (zero segments) stay zero, as the volume reads them.
			for _, p := range resolvePieces(v, off, n) {
				if p.r != io.ReaderAt(dr) {
					t.Fatalf("%s: piece on %T, want the disk", name, p.r)
				}
				copy(got[p.vol:], disk[p.off:p.off+p.n])
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: bytes %d+%d differ through Resolve", name, off, n)
			}
		}
	}
	// Stopping early is honoured.
	calls := 0
	Resolve(vols["lv"], 0, 1<<20, func(io.ReaderAt, int64, int64) bool { calls++; return false })
	if calls != 1 {
		t.Errorf("yield called %d times after returning false", calls)
	}
}

type piece struct {
	r           io.ReaderAt
	vol, off, n int64
}

// resolvePieces also works out where each piece lies in the volume range, from the order.
func resolvePieces(v *io.SectionReader, off, n int64) []piece {
	var out []piece
	// Resolve each 4 KiB-aligned run separately, so that the volume position of a piece is known.
	end := min(off+n, v.Size())
	for pos := off; pos < end; {
		k := min(end-pos, 4096-pos%4096)
		Resolve(v, pos, k, func(r io.ReaderAt, o, m int64) bool {
			out = append(out, piece{r, pos - off, o, m})
			return true
		})
		pos += k
	}
	return out
}
