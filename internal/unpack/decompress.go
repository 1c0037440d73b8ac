package unpack

import (
	"bufio"
	"compress/bzip2"
	"io"

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

// newDecompressor returns the plain decoder for kind.
func newDecompressor(kind string, r io.Reader) (io.ReadCloser, error) {
	switch kind {
	case "deflate": // zip's method 8
		return flate.NewReader(r), nil
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
