package fat

import (
	"encoding/binary"
	"io"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

const exfatSignature = "EXFAT   "

// exfatBootSectors is the size of one boot region: boot sector, 8 extended boot sectors, OEM
// parameters, a reserved sector and the checksum sector.
const exfatBootSectors = 12

// exfatBoot is a validated exFAT boot sector.
type exfatBoot struct {
	volumeLength uint64 // sectors
	fatOffset    uint32 // sectors
	fatLength    uint32 // sectors
	heapOffset   uint32 // sectors
	clusters     uint32
	rootCluster  uint32
	serial       uint32
	flags        uint16
	bpsShift     uint
	spcShift     uint
	numFATs      uint32
}

func exfatCorrupt(what, reason string, args ...any) error {
	return filesystem.Corrupt("exfat", what, reason, args...)
}

// parseExFATBoot validates the fields of an exFAT boot sector against each other and the volume.
func parseExFATBoot(b []byte, size int64) (*exfatBoot, error) {
	bad := func(reason string, args ...any) (*exfatBoot, error) {
		return nil, exfatCorrupt("boot sector", reason, args...)
	}
	if b[0] != 0xEB || string(b[3:11]) != exfatSignature {
		return bad("no exFAT signature")
	}
	for _, c := range b[11:64] {
		if c != 0 {
			return bad("bytes 11..63 (the FAT BPB area) are not zero")
		}
	}
	if b[510] != 0x55 || b[511] != 0xAA {
		return bad("boot signature is 0x%02x%02x, not 0x55AA", b[510], b[511])
	}
	p := &exfatBoot{
		volumeLength: binary.LittleEndian.Uint64(b[72:]),
		fatOffset:    binary.LittleEndian.Uint32(b[80:]),
		fatLength:    binary.LittleEndian.Uint32(b[84:]),
		heapOffset:   binary.LittleEndian.Uint32(b[88:]),
		clusters:     binary.LittleEndian.Uint32(b[92:]),
		rootCluster:  binary.LittleEndian.Uint32(b[96:]),
		serial:       binary.LittleEndian.Uint32(b[100:]),
		flags:        binary.LittleEndian.Uint16(b[106:]),
		bpsShift:     uint(b[108]),
		spcShift:     uint(b[109]),
		numFATs:      uint32(b[110]),
	}
	switch {
	case p.bpsShift < 9 || p.bpsShift > 12:
		return bad("bytes-per-sector shift %d is not 9..12", p.bpsShift)
	case p.spcShift > 25-p.bpsShift:
		return bad("sectors-per-cluster shift %d makes clusters over 32 MiB", p.spcShift)
	case p.numFATs != 1 && p.numFATs != 2:
		return bad("FAT count %d is not 1 or 2", p.numFATs)
	case p.fatOffset < 2*exfatBootSectors:
		return bad("FAT offset %d lies inside the boot regions", p.fatOffset)
	case p.clusters == 0 || p.clusters > 0xFFFFFFF5:
		return bad("cluster count %d", p.clusters)
	case p.rootCluster < 2 || uint64(p.rootCluster) > uint64(p.clusters)+1:
		return bad("root directory cluster %d is outside the heap (2..%d)", p.rootCluster, uint64(p.clusters)+1)
	}
	bps := uint64(1) << p.bpsShift
	fatEnd := uint64(p.fatOffset) + uint64(p.fatLength)*uint64(p.numFATs)
	switch {
	case uint64(p.fatLength)*bps < (uint64(p.clusters)+2)*4:
		return bad("FAT of %d sectors holds fewer than the %d entries of %d clusters", p.fatLength, uint64(p.clusters)+2, p.clusters)
	case uint64(p.heapOffset) < fatEnd:
		return bad("cluster heap at sector %d overlaps the FATs (which end at %d)", p.heapOffset, fatEnd)
	case uint64(p.heapOffset)+uint64(p.clusters)<<p.spcShift > p.volumeLength:
		return bad("%d clusters from sector %d run past the volume length of %d sectors", p.clusters, p.heapOffset, p.volumeLength)
	case fatEnd*bps > uint64(size):
		return bad("FATs end at 0x%x, past the end of the volume (0x%x)", fatEnd*bps, size)
	}
	return p, nil
}

// exfatBootChecksum is the checksum of a boot region's first 11 sectors, skipping the volume
// flags and percent-in-use bytes, which change without the checksum being rewritten.
func exfatBootChecksum(region []byte) uint32 {
	var sum uint32
	for i, c := range region {
		if i == 106 || i == 107 || i == 112 {
			continue
		}
		sum = (sum>>1 | sum<<31) + uint32(c)
	}
	return sum
}

// readExFATBoot reads the main boot region, or the backup (sector 12) when the main one is
// damaged, and returns the validated boot sector.
func readExFATBoot(r io.ReaderAt, size int64) (*exfatBoot, error) {
	p, err := readExFATRegion(r, size, 0)
	if err == nil {
		return p, nil
	}
	for shift := uint(9); shift <= 12; shift++ {
		if b, e := readExFATRegion(r, size, exfatBootSectors<<shift); e == nil && b.bpsShift == shift {
			return b, nil
		}
	}
	return nil, err
}

func readExFATRegion(r io.ReaderAt, size, off int64) (*exfatBoot, error) {
	var b [512]byte
	if off+int64(len(b)) > size {
		return nil, exfatCorrupt("boot region", "sector at 0x%x lies past the end of the volume", off)
	}
	if _, err := r.ReadAt(b[:], off); err != nil && err != io.EOF {
		return nil, err
	}
	p, err := parseExFATBoot(b[:], size)
	if err != nil {
		return nil, err
	}
	if err := verifyExFATChecksum(r, size, off, p.bpsShift); err != nil {
		return nil, err
	}
	return p, nil
}

func verifyExFATChecksum(r io.ReaderAt, size, off int64, bpsShift uint) error {
	bps := int64(1) << bpsShift
	if off+exfatBootSectors*bps > size {
		return exfatCorrupt("boot region", "12 sectors from 0x%x run past the end of the volume", off)
	}
	region := make([]byte, exfatBootSectors*bps)
	if _, err := r.ReadAt(region, off); err != nil && err != io.EOF {
		return err
	}
	want := exfatBootChecksum(region[:11*bps])
	for i := 11 * bps; i < 12*bps; i += 4 {
		if got := binary.LittleEndian.Uint32(region[i:]); got != want {
			return exfatCorrupt("boot region", "checksum sector holds 0x%08x, the region sums to 0x%08x", got, want)
		}
	}
	return nil
}
