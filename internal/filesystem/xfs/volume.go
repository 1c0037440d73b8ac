package xfs

import (
	"errors"
	"fmt"
	"io"

	lru "github.com/hashicorp/golang-lru/v2"
)

// metaCacheBytes bounds the metadata block cache (inode clusters, directory and btree blocks):
// a walk touches the same inode blocks and btree nodes again and again, and the volume beneath
// may be a slow network block device.
const metaCacheBytes = 16 << 20

// volume reads the bytes beneath the file system with bounds checks and caches metadata blocks.
type volume struct {
	r         io.ReaderAt
	size      int64
	blockSize int
	cache     *lru.Cache[int64, []byte] // keyed by byte offset; every value is one block, read-only
}

func newVolume(r io.ReaderAt, size int64, blockSize int) *volume {
	entries := min(max(metaCacheBytes/blockSize, 256), 4096)
	c, _ := lru.New[int64, []byte](entries)
	return &volume{r: r, size: size, blockSize: blockSize, cache: c}
}

// errOutside is wrapped by every read refused for lying outside the volume.
var errOutside = errors.New("outside the volume")

// readAt fills p from off, refusing ranges that overflow or pass the end of the volume.
func (v *volume) readAt(p []byte, off int64) error {
	if off < 0 || int64(len(p)) > v.size || off > v.size-int64(len(p)) {
		return fmt.Errorf("read of %d bytes at %#x: %w (size %#x)", len(p), off, errOutside, v.size)
	}
	n, err := v.r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read of %d bytes at %#x: %w", len(p), off, err)
}

// block returns the file-system block at byte offset off (block aligned) from the cache or the
// volume. The slice is shared: callers must not modify it.
func (v *volume) block(off int64) ([]byte, error) {
	if b, ok := v.cache.Get(off); ok {
		return b, nil
	}
	b := make([]byte, v.blockSize)
	if err := v.readAt(b, off); err != nil {
		return nil, err
	}
	v.cache.Add(off, b)
	return b, nil
}
