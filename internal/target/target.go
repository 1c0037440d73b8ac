// Package target turns what a user names on the command line ("disk.vmdk", "./rootfs",
// "file:export.vhd", later "ebs:snap-…", "ami:ami-…") into file systems to scan. Schemes are kept
// in a registry, so cloud sources add themselves without the scanner knowing them.
package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/snapwatch/snapwatch/internal/disk"
	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/image"
)

// Mount is one file system of a target, ready to walk.
type Mount struct {
	Volume string // "p2", "vg0/root"; "" for a directory
	FSType string // "ext4", ... ; "dir" for a directory
	Label  string
	FS     fs.FS // paths inside are slash paths relative to the volume root
	// Tree is the reader beneath a disk file system (for residual data and extents); nil for a directory.
	Tree filesystem.Tree
	// Reader and Size give the volume's bytes, for scanning unallocated space; nil for a directory.
	Reader io.ReaderAt
	Size   int64
	// Prefetch, when set, tells a slow source of the disk's bytes (EBS direct) which ranges of
	// this volume will be read soon, so that it fetches them in parallel ahead of the reads.
	// FromDisk sets it when the disk's reader is an image.Prefetcher.
	Prefetch func(ranges []filesystem.Range)
	// Changed, when set, says whether any byte of the volume range [off, off+n) changed since a
	// base snapshot: an incremental scan reads only the files and free space it reports changed.
	Changed func(off, n int64) bool
}

// Target is an opened scan target.
type Target struct {
	Spec     string
	Resource finding.Resource
	Format   string  // "directory", or the image format ("qcow2", ...)
	Mounts   []Mount // the file systems that can be read
	// Unreadable lists volumes that hold no readable file system and why: a scan must say that
	// it did not look inside them, not report them clean.
	Unreadable []Unreadable
	Warnings   []string
	// SourceStats, when set, reports what reading the source cost (EBS direct: blocks fetched,
	// throttling, retries), for the scan's stats. Call it after the scan.
	SourceStats func() []any
	close       func() error
}

// Unreadable is a volume that could not be scanned.
type Unreadable struct {
	Volume, Kind, Problem string
}

// AddCloser adds something Close must release (a network reader, a merged target's parts);
// closers run in reverse order of adding.
func (t *Target) AddCloser(f func() error) {
	prev := t.close
	t.close = func() error {
		err := f()
		if prev != nil {
			err = errors.Join(err, prev())
		}
		return err
	}
}

// Close releases the files the target opened.
func (t *Target) Close() error {
	if t.close == nil {
		return nil
	}
	return t.close()
}

// Options control how targets are opened.
type Options struct {
	AllowBacking bool // follow backing/parent files named inside images
	// For cloud schemes: the region, the shared-config profile and an endpoint override (a
	// simulator, a VPC endpoint); empty means the SDK's default chain decides.
	Region, Profile, EndpointURL string
	// Base names what an incremental scan compares with: a snapshot id, or "auto" for the
	// previous snapshot of the same volume. Empty: a full scan.
	Base string
}

// Opener opens the part of a spec after "scheme:".
type Opener func(ctx context.Context, rest string, opt Options) (*Target, error)

var (
	mu      sync.RWMutex
	openers = map[string]Opener{}
)

// Register makes a scheme available ("ebs", "ami", ...). Registering a scheme twice panics: it is
// a programming error found at start-up.
func Register(scheme string, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := openers[scheme]; dup {
		panic("target: scheme registered twice: " + scheme)
	}
	openers[scheme] = open
}

// Schemes lists the registered schemes.
func Schemes() []string {
	mu.RLock()
	defer mu.RUnlock()
	var out []string
	for s := range openers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func init() {
	Register("file", openLocal)
}

// Open opens a target: "scheme:rest" for a registered scheme, else a local path (a directory or a
// disk image). A local path that merely contains a colon still works when it exists.
func Open(ctx context.Context, spec string, opt Options) (*Target, error) {
	if scheme, rest, ok := strings.Cut(spec, ":"); ok && !isWindowsDrive(scheme) {
		mu.RLock()
		open, known := openers[scheme]
		mu.RUnlock()
		if known {
			return open(ctx, rest, opt)
		}
		if _, err := os.Stat(spec); err != nil {
			return nil, fmt.Errorf("%s: unknown target scheme %q (known: %s) and no such file", spec, scheme, strings.Join(Schemes(), ", "))
		}
	}
	return openLocal(ctx, spec, opt)
}

func isWindowsDrive(s string) bool { return len(s) == 1 }

func openLocal(_ context.Context, path string, opt Options) (*Target, error) {
	if opt.Base != "" {
		// A local image has no lineage to diff against: scanning it whole while the user asked
		// for an incremental scan would be a silent surprise.
		return nil, fmt.Errorf("%s: --base applies to ebs: and ami: targets, not to a local path", path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return &Target{
			Spec:     path,
			Resource: finding.Resource{Provider: "local", Type: "directory", ID: abs},
			Format:   "directory",
			Mounts:   []Mount{{FSType: "dir", FS: os.DirFS(abs)}},
		}, nil
	}
	img, err := image.Open(path, image.Options{AllowBacking: opt.AllowBacking})
	if err != nil {
		return nil, err
	}
	t, err := FromDisk(path, finding.Resource{Provider: "local", Type: "disk-image", ID: abs}, img.Format(), img, img.Size())
	if err != nil {
		img.Close()
		return nil, err
	}
	t.close = img.Close
	return t, nil
}

// FromDisk builds a target from the guest bytes of a disk, whatever their source (an image file,
// EBS direct reads, an Azure SAS URL).
func FromDisk(spec string, res finding.Resource, format string, r io.ReaderAt, size int64) (*Target, error) {
	d, err := disk.Open(r, size)
	if err != nil {
		return nil, err
	}
	t := &Target{Spec: spec, Resource: res, Format: format, Warnings: d.Layout.Warnings}
	for _, f := range d.FileSystems {
		if f.FS == nil {
			t.Unreadable = append(t.Unreadable, Unreadable{Volume: f.Volume.Name, Kind: f.Type, Problem: f.Problem})
			continue
		}
		t.Mounts = append(t.Mounts, Mount{
			Volume: f.Volume.Name, FSType: f.Type, Label: f.Label, FS: f.FS, Tree: f.FS.Tree(),
			Reader: f.Volume.Reader, Size: f.Volume.Reader.Size(), Prefetch: prefetchFunc(f.Volume.Reader),
		})
	}
	return t, nil
}
