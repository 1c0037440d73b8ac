package unpack

import (
	"fmt"
	"io"
	"time"
)

// archive is a streamed archive format (tar, ar, cpio): next moves to the following member,
// Read reads the current member's bytes. Moving on skips whatever was not read.
type archive interface {
	next() (entry, error) // io.EOF after the last member
	Read(p []byte) (int, error)
}

// entry is one member header of a streamed archive.
type entry struct {
	name    string
	size    int64
	mtime   time.Time
	regular bool // has content to read: not a directory, link, device or metadata record
	holes   bool // may expand beyond the bytes the archive stores (a sparse tar member)
}

// entries walks a streamed archive at n. Every header counts against MaxEntries, directories
// and links included, since each costs work to skip.
func (w *walker) entries(n node, format string, a archive) {
	for count := 0; w.alive(); count++ {
		e, err := a.next()
		if err == io.EOF {
			return
		}
		if err != nil {
			w.emit(Member{Path: n.path, Depth: n.depth}, locate(n.path, format, err))
			return
		}
		if count == w.lim.MaxEntries {
			w.emit(Member{Path: n.path, Depth: n.depth}, &LimitError{Path: n.path, Limit: "MaxEntries",
				Msg: fmt.Sprintf("%s: more than %d members; the rest are skipped", format, w.lim.MaxEntries)})
			return
		}
		if !e.regular {
			continue
		}
		var data io.Reader = a
		if e.holes {
			// Holes are bytes made from nothing, like a decompressor's output: charge them.
			data = &meter{path: n.path, format: "sparse " + format, r: a, budget: &w.budget}
		}
		if !w.member(n, e.name, e.size, e.mtime, data, nil) {
			return
		}
	}
}
