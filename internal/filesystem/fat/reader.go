package fat

import (
	"io"
	"slices"
)

// chainReader reads a file whose clusters are the runs of a chain.
type chainReader struct {
	g     *geometry
	what  string // the file, for errors
	runs  []run
	size  int64 // the file's size
	have  int64 // bytes the runs cover, ≤ size: reads past it fail with broken
	valid int64 // exFAT ValidDataLength: bytes from here to size read as zeros (size for FAT)
	// broken says why the chain covers less than size (nil when it covers it all).
	broken error
}

func newChainReader(g *geometry, what string, l runList, size, valid int64) *chainReader {
	have := min(size, int64(l.clusters)*g.clusterSize)
	broken := l.broken
	if broken == nil && have < size {
		broken = io.ErrUnexpectedEOF
	}
	return &chainReader{g: g, what: what, runs: l.runs, size: size, have: have, valid: min(valid, size), broken: broken}
}

// ReadAt reads the file. Bytes the chain does not reach fail with the chain's corruption error
// after the bytes it does reach have been returned.
func (cr *chainReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errNegativeOffset
	}
	if off >= cr.size {
		return 0, io.EOF
	}
	want := p
	if rest := cr.size - off; int64(len(want)) > rest {
		want = want[:rest]
	}
	n := 0
	for n < len(want) {
		pos := off + int64(n)
		if pos >= cr.have {
			return n, cr.broken
		}
		if pos >= cr.valid {
			end := min(int64(len(want)), cr.have-off)
			clear(want[n:end])
			n = int(end)
			continue
		}
		cl := uint64(pos / cr.g.clusterSize)
		k, _ := slices.BinarySearchFunc(cr.runs, cl, func(r run, c uint64) int {
			switch {
			case r.logical+uint64(r.count) <= c:
				return -1
			case r.logical > c:
				return 1
			}
			return 0
		})
		r := cr.runs[k]
		runEnd := int64(r.logical+uint64(r.count)) * cr.g.clusterSize
		phys := cr.g.clusterOff(r.start) + pos - int64(r.logical)*cr.g.clusterSize
		chunk := min(int64(len(want)-n), runEnd-pos, cr.have-pos, cr.valid-pos)
		if err := cr.g.readFull(want[n:n+int(chunk)], phys, cr.what); err != nil {
			return n, err
		}
		n += int(chunk)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

var errNegativeOffset = errorString("negative offset")

// Size is the file's size (the bytes ReadAt can give when the chain is whole).
func (cr *chainReader) Size() int64 { return cr.size }
