package volume

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// LVM2 on-disk structures (lvm2 lib/format_text/layout.h, lib/label/label.h). LVM counts in
// 512-byte sectors whatever the disk's logical sector size.
const (
	lvmSectorSize     = 512
	lvmLabelSectors   = 4 // the label lies in one of the first four sectors
	lvmLabelID        = "LABELONE"
	lvmLabelType      = "LVM2 001"
	lvmLabelHeaderLen = 32 // id, sector, crc, offset, type
	lvmPVUUIDLen      = 32
	lvmMDAHeaderSize  = 512
	lvmMDAMagic       = "\x20LVM2\x20x[5A%r0N*>"
	lvmRawLocnIgnored = 1
	// lvmInitialCRC seeds every LVM checksum (lvm2 INITIAL_CRC).
	lvmInitialCRC = 0xf597a6cf
	// maxMetadataBytes caps the metadata text read from one area. lvm2's default area is 1 MiB
	// and it keeps the text under half the area; 8 MiB covers areas made with --metadatasize.
	maxMetadataBytes = 8 << 20
	// maxMetadataAreas caps the metadata areas used per PV (lvm2 writes at most two).
	maxMetadataAreas = 2
)

// lvmCRC is lvm2's calc_crc: the reflected CRC-32 of IEEE 802.3 without the final inversion,
// started from a given value. crc32.Update inverts on entry and exit, so undo both.
func lvmCRC(initial uint32, b []byte) uint32 {
	return ^crc32.Update(^initial, crc32.IEEETable, b)
}

// diskArea is a disk_locn of the PV header: a byte range of the PV (size 0: to the end).
type diskArea struct {
	offset, size uint64
}

// physicalVolume is an LVM2 PV found on a volume of the disk.
type physicalVolume struct {
	uuid          string // 32 characters, no dashes
	volume        string // Name of the Volume holding it
	r             io.ReaderAt
	size          int64 // bytes readable through r
	deviceSize    uint64
	metadataAreas []diskArea
}

// readPVLabel looks for the LVM2 label in the first four sectors of a volume. It returns nil and
// no error when there is none, and an error when a label is present but broken.
func readPVLabel(r io.ReaderAt, size int64) (*physicalVolume, error) {
	n := min(size, lvmLabelSectors*lvmSectorSize) / lvmSectorSize * lvmSectorSize
	if n == 0 {
		return nil, nil
	}
	head, err := readFull(r, 0, int(n))
	if err != nil {
		return nil, err
	}
	var damage error
	for sector := range int(n / lvmSectorSize) {
		s := head[sector*lvmSectorSize : (sector+1)*lvmSectorSize]
		if string(s[:8]) != lvmLabelID {
			continue
		}
		pv, err := parsePVLabel(s, uint64(sector))
		if err != nil {
			damage = fmt.Errorf("LVM2 label in sector %d: %w", sector, err)
			continue
		}
		pv.r, pv.size = r, size
		return pv, nil
	}
	return nil, damage
}

// parsePVLabel checks the label header of one sector and reads the PV header it points to.
func parsePVLabel(s []byte, sector uint64) (*physicalVolume, error) {
	if got := binary.LittleEndian.Uint64(s[8:]); got != sector {
		return nil, fmt.Errorf("label says it is in sector %d", got)
	}
	if want, got := binary.LittleEndian.Uint32(s[16:]), lvmCRC(lvmInitialCRC, s[20:]); got != want {
		return nil, fmt.Errorf("label CRC is 0x%08x, label says 0x%08x", got, want)
	}
	if string(s[24:32]) != lvmLabelType {
		return nil, fmt.Errorf("label type %q is not %q", s[24:32], lvmLabelType)
	}
	off := binary.LittleEndian.Uint32(s[20:])
	if off < lvmLabelHeaderLen || off > lvmSectorSize-(lvmPVUUIDLen+8+16) {
		return nil, fmt.Errorf("PV header offset %d is outside the label sector", off)
	}
	h := s[off:]
	pv := &physicalVolume{
		uuid:       string(h[:lvmPVUUIDLen]),
		deviceSize: binary.LittleEndian.Uint64(h[lvmPVUUIDLen:]),
	}
	// Two zero-terminated disk_locn lists follow: data areas, then metadata areas.
	rest := h[lvmPVUUIDLen+8:]
	for list := 0; list < 2; list++ {
		for {
			if len(rest) < 16 {
				return nil, errors.New("PV header area lists run past the label sector")
			}
			a := diskArea{binary.LittleEndian.Uint64(rest), binary.LittleEndian.Uint64(rest[8:])}
			rest = rest[16:]
			if a.offset == 0 {
				break
			}
			if list == 1 && len(pv.metadataAreas) < maxMetadataAreas {
				pv.metadataAreas = append(pv.metadataAreas, a)
			}
		}
	}
	return pv, nil
}

// metadataText reads the newest metadata text of one metadata area: the mda_header at the start
// of the area points (raw_locn) into a ring buffer that wraps back to just after the header.
// It returns nil and no error when the area holds no metadata.
// budget is how many bytes of metadata text this disk may still read.
func (pv *physicalVolume) metadataText(area diskArea, budget int64) ([]byte, error) {
	if area.offset > uint64(pv.size) || uint64(pv.size)-area.offset < lvmMDAHeaderSize {
		return nil, fmt.Errorf("metadata area at byte %d lies past the end of the PV", area.offset)
	}
	start := int64(area.offset)
	h, err := readFull(pv.r, start, lvmMDAHeaderSize)
	if err != nil {
		return nil, err
	}
	if want, got := binary.LittleEndian.Uint32(h), lvmCRC(lvmInitialCRC, h[4:]); got != want {
		return nil, fmt.Errorf("metadata area header at byte %d: CRC is 0x%08x, header says 0x%08x", start, got, want)
	}
	if !bytes.Equal(h[4:20], []byte(lvmMDAMagic)) {
		return nil, fmt.Errorf("metadata area header at byte %d: bad magic", start)
	}
	if v := binary.LittleEndian.Uint32(h[20:]); v != 1 {
		return nil, fmt.Errorf("metadata area header at byte %d: version %d is not 1", start, v)
	}
	if got := binary.LittleEndian.Uint64(h[24:]); got != area.offset {
		return nil, fmt.Errorf("metadata area header at byte %d says it starts at byte %d", start, got)
	}
	areaSize := binary.LittleEndian.Uint64(h[32:])
	if areaSize <= lvmMDAHeaderSize || areaSize > uint64(pv.size)-area.offset {
		return nil, fmt.Errorf("metadata area at byte %d: size %d does not fit the %d-byte PV", start, areaSize, pv.size)
	}
	locn := h[40:]
	off, size := binary.LittleEndian.Uint64(locn), binary.LittleEndian.Uint64(locn[8:])
	checksum, flags := binary.LittleEndian.Uint32(locn[16:]), binary.LittleEndian.Uint32(locn[20:])
	if size == 0 || flags&lvmRawLocnIgnored != 0 {
		return nil, nil
	}
	ring := areaSize - lvmMDAHeaderSize
	switch {
	case off < lvmMDAHeaderSize || off >= areaSize:
		return nil, fmt.Errorf("metadata area at byte %d: text offset %d is outside the area", start, off)
	case size > ring:
		return nil, fmt.Errorf("metadata area at byte %d: text of %d bytes exceeds the %d-byte ring", start, size, ring)
	case size > maxMetadataBytes:
		return nil, fmt.Errorf("metadata area at byte %d: text of %d bytes exceeds the %d-byte cap", start, size, maxMetadataBytes)
	case int64(size) > budget:
		return nil, fmt.Errorf("metadata area at byte %d: text of %d bytes not read: the disk's metadata exceeds %d bytes",
			start, size, maxTotalMetadataBytes)
	}
	first := min(size, areaSize-off)
	text, err := readFull(pv.r, start+int64(off), int(first))
	if err != nil {
		return nil, err
	}
	if first < size {
		wrapped, err := readFull(pv.r, start+lvmMDAHeaderSize, int(size-first))
		if err != nil {
			return nil, err
		}
		text = append(text, wrapped...)
	}
	if got := lvmCRC(lvmInitialCRC, text); got != checksum {
		return nil, fmt.Errorf("metadata text at byte %d: CRC is 0x%08x, header says 0x%08x", start+int64(off), got, checksum)
	}
	return text, nil
}

// formatLVMUUID prints a 32-character LVM UUID the way lvm2 does: 6-4-4-4-4-4-6.
func formatLVMUUID(u string) string {
	if len(u) != lvmPVUUIDLen {
		return u
	}
	return u[0:6] + "-" + u[6:10] + "-" + u[10:14] + "-" + u[14:18] + "-" + u[18:22] + "-" + u[22:26] + "-" + u[26:32]
}
