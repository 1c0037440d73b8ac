package fat

import (
	"encoding/binary"
	"math/bits"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Cluster-count limits from the Microsoft FAT specification: a volume with fewer than 4085
// clusters is FAT12, fewer than 65525 FAT16, otherwise FAT32.
const (
	maxFAT12Clusters = 4084
	maxFAT16Clusters = 65524
	maxFAT32Clusters = 0x0FFFFFF5 // cluster numbers must stay below the bad-cluster mark 0x0FFFFFF7
)

// bpb is the BIOS parameter block of a FAT12/16/32 boot sector, validated.
type bpb struct {
	bytesPerSector    uint32
	sectorsPerCluster uint32
	reservedSectors   uint32
	numFATs           uint32
	rootEntries       uint32
	totalSectors      uint32
	fatSectors        uint32
	fat32Layout       bool // the FAT size is in the FAT32 field: the FAT32 extended BPB applies
	activeFAT         uint32
	rootCluster       uint32 // FAT32 only

	hasSerial bool
	serial    uint32
	label     [11]byte // boot-sector label, when the extended boot signature says there is one
	hasLabel  bool

	// derived
	bits     int    // 12, 16, 32
	clusters uint32 // data clusters
	rootOff  int64  // FAT12/16 fixed root directory
	rootLen  int64
	heapOff  int64
}

func bpbCorrupt(reason string, args ...any) error {
	return filesystem.Corrupt("fat", "boot sector", reason, args...)
}

// parseBPB validates the boot sector of a FAT12/16/32 volume of size bytes and derives its layout.
// The FAT type follows the cluster count as the Microsoft specification says, with one exception
// Linux and mtools make too: a BPB in the FAT32 layout (16-bit FAT size 0) is FAT32 whatever its
// cluster count, because mkfs.fat builds such volumes (-F 32 on small or 4 KiB-sector media).
func parseBPB(b []byte, size int64) (*bpb, error) {
	if b[0] != 0xEB && b[0] != 0xE9 {
		return nil, bpbCorrupt("no x86 jump instruction at offset 0 (0x%02x)", b[0])
	}
	p := &bpb{
		bytesPerSector:    uint32(binary.LittleEndian.Uint16(b[11:])),
		sectorsPerCluster: uint32(b[13]),
		reservedSectors:   uint32(binary.LittleEndian.Uint16(b[14:])),
		numFATs:           uint32(b[16]),
		rootEntries:       uint32(binary.LittleEndian.Uint16(b[17:])),
		totalSectors:      uint32(binary.LittleEndian.Uint16(b[19:])),
		fatSectors:        uint32(binary.LittleEndian.Uint16(b[22:])),
	}
	media := b[21]
	switch bps := p.bytesPerSector; {
	case bps < 512 || bps > 4096 || bits.OnesCount32(bps) != 1:
		return nil, bpbCorrupt("bytes per sector %d is not 512, 1024, 2048 or 4096", bps)
	case p.sectorsPerCluster == 0 || bits.OnesCount32(p.sectorsPerCluster) != 1:
		return nil, bpbCorrupt("sectors per cluster %d is not a power of two", p.sectorsPerCluster)
	case p.reservedSectors == 0:
		return nil, bpbCorrupt("no reserved sectors (the boot sector itself is one)")
	case p.numFATs == 0 || p.numFATs > 4:
		return nil, bpbCorrupt("FAT count %d is not 1..4", p.numFATs)
	case media != 0xF0 && media < 0xF8:
		return nil, bpbCorrupt("media descriptor 0x%02x is not 0xF0 or 0xF8..0xFF", media)
	}
	if p.totalSectors == 0 {
		p.totalSectors = binary.LittleEndian.Uint32(b[32:])
	}
	if p.totalSectors == 0 {
		return nil, bpbCorrupt("total sector count is 0")
	}
	ext := b[36:]
	if p.fatSectors == 0 {
		p.fat32Layout = true
		p.fatSectors = binary.LittleEndian.Uint32(b[36:])
		if p.fatSectors == 0 {
			return nil, bpbCorrupt("FAT size is 0 in both the 16- and 32-bit fields")
		}
		if p.rootEntries != 0 {
			return nil, bpbCorrupt("FAT32 layout with %d fixed root entries (must be 0)", p.rootEntries)
		}
		flags := binary.LittleEndian.Uint16(b[40:])
		if flags&0x80 != 0 { // mirroring disabled: only one FAT is in use
			p.activeFAT = uint32(flags & 0x0F)
			if p.activeFAT >= p.numFATs {
				return nil, bpbCorrupt("active FAT %d of %d (extended flags 0x%04x)", p.activeFAT, p.numFATs, flags)
			}
		}
		p.rootCluster = binary.LittleEndian.Uint32(b[44:])
		ext = b[64:]
	}
	// Extended boot record: drive, reserved, signature 0x29 (serial, label, type) or 0x28 (serial).
	if sig := ext[2]; sig == 0x29 || sig == 0x28 {
		p.hasSerial = true
		p.serial = binary.LittleEndian.Uint32(ext[3:])
		if sig == 0x29 {
			p.hasLabel = true
			copy(p.label[:], ext[7:18])
		}
	}
	if err := p.layout(size); err != nil {
		return nil, err
	}
	return p, nil
}

// layout derives the regions and the FAT type, and checks that they fit each other and the volume.
func (p *bpb) layout(size int64) error {
	bps := int64(p.bytesPerSector)
	rootSectors := (int64(p.rootEntries)*32 + bps - 1) / bps
	fatStart := int64(p.reservedSectors)
	meta := fatStart + int64(p.numFATs)*int64(p.fatSectors) + rootSectors
	if meta >= int64(p.totalSectors) {
		return bpbCorrupt("reserved, FAT and root directory sectors (%d) fill the %d sectors of the volume", meta, p.totalSectors)
	}
	clusters := (int64(p.totalSectors) - meta) / int64(p.sectorsPerCluster)
	if clusters == 0 {
		return bpbCorrupt("no data cluster fits in %d sectors", p.totalSectors)
	}
	switch {
	case p.fat32Layout:
		p.bits = 32
		if clusters > maxFAT32Clusters {
			return bpbCorrupt("%d clusters exceed the FAT32 maximum %d", clusters, maxFAT32Clusters)
		}
	case clusters <= maxFAT12Clusters:
		p.bits = 12
	case clusters <= maxFAT16Clusters:
		p.bits = 16
	default:
		return bpbCorrupt("%d clusters is FAT32 by count, but the boot sector has the FAT12/16 layout", clusters)
	}
	p.clusters = uint32(clusters)
	if need := (clusters + 2) * int64(p.bits); int64(p.fatSectors)*bps*8 < need {
		return bpbCorrupt("FAT of %d sectors holds fewer than the %d entries of %d clusters", p.fatSectors, clusters+2, clusters)
	}
	if p.bits == 32 && !validClusterIn(p.rootCluster, p.clusters) {
		return bpbCorrupt("root directory cluster %d is outside the heap (2..%d)", p.rootCluster, clusters+1)
	}
	p.rootOff = (fatStart + int64(p.numFATs)*int64(p.fatSectors)) * bps
	p.rootLen = int64(p.rootEntries) * 32
	p.heapOff = meta * bps
	// The FATs and the fixed root must be readable; the cluster heap may be cut short (a truncated
	// image still gives the files that lie before the cut).
	if end := p.rootOff + p.rootLen; end > size {
		return bpbCorrupt("FAT and root directory regions end at 0x%x, past the end of the volume (0x%x)", end, size)
	}
	return nil
}

func validClusterIn(c, clusters uint32) bool { return c >= 2 && uint64(c) <= uint64(clusters)+1 }
