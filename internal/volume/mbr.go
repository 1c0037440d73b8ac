package volume

import (
	"encoding/binary"
	"fmt"
)

// The MBR and every EBR are 512-byte sectors: four 16-byte entries at 0x1BE and 0x55AA at 0x1FE.
// snapwatch reads MBR LBAs in 512-byte units (4Kn disks with an MBR are not supported).
const (
	mbrSectorSize   = 512
	mbrEntriesAt    = 0x1BE
	mbrEntrySize    = 16
	mbrDiskIDAt     = 0x1B8
	mbrSignatureAt  = 0x1FE
	mbrTypeGPT      = 0xEE
	mbrBootActive   = 0x80
	mbrPrimaryCount = 4
)

// mbrEntry is one 16-byte partition entry. start and sectors are in 512-byte sectors, relative to
// whatever the containing table says (absolute in the MBR, relative in an EBR).
type mbrEntry struct {
	status  byte
	typ     byte
	start   uint32
	sectors uint32
}

func (e mbrEntry) empty() bool { return e.typ == 0 || e.sectors == 0 }

func isExtendedType(t byte) bool { return t == 0x05 || t == 0x0F || t == 0x85 }

// mbrTable is a parsed sector 0 (or EBR) that carries the 0x55AA signature.
type mbrTable struct {
	entries [mbrPrimaryCount]mbrEntry
	id      uint32
}

// parseMBR returns nil when the sector is missing or lacks the 0x55AA signature.
func parseMBR(sector []byte) *mbrTable {
	if len(sector) < mbrSectorSize || sector[mbrSignatureAt] != 0x55 || sector[mbrSignatureAt+1] != 0xAA {
		return nil
	}
	t := &mbrTable{id: binary.LittleEndian.Uint32(sector[mbrDiskIDAt:])}
	for i := range t.entries {
		b := sector[mbrEntriesAt+i*mbrEntrySize:]
		t.entries[i] = mbrEntry{
			status:  b[0],
			typ:     b[4],
			start:   binary.LittleEndian.Uint32(b[8:]),
			sectors: binary.LittleEndian.Uint32(b[12:]),
		}
	}
	return t
}

func (t *mbrTable) diskID() string { return fmt.Sprintf("0x%08x", t.id) }

func (t *mbrTable) hasProtective() bool {
	for _, e := range t.entries {
		if e.typ == mbrTypeGPT {
			return true
		}
	}
	return false
}

// validFlags is the test the Linux kernel applies: a partition table's boot flags are 0 or 0x80.
func (t *mbrTable) validFlags() bool {
	for _, e := range t.entries {
		if e.status != 0 && e.status != mbrBootActive {
			return false
		}
	}
	return true
}

// dataCount counts the non-empty entries that are not protective GPT entries.
func (t *mbrTable) dataCount() int {
	n := 0
	for _, e := range t.entries {
		if !e.empty() && e.typ != mbrTypeGPT {
			n++
		}
	}
	return n
}

func (t *mbrTable) hasData() bool { return t.dataCount() > 0 }

// plausible says whether the entries look like a real partition table on a disk of diskSize
// bytes: valid flags, at least one entry, every entry starting after sector 0 and inside the
// disk, none overlapping another. Boot code that happens to end in 0x55AA rarely passes.
func (t *mbrTable) plausible(diskSize int64) bool {
	if !t.validFlags() || !t.hasData() {
		return false
	}
	sectors := diskSize / mbrSectorSize
	var used [][2]int64
	for _, e := range t.entries {
		if e.empty() {
			continue
		}
		start, end := int64(e.start), int64(e.start)+int64(e.sectors)
		if start == 0 || start >= sectors {
			return false
		}
		for _, u := range used {
			if start < u[1] && u[0] < end {
				return false
			}
		}
		used = append(used, [2]int64{start, end})
	}
	return true
}

// useMBR adds the primary partitions and, after each extended one, its logical partitions.
func (d *discovery) useMBR(t *mbrTable) {
	d.layout.Scheme = SchemeMBR
	d.layout.SectorSize = mbrSectorSize
	d.layout.DiskID = t.diskID()
	nextLogical := 5
	var placed []placedExtent
	for i, e := range t.entries {
		if e.empty() || e.typ == mbrTypeGPT {
			continue
		}
		v := Volume{
			Name:     fmt.Sprintf("p%d", i+1),
			Scheme:   SchemeMBR,
			Type:     mbrTypeName(e.typ),
			TypeID:   fmt.Sprintf("0x%02x", e.typ),
			Index:    i + 1,
			Offset:   int64(e.start) * mbrSectorSize,
			Size:     int64(e.sectors) * mbrSectorSize,
			Bootable: e.status == mbrBootActive,
		}
		if e.start == 0 {
			d.warn("%s starts at sector 0, over the MBR itself", v.Name)
		}
		if !isExtendedType(e.typ) {
			placed = append(placed, placedExtent{v.Name, v.Offset, v.Size})
			d.addPartition(v)
			continue
		}
		v.Container = true
		_, v.Problem = d.disk.section(v.Offset, v.Size, "")
		d.layout.Volumes = append(d.layout.Volumes, v)
		for _, l := range d.readLogicals(v, &nextLogical) {
			placed = append(placed, placedExtent{l.Name, l.Offset, l.Size})
			d.addPartition(l)
		}
	}
	d.warnOverlaps(placed)
}
