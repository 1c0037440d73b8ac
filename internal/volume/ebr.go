package volume

import "fmt"

// An extended partition holds a chain of EBRs (extended boot records). Each EBR is an MBR-shaped
// sector whose first data entry is a logical partition, its start relative to that EBR, and
// whose extended entry links to the next EBR, its start relative to the extended partition.
const (
	// maxLogicalPartitions caps the logical partitions read from one disk (Linux reads 256
	// minors per disk; real disks have a handful).
	maxLogicalPartitions = 128
	// maxEBRs caps the EBRs visited per extended partition: a chain whose EBRs hold no data
	// entries must still end.
	maxEBRs = 2 * maxLogicalPartitions
)

// readLogicals walks the EBR chain of the extended partition ext and returns its logical
// partitions, numbered from *next on. A chain that loops, leaves the disk or is too long ends
// with a warning; the partitions found until then are kept.
func (d *discovery) readLogicals(ext Volume, next *int) []Volume {
	extStart := ext.Offset / mbrSectorSize
	extEnd := extStart + ext.Size/mbrSectorSize
	visited := make(map[int64]bool)
	var out []Volume
	ebr := extStart
	for step := 0; ; step++ {
		if step == maxEBRs {
			d.warn("%s: EBR chain longer than %d records: stopped", ext.Name, maxEBRs)
			return out
		}
		if visited[ebr] {
			d.warn("%s: EBR chain loops back to sector %d: stopped", ext.Name, ebr)
			return out
		}
		visited[ebr] = true
		sector, err := d.disk.read(ebr*mbrSectorSize, mbrSectorSize)
		if err != nil {
			d.warn("%s: EBR at sector %d cannot be read (%v): chain stopped", ext.Name, ebr, err)
			return out
		}
		t := parseMBR(sector)
		if t == nil {
			// An empty extended partition has a zeroed first EBR; only a link to a bad EBR is damage.
			if step > 0 {
				d.warn("%s: EBR at sector %d lacks the 0x55AA signature: chain stopped", ext.Name, ebr)
			}
			return out
		}
		link := int64(-1)
		for _, e := range t.entries {
			if e.empty() {
				continue
			}
			if isExtendedType(e.typ) {
				if link < 0 {
					link = extStart + int64(e.start)
				}
				continue
			}
			if *next-4 > maxLogicalPartitions {
				d.warn("%s: more than %d logical partitions: the rest are ignored", ext.Name, maxLogicalPartitions)
				return out
			}
			start := ebr + int64(e.start)
			v := Volume{
				Name:     fmt.Sprintf("p%d", *next),
				Parent:   ext.Name,
				Scheme:   SchemeMBR,
				Type:     mbrTypeName(e.typ),
				TypeID:   fmt.Sprintf("0x%02x", e.typ),
				Index:    *next,
				Offset:   start * mbrSectorSize,
				Size:     int64(e.sectors) * mbrSectorSize,
				Bootable: e.status == mbrBootActive,
			}
			if e.start == 0 {
				d.warn("%s starts on its own EBR (sector %d)", v.Name, ebr)
			}
			if start < extStart || start+int64(e.sectors) > extEnd {
				d.warn("%s (sectors %d+%d) lies outside its extended partition %s", v.Name, start, e.sectors, ext.Name)
			}
			*next++
			out = append(out, v)
		}
		if link < 0 {
			return out
		}
		if link < extStart || link >= extEnd {
			d.warn("%s: EBR at sector %d links to sector %d, outside the extended partition", ext.Name, ebr, link)
		}
		ebr = link
	}
}
