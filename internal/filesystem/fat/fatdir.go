package fat

import (
	"fmt"
	"io/fs"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// segment is a byte range of the volume holding directory entries.
type segment struct{ off, len int64 }

// dirSource is where a directory's entries lie, in order, and why it stops early if it does.
type dirSource struct {
	segs   []segment
	runs   []run // the clusters, when the directory is a chain
	broken error
	what   string // the directory, for errors ("" is "directory")
}

// scanChunk bounds the buffer a directory scan reads into.
const scanChunk = 64 << 10

// scan calls fn with the volume offset and the 32 bytes of every entry of the directory until fn
// returns false. A broken chain is reported only if the scan gets that far. A region that cannot
// be read is skipped and reported; the scan goes on after it.
func (v *fatVolume) scan(src dirSource, fn func(off int64, b []byte) bool) error {
	return scanSegments(&v.g, src, fn)
}

func scanSegments(g *geometry, src dirSource, fn func(off int64, b []byte) bool) error {
	var buf []byte
	var errs filesystem.Errors
	what := src.what
	if what == "" {
		what = "directory"
	}
	for _, s := range src.segs {
		for done := int64(0); done < s.len; {
			n := min(s.len-done, scanChunk)
			n -= n % direntSize
			if n == 0 {
				break
			}
			if int64(cap(buf)) < n {
				buf = make([]byte, n)
			}
			b := buf[:n]
			if err := g.readFull(b, s.off+done, what); err != nil {
				errs.Add(err)
				done += n
				continue
			}
			for i := int64(0); i < n; i += direntSize {
				if !fn(s.off+done+i, b[i:i+direntSize]) {
					return errs.Err()
				}
			}
			done += n
		}
	}
	errs.Add(src.broken)
	return errs.Err()
}

// rootSource is the root directory: the fixed region of FAT12/16, a chain on FAT32.
func (v *fatVolume) rootSource() dirSource {
	if v.bits != 32 {
		return dirSource{segs: []segment{{v.bpb.rootOff, v.bpb.rootLen}}, what: "root directory"}
	}
	l := v.dirChain(rootIno, v.bpb.rootCluster, "root directory")
	src := v.sourceOf(l)
	src.what = "root directory"
	return src
}

// dirChain follows the chain of directory id to its end, at most maxDirBytes long.
func (v *fatVolume) dirChain(id uint64, first uint32, what string) runList {
	limit := uint64(maxDirBytes / v.g.clusterSize)
	if limit == 0 {
		limit = 1
	}
	return v.table.walkChain(first, chainSpec{id: id, owned: &v.claims, what: what, want: limit, toEnd: true})
}

// subdirChain is the chain of a subdirectory entry. A subdirectory that starts at cluster 0 or
// at the root directory's cluster would make the tree a loop, and is corrupt.
func (v *fatVolume) subdirChain(e *shortEntry, ino uint64) (runList, error) {
	what := describe("directory", e, ino)
	c := e.cluster(v.bits)
	if c == 0 || (v.bits == 32 && c == v.bpb.rootCluster) {
		return runList{}, v.g.corrupt(what, "starts at cluster %d, the root directory's", c)
	}
	return v.dirChain(ino, c, what), nil
}

func (v *fatVolume) sourceOf(l runList) dirSource {
	src := dirSource{runs: l.runs, broken: l.broken}
	for _, r := range l.runs {
		src.segs = append(src.segs, segment{v.g.clusterOff(r.start), int64(r.count) * v.g.clusterSize})
	}
	return src
}

// source finds the entries of the directory with this id.
func (v *fatVolume) source(ino uint64) (dirSource, error) {
	if ino == rootIno {
		return v.rootSource(), nil
	}
	e, err := v.entry(ino)
	if err != nil {
		return dirSource{}, err
	}
	if !e.isDir() {
		return dirSource{}, errNotDir
	}
	l, err := v.subdirChain(&e, ino)
	if err != nil {
		return dirSource{}, err
	}
	src := v.sourceOf(l)
	src.what = describe("directory", &e, ino)
	return src, nil
}

var errNotDir = errorString("not a directory")

// ReadDir lists a directory: long names where a valid sequence precedes the short entry, else the
// 8.3 name; label, "." and ".." entries are skipped. Damage does not lose the rest: a chain that
// breaks (bad cluster, link out of the heap, loop) gives the entries before the break, an
// unreadable cluster is skipped, and a long name that does not belong to its short entry
// (checksum mismatch, broken sequence) leaves the file listed under its 8.3 name; each comes
// back as an error next to the listing.
func (v *fatVolume) ReadDir(ino uint64) ([]filesystem.Entry, error) {
	src, err := v.source(ino)
	if err != nil {
		return nil, err
	}
	var out []filesystem.Entry
	var errs filesystem.Errors
	var lfn lfnAssembler
	err = v.scan(src, func(off int64, b []byte) bool {
		switch {
		case b[0] == entryEnd:
			return false
		case b[0] == entryDeleted:
			lfn.reset()
			return true
		case isLongNameEntry(b):
			lfn.add(b)
			return true
		}
		long, why := lfn.nameOrWhy(b)
		e := parseShort(b)
		if e.isLabel() || e.isDot() {
			return true
		}
		name := long
		if name == "" {
			name = shortName(e.name, e.ntCase)
		}
		if name == "" {
			return true
		}
		id := uint64(off) / direntSize
		if why != "" {
			errs.Add(v.g.corrupt(fmt.Sprintf("%s entry %q (id %d)", src.what, name, id), "long name lost: %s; listed under its 8.3 name", why))
		}
		var raw [direntSize]byte
		copy(raw[:], b)
		v.entries.Add(id, raw)
		var typ fs.FileMode
		if e.isDir() {
			typ = fs.ModeDir
		}
		out = append(out, filesystem.Entry{Name: name, Ino: id, Type: typ})
		return true
	})
	errs.Add(err)
	if len(out) == 0 && err != nil {
		return nil, errs.Err()
	}
	return out, errs.Err()
}
