package fat

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"unicode/utf16"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// exfatContiguousParent marks ids whose entry set lies in a directory stored without a FAT
// chain (NoFatChain): a set that crosses a cluster boundary continues in the next cluster, not
// where the FAT says. Stat needs to know that from the id alone.
const exfatContiguousParent = 1 << 62

// exfatBitmapIno is the owner of the allocation bitmap's clusters (ids of entries are offsets / 32,
// far above it).
const exfatBitmapIno = 2

// exfatVolume is an open exFAT volume.
type exfatVolume struct {
	g      geometry
	boot   *exfatBoot
	table  *fatTable
	bitmap *exfatBitmap
	lbl    string
	claims claims
	files  *lru.Cache[uint64, exfatFile]

	freeOnce sync.Once
	free     *freeRuns
}

func openExFAT(r io.ReaderAt, size int64) (*exfatVolume, error) {
	p, err := readExFATBoot(r, size)
	if err != nil {
		return nil, err
	}
	bps := int64(1) << p.bpsShift
	v := &exfatVolume{boot: p}
	v.g = geometry{
		r:           r,
		size:        size,
		fsName:      "exfat",
		sectorSize:  bps,
		clusterSize: bps << p.spcShift,
		heapOff:     int64(p.heapOffset) * bps,
		clusters:    p.clusters,
	}
	active := int64(0)
	if p.flags&1 != 0 && p.numFATs == 2 {
		active = 1
	}
	fatOff := (int64(p.fatOffset) + active*int64(p.fatLength)) * bps
	if v.table, err = newFATTable(&v.g, fatOff, 32, true); err != nil {
		return nil, err
	}
	if v.files, err = lru.New[uint64, exfatFile](entryCacheSize); err != nil {
		return nil, err
	}
	if err := v.readRootMetadata(int(active)); err != nil {
		return nil, err
	}
	return v, nil
}

// readRootMetadata finds the allocation bitmap in use and the volume label in the root directory.
func (v *exfatVolume) readRootMetadata(active int) error {
	src := v.rootSource()
	var bitmapFirst uint32
	var bitmapLen uint64
	found := false
	err := scanSegments(&v.g, src, func(off int64, e []byte) bool {
		switch e[0] {
		case exEnd:
			return false
		case exBitmap:
			if int(e[1]&1) == active || !found {
				bitmapFirst = binary.LittleEndian.Uint32(e[20:])
				bitmapLen = binary.LittleEndian.Uint64(e[24:])
				found = true
			}
		case exLabel:
			n := min(int(e[1]), exMaxLabelChars)
			units := make([]uint16, n)
			for i := range units {
				units[i] = binary.LittleEndian.Uint16(e[2+2*i:])
			}
			v.lbl = string(utf16Decode(units))
		}
		return true
	})
	if err != nil {
		return err
	}
	if !found {
		return v.g.corrupt("root directory", "no allocation bitmap entry")
	}
	v.bitmap, err = newExFATBitmap(v, bitmapFirst, bitmapLen)
	return err
}

func (v *exfatVolume) Type() string { return "exfat" }

func (v *exfatVolume) Root() uint64 { return rootIno }

func (v *exfatVolume) label() string { return v.lbl }

func (v *exfatVolume) serial() (uint32, bool) { return v.boot.serial, true }

func (v *exfatVolume) ReadLink(uint64) (string, error) { return "", errNoSymlinks }

// rootSource is the root directory: a FAT chain with no recorded size.
func (v *exfatVolume) rootSource() dirSource {
	l := v.table.walkChain(v.boot.rootCluster, chainSpec{id: rootIno, owned: &v.claims, what: "root directory",
		want: uint64(max(1, exMaxDirBytes/v.g.clusterSize)), toEnd: true})
	return v.sourceOf(l)
}

func (v *exfatVolume) sourceOf(l runList) dirSource {
	src := dirSource{runs: l.runs, broken: l.broken}
	for _, r := range l.runs {
		src.segs = append(src.segs, segment{v.g.clusterOff(r.start), int64(r.count) * v.g.clusterSize})
	}
	return src
}

// chainOf finds the clusters of a file or directory from its stream extension.
func (v *exfatVolume) chainOf(f *exfatFile, id uint64, owned *claims) runList {
	what := fmt.Sprintf("%s %q (id %d)", map[bool]string{true: "directory", false: "file"}[f.isDir()], f.name, id)
	n := (f.dataLen + uint64(v.g.clusterSize) - 1) / uint64(v.g.clusterSize)
	if f.dataLen == 0 {
		return runList{}
	}
	if n > uint64(v.g.clusters) {
		return runList{broken: v.g.corrupt(what, "size %d is larger than the volume's %d clusters", f.dataLen, v.g.clusters)}
	}
	if f.isDir() && f.dataLen > exMaxDirBytes {
		return runList{broken: v.g.corrupt(what, "directory size %d exceeds the 256 MiB limit", f.dataLen)}
	}
	spec := chainSpec{id: id, owned: owned, what: what, want: n}
	if f.noFatChain {
		return v.g.contiguousRuns(f.first, n, spec)
	}
	return v.table.walkChain(f.first, spec)
}

// file re-reads the entry set an id names, from the id alone.
func (v *exfatVolume) file(ino uint64) (exfatFile, error) {
	if f, ok := v.files.Get(ino); ok {
		return f, nil
	}
	contiguous := ino&exfatContiguousParent != 0
	idx := ino &^ exfatContiguousParent
	if idx > uint64(v.g.size)/direntSize {
		return exfatFile{}, notExist(ino)
	}
	off := int64(idx) * direntSize
	if off < v.g.heapOff || off >= v.g.heapEnd() {
		return exfatFile{}, notExist(ino)
	}
	var set [(exMaxSecondary + 1) * direntSize]byte
	pos := off
	if err := v.g.readFull(set[:direntSize], pos, "directory entry"); err != nil {
		return exfatFile{}, err
	}
	if set[0] != exFile {
		return exfatFile{}, notExist(ino)
	}
	n := int(set[1])
	if n < 2 || n > exMaxSecondary {
		return exfatFile{}, notExist(ino)
	}
	for i := 1; i <= n; i++ {
		next, err := v.nextEntry(pos, contiguous)
		if err != nil {
			return exfatFile{}, err
		}
		pos = next
		if err := v.g.readFull(set[i*direntSize:(i+1)*direntSize], pos, "directory entry"); err != nil {
			return exfatFile{}, err
		}
	}
	f, ok := parseEntrySet(set[:(n+1)*direntSize], false)
	if !ok {
		return exfatFile{}, notExist(ino)
	}
	v.files.Add(ino, f)
	return f, nil
}

// nextEntry is the offset of the directory entry after the one at pos: the next 32 bytes, or
// the start of the directory's next cluster.
func (v *exfatVolume) nextEntry(pos int64, contiguous bool) (int64, error) {
	next := pos + direntSize
	if (next-v.g.heapOff)%v.g.clusterSize != 0 {
		return next, nil
	}
	c := uint32((pos-v.g.heapOff)/v.g.clusterSize) + 2
	n := c + 1
	if !contiguous {
		e, err := v.table.entry(c)
		if err != nil {
			return 0, err
		}
		if v.table.classify(e) != linkNext {
			return 0, v.g.corrupt("directory entry set", "crosses the end of cluster %d, whose FAT entry 0x%x does not continue", c, e)
		}
		n = e
	}
	if !v.g.validCluster(n) {
		return 0, v.g.corrupt("directory entry set", "continues past the last cluster")
	}
	return v.g.clusterOff(n), nil
}

func (v *exfatVolume) Stat(ino uint64) (*filesystem.Stat, error) {
	if ino == rootIno {
		return &filesystem.Stat{Inode: rootIno, Mode: fs.ModeDir | 0o755, Nlink: 1}, nil
	}
	f, err := v.file(ino)
	if err != nil {
		return nil, err
	}
	st := &filesystem.Stat{
		Inode:      ino,
		Mode:       f.mode(),
		Nlink:      1,
		ModTime:    f.modified,
		AccessTime: f.accessed,
		BirthTime:  f.created,
	}
	if !f.isDir() {
		if f.dataLen > 1<<62 {
			return nil, v.g.corrupt(fmt.Sprintf("file %q (id %d)", f.name, ino), "size %d", f.dataLen)
		}
		st.Size = int64(f.dataLen)
	}
	return st, nil
}

// dirSourceOf finds the entries of the directory with this id, and whether they are contiguous.
func (v *exfatVolume) dirSourceOf(ino uint64) (dirSource, bool, error) {
	if ino == rootIno {
		return v.rootSource(), false, nil
	}
	f, err := v.file(ino)
	if err != nil {
		return dirSource{}, false, err
	}
	if !f.isDir() {
		return dirSource{}, false, errNotDir
	}
	if f.first == v.boot.rootCluster {
		return dirSource{}, false, v.g.corrupt(fmt.Sprintf("directory %q (id %d)", f.name, ino), "starts at cluster %d, the root directory's", f.first)
	}
	l := v.chainOf(&f, ino, &v.claims)
	return v.sourceOf(l), f.noFatChain, nil
}

// ReadDir lists a directory: the file entry sets whose checksum holds. A set that fails its
// checksum or is malformed is skipped and reported; a chain that breaks gives the entries
// before the break; an unreadable cluster is skipped. The errors come back with the listing.
func (v *exfatVolume) ReadDir(ino uint64) ([]filesystem.Entry, error) {
	src, contiguous, err := v.dirSourceOf(ino)
	if err != nil {
		return nil, err
	}
	what := "root directory"
	if ino != rootIno {
		what = fmt.Sprintf("directory id %d", ino)
	}
	src.what = what
	var out []filesystem.Entry
	var errs filesystem.Errors
	var sets setCollector
	err = scanSegments(&v.g, src, func(off int64, e []byte) bool {
		if e[0] == exEnd {
			return false
		}
		set, at, deleted, done := sets.add(off, e)
		if !done || deleted {
			return true
		}
		f, ok := parseEntrySet(set, false)
		if !ok {
			why := "is malformed (entry types, name length)"
			if stored, sum := binary.LittleEndian.Uint16(set[2:]), setChecksum(set, false); stored != sum {
				why = fmt.Sprintf("checksum 0x%04x does not match its content (0x%04x)", stored, sum)
			}
			errs.Add(v.g.corrupt(fmt.Sprintf("%s entry set at id %d", what, uint64(at)/direntSize), "%s; skipped", why))
			return true
		}
		id := uint64(at) / direntSize
		if contiguous {
			id |= exfatContiguousParent
		}
		v.files.Add(id, f)
		var typ fs.FileMode
		if f.isDir() {
			typ = fs.ModeDir
		}
		out = append(out, filesystem.Entry{Name: f.name, Ino: id, Type: typ})
		return true
	})
	errs.Add(err)
	if len(out) == 0 && err != nil {
		return nil, errs.Err()
	}
	return out, errs.Err()
}

func (v *exfatVolume) Open(ino uint64) (io.ReaderAt, error) {
	if ino == rootIno {
		return nil, errIsDir
	}
	f, err := v.file(ino)
	if err != nil {
		return nil, err
	}
	if f.isDir() {
		return nil, errIsDir
	}
	if f.dataLen > 1<<62 {
		return nil, v.g.corrupt(fmt.Sprintf("file %q (id %d)", f.name, ino), "size %d", f.dataLen)
	}
	l := v.chainOf(&f, ino, &v.claims)
	if l.clusters == 0 && f.dataLen > 0 {
		return nil, l.broken
	}
	return newChainReader(&v.g, fmt.Sprintf("file %q (id %d)", f.name, ino), l, int64(f.dataLen), int64(f.validLen)), nil
}

func (v *exfatVolume) Extents(ino uint64) ([]filesystem.Extent, error) {
	if ino == rootIno {
		src := v.rootSource()
		var n int64
		for _, r := range src.runs {
			n += int64(r.count) * v.g.clusterSize
		}
		return v.g.extents(src.runs, n), src.broken
	}
	f, err := v.file(ino)
	if err != nil {
		return nil, err
	}
	l := v.chainOf(&f, ino, &v.claims)
	return v.g.extents(l.runs, int64(min(f.dataLen, 1<<62))), l.broken
}

func utf16Decode(u []uint16) []rune {
	for i, c := range u {
		if c == 0 {
			u = u[:i]
			break
		}
	}
	return utf16.Decode(u)
}
