package xfs

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Deleted files. Unlinking a file in XFS frees its extents, sets its size to 0, zeroes the
// mode and marks the inode free in the inode btree, all in one logged transaction: content is
// normally gone from the metadata. What can survive on a snapshot:
//
//   - free inodes whose on-disk core was not rewritten after the free (the journal holds the
//     change until it is checkpointed): still a regular file with extents;
//   - unlinked-but-open inodes (nlink 0 on an AGI unlinked list): a file deleted while a process
//     held it open at snapshot time, with all its data;
//   - names in unused space of directory blocks (see deleted_names.go).

// maxUnlinkedSteps bounds the walk of the AGI unlinked lists of the whole file system.
const maxUnlinkedSteps = 1 << 20

// Deleted yields deleted directory entries and recoverable inodes. Names whose inode still maps
// data come back once, with content; other names come back with Content nil.
func (f *FS) Deleted(ctx context.Context) iter.Seq2[filesystem.Deleted, error] {
	return func(yield func(filesystem.Deleted, error) bool) {
		names := f.scanDeletedNames(ctx)
		for _, err := range names.errs {
			if !yield(filesystem.Deleted{}, err) {
				return
			}
		}
		byIno := map[uint64]int{}
		for i, n := range names.names {
			if n.ino != 0 {
				if _, dup := byIno[n.ino]; !dup {
					byIno[n.ino] = i
				}
			}
		}
		sc := &inodeScan{f: f, ctx: ctx, yield: yield, names: names, byIno: byIno}
		if !sc.run() {
			return
		}
		for _, n := range names.names {
			if n.consumed {
				continue
			}
			d := filesystem.Deleted{Path: n.path, Ino: n.ino}
			if n.hasMode {
				d.Mode = n.mode
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

// inodeScan looks for recoverable inodes group by group.
type inodeScan struct {
	f     *FS
	ctx   context.Context
	yield func(filesystem.Deleted, error) bool
	names *nameScan
	byIno map[uint64]int
	steps int
}

// run returns false when the consumer stopped.
func (s *inodeScan) run() bool {
	f := s.f
	for agno := uint32(0); agno < f.sb.agCount; agno++ {
		if err := s.ctx.Err(); err != nil {
			s.yield(filesystem.Deleted{}, err)
			return false
		}
		if f.agBeyondVolume(agno) {
			return s.yield(filesystem.Deleted{}, fmt.Errorf("xfs: allocation groups %d..%d lie beyond the end of the volume", agno, f.sb.agCount-1))
		}
		a, err := f.readAGI(agno)
		if err != nil {
			if !s.yield(filesystem.Deleted{}, err) {
				return false
			}
			continue
		}
		if !s.unlinked(a) || !s.freeInodes(a) {
			return false
		}
	}
	return true
}

// unlinked follows the 64 unlinked-list buckets of one AGI.
func (s *inodeScan) unlinked(a *agi) bool {
	f := s.f
	seen := map[uint32]bool{}
	for _, head := range a.unlinked {
		for agino := head; agino != nullAGBno; {
			if s.steps++; s.steps > maxUnlinkedSteps || seen[agino] {
				return s.yield(filesystem.Deleted{}, filesystem.Corrupt("xfs", fmt.Sprintf("AGI %d unlinked list", a.agno), "loops or exceeds %d inodes at agino %d", maxUnlinkedSteps, agino))
			}
			seen[agino] = true
			ino := uint64(a.agno)<<(f.sb.agBlkLog+f.sb.inoPBLog) | uint64(agino)
			n, err := f.readInode(ino, true)
			if err != nil {
				if !s.yield(filesystem.Deleted{}, fmt.Errorf("xfs: unlinked list of AG %d: %w", a.agno, err)) {
					return false
				}
				break
			}
			if n.isReg() && n.nlink == 0 && !s.emit(n, false) {
				return false
			}
			agino = n.nextUnlinked
		}
	}
	return true
}

// freeInodes visits the inodes marked free in the inode btree and reports those whose core
// still describes a regular file with mapped data.
func (s *inodeScan) freeInodes(a *agi) bool {
	f := s.f
	sparse := f.sb.sparseInodes()
	var cand []uint64
	err := f.walkAGBtree(s.ctx, inoBtree, a.agno, a.root, a.level, nil, func(rec []byte) bool {
		be := binary.BigEndian
		start := be.Uint32(rec)
		var holes uint16
		if sparse {
			holes = be.Uint16(rec[4:])
		}
		free := be.Uint64(rec[8:])
		for i := uint32(0); i < 64; i++ {
			if free&(1<<i) == 0 || holes&(1<<(i/4)) != 0 {
				continue
			}
			cand = append(cand, uint64(a.agno)<<(f.sb.agBlkLog+f.sb.inoPBLog)|uint64(start+i))
		}
		return true
	})
	if err != nil && !s.yield(filesystem.Deleted{}, err) {
		return false
	}
	for i, ino := range cand {
		if i%ctxCheckBlocks == 0 && s.ctx.Err() != nil {
			s.yield(filesystem.Deleted{}, s.ctx.Err())
			return false
		}
		n, err := f.readInode(ino, true)
		if err != nil || !n.isReg() || n.nextents == 0 || (n.format != formatExtents && n.format != formatBtree) {
			continue // free inodes are expected to be zeroed or stale: not an error
		}
		if !s.emit(n, true) {
			return false
		}
	}
	return true
}

// emit yields one recovered inode, under its former name when a deleted entry names it.
func (s *inodeScan) emit(n *inode, free bool) bool {
	f := s.f
	mode, _ := filesystem.UnixMode(n.mode)
	d := filesystem.Deleted{Path: orphanPath(n.ino), Ino: n.ino, Mode: mode, Size: n.size, ModTime: n.mtime}
	if i, ok := s.byIno[n.ino]; ok {
		d.Path = s.names.names[i].path
		s.names.names[i].consumed = true
	}
	r, err := f.content(n)
	if err != nil {
		return s.yield(d, fmt.Errorf("xfs: deleted inode %d: %w", n.ino, err))
	}
	d.Content = r
	if !free {
		d.Recovered = n.size // still allocated: every byte is the file's own
		return s.yield(d, nil)
	}
	fr, ok := r.(*fileReader)
	if !ok {
		return s.yield(d, nil)
	}
	rec, err := s.recoverable(fr.m, n.size)
	d.Recovered = rec
	return s.yield(d, err)
}

// recoverable counts the bytes of the file (up to size) whose blocks are free now: blocks that
// were reallocated may hold another file's data.
func (s *inodeScan) recoverable(m forkMap, size int64) (int64, error) {
	f := s.f
	bs := int64(f.sb.blockSize)
	var total int64
	agfs := map[uint32]*agf{}
	lists := map[uint32][]uint32{}
	for _, e := range m {
		if e.unwritten || e.off >= uint64((size+bs-1)/bs) {
			continue
		}
		agno := uint32(e.start >> f.sb.agBlkLog)
		a, ok := agfs[agno]
		if !ok {
			var err error
			if a, err = f.readAGF(agno); err != nil {
				return total, err
			}
			agfs[agno] = a
			lists[agno], _ = f.freeList(a)
		}
		agbno := uint32(e.start & (1<<f.sb.agBlkLog - 1))
		free, err := f.freeBlocks(s.ctx, a, lists[agno], agbno, e.count)
		if err != nil {
			return total, err
		}
		// Only the part of the extent inside the file size counts.
		inFile := min(int64(e.count), (size+bs-1)/bs-int64(e.off))
		total += min(int64(free), inFile) * bs
	}
	return min(total, size), nil
}
