package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/spf13/cobra"

	"github.com/snapwatch/snapwatch/internal/disk"
	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/image"
)

type inspectOptions struct {
	files, deleted, allowBacking bool
	format, output               string
}

func newInspect() *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect IMAGE...",
		Short: "Show a disk image's format, volumes and file systems (and files) without mounting it",
		Long: `inspect opens each disk image by its content (raw, qcow2, VMDK, VHD, VHDX, OVA), finds its
volumes (MBR with logical partitions, GPT, LVM2) and the file system on each (ext2/3/4, XFS, NTFS,
FAT12/16/32), and prints them. --files lists every file; --deleted adds the deleted entries the
file systems still remember. Nothing is mounted and nothing is written to the image.

--format json prints JSON lines: an "image" record, "volume" records, then one "file" record per
file; problems appear as "warning" and "error" records. Exit code 2 when anything could not be read.`,
		Example: `  snapwatch inspect disk.qcow2
  snapwatch inspect --files --deleted --format json export.vmdk`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runInspect(cmd, args, o) },
	}
	f := cmd.Flags()
	f.BoolVar(&o.files, "files", false, "list every file of every file system")
	f.BoolVar(&o.deleted, "deleted", false, "also list deleted entries the file systems still remember")
	f.BoolVar(&o.allowBacking, "allow-backing", false, "follow backing/parent files named inside an image (qcow2 backing, VHD/VHDX/VMDK parents)")
	f.StringVar(&o.format, "format", "table", "output format: table or json (JSON lines)")
	f.StringVarP(&o.output, "output", "o", "", "write to this file (mode 0600) instead of standard output")
	return cmd
}

func runInspect(cmd *cobra.Command, args []string, o inspectOptions) error {
	if o.deleted {
		o.files = true
	}
	w, done, err := openOutput(o.output, cmd.OutOrStdout())
	if err != nil {
		return err
	}
	var p inspectPrinter
	switch o.format {
	case "table":
		p = &tablePrinter{w: w}
	case "json", "jsonl":
		p = newJSONPrinter(w)
	default:
		return fmt.Errorf("unknown --format %q (inspect prints table or json)", o.format)
	}
	ctx := cmd.Context()
	failed := 0
	for _, path := range args {
		failed += inspectImage(ctx, p, path, o)
		if ctx.Err() != nil {
			break
		}
	}
	if err := done(); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if failed > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "snapwatch: inspect: %d problem(s) left the result incomplete (see the error records)\n", failed)
		return &exitError{code: ExitError}
	}
	return nil
}

// inspectImage prints one image and returns how many errors it met.
func inspectImage(ctx context.Context, p inspectPrinter, path string, o inspectOptions) int {
	img, err := image.Open(path, image.Options{AllowBacking: o.allowBacking})
	if err != nil {
		p.problem(problemRecord{Type: "error", Image: path, Error: err.Error()})
		return 1
	}
	defer img.Close()
	p.image(imageRecord{Type: "image", Image: path, Format: img.Format(), Size: img.Size()})
	d, err := disk.Open(img, img.Size())
	if err != nil {
		p.problem(problemRecord{Type: "error", Image: path, Error: err.Error()})
		return 1
	}
	for _, w := range d.Layout.Warnings {
		p.problem(problemRecord{Type: "warning", Image: path, Error: w})
	}
	byVolume := map[string]*disk.FileSystem{}
	for i := range d.FileSystems {
		byVolume[d.FileSystems[i].Volume.Name] = &d.FileSystems[i]
	}
	for _, v := range d.Layout.Volumes {
		p.volume(newVolumeRecord(path, d.Layout.Scheme, v, byVolume[v.Name]))
	}
	if !o.files {
		return 0
	}
	failed := 0
	for _, f := range d.FileSystems {
		if f.FS == nil {
			continue
		}
		failed += listFiles(ctx, p, path, f)
		if o.deleted {
			failed += listDeleted(ctx, p, path, f)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return failed
}

func listFiles(ctx context.Context, p inspectPrinter, path string, f disk.FileSystem) int {
	p.section(f.Volume.Name, f.Type, false)
	failed := 0
	walkErr := fs.WalkDir(f.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			failed++
			p.problem(problemRecord{Type: "error", Image: path, Volume: f.Volume.Name, Path: "/" + trimDot(name), Error: err.Error()})
			return nil
		}
		if name == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			failed++
			p.problem(problemRecord{Type: "error", Image: path, Volume: f.Volume.Name, Path: "/" + name, Error: err.Error()})
			return nil
		}
		rec := newFileRecord(path, f, "/"+name, info)
		if info.Mode()&fs.ModeSymlink != 0 {
			rec.Link, _ = f.FS.ReadLink(name)
		}
		p.file(rec)
		return nil
	})
	if walkErr != nil && !errors.Is(walkErr, context.Canceled) {
		failed++
		p.problem(problemRecord{Type: "error", Image: path, Volume: f.Volume.Name, Error: walkErr.Error()})
	}
	return failed
}

func listDeleted(ctx context.Context, p inspectPrinter, path string, f disk.FileSystem) int {
	res, ok := f.FS.Tree().(filesystem.Residual)
	if !ok {
		p.problem(problemRecord{Type: "warning", Image: path, Volume: f.Volume.Name,
			Error: f.Type + " reader does not recover deleted entries"})
		return 0
	}
	p.section(f.Volume.Name, f.Type, true)
	failed := 0
	for del, err := range res.Deleted(ctx) {
		if err != nil {
			failed++
			p.problem(problemRecord{Type: "error", Image: path, Volume: f.Volume.Name, Error: "deleted entries: " + err.Error()})
			continue
		}
		recovered := del.Recovered
		p.file(fileRecord{
			Type: "file", Image: path, Volume: f.Volume.Name, FS: f.Type, Path: del.Path,
			Size: del.Size, Mode: lsMode(del.Mode), Inode: del.Ino, MTime: timeOrNil(del.ModTime),
			Deleted: true, Recovered: &recovered,
		})
	}
	return failed
}

func newFileRecord(image string, f disk.FileSystem, path string, info fs.FileInfo) fileRecord {
	rec := fileRecord{
		Type: "file", Image: image, Volume: f.Volume.Name, FS: f.Type, Path: path,
		Size: info.Size(), Mode: lsMode(info.Mode()), MTime: timeOrNil(info.ModTime()),
	}
	if st, ok := info.Sys().(*filesystem.Stat); ok {
		rec.Inode = st.Inode
		uid, gid := st.UID, st.GID
		rec.UID, rec.GID = &uid, &gid
		for _, s := range st.Streams {
			rec.Streams = append(rec.Streams, streamRecord{Name: s.Name, Size: s.Size})
		}
		rec.Encrypted = st.Encrypted
	}
	return rec
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func trimDot(name string) string {
	if name == "." {
		return ""
	}
	return name
}
