package filesystem

import (
	"errors"
	"fmt"
)

// ErrCorrupt matches (with errors.Is) every error that reports a broken on-disk structure.
var ErrCorrupt = errors.New("corrupt file system structure")

// CorruptError names the structure that is broken, so that a user handed a hostile or damaged
// image learns where, not just that, it failed.
type CorruptError struct {
	FS     string // "ext4", "xfs", ...
	What   string // the structure: "superblock", "inode 12 extent tree", "MFT record 37"
	Reason string // what is wrong with it
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%s: corrupt %s: %s", e.FS, e.What, e.Reason)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Corrupt builds a CorruptError; reason is formatted with args.
func Corrupt(fsName, what, reason string, args ...any) error {
	return &CorruptError{FS: fsName, What: what, Reason: fmt.Sprintf(reason, args...)}
}
