package disk

import (
	"io"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/filesystem/ext4"
	"github.com/snapwatch/snapwatch/internal/filesystem/fat"
	"github.com/snapwatch/snapwatch/internal/filesystem/ntfs"
	"github.com/snapwatch/snapwatch/internal/filesystem/xfs"
)

type reader struct {
	name   string
	detect func(io.ReaderAt, int64) bool
	open   func(io.ReaderAt, int64) (filesystem.Tree, error)
}

// readers in probe order: the signatures do not overlap, but the cheap, common ones go first.
var readers = []reader{
	{"ext4", ext4.Detect, func(r io.ReaderAt, n int64) (filesystem.Tree, error) { return ext4.Open(r, n) }},
	{"xfs", xfs.Detect, func(r io.ReaderAt, n int64) (filesystem.Tree, error) { return xfs.Open(r, n) }},
	{"ntfs", ntfs.Detect, func(r io.ReaderAt, n int64) (filesystem.Tree, error) { return ntfs.Open(r, n) }},
	{"fat", fat.Detect, func(r io.ReaderAt, n int64) (filesystem.Tree, error) { return fat.Open(r, n) }},
}
