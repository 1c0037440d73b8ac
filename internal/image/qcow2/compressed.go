package qcow2

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/flate" // the standard library's API, inflating ~20% faster
	"github.com/klauspost/compress/zstd"
)

// maxZstdWindow bounds the memory a hostile zstd frame can make the decoder reserve. QEMU
// compresses one cluster (at most 2 MiB) per frame, so its frames never need more.
const maxZstdWindow = 8 << 20

// newDecompressor returns the function that inflates one compressed cluster into dst, which
// is exactly a cluster long. Decoders are pooled: building one per cluster would dominate the
// cost of reading compressed images.
func newDecompressor(compressionType uint8) func(dst, src []byte) error {
	if compressionType == compressionZstd {
		return inflateZstd
	}
	return inflateDeflate
}

// Decoder pools are shared by all images: a decoder holds no state between clusters.
var deflatePool, zstdPool sync.Pool

// deflateDecompressor inflates raw deflate data (no zlib header), as QEMU writes it. The data
// may end with bytes of the next compressed cluster: QEMU records sizes in whole sectors, and
// decompression stops once the cluster is full.
func inflateDeflate(dst, src []byte) error {
	in := bytes.NewReader(src)
	fr, _ := deflatePool.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(in)
	} else if err := fr.(flate.Resetter).Reset(in, nil); err != nil {
		return err
	}
	_, err := io.ReadFull(fr, dst)
	_ = fr.(flate.Resetter).Reset(bytes.NewReader(nil), nil) // drop the reference to src
	deflatePool.Put(fr)
	return shortCluster(err, len(dst))
}

// zstdDecompressor decodes zstd frames until the cluster is full: QEMU may write a cluster as
// several frames, and the bytes after the last one belong to the next cluster.
func inflateZstd(dst, src []byte) error {
	d, _ := zstdPool.Get().(*zstd.Decoder)
	if d == nil {
		var err error
		d, err = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1), // synchronous: no goroutines to leak from a pool
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(maxZstdWindow),
			zstd.WithDecoderMaxMemory(maxZstdWindow))
		if err != nil {
			return err
		}
	}
	if err := d.Reset(bytes.NewReader(src)); err != nil {
		return err
	}
	_, err := io.ReadFull(d, dst)
	_ = d.Reset(nil) // drop the reference to src
	zstdPool.Put(d)
	return shortCluster(err, len(dst))
}

// shortCluster explains a decompression that ended before a whole cluster came out.
func shortCluster(err error, clusterSize int) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("data decompresses to less than a cluster (%d bytes)", clusterSize)
	}
	return err
}

// compressedCluster returns the decompressed cluster whose compressed data is at off, csize
// bytes, from the cache or the file. It reads only the compressed bytes.
func (img *Image) compressedCluster(off, csize int64) ([]byte, error) {
	key := cacheKey{cacheCompressed, uint64(off)}
	if c, ok := img.cache.Get(key); ok {
		return c, nil
	}
	dst := make([]byte, img.h.clusterSize())
	if err := img.decompressInto(dst, off, csize); err != nil {
		return nil, err
	}
	img.cache.Add(key, dst)
	return dst, nil
}

// decompressInto reads the csize bytes of compressed data at off and inflates them into dst,
// one cluster long.
func (img *Image) decompressInto(dst []byte, off, csize int64) error {
	src := make([]byte, csize)
	if n, err := img.r.ReadAt(src, off); n < len(src) {
		return fmt.Errorf("qcow2: reading compressed cluster at %#x (%d bytes): %w", off, csize, orShort(err))
	}
	if err := img.decompress(dst, src); err != nil {
		return corrupt(fmt.Sprintf("compressed cluster at %#x (%d bytes)", off, csize), "%v", err)
	}
	return nil
}
