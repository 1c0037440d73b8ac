package contentscan

import (
	"io"
	"io/fs"
	"sync"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/target"
)

// Reading ahead for slow sources (target.Mount.Prefetch, set for EBS direct). The walk hands
// files to the workers in batches: before a batch goes out, the volume ranges of the first
// prefetchHead bytes of each of its files are announced at once, so the source fetches them in
// parallel while the workers read the files one by one. A file longer than that is announced in
// windows as a worker reads through it (windowReader), and so is free space. The look-ahead is
// bounded (a batch, the job queue, one window per worker) so that it fits the source's cache.
const (
	prefetchBatchBytes = 32 << 20
	prefetchBatchFiles = 256
	prefetchHead       = 4 << 20
	prefetchWindow     = 16 << 20
	prefetchTail       = 64 << 10
)

// feeder sits between the walk of one mount and the workers: it drops the files an incremental
// scan need not read, and batches the rest for prefetching.
type feeder struct {
	s       *Scanner
	m       *target.Mount
	ext     filesystem.Extenter
	loc     filesystem.InodeLocator
	send    func(job) bool
	pending []job
	ranges  []filesystem.Range
	bytes   int64
}

func (s *Scanner) newFeeder(m *target.Mount, send func(job) bool) *feeder {
	f := &feeder{s: s, m: m, send: send}
	f.ext, _ = m.Tree.(filesystem.Extenter)
	f.loc, _ = m.Tree.(filesystem.InodeLocator)
	return f
}

// dir reads ahead for a directory the walk is about to list: its listing is read now (the
// adapter keeps it for the walk), then the records of all its entries are announced at once,
// then, once they are in flight, the blocks of its subdirectories. A walk over a slow source
// otherwise waits one round trip per inode and per directory block.
func (f *feeder) dir(fsys fs.FS, p string) {
	if !f.readsAhead() {
		return
	}
	ents, _ := fs.ReadDir(fsys, p) // a partial listing reads ahead for what it has
	var inodes, blocks []filesystem.Range
	var subdirs []uint64
	for _, e := range ents {
		x, ok := e.(interface{ Ino() uint64 })
		if !ok {
			return // not snapwatch's adapter: nothing to read ahead with
		}
		if f.loc != nil {
			if r, ok := f.loc.InodeRange(x.Ino()); ok {
				inodes = append(inodes, r)
			}
		}
		if e.IsDir() {
			subdirs = append(subdirs, x.Ino())
		}
	}
	if len(inodes) > 0 {
		f.m.Prefetch(inodes)
	}
	for _, ino := range subdirs {
		if exts, err := f.ext.Extents(ino); err == nil {
			blocks = appendPhysical(blocks, exts, 0, maxDirAhead)
		}
	}
	if len(blocks) > 0 {
		f.m.Prefetch(blocks)
	}
}

// readsAhead says whether the source is slow enough to read metadata ahead for, and the file
// system can say where its metadata lies.
func (f *feeder) readsAhead() bool { return f.m.Prefetch != nil && f.ext != nil }

// maxDirAhead bounds what is read ahead of one subdirectory: a directory of a million entries
// is read as the walk gets to it.
const maxDirAhead = 1 << 20

// add takes one walked file; false when the scan is being cancelled.
func (f *feeder) add(j job) bool {
	if f.ext == nil || (f.m.Prefetch == nil && f.m.Changed == nil) {
		return f.send(j)
	}
	exts, err := f.ext.Extents(j.inode)
	if err != nil {
		return f.send(j) // the read will meet the same damage and report it
	}
	if f.m.Changed != nil && !touches(exts, f.m.Changed) {
		f.s.c.skip(skipUnchanged)
		return true
	}
	if f.m.Prefetch == nil {
		return f.send(j)
	}
	limit := min(j.size, f.s.opt.MaxFileBytes)
	if f.s.opt.Secrets.PathAllowed(j.path) {
		// Only the catalogue reads an allow-listed file, and only its head (worker.run).
		limit = 0
		if need, n := f.s.opt.Catalogue.Wants(j.path, j.size); need {
			limit = min(limit+n, j.size, maxCatalogueBytes)
		}
	}
	head := min(limit, prefetchHead)
	f.ranges = appendPhysical(f.ranges, exts, 0, head)
	f.bytes += head
	if limit > head {
		j.extents = exts
		// The tail too: an executable's section table is there, read before its data.
		f.ranges = appendPhysical(f.ranges, exts, max(head, limit-prefetchTail), limit)
	}
	f.pending = append(f.pending, j)
	if f.bytes >= prefetchBatchBytes || len(f.pending) >= prefetchBatchFiles {
		return f.flush()
	}
	return true
}

// flush announces the batch's ranges and hands its files to the workers.
func (f *feeder) flush() bool {
	if len(f.ranges) > 0 {
		f.m.Prefetch(f.ranges)
	}
	pending := f.pending
	f.pending, f.ranges, f.bytes = f.pending[:0], f.ranges[:0], 0
	for _, j := range pending {
		if !f.send(j) {
			return false
		}
	}
	return true
}

// touches says whether any stored byte of a file lies in a changed range. Holes hold nothing;
// inline (encoded) data lies in the inode, whose block then counts.
func touches(exts []filesystem.Extent, changed func(off, n int64) bool) bool {
	for _, e := range exts {
		if e.Physical >= 0 && e.Length > 0 && changed(e.Physical, e.Length) {
			return true
		}
	}
	return false
}

// appendPhysical appends the volume ranges holding file bytes [from, to).
func appendPhysical(out []filesystem.Range, exts []filesystem.Extent, from, to int64) []filesystem.Range {
	for _, e := range exts {
		if e.Physical < 0 || e.Logical+e.Length <= from || e.Logical >= to {
			continue
		}
		if e.Encoded {
			out = append(out, filesystem.Range{Off: e.Physical, Len: e.Length})
			continue
		}
		lo, hi := max(from, e.Logical), min(to, e.Logical+e.Length)
		out = append(out, filesystem.Range{Off: e.Physical + lo - e.Logical, Len: hi - lo})
	}
	return out
}

// windowReader announces the next window of a file (or of the volume, when exts is nil) each
// time a sequential reader comes within half a window of what was announced.
type windowReader struct {
	ra       io.ReaderAt
	exts     []filesystem.Extent
	prefetch func([]filesystem.Range)
	mu       sync.Mutex
	horizon  int64 // bytes before it have been announced
	end      int64 // no byte at or past it is announced
}

// ahead announces [from, to) of the file now, for a read that will jump there (past an ELF
// file's machine code) while the bytes before it are scanned.
func (w *windowReader) ahead(from, to int64) {
	if rs := appendPhysical(nil, w.exts, from, min(to, from+prefetchWindow, w.end)); len(rs) > 0 && w.exts != nil {
		w.prefetch(rs)
	}
}

func (w *windowReader) ReadAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	if need := off + int64(len(p)); need > w.horizon-prefetchWindow/2 && w.horizon < w.end {
		from := max(w.horizon, off)
		to := min(w.end, need+prefetchWindow)
		var rs []filesystem.Range
		if w.exts == nil {
			rs = []filesystem.Range{{Off: from, Len: to - from}}
		} else {
			rs = appendPhysical(nil, w.exts, from, to)
		}
		w.horizon = to
		w.mu.Unlock()
		if len(rs) > 0 {
			w.prefetch(rs)
		}
	} else {
		w.mu.Unlock()
	}
	return w.ra.ReadAt(p, off)
}
