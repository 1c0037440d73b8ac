// Package cli wires snapwatch's commands: one file per command, flags, output and exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, as DESIGN.md's CLI contract fixes them.
const (
	ExitOK       = 0 // nothing at or above --fail-on
	ExitFindings = 1 // findings at or above --fail-on
	ExitError    = 2 // bad input, or a partial failure that left the result incomplete
)

// version is set at build time with -ldflags "-X github.com/snapwatch/snapwatch/internal/cli.version=…".
var version = "dev"

// exitError carries an exit code out of a command that has already said what went wrong.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs snapwatch with the given arguments and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	// Ctrl-C or SIGTERM cancels the work in progress; what was printed so far stays valid.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintln(stderr, "snapwatch:", err)
		return ExitError
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "snapwatch",
		Short: "Find and watch for leaks of cloud disk snapshots and machine images",
		Long: `snapwatch finds and watches for leaks of cloud disk snapshots and machine images:
which are exposed, what they hold, and who touched them.

It reads disk images without mounting them (raw, qcow2, VMDK, VHD, VHDX, OVA; MBR, GPT, LVM2;
ext2/3/4, XFS, NTFS, FAT).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newDemo(), newAudit(), newInspect(), newScan(), newDetect(), newSample())
	return root
}
