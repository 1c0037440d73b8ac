package ebs

import (
	"io/fs"

	"github.com/snapwatch/snapwatch/internal/contentscan"
	"github.com/snapwatch/snapwatch/internal/target"
)

func fsStat(fsys fs.FS, p string) (fs.FileInfo, error) { return fs.Stat(fsys, p) }

// contentscanCount walks a target's metadata the way a scan does, reading no file content.
func contentscanCount(tg *target.Target) {
	contentscan.New(contentscan.Options{}).Count(ctx, tg)
}
