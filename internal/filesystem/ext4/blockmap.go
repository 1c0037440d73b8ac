package ext4

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// maxRuns caps the runs of contiguous blocks one file may map to (about 32 MiB of runs).
const maxRuns = 1 << 20

// run maps length logical blocks of a file, from logical, to the volume from physical.
// uninit runs are preallocated: they read as zeros.
type run struct {
	logical, physical, length uint64
	uninit                    bool
}

// appendRun adds r, merging it into the last run when both are contiguous.
func appendRun(runs []run, r run, what string) ([]run, error) {
	if n := len(runs); n > 0 {
		last := &runs[n-1]
		if last.uninit == r.uninit && last.logical+last.length == r.logical && last.physical+last.length == r.physical {
			last.length += r.length
			return runs, nil
		}
	}
	if len(runs) >= maxRuns {
		return nil, fmt.Errorf("%w (%w)", filesystem.Corrupt("ext4", what, "more than %d fragments", maxRuns), errBudget)
	}
	return append(runs, r), nil
}

// volumeBlocks is how many blocks the volume really holds: no file can map more, and no walk
// needs more tree blocks, so it bounds the work a hostile block map can cause.
func (f *FS) volumeBlocks() uint64 {
	return min(f.sb.blocksCount, uint64(f.size/f.blockSize)+1)
}

// mapBudget counts the blocks a file maps, refusing more than the volume holds (ext4 has no
// shared blocks, so more can only come from a map that names the same blocks again and again).
type mapBudget struct {
	left uint64
}

// errBudget marks the errors of the caps on a block map walk: they end even a walk that
// tolerates damage (skipping would not bound the work).
var errBudget = errors.New("block map budget exceeded")

func (b *mapBudget) take(n uint64, what string) error {
	if n > b.left {
		return fmt.Errorf("%w (%w)", filesystem.Corrupt("ext4", what, "maps more blocks than the volume holds (blocks named more than once?)"), errBudget)
	}
	b.left -= n
	return nil
}

// sizeBlocks is how many blocks hold size bytes.
func (f *FS) sizeBlocks(size int64) uint64 {
	return (uint64(size) + uint64(f.blockSize) - 1) / uint64(f.blockSize)
}

// blockRuns maps the blocks of a file that keeps its data in blocks (not inline).
func (f *FS) blockRuns(in *inode) ([]run, error) {
	return f.mapRuns(in, nil)
}

// mapRuns is blockRuns; with skip set, extents, pointers and tree blocks that lie outside the
// volume or cannot be read are handed to skip (with the first logical block they map) and left
// out, instead of failing the whole map. Directories use it: a damaged extent loses only the
// blocks it maps.
func (f *FS) mapRuns(in *inode, skip func(lblk uint64, err error)) ([]run, error) {
	limit := f.sizeBlocks(in.size)
	if in.flags&flagExtents != 0 {
		return f.extentRuns(in, limit, skip)
	}
	return f.indirectRuns(in, limit, skip)
}

// isFastSymlink tells a symlink whose target is stored in i_block itself.
func isFastSymlink(in *inode) bool {
	return in.isLink() && in.flags&flagInlineData == 0 && in.size < iBlockLen
}

// content returns a reader of the file's bytes (size in.size), for regular files, symlinks and
// directories alike.
func (f *FS) content(in *inode) (io.ReaderAt, error) {
	switch {
	case in.flags&flagInlineData != 0:
		b, err := f.inlineData(in)
		if err != nil {
			return nil, err
		}
		return bytes.NewReader(b), nil
	case isFastSymlink(in):
		return bytes.NewReader(in.iblock()[:in.size]), nil
	}
	runs, err := f.blockRuns(in)
	if err != nil {
		return nil, err
	}
	return &blockReader{f: f, runs: runs, size: in.size, what: "inode " + itoa(in.ino) + " data"}, nil
}

// Open returns the content of a regular file that is in use.
func (f *FS) Open(ino uint64) (io.ReaderAt, error) {
	in, err := f.inUse(ino)
	if err != nil {
		return nil, err
	}
	if !in.isReg() {
		return nil, fmt.Errorf("ext4: inode %d is not a regular file: %w", ino, fs.ErrInvalid)
	}
	return f.content(in)
}

// blockReader reads a file through its runs; holes and preallocated runs read as zeros.
type blockReader struct {
	f    *FS
	runs []run
	size int64
	what string
}

func (r *blockReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("ext4: negative offset %d", off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > r.size-off {
		p = p[:r.size-off]
	}
	bs := uint64(r.f.blockSize)
	done := 0
	for done < len(p) {
		pos := uint64(off) + uint64(done)
		lblk := pos / bs
		i := sort.Search(len(r.runs), func(i int) bool { return r.runs[i].logical+r.runs[i].length > lblk })
		var n int
		if i == len(r.runs) || r.runs[i].logical > lblk {
			// A hole up to the next run (or the end).
			end := uint64(r.size)
			if i < len(r.runs) {
				end = min(end, r.runs[i].logical*bs)
			}
			n = int(min(uint64(len(p)-done), end-pos))
			clear(p[done : done+n])
		} else {
			rn := r.runs[i]
			end := (rn.logical + rn.length) * bs
			n = int(min(uint64(len(p)-done), end-pos))
			if rn.uninit {
				clear(p[done : done+n])
			} else {
				phys := int64((rn.physical+(lblk-rn.logical))*bs + pos%bs)
				if err := r.f.readAt(p[done:done+n], phys, r.what); err != nil {
					return done, err
				}
			}
		}
		done += n
	}
	if done < want {
		return done, io.EOF
	}
	return done, nil
}

// Extents maps a file's bytes to the volume: holes and preallocated runs have Physical -1, inline
// data is Encoded at the inode's own bytes.
func (f *FS) Extents(ino uint64) ([]filesystem.Extent, error) {
	in, err := f.inUse(ino)
	if err != nil {
		return nil, err
	}
	if in.flags&flagInlineData != 0 || isFastSymlink(in) {
		return f.inlineExtents(in)
	}
	runs, err := f.blockRuns(in)
	if err != nil {
		return nil, err
	}
	return runsToExtents(runs, in.size, f.blockSize), nil
}

func runsToExtents(runs []run, size, bs int64) []filesystem.Extent {
	var out []filesystem.Extent
	var pos int64
	add := func(e filesystem.Extent) {
		if e.Logical+e.Length > size {
			e.Length = size - e.Logical
		}
		if e.Length <= 0 {
			return
		}
		if n := len(out); n > 0 && out[n-1].Physical < 0 && e.Physical < 0 {
			out[n-1].Length += e.Length
			return
		}
		out = append(out, e)
	}
	for _, r := range runs {
		l := int64(r.logical) * bs
		if l > pos {
			add(filesystem.Extent{Logical: pos, Physical: -1, Length: l - pos})
		}
		phys := int64(r.physical) * bs
		if r.uninit {
			phys = -1
		}
		add(filesystem.Extent{Logical: l, Physical: phys, Length: int64(r.length) * bs})
		pos = l + int64(r.length)*bs
	}
	if pos < size {
		add(filesystem.Extent{Logical: pos, Physical: -1, Length: size - pos})
	}
	return out
}
