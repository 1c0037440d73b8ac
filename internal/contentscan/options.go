// Package contentscan runs the content pipeline over a target: it walks every file system of a
// disk (or a directory) in parallel, reads files in bounded chunks, opens archives and compressed
// files, and hands the bytes to the secret rules and the sensitive-file catalogue, which know
// nothing of disks. With Residual it also reads deleted files and unallocated space.
package contentscan

import (
	"runtime"

	"github.com/snapwatch/snapwatch/internal/secret"
	"github.com/snapwatch/snapwatch/internal/unpack"
)

// Options bound and shape a scan. The zero value is usable: New fills in the defaults.
type Options struct {
	Workers       int   // files read in parallel (default: one per CPU plus two)
	MaxFileBytes  int64 // bytes read of one file; the rest is skipped and counted (default 256 MiB)
	MaxTotalBytes int64 // bytes read in all; once reached, remaining files are skipped and counted (0: no limit)
	Residual      bool  // also scan deleted files and unallocated space
	NoArchives    bool  // do not look inside archives and compressed files
	Unpack        unpack.Limits
	Secrets       *secret.Scanner   // default: secret.Default()
	Catalogue     *secret.Catalogue // default: secret.DefaultCatalogue()
	// SkipDirs are guest directories not walked (pseudo file systems of a live root).
	SkipDirs []string
	// MaxErrors bounds the error records kept; the rest are counted.
	MaxErrors int
}

const (
	chunkSize = 1 << 20
	// overlap is re-read at the start of each chunk so that a secret spanning two chunks is whole
	// in one of them; it bounds the length of a secret that is always found (PEM keys are < 8 KiB).
	overlap           = 16 << 10
	defaultMaxFile    = 256 << 20
	defaultMaxErrors  = 1000
	maxCatalogueBytes = 16 << 20
)

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		// Two more than the CPUs: a worker waiting on a read (a page fault, an EBS block, the
		// walker filling the queue) leaves its CPU to another; measured 4–10 % faster on a root
		// file system with 2 CPUs, no slower with more.
		o.Workers = runtime.GOMAXPROCS(0) + 2
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = defaultMaxFile
	}
	if o.Unpack == (unpack.Limits{}) {
		o.Unpack = unpack.DefaultLimits()
	}
	if o.Secrets == nil {
		o.Secrets = secret.Default()
	}
	if o.Catalogue == nil {
		o.Catalogue = secret.DefaultCatalogue()
	}
	if o.SkipDirs == nil {
		o.SkipDirs = []string{"proc", "sys", "dev", "run"}
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = defaultMaxErrors
	}
	return o
}
