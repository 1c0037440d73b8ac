package vmdk

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Magic numbers as the first four bytes read little-endian.
const (
	magicKDMV = 0x564d444b // "KDMV": hosted sparse extent (VMDK4)
	magicCOWD = 0x44574f43 // "COWD": ESX sparse extent (VMDK3, vmfsSparse)
)

// Hosted sparse extent header flags.
const (
	flagNewlineCheck = 1 << 0  // the four end-of-line check bytes are valid
	flagRedundantGD  = 1 << 1  // rgdOffset locates a redundant grain directory
	flagZeroedGTE    = 1 << 2  // grain table entry 1 means "zeroed grain"
	flagCompressed   = 1 << 16 // grains are compressed (streamOptimized)
	flagMarkers      = 1 << 17 // metadata and grains are preceded by markers
)

const (
	compressionNone    = 0
	compressionDeflate = 1

	// gdAtEnd in gdOffset says the grain directory is found through the footer.
	gdAtEnd = ^uint64(0)

	// cowdGTEntries is fixed by the ESX sparse format.
	cowdGTEntries = 4096
)

// Marker types of streamOptimized extents (a marker whose size field is 0 is a metadata
// marker; otherwise it heads a compressed grain and the size is the compressed length).
const (
	markerEOS    = 0
	markerGT     = 1
	markerGD     = 2
	markerFooter = 3
)

// sparseHeader is the header of a KDMV or COWD sparse extent, normalized. Offsets are in sectors.
type sparseHeader struct {
	cowd         bool
	version      uint32
	flags        uint32
	capacity     uint64 // sectors
	grainSectors uint64
	descOffset   uint64
	descSectors  uint64
	gtEntries    uint64
	rgdOffset    uint64
	gdOffset     uint64
	gdEntries    uint64 // entries of the grain directory that cover the capacity
	compression  uint16
}

// parseKDMV decodes a hosted sparse extent header (the first 512 bytes of the extent or of its
// footer). It checks the fields that do not depend on the file size.
func parseKDMV(b []byte, what string) (*sparseHeader, error) {
	if len(b) < sectorSize || binary.LittleEndian.Uint32(b) != magicKDMV {
		return nil, corrupt(what, "no KDMV magic")
	}
	le := binary.LittleEndian
	h := &sparseHeader{
		version:      le.Uint32(b[4:]),
		flags:        le.Uint32(b[8:]),
		capacity:     le.Uint64(b[12:]),
		grainSectors: le.Uint64(b[20:]),
		descOffset:   le.Uint64(b[28:]),
		descSectors:  le.Uint64(b[36:]),
		gtEntries:    uint64(le.Uint32(b[44:])),
		rgdOffset:    le.Uint64(b[48:]),
		gdOffset:     le.Uint64(b[56:]),
		compression:  le.Uint16(b[77:]),
	}
	if h.version < 1 || h.version > 3 {
		return nil, unsupported("%s: sparse extent version %d (1 to 3 are known)", what, h.version)
	}
	if h.flags&flagNewlineCheck != 0 && string(b[73:77]) != "\n \r\n" {
		return nil, corrupt(what, "end-of-line check bytes are %q, not %q: the file was probably transferred in text mode",
			b[73:77], "\n \r\n")
	}
	switch h.compression {
	case compressionNone:
		if h.flags&flagCompressed != 0 {
			h.compression = compressionDeflate // the flag alone is enough for VMware
		}
	case compressionDeflate:
	default:
		return nil, unsupported("%s: compression algorithm %d (only deflate, 1, is defined)", what, h.compression)
	}
	return h, h.checkGeometry(what)
}

// parseCOWD decodes an ESX sparse extent header.
func parseCOWD(b []byte, what string) (*sparseHeader, error) {
	if len(b) < 32 || binary.LittleEndian.Uint32(b) != magicCOWD {
		return nil, corrupt(what, "no COWD magic")
	}
	le := binary.LittleEndian
	h := &sparseHeader{
		cowd:         true,
		version:      le.Uint32(b[4:]),
		flags:        le.Uint32(b[8:]),
		capacity:     uint64(le.Uint32(b[12:])),
		grainSectors: uint64(le.Uint32(b[16:])),
		gdOffset:     uint64(le.Uint32(b[20:])),
		gtEntries:    cowdGTEntries,
	}
	if err := h.checkGeometry(what); err != nil {
		return nil, err
	}
	// COWD records its directory size; entries past what the capacity needs are ignored and a
	// short directory leaves the rest of the extent unallocated.
	h.gdEntries = min(h.gdEntries, uint64(le.Uint32(b[24:])))
	return h, nil
}

// checkGeometry bounds the grain size, the grain table size and the capacity, and derives the
// number of grain directory entries, before any of them sizes an allocation.
func (h *sparseHeader) checkGeometry(what string) error {
	if h.grainSectors == 0 || h.grainSectors > maxGrainSectors {
		return corrupt(what, "grain size of %d sectors is outside 1..%d", h.grainSectors, maxGrainSectors)
	}
	if h.gtEntries == 0 || h.gtEntries > maxGTEntries {
		return corrupt(what, "%d entries per grain table is outside 1..%d", h.gtEntries, maxGTEntries)
	}
	if h.capacity > maxVirtualBytes/sectorSize {
		return corrupt(what, "capacity of %d sectors exceeds the %d-byte limit", h.capacity, int64(maxVirtualBytes))
	}
	perTable := h.grainSectors * h.gtEntries // ≤ 2^27: no overflow
	h.gdEntries = (h.capacity + perTable - 1) / perTable
	if h.gdEntries*4 > maxGDBytes {
		return corrupt(what, "a grain directory of %d entries exceeds the %d-byte limit", h.gdEntries, maxGDBytes)
	}
	return nil
}

// readFooter returns the header copy that a streamOptimized extent whose header says gdAtEnd
// keeps at the end of the file: footer marker, footer (a header), end-of-stream marker.
func readFooter(r io.ReaderAt, fileSize int64, what string) (*sparseHeader, error) {
	const footerBytes = 3 * sectorSize
	if fileSize < sectorSize+footerBytes {
		return nil, corrupt(what, "grain directory is at the end but the %d-byte file is too short for a footer", fileSize)
	}
	buf := make([]byte, footerBytes)
	if err := readFull(r, buf, fileSize-footerBytes); err != nil {
		return nil, fmt.Errorf("vmdk: reading footer of %s: %w", what, err)
	}
	le := binary.LittleEndian
	footerWhat := fmt.Sprintf("%s footer at 0x%x", what, fileSize-2*sectorSize)
	if le.Uint32(buf[8:]) != 0 || le.Uint32(buf[12:]) != markerFooter {
		return nil, corrupt(footerWhat, "not preceded by a footer marker (the file may be truncated)")
	}
	if le.Uint64(buf[1024:]) != 0 || le.Uint32(buf[1032:]) != 0 || le.Uint32(buf[1036:]) != markerEOS {
		return nil, corrupt(footerWhat, "not followed by an end-of-stream marker (the file may be truncated)")
	}
	h, err := parseKDMV(buf[sectorSize:2*sectorSize], footerWhat)
	if err != nil {
		return nil, err
	}
	if h.gdOffset == gdAtEnd {
		return nil, corrupt(footerWhat, "footer also says the grain directory is at the end")
	}
	return h, nil
}

// readFull reads exactly len(p) bytes at off; a short read is an error.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
