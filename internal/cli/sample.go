package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/snapwatch/snapwatch/internal/sample"
)

func newSample() *cobra.Command {
	return &cobra.Command{
		Use:   "sample [PATH]",
		Short: "Write a small sample disk image to try snapwatch on (default ./snapwatch-sample.qcow2)",
		Long: `sample writes the disk image embedded in snapwatch: a qcow2 GPT disk with an EFI System
partition (FAT16) and an ext4 root holding fake credentials, one of them deleted. It exists so
that snapwatch can be tried on any machine:

  snapwatch sample /tmp/sample.qcow2 && snapwatch inspect --files --deleted /tmp/sample.qcow2`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "snapwatch-sample.qcow2"
			if len(args) == 1 {
				path = args[0]
			}
			if err := sample.Write(path); err != nil {
				return fmt.Errorf("write sample image: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), path)
			return nil
		},
	}
}
