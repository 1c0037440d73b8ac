package volume

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strings"
	"unicode/utf16"
)

// GPT layout (UEFI spec, chapter 5): a header at LBA 1 and its backup at the last LBA, each
// pointing at a partition-entry array protected by a CRC32, as is the header itself.
const (
	gptSignature      = "EFI PART"
	gptMinHeaderSize  = 92
	gptMinEntrySize   = 128
	gptNameOffset     = 56
	gptNameBytes      = 72
	gptAttrLegacyBoot = 1 << 2
	// maxGPTArrayBytes caps the entry array read (count × size). The standard array is 16 KiB;
	// 1 MiB allows 8192 entries of 128 bytes.
	maxGPTArrayBytes = 1 << 20
)

// errNoGPTSignature marks a sector that is simply not a GPT header, as opposed to a damaged one.
var errNoGPTSignature = errors.New("no GPT signature")

// gptTable is a header whose CRCs check out and its entry array.
type gptTable struct {
	sectorSize  int64
	myLBA       uint64
	altLBA      uint64
	firstUsable uint64
	lastUsable  uint64
	entriesLBA  uint64
	diskGUID    [16]byte
	entryCount  uint32
	entrySize   uint32
	entriesCRC  uint32
	entries     []byte
}

// readGPT reads the header at lba with the given logical sector size. It returns the header
// (nil if the header itself is bad) and the complete table (nil with an error if the header or
// its entry array is bad), so a caller can still follow a good header's backup pointer when
// only the array is damaged.
func (d *discovery) readGPT(ss int64, lba uint64) (hdr, table *gptTable, err error) {
	if lba >= uint64(d.disk.size/ss) {
		return nil, nil, fmt.Errorf("%w: LBA %d lies past the end of the disk", errNoGPTSignature, lba)
	}
	b, err := d.disk.read(int64(lba)*ss, int(ss))
	if err != nil {
		return nil, nil, err
	}
	if string(b[:8]) != gptSignature {
		return nil, nil, errNoGPTSignature
	}
	h, err := parseGPTHeader(b, ss, lba)
	if err != nil {
		return nil, nil, err
	}
	arrayBytes := int64(h.entryCount) * int64(h.entrySize)
	if h.entriesLBA > uint64(d.disk.size/ss) || arrayBytes > d.disk.size-int64(h.entriesLBA)*ss {
		return h, nil, fmt.Errorf("entry array at LBA %d (%d bytes) lies past the end of the disk", h.entriesLBA, arrayBytes)
	}
	entries, err := d.disk.read(int64(h.entriesLBA)*ss, int(arrayBytes))
	if err != nil {
		return h, nil, fmt.Errorf("entry array: %w", err)
	}
	if crc := crc32.ChecksumIEEE(entries); crc != h.entriesCRC {
		return h, nil, fmt.Errorf("entry array CRC32 is 0x%08x, header says 0x%08x", crc, h.entriesCRC)
	}
	t := *h
	t.entries = entries
	return h, &t, nil
}

// parseGPTHeader checks a header sector found at lba: signature, size, CRC, self-pointer and the
// entry-array geometry, all against the caps.
func parseGPTHeader(b []byte, ss int64, lba uint64) (*gptTable, error) {
	size := binary.LittleEndian.Uint32(b[12:])
	if size < gptMinHeaderSize || int64(size) > ss {
		return nil, fmt.Errorf("header size %d outside [%d, %d]", size, gptMinHeaderSize, ss)
	}
	hdr := bytes.Clone(b[:size])
	want := binary.LittleEndian.Uint32(hdr[16:])
	clear(hdr[16:20])
	if got := crc32.ChecksumIEEE(hdr); got != want {
		return nil, fmt.Errorf("header CRC32 is 0x%08x, header says 0x%08x", got, want)
	}
	h := &gptTable{
		sectorSize:  ss,
		myLBA:       binary.LittleEndian.Uint64(b[24:]),
		altLBA:      binary.LittleEndian.Uint64(b[32:]),
		firstUsable: binary.LittleEndian.Uint64(b[40:]),
		lastUsable:  binary.LittleEndian.Uint64(b[48:]),
		entriesLBA:  binary.LittleEndian.Uint64(b[72:]),
		entryCount:  binary.LittleEndian.Uint32(b[80:]),
		entrySize:   binary.LittleEndian.Uint32(b[84:]),
		entriesCRC:  binary.LittleEndian.Uint32(b[88:]),
	}
	copy(h.diskGUID[:], b[56:72])
	switch {
	case h.myLBA != lba:
		return nil, fmt.Errorf("header says it is at LBA %d but was found at LBA %d", h.myLBA, lba)
	case h.entrySize < gptMinEntrySize || h.entrySize%8 != 0:
		return nil, fmt.Errorf("entry size %d is not a multiple of 8 of at least %d", h.entrySize, gptMinEntrySize)
	case uint64(h.entryCount)*uint64(h.entrySize) > maxGPTArrayBytes:
		return nil, fmt.Errorf("entry array of %d × %d bytes exceeds the %d-byte cap", h.entryCount, h.entrySize, maxGPTArrayBytes)
	case h.firstUsable > h.lastUsable:
		return nil, fmt.Errorf("first usable LBA %d is after the last usable LBA %d", h.firstUsable, h.lastUsable)
	}
	return h, nil
}

// gptSectorSizes orders the logical sector sizes to probe: 512 first, unless the protective MBR
// entry's length matches the disk size counted in 4096-byte sectors.
func gptSectorSizes(mbr *mbrTable, diskSize int64) []int64 {
	if mbr != nil {
		for _, e := range mbr.entries {
			if e.typ != mbrTypeGPT {
				continue
			}
			in4K := min(diskSize/4096-1, math.MaxUint32)
			in512 := min(diskSize/512-1, math.MaxUint32)
			if int64(e.sectors) == in4K && in4K != in512 {
				return []int64{4096, 512}
			}
		}
	}
	return []int64{512, 4096}
}

// useGPT finds a valid GPT, the primary first and then the backups, and adds its partitions.
// It reports false when none is found; damage it met is in the warnings.
func (d *discovery) useGPT(mbr *mbrTable) bool {
	sizes := gptSectorSizes(mbr, d.disk.size)
	var damage []string
	altLBAs := make(map[int64]uint64)
	for _, ss := range sizes {
		h, t, err := d.readGPT(ss, 1)
		if err == nil {
			d.applyGPT(t)
			d.checkBackup(t)
			return true
		}
		if h != nil {
			altLBAs[ss] = h.altLBA
		}
		if !errors.Is(err, errNoGPTSignature) {
			damage = append(damage, fmt.Sprintf("primary GPT header at LBA 1 (%d-byte sectors): %v", ss, err))
		}
	}
	for _, ss := range sizes {
		if d.disk.size/ss < 3 {
			continue
		}
		candidates := []uint64{uint64(d.disk.size/ss - 1)}
		if alt, ok := altLBAs[ss]; ok && alt != candidates[0] {
			candidates = append([]uint64{alt}, candidates...)
		}
		for _, lba := range candidates {
			_, t, err := d.readGPT(ss, lba)
			if err == nil {
				if len(damage) == 0 {
					damage = append(damage, "primary GPT header at LBA 1 is missing")
				}
				d.warn("%s: used the backup GPT header at LBA %d", strings.Join(damage, "; "), lba)
				d.applyGPT(t)
				return true
			}
			if !errors.Is(err, errNoGPTSignature) {
				damage = append(damage, fmt.Sprintf("backup GPT header at LBA %d (%d-byte sectors): %v", lba, ss, err))
			}
		}
	}
	for _, msg := range damage {
		d.warn("%s", msg)
	}
	return false
}

// useGPTWithoutProtectiveMBR accepts a valid primary GPT when sector 0 holds no partition table
// (wiped, or zeroed by a tool). A backup header alone is not trusted then: mkfs on a whole disk
// that once held a GPT leaves the old backup at the end.
func (d *discovery) useGPTWithoutProtectiveMBR(mbr *mbrTable) bool {
	for _, ss := range gptSectorSizes(mbr, d.disk.size) {
		if _, t, err := d.readGPT(ss, 1); err == nil {
			d.warn("GPT found without a protective MBR in sector 0")
			d.applyGPT(t)
			d.checkBackup(t)
			return true
		}
	}
	return false
}

// checkBackup warns when the backup header the primary points at is missing or damaged, so that
// a user learns the disk has lost its redundancy.
func (d *discovery) checkBackup(primary *gptTable) {
	ss := primary.sectorSize
	if primary.altLBA >= uint64(d.disk.size/ss) {
		d.warn("backup GPT header at LBA %d lies past the end of the disk (truncated image?)", primary.altLBA)
		return
	}
	_, backup, err := d.readGPT(ss, primary.altLBA)
	switch {
	case err != nil:
		d.warn("backup GPT header at LBA %d is damaged (%v): the primary was used", primary.altLBA, err)
	case backup.entriesCRC != primary.entriesCRC || backup.entryCount != primary.entryCount || backup.entrySize != primary.entrySize:
		d.warn("backup GPT partition array at LBA %d differs from the primary: the primary was used", primary.altLBA)
	}
}

// applyGPT adds a volume for every non-empty entry, named after its index.
func (d *discovery) applyGPT(t *gptTable) {
	d.layout.Scheme = SchemeGPT
	d.layout.SectorSize = int(t.sectorSize)
	d.layout.DiskID = formatGUID(t.diskGUID[:])
	ss := t.sectorSize
	var placed []placedExtent
	added := 0
	for i := range int(t.entryCount) {
		e := t.entries[i*int(t.entrySize) : (i+1)*int(t.entrySize)]
		if isZero(e[:16]) {
			continue
		}
		first := binary.LittleEndian.Uint64(e[32:])
		last := binary.LittleEndian.Uint64(e[40:])
		v := Volume{
			Name:     fmt.Sprintf("p%d", i+1),
			Scheme:   SchemeGPT,
			Type:     gptTypeName(e[:16]),
			TypeID:   formatGUID(e[:16]),
			Label:    gptName(e[gptNameOffset : gptNameOffset+gptNameBytes]),
			UUID:     formatGUID(e[16:32]),
			Index:    i + 1,
			Bootable: binary.LittleEndian.Uint64(e[48:])&gptAttrLegacyBoot != 0,
		}
		added++
		if first > math.MaxInt64/uint64(ss) {
			v.Offset, v.Problem = -1, fmt.Sprintf("starts at LBA %d, beyond any disk", first)
			d.layout.Volumes = append(d.layout.Volumes, v)
			continue
		}
		v.Offset = int64(first) * ss
		if last < first {
			v.Problem = fmt.Sprintf("ends at LBA %d, before it starts at LBA %d", last, first)
			d.layout.Volumes = append(d.layout.Volumes, v)
			continue
		}
		if n := last - first + 1; n > math.MaxInt64/uint64(ss) {
			v.Size = math.MaxInt64
		} else {
			v.Size = int64(n) * ss
		}
		if first < t.firstUsable || last > t.lastUsable {
			d.warn("%s (LBA %d-%d) lies outside the usable LBAs %d-%d", v.Name, first, last, t.firstUsable, t.lastUsable)
		}
		placed = append(placed, placedExtent{v.Name, v.Offset, v.Size})
		d.addPartition(v)
	}
	if added == 0 {
		d.warn("the GPT has no partitions: the whole disk is reported as one volume")
		d.addWholeDisk("")
	}
	d.warnOverlaps(placed)
}

// gptName decodes a UTF-16LE name up to its first NUL; unpaired surrogates become U+FFFD.
func gptName(b []byte) string {
	units := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u := binary.LittleEndian.Uint16(b[i:])
		if u == 0 {
			break
		}
		units = append(units, u)
	}
	return string(utf16.Decode(units))
}

// formatGUID prints a GUID stored mixed-endian (the first three fields little-endian) the way
// sfdisk and the UEFI spec print it.
func formatGUID(b []byte) string {
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X",
		binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint16(b[4:]), binary.LittleEndian.Uint16(b[6:]),
		b[8:10], b[10:16])
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
