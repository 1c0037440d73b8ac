// Command snapwatch finds and watches for leaks of cloud disk snapshots and machine images.
package main

import (
	"os"

	"github.com/snapwatch/snapwatch/internal/cli"
	_ "github.com/snapwatch/snapwatch/internal/cloud/aws/ebs" // scan targets ebs: and ami:
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
