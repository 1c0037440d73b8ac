package fat

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"iter"
	"slices"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// maxDeletedDepth bounds how deep Deleted descends (live and deleted directories alike).
const maxDeletedDepth = 256

// Unallocated yields the clusters whose entry in the FAT in use is 0, as volume byte ranges,
// ascending and coalesced, clipped to the bytes the volume has.
func (v *fatVolume) Unallocated(ctx context.Context) iter.Seq2[filesystem.Range, error] {
	return func(yield func(filesystem.Range, error) bool) {
		stopped := false
		err := v.table.forEachFree(func() bool { return ctx.Err() != nil }, func(first, count uint32) bool {
			r, ok := v.g.clusterRange(first, count)
			if !ok {
				return false
			}
			if !yield(r, nil) {
				stopped = true
				return false
			}
			return true
		})
		if stopped {
			return
		}
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			yield(filesystem.Range{}, err)
		}
	}
}

// clusterRange is the volume byte range of count clusters from first, clipped to the volume; ok
// is false when it starts past the end.
func (g *geometry) clusterRange(first, count uint32) (filesystem.Range, bool) {
	off := g.clusterOff(first)
	if off >= g.size {
		return filesystem.Range{}, false
	}
	return filesystem.Range{Off: off, Len: min(int64(count)*g.clusterSize, g.size-off)}, true
}

// deletedDir is a directory Deleted still has to read.
type deletedDir struct {
	src     dirSource
	path    string
	deleted bool // the directory itself is deleted: every entry in it is
	depth   int
	// contiguous: exFAT ids of entries in this directory carry exfatContiguousParent.
	contiguous bool
}

// Deleted walks the live tree from the root and yields every entry marked deleted (first byte
// 0xE5), named from the long-name entries that survive before it or, failing that, with "_" for
// the lost first character. Deleted directories are descended into when their first cluster is
// still free and still starts with "." and "..", and everything found there is deleted too.
// Errors (a broken directory) are yielded and the walk goes on with the next directory.
func (v *fatVolume) Deleted(ctx context.Context) iter.Seq2[filesystem.Deleted, error] {
	return func(yield func(filesystem.Deleted, error) bool) {
		visited := map[uint32]bool{}
		if v.bits == 32 {
			visited[v.bpb.rootCluster] = true
		}
		walkDeleted(ctx, deletedDir{src: v.rootSource()}, visited, &contentBudget{left: deletedContentFactor * v.g.size},
			v.deletedIn, yield)
	}
}

// walkDeleted walks directories depth first from root, in listing order, for FAT and exFAT
// alike: in yields one directory's deleted entries and returns the subdirectories to visit
// (ok false when the consumer stopped).
func walkDeleted(ctx context.Context, root deletedDir, visited map[uint32]bool, budget *contentBudget,
	in func(deletedDir, map[uint32]bool, *contentBudget, func(filesystem.Deleted, error) bool) ([]deletedDir, bool),
	yield func(filesystem.Deleted, error) bool) {
	stack := []deletedDir{root}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			yield(filesystem.Deleted{}, err)
			return
		}
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		subdirs, ok := in(d, visited, budget, yield)
		if !ok {
			return
		}
		for i := len(subdirs) - 1; i >= 0; i-- {
			stack = append(stack, subdirs[i])
		}
	}
}

// deletedIn yields the deleted entries of one directory and returns its subdirectories to visit;
// ok is false when the consumer stopped.
func (v *fatVolume) deletedIn(d deletedDir, visited map[uint32]bool, budget *contentBudget, yield func(filesystem.Deleted, error) bool) ([]deletedDir, bool) {
	var (
		lfn     lfnAssembler
		orphans orphanLFN
		subdirs []deletedDir
		stopped bool
	)
	err := v.scan(d.src, func(off int64, b []byte) bool {
		if b[0] == entryEnd {
			return false
		}
		if isLongNameEntry(b) {
			orphans.add(b)
			if b[0] == entryDeleted {
				lfn.reset()
			} else {
				lfn.add(b)
			}
			return true
		}
		e := parseShort(b)
		deleted := b[0] == entryDeleted
		var name string
		if deleted {
			name = orphans.recover(b)
			lfn.reset()
			if name == "" {
				name = deletedShortName(e.name, e.ntCase)
			}
		} else {
			name = lfn.name(b)
			orphans.reset()
			if name == "" {
				name = shortName(e.name, e.ntCase)
			}
		}
		if e.isLabel() || e.isDot() || name == "" || ((deleted || d.deleted) && !plausibleShort(b, v.g.lastCluster())) {
			return true
		}
		path := d.path + "/" + name
		id := uint64(off) / direntSize
		if deleted || d.deleted {
			del := v.deletedEntry(&e, id, path)
			if err := budget.spend(&del); err != nil && !yield(filesystem.Deleted{}, err) {
				stopped = true
				return false
			}
			if !yield(del, nil) {
				stopped = true
				return false
			}
		}
		if !e.isDir() || d.depth+1 >= maxDeletedDepth {
			return true
		}
		c := e.cluster(v.bits)
		if visited[c] || !v.g.validCluster(c) {
			return true
		}
		if deleted || d.deleted {
			if src, ok := v.deletedDirSource(c, visited); ok {
				subdirs = append(subdirs, deletedDir{src: src, path: path, deleted: true, depth: d.depth + 1})
			}
			return true
		}
		visited[c] = true
		src := v.sourceOf(v.dirChain(id, c, describe("directory", &e, id)))
		subdirs = append(subdirs, deletedDir{src: src, path: path, depth: d.depth + 1})
		return true
	})
	if stopped {
		return nil, false
	}
	if err != nil && !yield(filesystem.Deleted{}, err) {
		return nil, false
	}
	return subdirs, true
}

// deletedContentFactor bounds the content one Deleted walk hands out to this many times the
// volume size. Deleted entries may legitimately share clusters (a file deleted, its clusters
// reused by another that was deleted too), but a hostile directory can point thousands of
// entries at the same clusters, and a consumer reading every Content would do quadratic work.
const deletedContentFactor = 4

// contentBudget counts the content bytes Deleted has handed out.
type contentBudget struct {
	left     int64
	reported bool
}

// spend charges a deleted entry's content against the budget; past it, the entry keeps its
// name, size and times but loses Content, and an error says so once.
func (b *contentBudget) spend(d *filesystem.Deleted) error {
	if d.Content == nil {
		return nil
	}
	n := d.Recovered
	if s, ok := d.Content.(interface{ Size() int64 }); ok {
		n = s.Size()
	}
	if n <= b.left {
		b.left -= n
		return nil
	}
	d.Content, d.Recovered = nil, 0
	if b.reported {
		return nil
	}
	b.reported = true
	return fmt.Errorf("fat: deleted entries claim more than %d times the volume in content; %s and later entries are listed without it", deletedContentFactor, d.Path)
}

// plausibleShort screens entries that only look deleted (or live inside a deleted directory,
// whose cluster may hold anything by now): reserved attribute bits clear, printable name bytes,
// a first cluster inside the heap or 0.
func plausibleShort(b []byte, lastCluster uint32) bool {
	if b[11]&0xC0 != 0 {
		return false
	}
	for _, c := range b[1:11] {
		if c < 0x20 || c == '/' || c == '\\' {
			return false
		}
	}
	e := parseShort(b)
	c := uint32(e.clusterHi)<<16 | uint32(e.clusterLo)
	lo := uint32(e.clusterLo)
	return c == 0 || c <= lastCluster || lo <= lastCluster
}

// deletedEntry describes a deleted file and recovers its content the way forensic tools do: the
// FAT chain was zeroed on deletion, so the clusters are assumed contiguous from the first one.
func (v *fatVolume) deletedEntry(e *shortEntry, id uint64, path string) filesystem.Deleted {
	d := filesystem.Deleted{Path: path, Ino: id, Mode: e.mode(), ModTime: dosTime(e.wrtDate, e.wrtTime, 0)}
	if e.isDir() {
		return d
	}
	d.Size = int64(e.size)
	d.Content, d.Recovered = v.recoverContiguous(e.cluster(v.bits), d.Size)
	return d
}

// recoverContiguous recovers size bytes from cluster start on, clipped to the heap.
func (v *fatVolume) recoverContiguous(start uint32, size int64) (io.ReaderAt, int64) {
	if size <= 0 || !v.g.validCluster(start) {
		return nil, 0
	}
	runs := v.g.contiguousFrom(start, size)
	return residualContent(&v.g, runs, size, size, v.freeIndex(), v.isFree)
}

// contiguousFrom is the run of clusters a file of size bytes would fill from start, cut at the
// end of the heap.
func (g *geometry) contiguousFrom(start uint32, size int64) []run {
	n := (uint64(size) + uint64(g.clusterSize) - 1) / uint64(g.clusterSize)
	n = min(n, uint64(g.lastCluster())-uint64(start)+1)
	return []run{{start: start, count: uint32(n)}}
}

// residualContent reads what is left of a deleted file in runs: up to size bytes (zeros past
// valid), cut where the runs or the volume end. Recovered counts the bytes in clusters the
// allocation map still calls free: those nobody has overwritten since.
func residualContent(g *geometry, runs []run, size, valid int64, free *freeRuns, isFree func(uint32) bool) (io.ReaderAt, int64) {
	var have, recovered int64
	var kept []run
	for _, r := range runs {
		if have >= size {
			break
		}
		off := g.clusterOff(r.start)
		if off >= g.size {
			break
		}
		n := min(int64(r.count)*g.clusterSize, g.size-off, size-have)
		count := uint32((n + g.clusterSize - 1) / g.clusterSize)
		kept = append(kept, run{logical: uint64(have / g.clusterSize), start: r.start, count: count})
		freeClusters := int64(free.count(isFree, r.start, r.start+count-1))
		recovered += freeClusters * g.clusterSize
		if tail := n % g.clusterSize; tail != 0 && isFree(r.start+count-1) {
			recovered -= g.clusterSize - tail // only part of the last cluster is the file's
		}
		have += n
		if n < int64(r.count)*g.clusterSize {
			break
		}
	}
	if have <= 0 {
		return nil, 0
	}
	var total uint64
	for _, r := range kept {
		total += uint64(r.count)
	}
	l := runList{runs: kept, clusters: total}
	return newChainReader(g, "deleted file", l, have, min(valid, have)), max(0, min(recovered, have))
}

func (v *fatVolume) isFree(c uint32) bool {
	e, err := v.table.entry(c)
	return err == nil && e == 0
}

// maxFreeRuns caps the free-space index (12 bytes a run); beyond it free clusters are counted
// by scanning the FAT.
const maxFreeRuns = 1 << 18

// freeRuns indexes the free clusters so that counting those in a range is a binary search.
type freeRuns struct {
	starts, ends []uint32 // [start, end) of each free run, ascending
	before       []uint64 // free clusters in the runs before run i
	ok           bool     // false: too many runs, or the FAT could not be read
}

func (v *fatVolume) freeIndex() *freeRuns {
	v.freeOnce.Do(func() { v.free = buildFreeRuns(v.table.forEachFree) })
	return v.free
}

// buildFreeRuns indexes free space from an allocation map walker (the FAT, or exFAT's bitmap).
func buildFreeRuns(forEachFree func(stop func() bool, fn func(first, count uint32) bool) error) *freeRuns {
	f := &freeRuns{ok: true}
	var total uint64
	err := forEachFree(func() bool { return false }, func(first, count uint32) bool {
		if len(f.starts) == maxFreeRuns {
			f.ok = false
			return false
		}
		f.starts = append(f.starts, first)
		f.ends = append(f.ends, first+count)
		f.before = append(f.before, total)
		total += uint64(count)
		return true
	})
	if err != nil || !f.ok {
		return &freeRuns{}
	}
	return f
}

// count is how many clusters in [a, b] are free; isFree answers when the index is incomplete.
func (f *freeRuns) count(isFree func(uint32) bool, a, b uint32) uint64 {
	if !f.ok {
		var n uint64
		for c := uint64(a); c <= uint64(b); c++ {
			if isFree(uint32(c)) {
				n++
			}
		}
		return n
	}
	return f.upTo(b+1) - f.upTo(a)
}

// upTo is the number of free clusters below c.
func (f *freeRuns) upTo(c uint32) uint64 {
	i, _ := slices.BinarySearch(f.ends, c+1) // first run whose end > c
	if i == len(f.starts) {
		if i == 0 {
			return 0
		}
		return f.before[i-1] + uint64(f.ends[i-1]-f.starts[i-1])
	}
	n := f.before[i]
	if c > f.starts[i] {
		n += uint64(c - f.starts[i])
	}
	return n
}

// deletedDirSource finds what is left of a deleted directory starting at cluster c. Its chain is
// gone, so the directory is taken to be contiguous: the first cluster, which must still be free
// and start with "." (pointing at itself) and "..", then each following cluster while the one
// before was full (no end marker), the next is free and starts with a believable entry, up to
// maxDirBytes. Clusters already read as (part of) a directory in this walk are not read again
// and are marked in visited: a hostile volume could otherwise make thousands of deleted entries
// re-read the same megabytes.
func (v *fatVolume) deletedDirSource(c uint32, visited map[uint32]bool) (dirSource, bool) {
	cs := v.g.clusterSize
	buf := make([]byte, cs)
	var src dirSource
	for cur := uint64(c); cur <= uint64(v.g.lastCluster()) && int64(len(src.segs)+1)*cs <= max(maxDirBytes, cs); cur++ {
		if visited[uint32(cur)] || !v.isFree(uint32(cur)) {
			break
		}
		off := v.g.clusterOff(uint32(cur))
		if v.g.readFull(buf, off, "deleted directory") != nil {
			break
		}
		if len(src.segs) == 0 {
			if !isDotEntry(buf[0:32], ".          ") || !isDotEntry(buf[32:64], "..         ") ||
				binary.LittleEndian.Uint16(buf[26:]) != uint16(c) {
				return dirSource{}, false
			}
		} else if buf[0] == entryEnd || (!isLongNameEntry(buf) && buf[0] != entryDeleted && !plausibleShort(buf, v.g.lastCluster())) {
			break
		}
		src.segs = append(src.segs, segment{off, cs})
		visited[uint32(cur)] = true
		if hasEndMarker(buf) {
			break
		}
	}
	return src, len(src.segs) > 0
}

func isDotEntry(b []byte, name string) bool {
	return string(b[0:11]) == name && b[11]&attrDirectory != 0 && b[11]&0x3F != attrLongName
}

// hasEndMarker reports whether a directory cluster holds the end-of-directory entry.
func hasEndMarker(b []byte) bool {
	for i := 0; i+direntSize <= len(b); i += direntSize {
		if b[i] == entryEnd {
			return true
		}
	}
	return false
}
