package vhdx

import (
	"errors"
	"fmt"
	"strings"
)

// ErrCorrupt matches (with errors.Is) every error that reports a broken on-disk structure.
var ErrCorrupt = errors.New("corrupt VHDX structure")

// ErrUnsupported matches errors about valid VHDX features this package does not read.
var ErrUnsupported = errors.New("unsupported VHDX feature")

// ErrNeedsParent matches the error of a differencing disk opened without Options.OpenBacking.
var ErrNeedsParent = errors.New("differencing VHDX needs its parent")

// CorruptError names the broken structure, so that a user given a hostile or damaged image
// learns where, not just that, it failed.
type CorruptError struct {
	What   string // e.g. "BAT entry 7 at 0x300038"
	Reason string
}

func (e *CorruptError) Error() string { return "vhdx: corrupt " + e.What + ": " + e.Reason }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

func corrupt(what, reason string, args ...any) error {
	return &CorruptError{What: what, Reason: fmt.Sprintf(reason, args...)}
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("vhdx: %w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

// quote prints a string taken from the file safely: bounded and with control bytes escaped.
func quote(s string) string {
	const maxShown = 200
	if len(s) > maxShown {
		s = s[:maxShown] + "…"
	}
	return fmt.Sprintf("%q", strings.ToValidUTF8(s, "\uFFFD"))
}
