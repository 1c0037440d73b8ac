package ntfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Stat describes MFT record ino. Records not in use, extension records and records past the
// end of $MFT do not exist.
func (f *FS) Stat(ino uint64) (*filesystem.Stat, error) {
	n, err := f.node(ino)
	if err != nil {
		return nil, err
	}
	return f.statNode(n), nil
}

func (f *FS) statNode(n *node) *filesystem.Stat {
	st := &filesystem.Stat{
		Inode:      n.ino,
		Nlink:      n.nlink(),
		ModTime:    n.si.modified,
		AccessTime: n.si.accessed,
		ChangeTime: n.si.changed,
		BirthTime:  n.si.created,
		Mode:       n.mode(),
		Encrypted:  n.si.attrs&fileEncrypted != 0,
	}
	data := n.dataAttr("")
	if data != nil {
		st.Compressed = data.compressed()
		st.Sparse = data.flags&attrFlagSparse != 0
		st.Encrypted = st.Encrypted || data.flags&attrFlagEncrypted != 0
	}
	switch n.kind {
	case kindSymlink:
		st.Size = int64(len(n.target))
	case kindDir:
	default:
		st.Size = streamSize(data)
	}
	// One pass: a file may have many attributes, and each stream is listed once, with the size
	// its first part records.
	var seen map[string]bool
	for i := range n.attrs {
		a := &n.attrs[i]
		if a.typ != attrData || a.name == "" || (!a.resident && a.startVCN != 0) || seen[a.name] {
			continue
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[a.name] = true
		st.Streams = append(st.Streams, filesystem.Stream{Name: a.name, Size: streamSize(a)})
	}
	return st
}

// mode maps the file's kind and attributes to Go's file mode: directories 0755, files 0644, or
// 0444 when read-only.
func (n *node) mode() fs.FileMode {
	perm := fs.FileMode(0o644)
	if n.si.attrs&fileReadOnly != 0 {
		perm = 0o444
	}
	switch n.kind {
	case kindDir:
		return fs.ModeDir | 0o755
	case kindSymlink:
		return fs.ModeSymlink | 0o777
	case kindIrregular:
		return fs.ModeIrregular | perm
	case kindCharDevice:
		return fs.ModeDevice | fs.ModeCharDevice | perm
	case kindBlockDevice:
		return fs.ModeDevice | perm
	}
	return perm
}

var errIsDir = errors.New("is a directory")

// Open returns the unnamed $DATA stream of a file. A file without one (NTFS allows it) is empty.
func (f *FS) Open(ino uint64) (io.ReaderAt, error) {
	n, err := f.node(ino)
	if err != nil {
		return nil, err
	}
	if n.kind == kindDir {
		return nil, fmt.Errorf("ntfs: MFT record %d: %w", ino, errIsDir)
	}
	return f.stream(n, attrData, "")
}

// OpenStream opens a named $DATA stream (an alternate data stream); "" is the unnamed stream.
func (f *FS) OpenStream(ino uint64, name string) (io.ReaderAt, int64, error) {
	n, err := f.node(ino)
	if err != nil {
		return nil, 0, err
	}
	if n.dataAttr(name) == nil {
		return nil, 0, fmt.Errorf("ntfs: MFT record %d has no stream %q: %w", ino, name, fs.ErrNotExist)
	}
	s, err := f.stream(n, attrData, name)
	if err != nil {
		return nil, 0, err
	}
	return s, s.size, nil
}

// ReadLink returns the target of a symbolic link, junction or Interix link, slash-separated;
// absolute Windows targets become paths from the volume root.
func (f *FS) ReadLink(ino uint64) (string, error) {
	n, err := f.node(ino)
	if err != nil {
		return "", err
	}
	if n.kind != kindSymlink {
		return "", fmt.Errorf("ntfs: MFT record %d is not a symbolic link: %w", ino, fs.ErrInvalid)
	}
	return n.target, nil
}
