package unpack

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/snapwatch/snapwatch/internal/bytesize"
)

// ratioGrace is the output a stream may produce before its ratio is judged: a small file of
// repetitive text legitimately compresses far beyond any sane bomb threshold.
const ratioGrace = 1 << 20

// zeroWeight is how many decompressed zero bytes cost one byte of an allowance. A gzipped or
// zipped disk image is mostly zeros (its unwritten blocks): counted at full weight, a 2 GiB
// image with 50 MiB of data would trip the ratio check and the member limit, and its data go
// unread. Zeros hold no secret and scan at memory speed, but a bomb is zeros too, so they are
// not free: at a quarter weight the walk stays bounded by four times its allowance. Only whole
// all-zero reads count as zeros, which is what the long runs of a sparse image give.
const zeroWeight = 4

// Cost is what the bytes just read into p charge to an allowance: their length, or a quarter
// of it when they are all zeros. Consumers that bound what they read of a member use it too,
// so that a compressed sparse disk image is bounded the same way at every layer.
func Cost(p []byte) int64 { return cost(p) }

func cost(p []byte) int64 {
	if AllZero(p) {
		return (int64(len(p)) + zeroWeight - 1) / zeroWeight
	}
	return int64(len(p))
}

var zeroPage [4096]byte

// AllZero reports whether p holds only zero bytes (a sparse image's unwritten blocks).
func AllZero(p []byte) bool {
	for len(p) > 0 {
		k := min(len(p), len(zeroPage))
		if !bytes.Equal(p[:k], zeroPage[:k]) {
			return false
		}
		p = p[k:]
	}
	return true
}

// budget is the MaxTotalBytes allowance of one top-level file, shared by every decompressor
// opened under it. Bytes are counted where they are produced (a decompressor's output, a sparse
// tar member's holes), so nested layers do not count the same byte twice.
type budget struct {
	left  int64
	limit int64
	err   error // set once the allowance is spent and more was wanted
}

// grant trims a read of want bytes to what is left, or reports exhaustion; probe is true when
// nothing is left and the caller should read one byte to learn whether more was coming.
func (b *budget) grant(want int) (n int, probe bool) {
	if b.left <= 0 {
		return 1, true
	}
	if int64(want) > b.left {
		return int(b.left), false
	}
	return want, false
}

// exceed records that the stream at path wanted more than the allowance.
func (b *budget) exceed(path, format string) error {
	if b.err == nil {
		b.err = &LimitError{Path: path, Limit: "MaxTotalBytes",
			Msg: fmt.Sprintf("%s: more than %s decompressed from one file", format, bytesize.Format(b.limit))}
	}
	return b.err
}

// countReader counts the bytes read through it: the compressed side of a meter.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// meter sits on the output of one decompressor: it charges the output to the file's budget and
// stops the stream once output/input passes the ratio limit, as the bytes stream by, so a bomb
// is caught after a few megabytes whatever its final size.
type meter struct {
	path, format string
	r            io.Reader    // decompressed bytes
	in           *countReader // compressed bytes consumed so far; nil when nothing is compressed (sparse holes)
	out          int64        // bytes produced
	dense        int64        // of which in reads that were not all zeros: what the ratio judges
	ratio        int64        // 0: no ratio check
	budget       *budget
	err          error // sticky: a stream that failed stays failed
}

func (m *meter) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	want, probe := m.budget.grant(len(p))
	n, err := m.r.Read(p[:want])
	if probe && n > 0 {
		m.err = m.budget.exceed(m.path, m.format)
		return 0, m.err
	}
	m.out += int64(n)
	c := cost(p[:n])
	m.budget.left -= c
	if c == int64(n) {
		m.dense += c
	}
	// The ratio is judged on the bytes that are not zeros: a compressed sparse disk image has a
	// huge overall ratio and is no bomb; a bomb of zeros is bounded by the weighted allowance.
	if m.ratio > 0 && m.in != nil && m.dense > ratioGrace && m.dense > m.ratio*max(m.in.n, 1) {
		m.err = &LimitError{Path: m.path, Limit: "MaxRatio", Msg: fmt.Sprintf("%s: bomb: ratio %.1f:1 exceeds %d:1 at %s",
			m.format, float64(m.dense)/float64(max(m.in.n, 1)), m.ratio, bytesize.Format(m.out))}
		return n, m.err
	}
	if err != nil && err != io.EOF {
		m.err = locate(m.path, m.format, err)
		return n, m.err
	}
	return n, err
}

// lease ties the readers of one member to the walk's position: once the walk moves past the
// member they refuse to read (a streamed archive has moved on to other bytes), and streams
// opened again for the consumer are closed.
type lease struct {
	ctx     context.Context
	path    string
	limit   int64 // MaxEntryBytes
	expired bool
	closers []io.Closer
}

func (w *walker) lease(path string) *lease {
	return &lease{ctx: w.ctx, path: path, limit: w.lim.MaxEntryBytes}
}

// reader bounds one reading of the member's bytes.
func (l *lease) reader(r io.Reader) *entryReader {
	return &entryReader{lease: l, r: r, left: l.limit}
}

func (l *lease) movedPast() error {
	return fmt.Errorf("%s: read after the walk moved past this member", l.path)
}

func (l *lease) expire() {
	l.expired = true
	for _, c := range l.closers {
		c.Close()
	}
}

// entryReader is what Member.Open hands out: the member's bytes up to MaxEntryBytes, then
// ErrLimit; it stops when the walk's context ends or its lease expires.
type entryReader struct {
	*lease
	r    io.Reader
	left int64
	err  error
}

func (e *entryReader) Read(p []byte) (int, error) {
	switch {
	case e.err != nil:
		return 0, e.err
	case e.lease.expired:
		return 0, e.lease.movedPast()
	case len(p) == 0:
		return 0, nil
	}
	if err := e.ctx.Err(); err != nil {
		return 0, err
	}
	if e.left <= 0 {
		// The allowance is used up: one more byte means the member is longer than allowed.
		var one [1]byte
		n, err := io.ReadFull(e.r, one[:])
		if n == 0 {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			e.err = err
			return 0, err
		}
		e.err = &LimitError{Path: e.path, Limit: "MaxEntryBytes",
			Msg: fmt.Sprintf("member larger than %s", bytesize.Format(e.limit))}
		return 0, e.err
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= cost(p[:n])
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
