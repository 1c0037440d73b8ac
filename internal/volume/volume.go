// Package volume finds the volumes of a disk: partitions of MBR (with extended/logical ones) and
// GPT tables, LVM2 logical volumes assembled from their physical volumes, or the whole disk when
// it holds no table. It reads bytes through io.ReaderAt and knows nothing of file systems beyond
// telling a boot sector from a partition table.
package volume

import "io"

// Volume is one node of a disk's volume tree.
type Volume struct {
	Name      string // stable short name: "disk", "p1", "p5" (logical), "vg0/root" (LVM), "vg0" (a VG)
	Parent    string // Name of the containing volume, "" for the top level
	Scheme    string // what defined it: "none" (whole disk), "mbr", "gpt", "lvm"
	Type      string // readable type: "Linux filesystem", "EFI System", "Microsoft basic data", "Linux LVM", "Extended", "LVM2 PV", "LVM2 VG", "linear LV", "striped LV"
	TypeID    string // raw type: MBR "0x83", GPT type GUID, LV segment type
	Label     string // GPT partition name, LV name
	UUID      string // GPT unique partition GUID, PV/VG/LV UUID
	Index     int    // partition number (1-based, logicals from 5), 0 otherwise
	Offset    int64  // byte offset on the disk; -1 for LVM logical volumes (their bytes lie in segments)
	Size      int64  // bytes
	Bootable  bool   // MBR active flag, or GPT legacy-BIOS-bootable attribute
	Container bool   // holds other volumes (extended partition, LVM PV, LVM VG): no file system of its own
	// Reader reads the volume's bytes (nil for containers such as extended partitions and VGs).
	// A partition cut short by a truncated image reads only the bytes present, so Reader.Size()
	// may be less than Size (Problem says so). An LVM PV keeps its reader though it is a container.
	Reader *io.SectionReader
	// Problem is set when the volume was found but cannot be read in full, e.g. an LV whose
	// physical volume is missing or a segment type snapwatch does not read (thin, raid, cache).
	Problem string
}

// Layout is what Discover found on a disk.
type Layout struct {
	Scheme     string   // "mbr", "gpt", "none"; an LVM PV on the whole disk is "none" with a PV volume
	SectorSize int      // logical sector size the table was found with (512 or 4096)
	DiskID     string   // MBR disk signature ("0x1234abcd") or GPT disk GUID
	Volumes    []Volume // depth-first: a parent before its children
	Warnings   []string // damage worked around, e.g. "primary GPT header CRC mismatch: used the backup header"
}

// Leaves returns the volumes that may hold a file system: not containers, with a reader.
func (l *Layout) Leaves() []Volume {
	var out []Volume
	for _, v := range l.Volumes {
		if !v.Container && v.Reader != nil {
			out = append(out, v)
		}
	}
	return out
}
