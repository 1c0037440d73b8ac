package xfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"path"
	"strconv"
)

// Deleted names. Removing an entry from a data block turns its bytes into an unused region:
// the first four bytes become the free tag 0xFFFF and the region length (destroying the high 32
// bits of the 64-bit inode number) and the last two become the region's start tag. The low 32
// bits of the inode number, the name length, the name and the file type survive until a new entry
// reuses the space. When the freed entry merges with a free region before it, even the first
// four bytes survive. Short-form directories shift later entries down over a removed one, so only
// a removed last entry survives, in the slack of the inode's literal area.

// maxDeletedNames caps how many deleted names one scan keeps before it reports the rest lost.
const maxDeletedNames = 1 << 20

// deletedName is a directory entry recovered from unused directory space.
type deletedName struct {
	path     string
	ino      uint64 // 0 when the surviving bytes cannot say
	mode     fs.FileMode
	hasMode  bool
	consumed bool // attached to a recovered inode
}

// nameScan walks the directory tree from the root, collecting deleted names.
type nameScan struct {
	f     *FS
	ctx   context.Context
	names []deletedName
	errs  []error
	full  bool
}

type queuedDir struct {
	ino  uint64
	path string
}

func (f *FS) scanDeletedNames(ctx context.Context) *nameScan {
	s := &nameScan{f: f, ctx: ctx}
	visited := map[uint64]bool{f.sb.rootIno: true}
	queue := []queuedDir{{f.sb.rootIno, ""}}
	for len(queue) > 0 && ctx.Err() == nil {
		q := queue[0]
		queue = queue[1:]
		subdirs, err := s.scanDir(q)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("deleted-name scan of %q: %w", q.path+"/", err))
		}
		for _, sd := range subdirs {
			if !visited[sd.ino] {
				visited[sd.ino] = true
				queue = append(queue, sd)
			}
		}
	}
	return s
}

// scanDir collects the deleted names of one directory and returns its live subdirectories.
func (s *nameScan) scanDir(q queuedDir) ([]queuedDir, error) {
	f := s.f
	d, err := f.openDir(q.ino)
	if err != nil {
		return nil, err
	}
	var subdirs []queuedDir
	live := map[string]uint64{}
	liveEntry := func(e rawDirent, what string) {
		ent, ok, _ := f.entry(e, what)
		if !ok {
			return
		}
		live[ent.Name] = ent.Ino
		if ent.Type.IsDir() {
			subdirs = append(subdirs, queuedDir{ent.Ino, q.path + "/" + ent.Name})
		}
	}
	var stale []rawDirent
	var lowOnly []bool
	if d.m == nil {
		sf, err := f.parseShortForm(d.n)
		if sf == nil {
			return nil, err
		}
		for _, e := range sf.entries {
			liveEntry(e, d.what)
		}
		if err == nil {
			stale = f.shortFormSlack(d.n.dfork, sf)
			lowOnly = make([]bool, len(stale))
		}
	} else {
		err = d.eachDataBlock(func(db uint64, b []byte) error {
			what := fmt.Sprintf("%s data block %d", d.what, db)
			_, err := f.walkDataBlock(b, what, func(e rawDirent) bool { liveEntry(e, what); return true },
				func(start, length int) {
					f.staleEntries(b, start, length, func(e rawDirent, low bool) {
						stale = append(stale, e)
						lowOnly = append(lowOnly, low)
					})
				})
			return err
		})
	}
	for i, e := range stale {
		name := string(e.name)
		if ino, ok := live[name]; ok && (ino == e.ino || lowOnly[i] && uint32(ino) == uint32(e.ino)) {
			continue // the same entry, moved (a rename in place or a format conversion)
		}
		s.add(q.path+"/"+name, e, lowOnly[i])
	}
	return subdirs, err
}

func (s *nameScan) add(p string, e rawDirent, lowOnly bool) {
	if len(s.names) >= maxDeletedNames {
		if !s.full {
			s.full = true
			s.errs = append(s.errs, fmt.Errorf("xfs: more than %d deleted names; the rest are not reported", maxDeletedNames))
		}
		return
	}
	dn := deletedName{path: path.Clean(p), ino: e.ino}
	if lowOnly {
		dn.ino = s.f.lowIno(e.ino)
	}
	dn.mode, dn.hasMode = ftypeMode(e.ftype)
	dn.hasMode = dn.hasMode && s.f.ftype
	s.names = append(s.names, dn)
}

// lowIno rebuilds an inode number from its surviving low 32 bits: exact when every inode
// number of the file system fits in 32 bits, else unknown (0).
func (f *FS) lowIno(v uint64) uint64 {
	if f.sb.maxIno() <= 1<<32 {
		return v & 0xffffffff
	}
	return 0
}

// staleEntries looks for former entries inside the unused region [start, start+length) of a
// data block. A candidate must fit in the region, carry a plausible name, file type and inode
// number, and end with its own offset as tag (or, as the region's last entry, with the region's
// start, which the free tag overwrote). low reports that the inode number's high half was lost.
func (f *FS) staleEntries(b []byte, start, length int, visit func(e rawDirent, low bool)) {
	end := start + length
	for q := start; q+16 <= end; {
		e, size, ok := f.parseDataEntry(b[:end], q)
		if ok {
			tag := int(binary.BigEndian.Uint16(b[q+size-2:]))
			low := binary.BigEndian.Uint16(b[q:]) == freeTag
			ino := e.ino
			if low {
				ino = f.lowIno(e.ino)
			}
			if (tag == q || q+size == end && tag == start) && f.plausible(e, ino, low) {
				e.ino = ino
				visit(e, low)
				q += size
				continue
			}
		}
		q += 8
	}
}

// shortFormSlack reads removed entries left after the live ones in a short-form directory.
func (f *FS) shortFormSlack(fork []byte, sf *sfDir) []rawDirent {
	var out []rawDirent
	for p := sf.end; ; {
		e, next, ok := f.parseSFEntry(fork, p, sf.inoSize)
		if !ok || !f.plausible(e, e.ino, false) {
			return out
		}
		out = append(out, e)
		p = next
	}
}

// plausible filters random bytes from real former entries.
func (f *FS) plausible(e rawDirent, ino uint64, lowOnly bool) bool {
	if len(e.name) == 0 || bytes.IndexByte(e.name, '/') >= 0 || bytes.IndexByte(e.name, 0) >= 0 {
		return false
	}
	if string(e.name) == "." || string(e.name) == ".." {
		return false
	}
	if f.ftype {
		if _, ok := ftypeMode(e.ftype); !ok {
			return false
		}
	}
	if lowOnly && ino == 0 {
		return true // nothing more to check
	}
	_, ok := f.sb.inoOffset(ino)
	return ok && ino != 0
}

func orphanPath(ino uint64) string { return "/$OrphanFiles/" + strconv.FormatUint(ino, 10) }
