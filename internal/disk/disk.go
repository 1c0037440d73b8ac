// Package disk assembles what one disk holds: its volumes (through internal/volume) and the file
// system on each leaf volume (through the readers under internal/filesystem). It is the one place
// that knows which file-system readers exist and in what order to probe them.
package disk

import (
	"fmt"
	"io"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/volume"
)

// FileSystem is what was found on one leaf volume.
type FileSystem struct {
	Volume volume.Volume
	Type   string // "ext4", "xfs", "ntfs", "fat32", ...; or what the volume holds instead: "luks2", "swap", ...
	Label  string
	UUID   string
	// FS reads the files; nil when the volume holds no file system snapwatch reads.
	FS *filesystem.FS
	// Problem says why FS is nil ("encrypted with LUKS: content not readable", "btrfs is not
	// supported", "no file system recognised") or why it failed to open.
	Problem string
}

// Disk is a disk's volume layout and the file systems on it.
type Disk struct {
	Layout      *volume.Layout
	FileSystems []FileSystem // one per leaf volume, in layout order
}

// Open discovers the volumes of the disk and opens the file system on each leaf. Only an
// unreadable disk is an error; a volume that cannot be read carries a Problem instead.
func Open(r io.ReaderAt, size int64) (*Disk, error) {
	layout, err := volume.Discover(r, size)
	if err != nil {
		return nil, err
	}
	d := &Disk{Layout: layout}
	for _, v := range layout.Volumes {
		if v.Container {
			continue
		}
		fsys := FileSystem{Volume: v}
		switch {
		case v.Reader == nil:
			fsys.Problem = v.Problem
			if fsys.Problem == "" {
				fsys.Problem = "volume cannot be read"
			}
		default:
			// A truncated image can leave less of the volume than its table claims.
			probe(&fsys, v.Reader, v.Reader.Size())
			if v.Problem != "" && fsys.Problem == "" {
				fsys.Problem = v.Problem
			}
		}
		d.FileSystems = append(d.FileSystems, fsys)
	}
	return d, nil
}

// probe identifies and opens the file system of one volume.
func probe(out *FileSystem, r io.ReaderAt, size int64) {
	for _, k := range readers {
		if !k.detect(r, size) {
			continue
		}
		tree, err := k.open(r, size)
		if err != nil {
			out.Type = k.name
			out.Problem = fmt.Sprintf("%s file system cannot be opened: %v", k.name, err)
			return
		}
		out.Type = tree.Type()
		if l, ok := tree.(labeled); ok {
			out.Label, out.UUID = l.Label(), l.UUID()
		}
		out.FS = filesystem.New(tree)
		return
	}
	if kind, problem, ok := identify(r, size); ok {
		out.Type, out.Problem = kind, problem
		return
	}
	out.Problem = "no file system recognised"
}

type labeled interface {
	Label() string
	UUID() string
}
