package cloudsim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// Snapshot contents for the EBS direct API. A snapshot that names a disk image file serves that
// file's bytes as its 512 KiB blocks. Which blocks are written (non-zero) is found once, lazily,
// skipping the file's holes (SEEK_DATA/SEEK_HOLE) so a 30 GiB sparse image with 6 GiB of data
// costs reading 6 GiB, and kept as a bitmap; the blocks themselves are read from the file on
// each GetSnapshotBlock.

const (
	blockSize = 512 << 10
	gib       = 1 << 30
)

var zeroBlock = make([]byte, blockSize)

var blockPool = sync.Pool{New: func() any { b := make([]byte, blockSize); return &b }}

type contentCache struct {
	mu    sync.Mutex
	snaps map[string]*snapContent // by snapshot id
	diffs map[[2]string]*blockDiff
}

// snapContent is one snapshot's block map.
type snapContent struct {
	once    sync.Once
	err     error
	f       *os.File // nil: no content, every block zero
	size    int64    // bytes in the file
	blocks  int64    // blocks in the volume
	written []uint64 // bitmap of non-zero blocks
}

type blockDiff struct {
	once    sync.Once
	err     error
	changed []uint64
}

func (b *snapContent) has(i int64) bool {
	return i >= 0 && i < b.blocks && b.written != nil && b.written[i/64]&(1<<(i%64)) != 0
}

// content returns the loaded block map of a snapshot.
func (a *AWS) content(s *Snapshot) (*snapContent, error) {
	cc := &a.blocks
	cc.mu.Lock()
	if cc.snaps == nil {
		cc.snaps = map[string]*snapContent{}
	}
	sc := cc.snaps[s.ID]
	if sc == nil {
		sc = &snapContent{}
		cc.snaps[s.ID] = sc
	}
	cc.mu.Unlock()
	sc.once.Do(func() { sc.err = sc.load(a.contentPath(s), int64(snapSize(s))*gib) })
	return sc, sc.err
}

func (a *AWS) contentPath(s *Snapshot) string {
	if s.Content == "" || filepath.IsAbs(s.Content) || a.est.baseDir == "" {
		return s.Content
	}
	return filepath.Join(a.est.baseDir, s.Content)
}

func (sc *snapContent) load(path string, volBytes int64) error {
	sc.blocks = (volBytes + blockSize - 1) / blockSize
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("snapshot content: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	sc.f, sc.size = f, st.Size()
	sc.blocks = max(sc.blocks, (sc.size+blockSize-1)/blockSize)
	sc.written = make([]uint64, (sc.blocks+63)/64)
	bufp := blockPool.Get().(*[]byte)
	defer blockPool.Put(bufp)
	next := int64(0) // first block not yet examined
	for off := int64(0); off < sc.size; {
		data, hole := dataRange(f, off, sc.size)
		if data >= sc.size {
			break
		}
		for b := max(data/blockSize, next); b*blockSize < hole; b++ {
			if err := sc.read(b, *bufp); err != nil {
				return err
			}
			if !bytes.Equal(*bufp, zeroBlock) {
				sc.written[b/64] |= 1 << (b % 64)
			}
			next = b + 1
		}
		off = max(hole, next*blockSize)
	}
	return nil
}

// dataRange finds the next data extent at or after off: [data, hole). Without SEEK_DATA
// support the rest of the file counts as data.
func dataRange(f *os.File, off, size int64) (int64, int64) {
	const seekData, seekHole = 3, 4
	data, err := f.Seek(off, seekData)
	if err != nil {
		if errors.Is(err, syscall.ENXIO) {
			return size, size
		}
		return off, size
	}
	hole, err := f.Seek(data, seekHole)
	if err != nil {
		hole = size
	}
	return data, hole
}

// read fills buf with block i (zeros past the end of the file).
func (sc *snapContent) read(i int64, buf []byte) error {
	clear(buf)
	if sc.f == nil {
		return nil
	}
	off := i * blockSize
	if off >= sc.size {
		return nil
	}
	n, err := sc.f.ReadAt(buf, off)
	if err == io.EOF && int64(n) == min(blockSize, sc.size-off) {
		err = nil
	}
	return err
}

// diff returns the blocks that differ between two snapshots of one lineage.
func (a *AWS) diff(first, second *Snapshot, fc, sc *snapContent) (*blockDiff, error) {
	cc := &a.blocks
	k := [2]string{first.ID, second.ID}
	cc.mu.Lock()
	if cc.diffs == nil {
		cc.diffs = map[[2]string]*blockDiff{}
	}
	d := cc.diffs[k]
	if d == nil {
		d = &blockDiff{}
		cc.diffs[k] = d
	}
	cc.mu.Unlock()
	d.once.Do(func() {
		n := max(fc.blocks, sc.blocks)
		d.changed = make([]uint64, (n+63)/64)
		b1p, b2p := blockPool.Get().(*[]byte), blockPool.Get().(*[]byte)
		defer blockPool.Put(b1p)
		defer blockPool.Put(b2p)
		for i := int64(0); i < n; i++ {
			h1, h2 := fc.has(i), sc.has(i)
			if !h1 && !h2 {
				continue
			}
			changed := h1 != h2
			if h1 && h2 {
				if err := fc.read(i, *b1p); err != nil {
					d.err = err
					return
				}
				if err := sc.read(i, *b2p); err != nil {
					d.err = err
					return
				}
				changed = !bytes.Equal(*b1p, *b2p)
			}
			if changed {
				d.changed[i/64] |= 1 << (i % 64)
			}
		}
	})
	return d, d.err
}

func (c *contentCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sc := range c.snaps {
		if sc.f != nil {
			sc.f.Close()
		}
	}
}
