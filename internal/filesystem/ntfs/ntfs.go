// Package ntfs reads NTFS volumes through an io.ReaderAt, without mounting them.
//
// It parses the boot sector, reads $MFT through its own runlist (falling back to $MFTMirr for
// the first records), gathers each file's attributes across extension records ($ATTRIBUTE_LIST),
// reads resident, non-resident, sparse and LZNT1-compressed data, walks $I30 directory B+trees,
// and shows what deletion left behind: free clusters from $Bitmap and MFT records that are no
// longer in use. *FS implements filesystem.Tree and its optional interfaces; filesystem.New
// turns it into an io/fs.FS.
//
// Every structure read from disk is checked before use: sizes against the record, the volume and
// the caps below; walks through attribute lists, runlists and index trees are bounded. A broken
// structure yields an error made by filesystem.Corrupt that names it.
package ntfs

import (
	"fmt"
	"io"
	"io/fs"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/snapwatch/snapwatch/internal/filesystem"
)

const fsName = "ntfs"

// Caps on what a hostile image can make us allocate or walk. Real volumes stay far below them.
const (
	// maxAttrListSize bounds an $ATTRIBUTE_LIST value; Windows itself refuses lists over 256 KiB.
	maxAttrListSize = 256 << 10
	// maxNodeRecordBytes bounds the MFT record bytes kept for one file (base + extension records).
	// 16 MiB holds the attribute list of a file with well over a million fragments.
	maxNodeRecordBytes = 16 << 20
	// maxNodeAttributes bounds the attributes of one file (a real one has a handful, or a few
	// per extension record).
	maxNodeAttributes = 1 << 16
	// maxRunsPerStream bounds the decoded runlist of one stream (24 bytes a run).
	maxRunsPerStream = 1 << 20
	// maxIndexDepth bounds the depth of a $I30 B+tree (real trees have 2-4 levels).
	maxIndexDepth = 32
	// maxDirEntries bounds the entries of one directory.
	maxDirEntries = 1 << 22
	// maxReparseSize is the largest reparse point NTFS allows (16 KiB).
	maxReparseSize = 16 << 10
	// maxPathDepth bounds the parent chain followed to rebuild a deleted file's path.
	maxPathDepth = 256
	// nodeCacheSize is how many parsed files are kept; only files whose records total at most
	// maxCachedNodeBytes are cached, so the cache holds at most 64 MiB.
	nodeCacheSize      = 4096
	maxCachedNodeBytes = 16 << 10
)

// The first 16 MFT records are reserved for the file system's own metadata files; the root
// directory lists those that exist ($MFT, $Bitmap, $Extend, ...) and its own "." entry.
const (
	rootRecord     = 5
	firstUserEntry = 16
)

// Well-known metadata records.
const (
	mftRecord    = 0
	volumeRecord = 3
	bitmapRecord = 6
	upcaseRecord = 10
)

// FS is an NTFS volume. It implements filesystem.Tree, Lookuper, Extenter, Residual and
// StreamOpener; all methods are safe for concurrent use.
type FS struct {
	r    io.ReaderAt
	size int64 // bytes of the volume readable through r
	geo  geometry

	mft     *stream // the $MFT $DATA stream
	records uint64  // number of MFT records
	upcase  []uint16
	label   string
	nodes   *lru.Cache[uint64, *node]
	bm      *bitmapHolder // $Bitmap, loaded on first use
}

// Detect reports whether the volume holds NTFS: the "NTFS    " OEM id at offset 3 and a sane
// BIOS parameter block.
func Detect(r io.ReaderAt, size int64) bool {
	if size < bootSectorSize {
		return false
	}
	b := make([]byte, bootSectorSize)
	if _, err := r.ReadAt(b, 0); err != nil {
		return false
	}
	_, err := parseBoot(b)
	return err == nil
}

// Open reads the boot sector, bootstraps $MFT and loads $UpCase and the volume label.
func Open(r io.ReaderAt, size int64) (*FS, error) {
	if size < bootSectorSize {
		return nil, corrupt("boot sector", "volume of %d bytes is too small", size)
	}
	b := make([]byte, bootSectorSize)
	if _, err := r.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("ntfs: read boot sector: %w", err)
	}
	geo, err := parseBoot(b)
	if err != nil {
		return nil, err
	}
	f := &FS{r: r, size: size, geo: geo, bm: &bitmapHolder{}}
	f.nodes, _ = lru.New[uint64, *node](nodeCacheSize)
	if err := f.bootstrapMFT(); err != nil {
		return nil, err
	}
	// $UpCase only steers directory lookups; without it they fall back to a linear scan.
	f.upcase, _ = f.loadUpcase()
	f.label, _ = f.loadLabel()
	return f, nil
}

// Type is "ntfs".
func (f *FS) Type() string { return fsName }

// Root is the MFT record of the root directory (5).
func (f *FS) Root() uint64 { return rootRecord }

// Label is the volume name stored in $Volume ("" when it has none).
func (f *FS) Label() string { return f.label }

// UUID is the 64-bit volume serial number in hex, as blkid and fsstat print it.
func (f *FS) UUID() string { return fmt.Sprintf("%016X", f.geo.serial) }

// ClusterSize is the allocation unit of the volume in bytes.
func (f *FS) ClusterSize() int64 { return f.geo.clusterSize }

func corrupt(what, reason string, args ...any) error {
	return filesystem.Corrupt(fsName, what, reason, args...)
}

func notExist(ino uint64) error {
	return fmt.Errorf("ntfs: MFT record %d: %w", ino, fs.ErrNotExist)
}

var (
	_ filesystem.Tree         = (*FS)(nil)
	_ filesystem.Lookuper     = (*FS)(nil)
	_ filesystem.Extenter     = (*FS)(nil)
	_ filesystem.Residual     = (*FS)(nil)
	_ filesystem.StreamOpener = (*FS)(nil)
)
