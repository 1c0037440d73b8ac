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

// maxListed bounds how many errors one Errors value keeps; the rest are only counted, so a
// directory with a million broken blocks does not build a million-line error.
const maxListed = 8

// Errors collects the errors of a partial result (a directory listing that skipped broken
// blocks). The zero value is ready to use; Err joins what was collected.
type Errors struct {
	errs    []error
	dropped int
}

// Add records err (nil is ignored).
func (e *Errors) Add(err error) {
	switch {
	case err == nil:
	case len(e.errs) < maxListed:
		e.errs = append(e.errs, err)
	default:
		e.dropped++
	}
}

// Len is how many errors were added.
func (e *Errors) Len() int { return len(e.errs) + e.dropped }

// Err is nil when nothing was added, else the errors joined (with a count of those left out).
func (e *Errors) Err() error {
	if e.Len() == 0 {
		return nil
	}
	all := e.errs
	if e.dropped > 0 {
		all = append(all[:len(all):len(all)], fmt.Errorf("… and %d more errors", e.dropped))
	}
	if len(all) == 1 {
		return all[0]
	}
	return errors.Join(all...)
}
