package volume

import (
	"errors"
	"fmt"
	"io"
)

// Caps that bound the work Discover does on hostile input. Each is far above what a real disk
// holds, and each is checked before anything is allocated from an on-disk count.
const (
	// maxWarnings keeps a hostile table (thousands of overlapping entries) from producing an
	// unbounded warning list; the last warning says how many were dropped.
	maxWarnings = 100
)

// Discover reads the partition table(s) and LVM metadata of a disk and returns its volume tree.
// It never fails on a disk that simply has no table: that is one volume "disk" with Scheme "none".
// It returns an error only when the bytes cannot be read at all; damage it can work around goes in
// Layout.Warnings, damage it cannot in the affected Volume.Problem.
//
// The returned readers read r directly; they are safe for concurrent use when r is.
func Discover(r io.ReaderAt, size int64) (*Layout, error) {
	if r == nil {
		return nil, errors.New("volume: nil disk reader")
	}
	if size < 0 {
		return nil, fmt.Errorf("volume: negative disk size %d", size)
	}
	d := &discovery{disk: disk{r: r, size: size}, layout: &Layout{Scheme: SchemeNone, SectorSize: 512}}
	var sector0 []byte
	if size >= mbrSectorSize {
		b, err := d.disk.read(0, mbrSectorSize)
		if err != nil {
			return nil, fmt.Errorf("volume: cannot read the first sector: %w", err)
		}
		sector0 = b
	}
	d.findTable(sector0)
	d.findLVM()
	if d.droppedWarnings > 0 {
		d.layout.Warnings = append(d.layout.Warnings, fmt.Sprintf("%d more warnings not shown", d.droppedWarnings))
	}
	return d.layout, nil
}

// Schemes a volume or a layout can have.
const (
	SchemeNone = "none"
	SchemeMBR  = "mbr"
	SchemeGPT  = "gpt"
	SchemeLVM  = "lvm"
)

// discovery is the state of one Discover call.
type discovery struct {
	disk            disk
	layout          *Layout
	droppedWarnings int
	names           map[string]bool // volume names taken, once VGs are being named
	nextSuffix      map[string]int  // next "~N" to try per VG name
}

func (d *discovery) warn(format string, args ...any) {
	if len(d.layout.Warnings) >= maxWarnings {
		d.droppedWarnings++
		return
	}
	d.layout.Warnings = append(d.layout.Warnings, fmt.Sprintf(format, args...))
}

// findTable decides between GPT, MBR and no table, and fills the layout's partition volumes.
func (d *discovery) findTable(sector0 []byte) {
	mbr := parseMBR(sector0)
	// A file system written at sector 0: its boot sector also ends in 0x55AA.
	bootSector := bootSectorFS(sector0) != "" && (mbr == nil || !mbr.plausible(d.disk.size))
	if mbr != nil && mbr.hasProtective() {
		if d.useGPT(mbr) {
			return
		}
		if bootSector {
			d.addWholeDisk("")
			return
		}
		// The protective entry promised a GPT that is not readable. Hybrid MBR entries, if any,
		// still say where data lies.
		if mbr.hasData() && mbr.validFlags() {
			d.warn("no readable GPT behind the protective MBR: used the %d other MBR entries (hybrid MBR)", mbr.dataCount())
			d.useMBR(mbr)
			return
		}
		d.layout.Scheme = SchemeGPT
		d.addWholeDisk("the protective MBR announces a GPT but no readable GPT header was found")
		return
	}
	if mbr == nil || !mbr.validFlags() || !mbr.hasData() {
		// A GPT without a protective MBR (wiped or overwritten sector 0) is still a GPT.
		if d.useGPTWithoutProtectiveMBR(mbr) {
			return
		}
	}
	switch {
	case mbr == nil:
		d.addWholeDisk("")
	case bootSector:
		d.addWholeDisk("")
	case !mbr.validFlags():
		d.warn("sector 0 ends in 0x55AA but its partition entries have invalid boot flags: not a partition table")
		d.addWholeDisk("")
	case !mbr.hasData():
		d.layout.Scheme = SchemeMBR
		d.layout.DiskID = mbr.diskID()
		d.warn("the MBR partition table is empty: the whole disk is reported as one volume")
		d.addWholeDisk("")
	default:
		if _, _, err := d.readGPT(mbrSectorSize, 1); err == nil {
			d.warn("a GPT header at LBA 1 was ignored: the MBR has no protective entry, so it is stale")
		}
		d.useMBR(mbr)
	}
}

// addWholeDisk adds the volume "disk" covering every byte; problem says why it stands alone
// when a table was expected.
func (d *discovery) addWholeDisk(problem string) {
	d.layout.Volumes = append(d.layout.Volumes, Volume{
		Name:    "disk",
		Scheme:  SchemeNone,
		Size:    d.disk.size,
		Reader:  io.NewSectionReader(d.disk.r, 0, d.disk.size),
		Problem: problem,
	})
}

// addPartition appends a partition volume whose bytes are [off, off+size) on the disk. A partition
// reaching past the end of the disk (a truncated image) keeps its declared size, reads only the
// bytes present, and says so in Problem.
func (d *discovery) addPartition(v Volume) {
	v.Reader, v.Problem = d.disk.section(v.Offset, v.Size, v.Problem)
	d.layout.Volumes = append(d.layout.Volumes, v)
}

// disk is the whole-disk reader with bounds checks.
type disk struct {
	r    io.ReaderAt
	size int64
}

// read returns n bytes at off, or an error naming the range when it lies outside the disk or
// the reader fails.
func (d disk) read(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > d.size || int64(n) > d.size-off {
		return nil, fmt.Errorf("bytes %d+%d lie outside the %d-byte disk", off, n, d.size)
	}
	return readFull(d.r, off, n)
}

// readFull reads exactly n bytes at off from r.
func readFull(r io.ReaderAt, off int64, n int) ([]byte, error) {
	b := make([]byte, n)
	k, err := r.ReadAt(b, off)
	if k == n {
		return b, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("reading %d bytes at offset %d: %w", n, off, err)
}

// section returns a reader over the part of [off, off+size) present on the disk, and the problem
// to report when the range is not fully present (prior is kept when not empty).
func (d disk) section(off, size int64, prior string) (*io.SectionReader, string) {
	join := func(p string) string {
		if prior != "" {
			return prior + "; " + p
		}
		return p
	}
	switch {
	case off < 0 || size < 0:
		return nil, join("invalid extent")
	case off >= d.size:
		return nil, join(fmt.Sprintf("starts at byte %d, past the end of the %d-byte disk (truncated image?)", off, d.size))
	case size > d.size-off:
		avail := d.size - off
		return io.NewSectionReader(d.r, off, avail), join(fmt.Sprintf(
			"extends %d bytes past the end of the disk (truncated image?): only %d of %d bytes can be read",
			size-avail, avail, size))
	}
	return io.NewSectionReader(d.r, off, size), prior
}
