package ext4

import (
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

const (
	rootIno = 2

	// metaCacheBytes bounds the cache of metadata blocks (inode tables, extent nodes, bitmaps).
	metaCacheBytes = 16 << 20
)

// FS is an open ext2/3/4 volume. It is immutable after Open apart from its caches, which are
// safe for concurrent use, so every method may be called from many goroutines.
type FS struct {
	r             io.ReaderAt
	size          int64
	sb            *superblock
	blockSize     int64
	descsPerBlock uint64
	groups        []group
	meta          *lru.Cache[uint64, []byte]

	uninitOnce sync.Once
	uninitIdx  map[uint64][]blockSpan
}

// Detect reports whether the volume holds ext2/3/4: the superblock magic and sane fields.
func Detect(r io.ReaderAt, size int64) bool {
	_, err := readSuperblock(r, size)
	return err == nil
}

// Open reads the superblock and the group descriptors.
func Open(r io.ReaderAt, size int64) (*FS, error) {
	sb, err := readSuperblock(r, size)
	if err != nil {
		return nil, err
	}
	f := &FS{r: r, size: size, sb: sb, blockSize: sb.blockSize()}
	f.descsPerBlock = uint64(f.blockSize) / uint64(sb.descSize)
	f.meta, _ = lru.New[uint64, []byte](max(64, metaCacheBytes/int(f.blockSize)))
	if err := f.readGroups(); err != nil {
		return nil, err
	}
	if err := f.checkGroup(0); err != nil {
		return nil, err
	}
	return f, nil
}

// Type is "ext2", "ext3" or "ext4", decided from the feature flags.
func (f *FS) Type() string { return f.sb.fsType() }

// Root is inode 2.
func (f *FS) Root() uint64 { return rootIno }

// Label is the volume name.
func (f *FS) Label() string {
	n := f.sb.volumeName[:]
	if i := strings.IndexByte(string(n), 0); i >= 0 {
		n = n[:i]
	}
	return string(n)
}

// UUID is the volume UUID in its usual textual form.
func (f *FS) UUID() string {
	h := hex.EncodeToString(f.sb.uuid[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// readAt reads len(p) bytes at a volume offset, refusing ranges past the end.
func (f *FS) readAt(p []byte, off int64, what string) error {
	if off < 0 || off > f.size || int64(len(p)) > f.size-off {
		return filesystem.Corrupt("ext4", what, "bytes 0x%x..+%d lie past the end of the %d-byte volume", off, len(p), f.size)
	}
	if _, err := f.r.ReadAt(p, off); err != nil && err != io.EOF {
		return fmt.Errorf("ext4: reading %s at 0x%x: %w", what, off, err)
	}
	return nil
}

// blockOff converts a block number to a volume offset, refusing blocks outside the file system.
func (f *FS) blockOff(blk uint64) (int64, error) {
	if blk >= f.sb.blocksCount {
		return 0, filesystem.Corrupt("ext4", "block pointer", "block %d is beyond the %d blocks of the file system", blk, f.sb.blocksCount)
	}
	return int64(blk) * f.blockSize, nil
}

// readBlock reads one block into a new buffer (data and directory blocks, not cached).
func (f *FS) readBlock(blk uint64) ([]byte, error) {
	off, err := f.blockOff(blk)
	if err != nil {
		return nil, err
	}
	b := make([]byte, f.blockSize)
	if err := f.readAt(b, off, "block "+itoa(blk)); err != nil {
		return nil, err
	}
	return b, nil
}

// metaBlock reads a metadata block through the cache. The slice is shared: never modify it.
func (f *FS) metaBlock(blk uint64) ([]byte, error) {
	if b, ok := f.meta.Get(blk); ok {
		return b, nil
	}
	b, err := f.readBlock(blk)
	if err != nil {
		return nil, err
	}
	f.meta.Add(blk, b)
	return b, nil
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
