package contentscan

import (
	"context"
	"io"

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
		end := min(r.Off+r.Len, m.Size)
		for off := r.Off; off < end; off += unallocatedSlice {
			n := min(unallocatedSlice, end-off)
			if !send(job{t: t, m: m, unallocated: true, off: off, size: n}) {
				return
			}
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
	if err := w.stream(ctx, j, loc, io.NewSectionReader(j.m.Reader, j.off, n)); err != nil && ctx.Err() == nil {
		w.s.fail(j.t, j.m, "", err)
	}
}
