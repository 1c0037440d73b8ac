package ntfs

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"iter"
	"slices"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// orphanDir is the pseudo directory deleted files go under when their parent is lost, as in
// The Sleuth Kit.
const orphanDir = "/$OrphanFiles"

// mftBatch is how many MFT records Deleted reads at a time.
const mftBatch = 64

// Unallocated yields the clusters $Bitmap marks free, as coalesced volume byte ranges in
// ascending order. Only the bitmap is read.
func (f *FS) Unallocated(ctx context.Context) iter.Seq2[filesystem.Range, error] {
	return func(yield func(filesystem.Range, error) bool) {
		bm, err := f.bitmap()
		if err != nil {
			yield(filesystem.Range{}, err)
			return
		}
		cs := f.geo.clusterSize
		total := f.readableClusters()
		pending := filesystem.Range{Off: -1}
		emit := func(lcn, n int64) bool {
			off, length := lcn*cs, n*cs
			if off >= f.size {
				return true
			}
			length = min(length, f.size-off)
			if pending.Off >= 0 && pending.Off+pending.Len == off {
				pending.Len += length
				return true
			}
			if pending.Off >= 0 && !yield(pending, nil) {
				return false
			}
			pending = filesystem.Range{Off: off, Len: length}
			return true
		}
		buf := make([]byte, bitmapChunk)
		for first := int64(0); first*8 < total; first += bitmapChunk {
			if err := ctx.Err(); err != nil {
				yield(filesystem.Range{}, err)
				return
			}
			k, err := bm.ReadAt(buf, first)
			if k == 0 {
				if err != nil && err != io.EOF {
					yield(filesystem.Range{}, err)
				}
				break
			}
			if !scanFree(buf[:k], first*8, total, emit) {
				return
			}
		}
		if pending.Off >= 0 {
			yield(pending, nil)
		}
	}
}

// scanFree calls emit for each run of clear bits of b (bit 0 of b[0] is cluster base), stopping
// at cluster total. Runs are not coalesced across calls here; emit does that.
func scanFree(b []byte, base, total int64, emit func(lcn, n int64) bool) bool {
	start := int64(-1)
	for i, v := range b {
		lcn := base + int64(i)*8
		if lcn >= total {
			break
		}
		switch {
		case v == 0xFF && start < 0:
			continue
		case v == 0 && start >= 0:
			continue
		}
		for bit := range int64(8) {
			c := lcn + bit
			if c >= total {
				break
			}
			free := v&(1<<bit) == 0
			switch {
			case free && start < 0:
				start = c
			case !free && start >= 0:
				if !emit(start, c-start) {
					return false
				}
				start = -1
			}
		}
	}
	if start >= 0 {
		end := min(base+int64(len(b))*8, total)
		return emit(start, end-start)
	}
	return true
}

// Deleted yields the MFT records that are no longer in use but still hold a $FILE_NAME: deleted
// files and directories. Their path is rebuilt through the parent references (a parent whose
// sequence number shows it was reused, or that is lost, puts the file under /$OrphanFiles).
// Content reads the resident data or the old runlist; Recovered counts the bytes whose clusters
// $Bitmap still marks free (resident data is always recovered). Deleted records that are
// damaged are skipped: they are freed space, not part of the file system.
func (f *FS) Deleted(ctx context.Context) iter.Seq2[filesystem.Deleted, error] {
	return func(yield func(filesystem.Deleted, error) bool) {
		paths := newPathResolver(f)
		rs := f.geo.recordSize
		buf := make([]byte, mftBatch*rs)
		for first := uint64(0); first < f.records; first += mftBatch {
			if err := ctx.Err(); err != nil {
				yield(filesystem.Deleted{}, err)
				return
			}
			count := min(uint64(mftBatch), f.records-first)
			chunk := buf[:int64(count)*rs]
			if k, err := f.mft.ReadAt(chunk, int64(first)*rs); k < len(chunk) {
				// The records past a read failure are not read: on an image cut short they
				// would all fail, as many times as $MFT claims batches.
				yield(filesystem.Deleted{}, err)
				return
			}
			for i := range count {
				raw := chunk[int64(i)*rs : int64(i+1)*rs]
				if !freeBaseRecord(raw) {
					continue
				}
				d, ok, err := f.deletedEntry(first+i, paths)
				if err != nil && !yield(filesystem.Deleted{}, err) {
					return
				}
				if ok && !yield(d, nil) {
					return
				}
			}
		}
	}
}

// freeBaseRecord looks at a raw record header (fixups do not touch it): a FILE record, not in
// use, not an extension record.
func freeBaseRecord(raw []byte) bool {
	return string(raw[:4]) == "FILE" &&
		binary.LittleEndian.Uint16(raw[0x16:])&recordInUse == 0 &&
		binary.LittleEndian.Uint64(raw[0x20:]) == 0
}

func (f *FS) deletedEntry(num uint64, paths *pathResolver) (filesystem.Deleted, bool, error) {
	n, err := f.loadNode(num, true)
	if err != nil {
		if errors.Is(err, filesystem.ErrCorrupt) || errors.Is(err, fs.ErrNotExist) {
			return filesystem.Deleted{}, false, nil
		}
		return filesystem.Deleted{}, false, err
	}
	if n.inUse || len(n.names) == 0 {
		return filesystem.Deleted{}, false, nil
	}
	d := filesystem.Deleted{
		Path:    paths.path(n),
		Ino:     num,
		Mode:    n.mode(),
		ModTime: n.si.modified,
	}
	if n.kind == kindDir {
		return d, true, nil
	}
	d.Size = streamSize(n.dataAttr(""))
	if d.Size == 0 {
		return d, true, nil
	}
	s, err := f.stream(n, attrData, "")
	if err != nil {
		// The old runlist no longer makes sense: nothing can be recovered.
		return d, true, nil
	}
	d.Content = s
	d.Recovered = f.recoverable(s)
	return d, true, nil
}

// recoverable counts the bytes of a deleted file's stream whose clusters are still free (holes
// count: they read as the zeros they were). For a compressed stream, where bytes do not map to
// clusters, it is the share of the size matching the share of its stored clusters still free.
func (f *FS) recoverable(s *stream) int64 {
	if s.resident != nil {
		return s.size
	}
	bm, err := f.bitmap()
	if err != nil {
		return 0
	}
	cs := f.geo.clusterSize
	sizeClusters := (s.size + cs - 1) / cs
	// A runlist that stores more clusters than the image holds (runs overlapping each other) is
	// not a file's: nothing is counted, and the bitmap is not read for it over and over.
	storedTotal := int64(0)
	for _, r := range s.runs {
		if !r.sparse() && r.vcn < sizeClusters {
			storedTotal += min(r.length, sizeClusters-r.vcn)
		}
	}
	if storedTotal > f.readableClusters() {
		return 0
	}
	var free, stored, holes int64
	lastFree := false
	for _, r := range s.runs {
		if r.vcn >= sizeClusters {
			break
		}
		n := min(r.length, sizeClusters-r.vcn)
		if r.sparse() {
			holes += n
			lastFree = true
			continue
		}
		k, err := f.countFree(bm, r.lcn, n)
		if err != nil {
			return 0
		}
		free += k
		stored += n
		if r.vcn+n == sizeClusters {
			last, _ := f.countFree(bm, r.lcn+n-1, 1)
			lastFree = last == 1
		}
	}
	if s.compressed {
		if stored == 0 {
			return s.size
		}
		return s.size/stored*free + s.size%stored*free/stored
	}
	bytes := (free + holes) * cs
	if lastFree && s.size%cs != 0 {
		bytes -= cs - s.size%cs
	}
	return min(max(bytes, 0), s.size)
}

// pathResolver rebuilds the paths of deleted files, caching the directories it reads.
type pathResolver struct {
	f    *FS
	dirs *lru.Cache[uint64, *node]
	root *node
}

func newPathResolver(f *FS) *pathResolver {
	p := &pathResolver{f: f}
	p.dirs, _ = lru.New[uint64, *node](1024)
	p.root, _ = f.node(rootRecord)
	return p
}

// path climbs the parent references of n up to the root. A parent must be a directory whose
// sequence number matches the reference, or is one more when the parent was deleted too
// (deleting a record bumps its sequence number).
func (p *pathResolver) path(n *node) string {
	fn, _ := n.bestName()
	comps := []string{pathComponent(fn.name())}
	ref := fn.parent
	seen := map[uint64]bool{n.ino: true}
	for depth := 0; depth < maxPathDepth; depth++ {
		if ref.num == rootRecord && p.root != nil && ref.seq == p.root.seq {
			slices.Reverse(comps)
			return "/" + strings.Join(comps, "/")
		}
		if seen[ref.num] {
			break
		}
		seen[ref.num] = true
		parent := p.dir(ref.num)
		if parent == nil || !parent.dir || !(parent.seq == ref.seq || (!parent.inUse && parent.seq == ref.seq+1)) {
			break
		}
		pn, ok := parent.bestName()
		if !ok {
			break
		}
		comps = append(comps, pathComponent(pn.name()))
		ref = pn.parent
	}
	slices.Reverse(comps)
	return orphanDir + "/" + strings.Join(comps, "/")
}

func (p *pathResolver) dir(ino uint64) *node {
	if n, ok := p.dirs.Get(ino); ok {
		return n
	}
	n, err := p.f.loadNode(ino, true)
	if err != nil {
		n = nil
	}
	if n == nil || n.bytes <= maxCachedNodeBytes {
		p.dirs.Add(ino, n)
	}
	return n
}

// pathComponent keeps a hostile name from adding path levels.
func pathComponent(name string) string {
	if name == "" || name == "." || name == ".." {
		return "_"
	}
	return strings.ReplaceAll(name, "/", "_")
}
