package contentscan

import (
	"context"
	"io"
	"iter"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/target"
)

// unallocatedSlice is how much free space one job covers, so that a big free range is scanned by
// every worker at once.
const unallocatedSlice = 64 << 20

// residual sends the deleted files and the unallocated space of a mount to the workers.
func (s *Scanner) residual(ctx context.Context, t *target.Target, m *target.Mount, send func(job) bool) {
	res, ok := m.Tree.(filesystem.Residual)
	if !ok {
		return
	}
	for d, err := range res.Deleted(ctx) {
		if err != nil {
			s.fail(t, m, "", err)
			continue
		}
		if d.Content == nil || d.Recovered == 0 || !d.Mode.IsRegular() {
			if d.Mode.IsRegular() {
				s.c.skip(skipNoContent)
			}
			continue
		}
		s.c.filesSeen.Add(1)
		content := d.Content
		if !send(job{t: t, m: m, path: d.Path, size: d.Size, inode: d.Ino, deleted: true,
			open: func() (io.ReaderAt, error) { return content, nil }}) {
			return
		}
	}
	if m.Reader == nil {
		return
	}
	for r, err := range res.Unallocated(ctx) {
		if err != nil {
			s.fail(t, m, "", err)
			continue
		}
		for off, n := range changedSlices(m, r.Off, min(r.Off+r.Len, m.Size)) {
			if !send(job{t: t, m: m, unallocated: true, off: off, size: n}) {
				return
			}
		}
	}
}

// changedGrain is the step at which an incremental scan asks which free space changed: the EBS
// block size, so that a changed block is read and its unchanged neighbours are not.
const changedGrain = 512 << 10

// changedSlices cuts free space [off, end) into jobs of at most unallocatedSlice; in an
// incremental scan only the runs of changed grains are kept.
func changedSlices(m *target.Mount, off, end int64) iter.Seq2[int64, int64] {
	return func(yield func(int64, int64) bool) {
		if m.Changed == nil {
			for ; off < end; off += unallocatedSlice {
				if !yield(off, min(unallocatedSlice, end-off)) {
					return
				}
			}
			return
		}
		start := int64(-1) // of the current run of changed grains
		for pos := off; pos < end; {
			next := min(end, (pos/changedGrain+1)*changedGrain)
			ch := m.Changed(pos, next-pos)
			if ch && start < 0 {
				start = pos
			}
			if start >= 0 && (!ch || next == end || next-start >= unallocatedSlice) {
				stop := pos
				if ch {
					stop = next
				}
				if !yield(start, stop-start) {
					return
				}
				start = -1
			}
			pos = next
		}
	}
}

// unallocated scans one slice of free space, reading a little past it so that a secret crossing
// into the next slice is whole here.
func (w *worker) unallocated(ctx context.Context, j job) {
	if !w.take(j.size) {
		w.s.c.skip(skipTotalLimit)
		return
	}
	n := min(j.size+overlap, j.m.Size-j.off)
	loc := finding.Location{Volume: j.m.Volume, FileSystem: j.m.FSType}
	var vol io.ReaderAt = j.m.Reader
	if j.m.Prefetch != nil {
		vol = &windowReader{ra: vol, prefetch: j.m.Prefetch, horizon: j.off, end: j.off + n}
	}
	if err := w.stream(ctx, j, loc, io.NewSectionReader(vol, j.off, n)); err != nil && ctx.Err() == nil {
		w.s.fail(j.t, j.m, "", err)
	}
}
