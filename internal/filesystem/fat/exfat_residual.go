package fat

import (
	"context"
	"io"
	"iter"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Unallocated yields the clusters the allocation bitmap marks free, as volume byte ranges,
// ascending and coalesced, clipped to the bytes the volume has.
func (v *exfatVolume) Unallocated(ctx context.Context) iter.Seq2[filesystem.Range, error] {
	return func(yield func(filesystem.Range, error) bool) {
		stopped := false
		err := v.bitmap.forEachFree(func() bool { return ctx.Err() != nil }, func(first, count uint32) bool {
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

func (v *exfatVolume) freeIndex() *freeRuns {
	v.freeOnce.Do(func() { v.free = buildFreeRuns(v.bitmap.forEachFree) })
	return v.free
}

// Deleted walks the live tree and yields the entry sets marked deleted (InUse bit clear) whose
// checksum still holds with the InUse bits restored. exFAT keeps whole names in the set, so
// nothing is lost but the bit. Deleted directories whose first cluster is still free are
// descended into, and every set found there is deleted too.
func (v *exfatVolume) Deleted(ctx context.Context) iter.Seq2[filesystem.Deleted, error] {
	return func(yield func(filesystem.Deleted, error) bool) {
		visited := map[uint32]bool{v.boot.rootCluster: true}
		walkDeleted(ctx, deletedDir{src: v.rootSource()}, visited, &contentBudget{left: deletedContentFactor * v.g.size},
			v.deletedIn, yield)
	}
}

func (v *exfatVolume) deletedIn(d deletedDir, visited map[uint32]bool, budget *contentBudget, yield func(filesystem.Deleted, error) bool) ([]deletedDir, bool) {
	var (
		sets    setCollector
		subdirs []deletedDir
		stopped bool
	)
	err := scanSegments(&v.g, d.src, func(off int64, e []byte) bool {
		if e[0] == exEnd {
			return false
		}
		set, at, deleted, done := sets.add(off, e)
		if !done {
			return true
		}
		f, ok := parseEntrySet(set, deleted)
		if !ok {
			return true
		}
		path := d.path + "/" + f.name
		id := uint64(at) / direntSize
		if d.contiguous {
			id |= exfatContiguousParent
		}
		if deleted || d.deleted {
			del := v.deletedEntry(&f, id, path)
			if err := budget.spend(&del); err != nil && !yield(filesystem.Deleted{}, err) {
				stopped = true
				return false
			}
			if !yield(del, nil) {
				stopped = true
				return false
			}
		}
		if !f.isDir() || d.depth+1 >= maxDeletedDepth || visited[f.first] || !v.g.validCluster(f.first) {
			return true
		}
		if deleted || d.deleted {
			if src, ok := v.deletedDirSource(&f, visited); ok {
				subdirs = append(subdirs, deletedDir{src: src, path: path, deleted: true, depth: d.depth + 1, contiguous: f.noFatChain})
			}
			return true
		}
		visited[f.first] = true
		src := v.sourceOf(v.chainOf(&f, id, &v.claims))
		subdirs = append(subdirs, deletedDir{src: src, path: path, depth: d.depth + 1, contiguous: f.noFatChain})
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

// residualRuns guesses where a deleted file's clusters are: contiguous when the set says so
// (then the guess is exact), else the FAT chain when it is still intact and all its clusters
// are free, else contiguous from the first cluster as on FAT.
func (v *exfatVolume) residualRuns(f *exfatFile) []run {
	if f.dataLen == 0 || !v.g.validCluster(f.first) {
		return nil
	}
	size := int64(min(f.dataLen, 1<<62))
	if !f.noFatChain {
		n := (f.dataLen + uint64(v.g.clusterSize) - 1) / uint64(v.g.clusterSize)
		if n <= uint64(v.g.clusters) {
			l := v.table.walkChain(f.first, chainSpec{what: "deleted file", want: n})
			if l.broken == nil && v.allFree(l.runs) {
				return l.runs
			}
		}
	}
	return v.g.contiguousFrom(f.first, size)
}

func (v *exfatVolume) allFree(runs []run) bool {
	for _, r := range runs {
		if v.freeIndex().count(v.bitmap.isFree, r.start, r.start+r.count-1) != uint64(r.count) {
			return false
		}
	}
	return true
}

func (v *exfatVolume) deletedEntry(f *exfatFile, id uint64, path string) filesystem.Deleted {
	d := filesystem.Deleted{Path: path, Ino: id, Mode: f.mode(), ModTime: f.modified}
	if f.isDir() {
		return d
	}
	d.Size = int64(min(f.dataLen, 1<<62))
	var content io.ReaderAt
	content, d.Recovered = residualContent(&v.g, v.residualRuns(f), d.Size, int64(f.validLen), v.freeIndex(), v.bitmap.isFree)
	if content != nil {
		d.Content = content
	}
	return d
}

// deletedDirSource finds what is left of a deleted directory: its clusters (as residualRuns
// guesses them) up to the first one that is no longer free or was already read as a directory
// in this walk (marked in visited, so that no cluster is read twice however many deleted
// entries point at it).
func (v *exfatVolume) deletedDirSource(f *exfatFile, visited map[uint32]bool) (dirSource, bool) {
	if f.dataLen > exMaxDirBytes {
		return dirSource{}, false
	}
	var src dirSource
	for _, r := range v.residualRuns(f) {
		for k := uint32(0); k < r.count; k++ {
			c := r.start + k
			if visited[c] || !v.bitmap.isFree(c) {
				return src, len(src.segs) > 0
			}
			visited[c] = true
			src.segs = append(src.segs, segment{v.g.clusterOff(c), v.g.clusterSize})
		}
	}
	return src, len(src.segs) > 0
}
