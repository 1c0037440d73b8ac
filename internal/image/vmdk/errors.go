package vmdk

import (
	"errors"
	"fmt"
	"strings"
)

// ErrCorrupt matches (with errors.Is) every error that reports a broken on-disk structure.
var ErrCorrupt = errors.New("corrupt VMDK structure")

// ErrUnsupported matches errors about valid VMDK features this package does not read.
var ErrUnsupported = errors.New("unsupported VMDK feature")

// ErrNeedsFile matches errors raised when the image names another file (an extent or a parent)
// and the Options give no way to open it.
var ErrNeedsFile = errors.New("VMDK names a file that cannot be opened")

// CorruptError names the broken structure, so that a user given a hostile or damaged image
// learns where, not just that, it failed.
type CorruptError struct {
	What   string // e.g. `extent "disk-s001.vmdk" grain table 3 at 0x5000`
	Reason string
}

func (e *CorruptError) Error() string { return "vmdk: corrupt " + e.What + ": " + e.Reason }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

func corrupt(what, reason string, args ...any) error {
	return &CorruptError{What: what, Reason: fmt.Sprintf(reason, args...)}
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("vmdk: %w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

// quote prints a name taken from the image safely: bounded and with control bytes escaped.
func quote(s string) string {
	const maxShown = 200
	if len(s) > maxShown {
		s = s[:maxShown] + "…"
	}
	return fmt.Sprintf("%q", strings.ToValidUTF8(s, "\uFFFD"))
}
