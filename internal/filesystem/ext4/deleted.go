package ext4

import (
	"context"
	"io"
	"iter"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// orphanDir is where deleted inodes no name refers to any more are reported.
const orphanDir = "/$OrphanFiles/"

// Deleted yields what deletion left behind, in two passes:
//
//  1. names: every directory reachable from the root (and every deleted directory whose blocks
//     survive) is read block by block; entries hidden in the rec_len slack of a live entry (the
//     predecessor swallows a deleted entry), entries whose inode was zeroed but that still carry a
//     name, and live names whose inode is free (debugfs kill_file) are reported with the path of
//     the directory they are in. A name whose inode is in use again with dtime 0 is skipped: it
//     is the old slot of a renamed file or its inode was reused, and would show another file.
//  2. orphans: free inodes with dtime set whose block map survives and that no name of pass 1
//     refers to, as /$OrphanFiles/<ino>.
//
// Content reads the old block map; Recovered counts the bytes whose blocks are still free.
func (f *FS) Deleted(ctx context.Context) iter.Seq2[filesystem.Deleted, error] {
	return func(yield func(filesystem.Deleted, error) bool) {
		s := &salvage{f: f, ctx: ctx, yield: yield, named: map[uint64]bool{}, visited: map[uint64]bool{}, seen: map[seenKey]bool{}}
		if s.names() {
			s.orphans()
		}
	}
}

type dirJob struct {
	ino  uint64
	path string
	dead bool // the directory itself is deleted
}

type seenKey struct {
	dir, ino uint64
	name     string
}

type salvage struct {
	f       *FS
	ctx     context.Context
	yield   func(filesystem.Deleted, error) bool
	named   map[uint64]bool // inodes reported through a name
	visited map[uint64]bool // directories queued
	seen    map[seenKey]bool
	queue   []dirJob
	stop    bool
}

func (s *salvage) emit(d filesystem.Deleted, err error) {
	if !s.stop && !s.yield(d, err) {
		s.stop = true
	}
}

func joinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// names runs pass 1; it returns false when the consumer stopped or the context ended.
func (s *salvage) names() bool {
	s.visited[rootIno] = true
	s.queue = append(s.queue, dirJob{ino: rootIno, path: "/"})
	for len(s.queue) > 0 && !s.stop {
		if err := s.ctx.Err(); err != nil {
			s.emit(filesystem.Deleted{}, err)
			return false
		}
		job := s.queue[0]
		s.queue = s.queue[1:]
		s.scanDir(job)
	}
	return !s.stop
}

func (s *salvage) scanDir(job dirJob) {
	f := s.f
	var in *inode
	var err error
	if job.dead {
		in, err = f.readInode(job.ino)
		if err == nil && !in.isDir() {
			return
		}
	} else {
		in, err = f.dirInode(job.ino)
	}
	if err != nil {
		s.emit(filesystem.Deleted{}, err)
		return
	}
	err = f.dirBlocks(in, func(lblk uint64, b []byte, berr error) bool {
		if b == nil {
			if !job.dead {
				s.emit(filesystem.Deleted{}, berr)
			}
			return !s.stop
		}
		s.scanBlock(in, job, lblk, b) // a failed checksum does not matter to salvage
		return !s.stop
	})
	if err != nil && !job.dead {
		s.emit(filesystem.Deleted{}, err)
	}
}

// scanBlock looks at one directory block: live entries (to descend and to catch names whose
// inode is free) and the slack after each entry.
func (s *salvage) scanBlock(dir *inode, job dirJob, lblk uint64, b []byte) {
	f := s.f
	htree := dir.flags&flagIndex != 0 && dir.flags&flagInlineData == 0
	if htree && len(b) >= 12 && le32(b, 0) == 0 && int64(f.decodeRecLen(le16(b, 4))) == f.blockSize && b[6] == 0 {
		return // an index node: its dx entries are not directory entries
	}
	what := "directory " + job.path + " block " + itoa(lblk)
	err := f.dirents(b, what, func(d dirent) bool {
		if usableName(d.name) {
			if d.ino != 0 {
				s.entry(dir, job, d, false)
			} else {
				// The first entry of a block is deleted by zeroing its inode: the name stays.
				s.entry(dir, job, d, true)
			}
		}
		if htree && lblk == 0 && d.off > 0 {
			return false // the rest of the root block is the dx_root, not slack
		}
		used := (direntHdr + len(d.name) + 3) &^ 3
		if used < d.recLen {
			s.scanSlack(dir, job, b[d.off+used:d.off+d.recLen])
		}
		return !s.stop
	})
	if err != nil && !job.dead {
		s.emit(filesystem.Deleted{}, err)
	}
}

// scanSlack looks for entries inside the unused tail of a live entry, 4 bytes at a time.
func (s *salvage) scanSlack(dir *inode, job dirJob, slack []byte) {
	f := s.f
	filetype := f.sb.incompat&incompatFiletype != 0
	for p := 0; p+direntHdr < len(slack) && !s.stop; {
		ino := le32(slack, p)
		recLen := f.decodeRecLen(le16(slack, p+4))
		nameLen, ftype := int(slack[p+6]), slack[p+7]
		if !filetype {
			nameLen, ftype = int(le16(slack, p+6)), 0
		}
		ok := ino >= f.sb.firstIno && uint64(ino) <= uint64(f.sb.inodesCount) && nameLen > 0 &&
			direntHdr+nameLen <= len(slack)-p && recLen%4 == 0 && recLen >= direntHdr+nameLen && ftype <= 7
		if ok {
			d := dirent{ino: ino, name: slack[p+direntHdr : p+direntHdr+nameLen], ftype: ftype}
			if usableName(d.name) {
				s.entry(dir, job, d, true)
				p += (direntHdr + nameLen + 3) &^ 3
				continue
			}
		}
		p += 4
	}
}

// entry handles one name: a live one is descended into (or reported when its inode is free); a
// deleted one is reported unless its inode has been reused.
func (s *salvage) entry(dir *inode, job dirJob, d dirent, deleted bool) {
	f := s.f
	name := entryName(dir, d.name)
	path := joinPath(job.path, name)
	ino := uint64(d.ino)
	typ, _ := filesystem.DirentType(d.ftype)
	if ino == 0 {
		key := seenKey{dir.ino, 0, name}
		if !s.seen[key] {
			s.seen[key] = true
			s.emit(filesystem.Deleted{Path: path, Mode: typ}, nil)
		}
		return
	}
	allocated, err := f.inodeAllocated(ino)
	if err != nil {
		s.emit(filesystem.Deleted{}, err)
		return
	}
	if !deleted && !job.dead && allocated {
		if typ.IsDir() || d.ftype == 0 {
			if in, err := f.readInode(ino); err == nil && in.isDir() && !s.visited[ino] {
				s.visited[ino] = true
				s.queue = append(s.queue, dirJob{ino: ino, path: path})
			}
		}
		return
	}
	in, err := f.readInode(ino)
	if err != nil {
		s.emit(filesystem.Deleted{}, err)
		return
	}
	if allocated && in.dtime == 0 {
		return // a renamed file's old slot, or the inode now belongs to someone else
	}
	key := seenKey{dir.ino, ino, name}
	if s.seen[key] {
		return
	}
	s.seen[key] = true
	s.named[ino] = true
	s.emit(s.describe(path, in), nil)
	if in.isDir() && !s.visited[ino] {
		s.visited[ino] = true
		s.queue = append(s.queue, dirJob{ino: ino, path: path, dead: true})
	}
}

// describe builds the Deleted record of a freed inode, with whatever of its content survives.
func (s *salvage) describe(path string, in *inode) filesystem.Deleted {
	d := filesystem.Deleted{Path: path, Ino: in.ino, Mode: in.goMode(), Size: in.size, ModTime: in.mtime}
	d.Content, d.Recovered = s.f.recover(in)
	return d
}

// recover opens what is left of a freed inode's data. Inline data and fast symlinks live in the
// inode and count as recovered whole; block data counts the bytes whose blocks are still free.
func (f *FS) recover(in *inode) (io.ReaderAt, int64) {
	if in.size == 0 {
		return nil, 0
	}
	if in.flags&flagInlineData != 0 || isFastSymlink(in) {
		r, err := f.content(in)
		if err != nil {
			return nil, 0
		}
		return r, in.size
	}
	runs, err := f.blockRuns(in)
	if err != nil || len(runs) == 0 {
		return nil, 0
	}
	var got int64
	bs := f.blockSize
	for _, r := range runs {
		if r.uninit {
			continue
		}
		for i := uint64(0); i < r.length; i++ {
			if free, err := f.blockFree(r.physical + i); err == nil && free {
				got += min(bs, in.size-int64(r.logical+i)*bs)
			}
		}
	}
	return &blockReader{f: f, runs: runs, size: in.size, what: "deleted inode " + itoa(in.ino) + " data"}, got
}

// hasBlockMap tells whether a freed inode still names data: a non-empty extent root, any
// block pointer, or inline data.
func hasBlockMap(in *inode) bool {
	if in.flags&flagInlineData != 0 || isFastSymlink(in) {
		return in.size > 0
	}
	ib := in.iblock()
	if in.flags&flagExtents != 0 {
		return le16(ib, 0) == extentMagic && le16(ib, 2) > 0
	}
	for i := 0; i < iBlockLen; i += 4 {
		if le32(ib, i) != 0 {
			return true
		}
	}
	return false
}

// orphans runs pass 2 over the inode tables: only the part of each group ever used.
func (s *salvage) orphans() {
	f := s.f
	isz := int64(f.sb.inodeSize)
	const chunk = 1 << 20
	// Inode tables of a sane volume never overlap, so together they are smaller than the volume;
	// descriptors that point many groups at the same blocks would multiply the reads.
	budget := f.size
	for g := range uint64(len(f.groups)) {
		if s.stop {
			return
		}
		if err := s.ctx.Err(); err != nil {
			s.emit(filesystem.Deleted{}, err)
			return
		}
		gd := &f.groups[g]
		used := int64(f.sb.inodesPerGroup - gd.itableUnused)
		if gd.flags&bgInodeUninit != 0 || used == 0 {
			continue
		}
		if err := f.checkGroup(g); err != nil {
			s.emit(filesystem.Deleted{}, err)
			continue
		}
		bm, err := f.metaBlock(gd.inodeBitmap)
		if err != nil {
			s.emit(filesystem.Deleted{}, filesystem.Corrupt("ext4", "inode bitmap of group "+itoa(g), "%v", err))
			continue
		}
		if budget -= used * isz; budget < 0 {
			s.emit(filesystem.Deleted{}, filesystem.Corrupt("ext4", "group descriptor "+itoa(g), "inode tables add up to more than the volume (tables shared between groups?)"))
			return
		}
		base := int64(gd.inodeTable) * f.blockSize
		buf := make([]byte, min(chunk, used*isz))
		for idx := int64(0); idx < used && !s.stop; {
			n := min(int64(len(buf))/isz, used-idx)
			// Skip chunks whose inodes are all in use.
			if allSet(bm, idx, n) {
				idx += n
				continue
			}
			if err := f.readAt(buf[:n*isz], base+idx*isz, "inode table of group "+itoa(g)); err != nil {
				s.emit(filesystem.Deleted{}, err)
				break
			}
			for i := int64(0); i < n; i++ {
				bit := idx + i
				if bm[bit/8]&(1<<(bit%8)) != 0 {
					continue
				}
				ino := g*uint64(f.sb.inodesPerGroup) + uint64(bit) + 1
				if ino < uint64(f.sb.firstIno) || ino > uint64(f.sb.inodesCount) || s.named[ino] {
					continue
				}
				in, err := f.parseInode(ino, base+(idx+i)*isz, buf[i*isz:(i+1)*isz])
				if err != nil || in.dtime == 0 || in.mode == 0 || !hasBlockMap(in) {
					continue
				}
				s.emit(s.describe(orphanDir+itoa(ino), in), nil)
			}
			idx += n
		}
	}
}

func allSet(bm []byte, from, n int64) bool {
	for b := from; b < from+n; b++ {
		if bm[b/8]&(1<<(b%8)) == 0 {
			return false
		}
	}
	return true
}
