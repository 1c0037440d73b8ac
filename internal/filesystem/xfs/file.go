package xfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// errRealtime is returned for files whose data lives on a separate realtime device.
var errRealtime = fmt.Errorf("xfs: data lives on the realtime device, which is not part of this volume: %w", errors.ErrUnsupported)

// Open returns the content of a regular file.
func (f *FS) Open(ino uint64) (io.ReaderAt, error) {
	n, err := f.readInode(ino, false)
	if err != nil {
		return nil, err
	}
	if !n.isReg() {
		return nil, fmt.Errorf("xfs: inode %d is not a regular file (mode %#o)", ino, n.mode)
	}
	return f.content(n)
}

// content builds the reader of an inode's data fork, for live and deleted files alike.
func (f *FS) content(n *inode) (io.ReaderAt, error) {
	if n.flags&flagRealtime != 0 {
		return nil, fmt.Errorf("inode %d: %w", n.ino, errRealtime)
	}
	switch n.format {
	case formatLocal:
		// Regular files are never inline in XFS, but an inline fork is unambiguous to read.
		if n.size > int64(len(n.dfork)) {
			return nil, filesystem.Corrupt("xfs", fmt.Sprintf("inode %d", n.ino), "inline size %d exceeds the %d-byte fork", n.size, len(n.dfork))
		}
		return bytes.NewReader(n.dfork[:n.size]), nil
	case formatExtents, formatBtree:
		m, err := f.dataMap(n)
		if err != nil {
			return nil, err
		}
		return &fileReader{f: f, m: m, size: n.size, ino: n.ino}, nil
	}
	return nil, filesystem.Corrupt("xfs", fmt.Sprintf("inode %d", n.ino), "data fork format %d for a regular file", n.format)
}

// fileReader reads a file through its block map: holes and unwritten extents read as zeros.
type fileReader struct {
	f    *FS
	m    forkMap
	size int64
	ino  uint64
}

func (r *fileReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("xfs: inode %d: negative offset %d", r.ino, off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > r.size-off {
		p = p[:r.size-off]
	}
	sb := r.f.sb
	bs := int64(sb.blockSize)
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		fb := uint64(pos >> sb.blockLog)
		in := pos & (bs - 1)
		i := r.m.find(fb)
		var n int64
		if i < 0 || r.m[i].unwritten {
			// Zeros up to the end of the unwritten extent or the start of the next extent.
			end := int64(len(p) - done)
			if i >= 0 {
				end = min(end, blockBytes(r.m[i].off+uint64(r.m[i].count)-fb, sb.blockLog)-in)
			} else if next := r.m.nextAfter(fb); next < len(r.m) {
				end = min(end, blockBytes(r.m[next].off-fb, sb.blockLog)-in)
			}
			clear(p[done : done+int(end)])
			n = end
		} else {
			e := r.m[i]
			phys, _ := sb.fsbOffset(e.start) // checked when the map was built
			phys += int64(fb-e.off)*bs + in
			n = min(int64(len(p)-done), blockBytes(e.off+uint64(e.count)-fb, sb.blockLog)-in)
			if err := r.f.vol.readAt(p[done:done+int(n)], phys); err != nil {
				return done, fmt.Errorf("xfs: inode %d at offset %d: %w", r.ino, pos, err)
			}
		}
		done += int(n)
	}
	if done < want {
		return done, io.EOF
	}
	return done, nil
}

// nextAfter returns the index of the first extent starting after file block b.
func (m forkMap) nextAfter(b uint64) int {
	return sort.Search(len(m), func(i int) bool { return m[i].off > b })
}

// Extents says where a file's bytes lie on the volume. Unwritten (preallocated) extents are
// reported as holes; blocks past the end of the file are left out; an inline fork is one
// Encoded extent pointing into the inode.
func (f *FS) Extents(ino uint64) ([]filesystem.Extent, error) {
	n, err := f.readInode(ino, false)
	if err != nil {
		return nil, err
	}
	if n.flags&flagRealtime != 0 {
		return nil, fmt.Errorf("inode %d: %w", ino, errRealtime)
	}
	switch n.format {
	case formatLocal:
		size := min(n.size, int64(len(n.dfork)))
		if size == 0 {
			return nil, nil
		}
		return []filesystem.Extent{{Logical: 0, Physical: n.dforkOff, Length: size, Encoded: true}}, nil
	case formatExtents, formatBtree:
	default:
		return nil, nil
	}
	m, err := f.dataMap(n)
	if err != nil {
		return nil, err
	}
	return f.extentsOf(m, n.size, n.isSymlink() && f.sb.version == 5), nil
}

func (f *FS) extentsOf(m forkMap, size int64, encoded bool) []filesystem.Extent {
	var out []filesystem.Extent
	bs := int64(f.sb.blockSize)
	for _, e := range m {
		if e.off >= uint64((size+bs-1)/bs) {
			break
		}
		logical := int64(e.off) * bs
		length := min(int64(e.count)*bs, size-logical)
		phys := int64(-1)
		if !e.unwritten {
			phys, _ = f.sb.fsbOffset(e.start)
		}
		out = append(out, filesystem.Extent{Logical: logical, Physical: phys, Length: length, Encoded: encoded})
	}
	return out
}

// blockBytes converts a block count to bytes, saturating far beyond any file size so that
// hostile 54-bit offsets cannot overflow.
func blockBytes(blocks uint64, blockLog uint8) int64 {
	if blocks >= 1<<(62-blockLog) {
		return 1 << 62
	}
	return int64(blocks) << blockLog
}
