package vmdk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/klauspost/compress/flate"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// grainMarkerBytes is the head of a compressed grain: the grain's LBA (8 bytes) and the length
// of the compressed data that follows (4 bytes).
const grainMarkerBytes = 12

// firstGrainRead is how much of a compressed grain is read before its length is known: enough
// for the marker and, for well-compressed grains, all of the data, in a single call.
const firstGrainRead = 4096

// maxCompressedBytes bounds a compressed grain: deflate's stored blocks make incompressible data
// slightly larger, and fixed-Huffman coding at most an eighth larger.
func maxCompressedBytes(grainBytes int64) int64 { return grainBytes + grainBytes/8 + 1024 }

// readCompressed fills p with grain g (at sector) from within. Whole-grain reads decompress
// straight into p; partial reads go through the cache of decompressed grains, because file
// systems read small blocks of the same grain again and again.
func (e *sparseExtent) readCompressed(img *Image, p []byte, g, sector, within int64) error {
	key := cacheKey{extent: e.id, index: uint64(g)}
	if data, ok := img.grains.Get(key); ok {
		copy(p, data[within:])
		return nil
	}
	if within == 0 && int64(len(p)) == e.grainBytes {
		return e.inflateGrain(p, g, sector)
	}
	data := make([]byte, e.grainBytes)
	if err := e.inflateGrain(data, g, sector); err != nil {
		return err
	}
	img.grains.Add(key, data)
	copy(p, data[within:])
	return nil
}

// readWholeGrains fills p, whole grains from grain g, decompressing them in parallel: a single
// sequential reader (hashing a file, copying a disk) then uses every core.
func (e *sparseExtent) readWholeGrains(img *Image, p []byte, g, guestOff int64) error {
	type job struct {
		dst       []byte
		g, sector int64
	}
	var jobs []job
	for k := int64(0); k*e.grainBytes < int64(len(p)); k++ {
		dst := p[k*e.grainBytes : (k+1)*e.grainBytes]
		state, sector, err := e.locate(img, g+k)
		if err != nil {
			return err
		}
		switch state {
		case grainUnallocated:
			if err := img.readParent(dst, guestOff+k*e.grainBytes); err != nil {
				return err
			}
		case grainZeroed:
			clear(dst)
		default:
			jobs = append(jobs, job{dst, g + k, sector})
		}
	}
	return inParallel(len(jobs), func(i int) error {
		return e.readCompressed(img, jobs[i].dst, jobs[i].g, jobs[i].sector, 0)
	})
}

// inParallel runs do(0..n-1) on up to GOMAXPROCS goroutines (the caller's among them) and
// returns the error of the lowest failing index.
func inParallel(n int, do func(i int) error) error {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			if err := do(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	var next atomic.Int64
	work := func() {
		for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
			errs[i] = do(i)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// inflateGrain decompresses grain g, stored at sector, into dst (one grain long).
func (e *sparseExtent) inflateGrain(dst []byte, g, sector int64) error {
	pos := sector * sectorSize
	what := fmt.Sprintf("%s grain %d at 0x%x", e.label(), g, pos)
	if pos >= e.fileSize {
		return corrupt(what, "lies past the end of the %d-byte file", e.fileSize)
	}
	limit := maxCompressedBytes(e.grainBytes)
	bufp := grainBufs.Get().(*[]byte)
	defer grainBufs.Put(bufp)
	var src []byte
	if e.markers {
		head := min(firstGrainRead, e.fileSize-pos)
		buf := grow(bufp, head)
		if err := readFull(e.r, buf[:head], pos); err != nil {
			return fmt.Errorf("vmdk: reading %s: %w", what, err)
		}
		if head < grainMarkerBytes {
			return corrupt(what, "grain marker is cut short by the end of the file")
		}
		size := int64(binary.LittleEndian.Uint32(buf[8:]))
		if size == 0 {
			return corrupt(what, "grain table points at a metadata marker (type %d), not at a grain",
				binary.LittleEndian.Uint32(buf[12:]))
		}
		if size > limit {
			return corrupt(what, "grain marker says %d compressed bytes, more than the %d a %d-byte grain can take",
				size, limit, e.grainBytes)
		}
		end := grainMarkerBytes + size
		if end > e.fileSize-pos {
			return corrupt(what, "%d compressed bytes run past the end of the %d-byte file", size, e.fileSize)
		}
		if end > head {
			buf = grow(bufp, end)
			if err := readFull(e.r, buf[head:end], pos+head); err != nil {
				return fmt.Errorf("vmdk: reading %s: %w", what, err)
			}
		}
		src = buf[grainMarkerBytes:end]
	} else {
		// Without a marker the length is unknown: read as much as a grain can take and let the
		// deflate stream say where it ends.
		n := min(limit, e.fileSize-pos)
		buf := grow(bufp, n)
		if err := readFull(e.r, buf[:n], pos); err != nil {
			return fmt.Errorf("vmdk: reading %s: %w", what, err)
		}
		src = buf[:n]
	}
	n, err := inflate(dst, src)
	if err != nil {
		return corrupt(what, "%v", err)
	}
	// Only the part of the last grain that the extent maps must be there.
	need := min(int64(len(dst)), e.mappedBytes-g*e.grainBytes)
	if int64(n) < need {
		return corrupt(what, "decompresses to %d bytes, want %d", n, need)
	}
	clear(dst[n:])
	return nil
}

var grainBufs = sync.Pool{New: func() any { return new([]byte) }}

// grow makes *bufp at least n bytes long, keeping its contents, and returns it.
func grow(bufp *[]byte, n int64) []byte {
	if int64(cap(*bufp)) < n {
		b := make([]byte, n)
		copy(b, *bufp)
		*bufp = b
	}
	*bufp = (*bufp)[:cap(*bufp)]
	return *bufp
}

// inflater is a reusable deflate decoder: allocating one per grain would cost more than many
// grains take to decompress.
type inflater struct {
	src bytes.Reader
	dec io.ReadCloser
}

var inflaters = sync.Pool{New: func() any {
	f := &inflater{}
	f.dec = flate.NewReader(&f.src)
	return f
}}

var errPresetDictionary = errors.New("zlib stream needs a preset dictionary")

// inflate decompresses a zlib stream (what VMware and qemu write) or a raw deflate stream (what
// the VMDK specification says) into dst and returns how many bytes it produced: at most
// len(dst), which bounds the work whatever src holds. The Adler-32 trailer is not checked:
// deflate's own framing catches most damage, and the check would be a second pass over every
// grain.
func inflate(dst, src []byte) (int, error) {
	if isZlibHeader(src) {
		if src[1]&0x20 != 0 {
			return 0, errPresetDictionary
		}
		src = src[2:]
	}
	f := inflaters.Get().(*inflater)
	defer inflaters.Put(f)
	f.src.Reset(src)
	if err := f.dec.(flate.Resetter).Reset(&f.src, nil); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(f.dec, dst)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil // a short grain: the caller decides whether that is enough
	}
	if err != nil {
		return n, fmt.Errorf("deflate: %w", err)
	}
	return n, nil
}

// isZlibHeader reports whether b starts with a zlib header (RFC 1950): deflate method, a window
// of at most 32 KiB, and a check value that makes the first two bytes a multiple of 31.
func isZlibHeader(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}
