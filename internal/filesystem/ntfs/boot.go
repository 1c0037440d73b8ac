package ntfs

import (
	"encoding/binary"
	"math/bits"
)

const (
	bootSectorSize = 512
	oemID          = "NTFS    "
	// maxClusterSize is the largest cluster Windows formats (2 MiB, since Windows 10 1709).
	maxClusterSize = 2 << 20
	// MFT and index records are whole 512-byte fixup blocks; NTFS uses 1 KiB or 4 KiB.
	minRecordSize = 512
	maxRecordSize = 64 << 10
	// maxVolumeBytes keeps every byte offset computed from clusters inside int64.
	maxVolumeBytes = 1 << 62
)

// geometry is what the boot sector says about the volume's layout.
type geometry struct {
	sectorSize    int64
	clusterSize   int64
	totalClusters int64
	mftLCN        int64
	mirrorLCN     int64
	recordSize    int64
	serial        uint64
}

// parseBoot checks the BIOS parameter block of an NTFS boot sector.
func parseBoot(b []byte) (geometry, error) {
	var g geometry
	if len(b) < bootSectorSize {
		return g, corrupt("boot sector", "only %d bytes", len(b))
	}
	if string(b[3:11]) != oemID {
		return g, corrupt("boot sector", "OEM id %q is not %q", b[3:11], oemID)
	}
	if b[510] != 0x55 || b[511] != 0xAA {
		return g, corrupt("boot sector", "signature %02x%02x is not 55aa", b[510], b[511])
	}
	bps := int64(binary.LittleEndian.Uint16(b[0x0B:]))
	switch bps {
	case 256, 512, 1024, 2048, 4096:
	default:
		return g, corrupt("boot sector", "%d bytes per sector is not one of 256..4096", bps)
	}
	g.sectorSize = bps

	// Sectors per cluster: 1..128 as such; above 0x80 the byte is a negative power of two,
	// which is how clusters of 128 KiB..2 MiB are encoded.
	spcByte := b[0x0D]
	var spc int64
	switch {
	case spcByte == 0:
		return g, corrupt("boot sector", "0 sectors per cluster")
	case spcByte <= 0x80:
		spc = int64(spcByte)
		if bits.OnesCount8(spcByte) != 1 {
			return g, corrupt("boot sector", "%d sectors per cluster is not a power of two", spc)
		}
	default:
		shift := 256 - int(spcByte)
		if shift > 21 {
			return g, corrupt("boot sector", "sectors per cluster 2^%d is too large", shift)
		}
		spc = 1 << shift
	}
	g.clusterSize = bps * spc
	if g.clusterSize > maxClusterSize {
		return g, corrupt("boot sector", "cluster size %d exceeds %d", g.clusterSize, maxClusterSize)
	}

	sectors := binary.LittleEndian.Uint64(b[0x28:])
	if sectors == 0 || sectors > maxVolumeBytes/uint64(bps) {
		return g, corrupt("boot sector", "total sectors %d out of range", sectors)
	}
	g.totalClusters = int64(sectors) * bps / g.clusterSize
	if g.totalClusters == 0 {
		return g, corrupt("boot sector", "volume of %d sectors holds no whole cluster", sectors)
	}
	mft := binary.LittleEndian.Uint64(b[0x30:])
	mirror := binary.LittleEndian.Uint64(b[0x38:])
	if mft >= uint64(g.totalClusters) {
		return g, corrupt("boot sector", "$MFT cluster %d is past the end of the volume (%d clusters)", mft, g.totalClusters)
	}
	if mirror >= uint64(g.totalClusters) {
		return g, corrupt("boot sector", "$MFTMirr cluster %d is past the end of the volume (%d clusters)", mirror, g.totalClusters)
	}
	g.mftLCN, g.mirrorLCN = int64(mft), int64(mirror)

	rs, ok := recordSizeFromBPB(int8(b[0x40]), g.clusterSize)
	if !ok {
		return g, corrupt("boot sector", "MFT record size byte 0x%02x gives %d bytes, not a power of two in %d..%d",
			b[0x40], rs, minRecordSize, maxRecordSize)
	}
	g.recordSize = rs
	g.serial = binary.LittleEndian.Uint64(b[0x48:])
	return g, nil
}

// recordSizeFromBPB decodes the MFT/index record size bytes of the BPB: a positive value counts
// clusters, a negative one is -log2 of the size in bytes.
func recordSizeFromBPB(v int8, clusterSize int64) (int64, bool) {
	var size int64
	switch {
	case v > 0:
		size = int64(v) * clusterSize
	case v < 0:
		shift := -int(v)
		if shift > 30 {
			return 1 << 31, false
		}
		size = 1 << shift
	default:
		return 0, false
	}
	return size, validRecordSize(size)
}

func validRecordSize(size int64) bool {
	return size >= minRecordSize && size <= maxRecordSize && size&(size-1) == 0
}
