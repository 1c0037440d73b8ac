package contentscan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/unpack"
)

// worker owns the buffers one goroutine reads into, so that memory is bounded by the number of
// workers, whatever the files.
type worker struct {
	s    *Scanner
	buf  []byte
	head []byte
	br   *bufio.Reader // reset for each stream: one per file would be a third of a scan's allocations
}

func newWorker(s *Scanner) *worker {
	return &worker{s: s, buf: make([]byte, chunkSize+overlap), head: make([]byte, 4096), br: bufio.NewReaderSize(nil, 4096)}
}

func (w *worker) run(ctx context.Context, j job) {
	if j.unallocated {
		w.unallocated(ctx, j)
		return
	}
	ra, err := j.open()
	if err != nil {
		w.s.c.skip(skipUnreadable)
		w.s.fail(j.t, j.m, j.path, err)
		return
	}
	if c, ok := ra.(io.Closer); ok {
		defer c.Close()
	}
	if j.extents != nil && j.m.Prefetch != nil {
		ra = &windowReader{ra: ra, exts: j.extents, prefetch: j.m.Prefetch, horizon: prefetchHead,
			end: min(j.size, w.s.opt.MaxFileBytes)}
	}
	loc := finding.Location{Volume: j.m.Volume, FileSystem: j.m.FSType, Path: j.path, Inode: j.inode, Deleted: j.deleted}
	size := j.size
	if size > w.s.opt.MaxFileBytes {
		w.s.c.skip(skipTooLarge)
		size = w.s.opt.MaxFileBytes
	}
	if !w.take(size) {
		w.s.c.skip(skipTotalLimit)
		return
	}
	w.s.c.filesScanned.Add(1)
	if j.deleted {
		w.s.c.deleted.Add(1)
	}
	w.catalogue(j, ra, loc)

	if w.s.opt.Secrets.PathAllowed(j.path) {
		// The secret rules would drop everything in it and archives there are not opened; the
		// catalogue has judged it. Not even its head is read (over EBS, a fetch saved).
		return
	}
	n, _ := ra.ReadAt(w.head, 0)
	head := w.head[:n]
	if !w.s.opt.NoArchives && mayHoldArchive(head) {
		// A self-extracting stub that turns out to hold nothing is scanned as itself below.
		if w.archive(ctx, j, ra, size, loc) > 0 || unpack.Kind(head) != "" {
			return
		}
	}
	ranges := [][2]int64{{0, size}}
	if bytes.HasPrefix(head, []byte("\x7fELF")) {
		if a, b, ok := codeRange(ra, size); ok {
			ranges = keptRanges(size, a, b)
			w.s.c.codeSkipped.Add(b - a)
		}
	}
	if wr, ok := ra.(*windowReader); ok {
		for _, r := range ranges[1:] {
			wr.ahead(r[0], r[1])
		}
	}
	for _, r := range ranges {
		part := j
		part.off = j.off + r[0]
		if err := w.stream(ctx, part, loc, io.NewSectionReader(ra, r[0], r[1]-r[0])); err != nil && ctx.Err() == nil {
			w.s.fail(j.t, j.m, j.path, err)
			return
		}
	}
}

// take reserves bytes under the total budget; false once it is spent.
func (w *worker) take(n int64) bool {
	if w.s.opt.MaxTotalBytes <= 0 {
		return true
	}
	return w.s.budget.Add(-n) >= 0
}

// catalogue lets the sensitive-file catalogue judge the file by its path and, when it asks, its
// first bytes.
func (w *worker) catalogue(j job, ra io.ReaderAt, loc finding.Location) {
	need, headBytes := w.s.opt.Catalogue.Wants(j.path, j.size)
	if !need {
		return
	}
	n := min(headBytes, j.size, maxCatalogueBytes)
	var content []byte
	if n > int64(len(w.buf)) {
		content = make([]byte, n)
	} else {
		content = w.buf[:n]
	}
	k, err := ra.ReadAt(content, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		w.s.fail(j.t, j.m, j.path, err)
		return
	}
	for _, fm := range w.s.opt.Catalogue.Check(j.path, j.size, content[:k]) {
		w.s.addFile(j.t, loc, fm)
	}
}

// stream scans a byte stream for secrets in chunks that overlap, so that a secret cut by a chunk
// boundary is whole in the next chunk; each match is reported by the chunk where it starts, unless
// it starts in the overlap that the next chunk reads again. UTF-16 text is turned into UTF-8 first.
func (w *worker) stream(ctx context.Context, j job, loc finding.Location, r io.Reader) error {
	br := w.br
	br.Reset(r)
	defer br.Reset(nil) // let go of the file
	// Free space is a mix of old blocks: transcoding it as a whole would garble the rest.
	if peek, _ := br.Peek(512); len(peek) >= 4 && !j.unallocated {
		if le, ok := unpack.IsUTF16(peek); ok {
			r = unpack.NewUTF16Reader(br, le)
		} else {
			r = br
		}
	} else {
		r = br
	}
	var base int64
	lines, carry := 0, 0
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n, err := io.ReadFull(r, w.buf[carry:])
		w.s.c.bytesScanned.Add(int64(n))
		if j.unallocated {
			w.s.c.unallocated.Add(int64(n))
		}
		total := carry + n
		final := err != nil
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return err
		}
		data := w.buf[:total]
		limit := total
		if !final {
			limit = total - overlap
		}
		if !unpack.AllZero(data[carry:]) || carry > 0 {
			for _, m := range w.s.opt.Secrets.Scan(loc.Path, data) {
				if m.Start >= limit {
					continue
				}
				at := loc
				at.Offset = j.off + base + int64(m.Start)
				if m.Line > 0 && !j.unallocated { // free space has no lines
					at.Line = lines + m.Line
				}
				w.s.addSecret(j.t, at, m, j.unallocated)
			}
		}
		if final {
			return nil
		}
		lines += bytes.Count(data[:limit], []byte{'\n'})
		copy(w.buf, data[limit:total])
		carry = total - limit
		base += int64(limit)
	}
}

// mayHoldArchive says whether a file is worth handing to unpack: it starts like an archive or a
// compressed stream, or like an executable or script that may carry a zip after itself
// (self-extracting installers), which unpack finds from the file's tail.
func mayHoldArchive(head []byte) bool {
	return unpack.Kind(head) != "" || bytes.HasPrefix(head, []byte("MZ")) ||
		bytes.HasPrefix(head, []byte("\x7fELF")) || bytes.HasPrefix(head, []byte("#!"))
}
