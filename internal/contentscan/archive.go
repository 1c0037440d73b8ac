package contentscan

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/unpack"
)

// archive scans the members of an archive or the content of a compressed file, nested to the
// unpack limits. Members are judged by the catalogue under their own path inside the archive (a
// tarball of /home holding home/alice/.ssh/id_rsa is a private key) and scanned for secrets.
// It returns how many members it met.
func (w *worker) archive(ctx context.Context, j job, ra io.ReaderAt, size int64, loc finding.Location) int {
	members := 0
	for m, err := range unpack.Walk(ctx, j.path, ra, size, w.s.opt.Unpack) {
		if err != nil {
			if errors.Is(err, unpack.ErrLimit) {
				w.s.c.skip(skipArchiveLimit)
			}
			w.s.fail(j.t, j.m, j.path, err)
			continue
		}
		members++
		w.s.c.members.Add(1)
		mloc := loc
		mloc.Path = m.Path
		if err := w.member(ctx, j, m, mloc); err != nil && ctx.Err() == nil {
			if errors.Is(err, unpack.ErrLimit) {
				w.s.c.skip(skipArchiveLimit)
			}
			w.s.fail(j.t, j.m, m.Path, err)
		}
	}
	return members
}

func (w *worker) member(ctx context.Context, j job, m unpack.Member, loc finding.Location) error {
	rc, err := m.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	var r io.Reader = rc
	inner := "/" + strings.TrimPrefix(m.Path[strings.LastIndex(m.Path, "!")+1:], "/")
	if need, headBytes := w.s.opt.Catalogue.Wants(inner, m.Size); need {
		n := min(headBytes, maxCatalogueBytes)
		if m.Size >= 0 {
			n = min(n, m.Size)
		}
		head, err := io.ReadAll(io.LimitReader(rc, n))
		if err != nil {
			return err
		}
		for _, fm := range w.s.opt.Catalogue.Check(inner, m.Size, head) {
			w.s.addFile(j.t, loc, fm)
		}
		r = io.MultiReader(bytes.NewReader(head), rc)
	}
	mj := j
	mj.path = m.Path
	lim := &memberLimit{r: r, left: w.s.opt.MaxFileBytes}
	err = w.stream(ctx, mj, loc, lim)
	if lim.over {
		w.s.c.skip(skipTooLarge) // as a plain file that long: its head is scanned, the rest counted
	}
	return err
}

// memberLimit bounds what is scanned of one member at MaxFileBytes, charging zeros at a quarter
// (unpack.Cost) so that a compressed sparse disk image is read whole. It ends the member
// quietly at the limit and records whether more was there.
type memberLimit struct {
	r    io.Reader
	left int64
	over bool
}

func (m *memberLimit) Read(p []byte) (int, error) {
	if m.left <= 0 {
		var one [1]byte
		if n, _ := io.ReadFull(m.r, one[:]); n > 0 {
			m.over = true
		}
		return 0, io.EOF
	}
	if int64(len(p)) > m.left {
		p = p[:m.left]
	}
	n, err := m.r.Read(p)
	m.left -= unpack.Cost(p[:n])
	return n, err
}
