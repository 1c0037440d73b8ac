package unpack

import (
	"bufio"
	"compress/bzip2"
	"errors"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// maxWindow caps the zstd window, as the zstd command's own default decompression limit does
// (--long=27 archives fit, larger ones fail); maxXZDict caps the xz dictionary at the largest
// preset's (-9). They bound the memory of one open stream.
const (
	maxWindow = 128 << 20
	maxXZDict = 64 << 20
)

// readBuffer is the read-ahead under every decompressor: large enough that reading through a
// slow io.ReaderAt is not one call per few bytes.
const readBuffer = 64 << 10

// isCompression tells the formats that wrap one stream from the archives that hold members.
func isCompression(kind string) bool {
	switch kind {
	case KindGzip, KindBzip2, KindXZ, KindZstd, KindLZ4:
		return true
	}
	return false
}

// decompress opens the decompressor for kind over compressed bytes r, metered: its output is
// charged to the walk's budget and checked against the ratio limit as it streams. size is the
// compressed length when known (-1 if not), to size the read-ahead for small zip members.
func (w *walker) decompress(kind, path string, r io.Reader, size int64) (io.ReadCloser, error) {
	in := &countReader{r: r}
	buf := readBuffer
	if size >= 0 {
		buf = int(min(max(size, 512), readBuffer))
	}
	dec, err := newDecompressor(kind, bufio.NewReaderSize(in, buf))
	if err != nil {
		return nil, locate(path, kind, err)
	}
	m := &meter{path: path, format: kind, r: dec, in: in, ratio: w.lim.MaxRatio, budget: &w.budget}
	return struct {
		io.Reader
		io.Closer
	}{m, dec}, nil
}

// flateReaders keeps deflate decoders between zip members: each holds a 32 KiB window and its
// Huffman tables, and a jar of thousands of small classes would otherwise allocate and clear
// them once per member.
var flateReaders sync.Pool

// pooledFlate returns a deflate decoder over r, from the pool when one is there.
func pooledFlate(r io.Reader) io.ReadCloser {
	if f, ok := flateReaders.Get().(io.ReadCloser); ok {
		if f.(flate.Resetter).Reset(r, nil) == nil {
			return &flateReader{dec: f}
		}
	}
	return &flateReader{dec: flate.NewReader(r)}
}

// flateReader gives its decoder back to the pool on Close, once; it reads nothing after.
type flateReader struct{ dec io.ReadCloser }

func (f *flateReader) Read(p []byte) (int, error) {
	if f.dec == nil {
		return 0, errors.New("deflate: read after close")
	}
	return f.dec.Read(p)
}

func (f *flateReader) Close() error {
	if f.dec == nil {
		return nil
	}
	err := f.dec.Close()
	flateReaders.Put(f.dec)
	f.dec = nil
	return err
}

// newDecompressor returns the plain decoder for kind.
func newDecompressor(kind string, r io.Reader) (io.ReadCloser, error) {
	switch kind {
	case "deflate": // zip's method 8
		return pooledFlate(r), nil
	case KindGzip:
		z, err := gzip.NewReader(r) // reads concatenated members (gzip -c a >x; gzip -c b >>x) as one stream
		if err != nil {
			return nil, err
		}
		return z, nil
	case KindBzip2:
		return io.NopCloser(bzip2.NewReader(r)), nil // concatenated streams (pbzip2) included
	case KindXZ:
		return io.NopCloser(newXZReader(r)), nil
	case KindZstd:
		d, err := zstd.NewReader(r,
			zstd.WithDecoderConcurrency(1), // no read-ahead goroutines: memory stays one window
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(maxWindow),
			zstd.WithDecoderMaxMemory(maxWindow),
			zstd.WithDecodeBuffersBelow(0)) // never decode a whole small input at once into memory
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	case KindLZ4:
		return io.NopCloser(lz4.NewReader(r)), nil // blocks are at most 4 MiB
	}
	panic("unpack: no decompressor for " + kind)
}
