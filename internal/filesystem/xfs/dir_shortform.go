package xfs

import (
	"encoding/binary"
	"fmt"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Short-form directories live in the inode's data fork: a header (count, i8count, parent inode)
// and packed entries (namelen, 16-bit offset cookie, name, [ftype], inode number). Inode numbers
// are 8 bytes when i8count is not zero, else 4.

// sfDir is a decoded short-form directory; end is where the live entries stop (slack follows).
type sfDir struct {
	entries []rawDirent
	end     int
	inoSize int
}

func (f *FS) parseShortForm(n *inode) (*sfDir, error) {
	what := fmt.Sprintf("inode %d short-form directory", n.ino)
	limit := int(min(n.size, int64(len(n.dfork))))
	b := n.dfork[:limit]
	if len(b) < 6 {
		return nil, filesystem.Corrupt("xfs", what, "%d bytes cannot hold a header", len(b))
	}
	count, i8 := int(b[0]), int(b[1])
	d := &sfDir{inoSize: 4}
	if i8 != 0 {
		d.inoSize = 8
	}
	p := 2 + d.inoSize
	if p > len(b) {
		return nil, filesystem.Corrupt("xfs", what, "%d bytes cannot hold a header", len(b))
	}
	for i := 0; i < count; i++ {
		e, next, ok := f.parseSFEntry(b, p, d.inoSize)
		if !ok {
			return d, filesystem.Corrupt("xfs", what, "entry %d of %d at byte %d runs past the %d-byte directory", i, count, p, len(b))
		}
		d.entries = append(d.entries, e)
		p = next
	}
	d.end = p
	return d, nil
}

// parseSFEntry decodes the entry at p; ok is false when it does not fit or has an empty name.
func (f *FS) parseSFEntry(b []byte, p, inoSize int) (rawDirent, int, bool) {
	if p+3 > len(b) {
		return rawDirent{}, 0, false
	}
	nameLen := int(b[p])
	ft := 0
	if f.ftype {
		ft = 1
	}
	end := p + 3 + nameLen + ft + inoSize
	if nameLen == 0 || end > len(b) {
		return rawDirent{}, 0, false
	}
	e := rawDirent{name: b[p+3 : p+3+nameLen], off: p}
	q := p + 3 + nameLen
	if f.ftype {
		e.ftype = b[q]
		q++
	}
	if inoSize == 8 {
		e.ino = binary.BigEndian.Uint64(b[q:])
	} else {
		e.ino = uint64(binary.BigEndian.Uint32(b[q:]))
	}
	return e, end, true
}
