package fat

import (
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

const (
	// maxDirBytes is the FAT directory size limit of the specification: 65536 entries of 32 bytes.
	maxDirBytes = 65536 * direntSize
	// entryCacheSize bounds the raw directory entries kept so that Stat after ReadDir does not
	// read the volume again (32 bytes each).
	entryCacheSize = 8192
)

// fatVolume is an open FAT12, FAT16 or FAT32 volume.
type fatVolume struct {
	g     geometry
	bpb   *bpb
	table *fatTable
	bits  int

	entries *lru.Cache[uint64, [direntSize]byte]

	labelOnce sync.Once
	rootLabel string

	claims claims

	freeOnce sync.Once
	free     *freeRuns // built on first use by Deleted
}

func openFAT(r io.ReaderAt, size int64, boot []byte) (*fatVolume, error) {
	p, err := parseBPB(boot, size)
	if err != nil {
		return nil, err
	}
	v := &fatVolume{bpb: p, bits: p.bits}
	v.g = geometry{
		r:           r,
		size:        size,
		fsName:      fmt.Sprintf("fat%d", p.bits),
		sectorSize:  int64(p.bytesPerSector),
		clusterSize: int64(p.bytesPerSector) * int64(p.sectorsPerCluster),
		heapOff:     p.heapOff,
		clusters:    p.clusters,
	}
	// The FAT in use: the first unless FAT32 disables mirroring and names another. The other
	// copies are not compared; like the operating systems, the reader trusts the one in use.
	fatOff := (int64(p.reservedSectors) + int64(p.activeFAT)*int64(p.fatSectors)) * int64(p.bytesPerSector)
	if v.table, err = newFATTable(&v.g, fatOff, p.bits, false); err != nil {
		return nil, err
	}
	if v.entries, err = lru.New[uint64, [direntSize]byte](entryCacheSize); err != nil {
		return nil, err
	}
	return v, nil
}

func (v *fatVolume) Type() string { return v.g.fsName }

func (v *fatVolume) Root() uint64 { return rootIno }

func (v *fatVolume) serial() (uint32, bool) { return v.bpb.serial, v.bpb.hasSerial }

// label prefers the root directory's volume-label entry, as Windows does, over the boot sector's.
func (v *fatVolume) label() string {
	v.labelOnce.Do(func() {
		_ = v.scan(v.rootSource(), func(off int64, b []byte) bool {
			if b[0] == entryEnd {
				return false
			}
			if b[0] != entryDeleted && !isLongNameEntry(b) && b[11]&attrVolumeID != 0 {
				var raw [11]byte
				copy(raw[:], b)
				v.rootLabel = strings.TrimRight(decodeOEM(raw[:], false), " ")
				return false
			}
			return true
		})
		if v.rootLabel == "" && v.bpb.hasLabel {
			l := strings.TrimRight(decodeOEM(v.bpb.label[:], false), " ")
			if l != "NO NAME" {
				v.rootLabel = l
			}
		}
	})
	return v.rootLabel
}

var errNoSymlinks = errorString("FAT has no symbolic links")

func (v *fatVolume) ReadLink(uint64) (string, error) { return "", errNoSymlinks }

// notExist is the error for an id that names no live directory entry.
func notExist(ino uint64) error {
	return fmt.Errorf("fat: no file with id %d: %w", ino, fs.ErrNotExist)
}

// entry re-reads the live short entry an id names. Ids are entry offsets / 32; an id outside the
// directory regions, in a free cluster, or on an entry that is free, a long-name part, a label or
// a dot entry names nothing.
func (v *fatVolume) entry(ino uint64) (shortEntry, error) {
	if raw, ok := v.entries.Get(ino); ok {
		return parseShort(raw[:]), nil
	}
	if ino > uint64(v.g.size)/direntSize {
		return shortEntry{}, notExist(ino)
	}
	off := int64(ino) * direntSize
	switch {
	case v.bits != 32 && off >= v.bpb.rootOff && off < v.bpb.rootOff+v.bpb.rootLen:
	case off >= v.g.heapOff && off < v.g.heapEnd():
		c := uint32((off-v.g.heapOff)/v.g.clusterSize) + 2
		if e, err := v.table.entry(c); err != nil || v.table.classify(e) == linkFree {
			return shortEntry{}, notExist(ino)
		}
	default:
		return shortEntry{}, notExist(ino)
	}
	var raw [direntSize]byte
	if err := v.g.readFull(raw[:], off, "directory entry"); err != nil {
		return shortEntry{}, err
	}
	e := parseShort(raw[:])
	if raw[0] == entryEnd || raw[0] == entryDeleted || isLongNameEntry(raw[:]) || e.isLabel() || e.isDot() {
		return shortEntry{}, notExist(ino)
	}
	v.entries.Add(ino, raw)
	return e, nil
}

// describe names a file in errors: its 8.3 name and id.
func describe(kind string, e *shortEntry, ino uint64) string {
	return fmt.Sprintf("%s %q (id %d)", kind, shortName(e.name, e.ntCase), ino)
}

func (v *fatVolume) Stat(ino uint64) (*filesystem.Stat, error) {
	if ino == rootIno {
		return &filesystem.Stat{Inode: rootIno, Mode: fs.ModeDir | 0o755, Nlink: 1}, nil
	}
	e, err := v.entry(ino)
	if err != nil {
		return nil, err
	}
	st := &filesystem.Stat{
		Inode:      ino,
		Mode:       e.mode(),
		Nlink:      1,
		ModTime:    dosTime(e.wrtDate, e.wrtTime, 0),
		AccessTime: dosTime(e.accDate, 0, 0),
		BirthTime:  dosTime(e.crtDate, e.crtTime, e.crtTenth),
	}
	if !e.isDir() {
		st.Size = int64(e.size)
	}
	return st, nil
}

func (v *fatVolume) Open(ino uint64) (io.ReaderAt, error) {
	if ino == rootIno {
		return nil, errIsDir
	}
	e, err := v.entry(ino)
	if err != nil {
		return nil, err
	}
	if e.isDir() {
		return nil, errIsDir
	}
	l := v.fileChain(&e, ino)
	if l.clusters == 0 && e.size > 0 {
		return nil, l.broken
	}
	return newChainReader(&v.g, describe("file", &e, ino), l, int64(e.size), int64(e.size)), nil
}

var errIsDir = errorString("is a directory")

// fileChain reads the chain of a regular file, as far as its size needs.
func (v *fatVolume) fileChain(e *shortEntry, ino uint64) runList {
	want := (uint64(e.size) + uint64(v.g.clusterSize) - 1) / uint64(v.g.clusterSize)
	return v.table.walkChain(e.cluster(v.bits), chainSpec{id: ino, owned: &v.claims, what: describe("file", e, ino), want: want})
}

func (v *fatVolume) Extents(ino uint64) ([]filesystem.Extent, error) {
	if ino == rootIno && v.bits != 32 {
		return []filesystem.Extent{{Physical: v.bpb.rootOff, Length: v.bpb.rootLen}}, nil
	}
	if ino == rootIno {
		l := v.dirChain(rootIno, v.bpb.rootCluster, "root directory")
		return v.g.extents(l.runs, int64(l.clusters)*v.g.clusterSize), l.broken
	}
	e, err := v.entry(ino)
	if err != nil {
		return nil, err
	}
	if e.isDir() {
		src, err := v.subdirChain(&e, ino)
		if err != nil {
			return nil, err
		}
		return v.g.extents(src.runs, int64(src.clusters)*v.g.clusterSize), src.broken
	}
	l := v.fileChain(&e, ino)
	return v.g.extents(l.runs, int64(e.size)), l.broken
}
