package ntfs

import (
	"encoding/binary"
	"fmt"
)

// MFT record header flags.
const (
	recordInUse     = 0x0001
	recordDirectory = 0x0002
)

// Attribute types.
const (
	attrStandardInformation = 0x10
	attrAttributeList       = 0x20
	attrFileName            = 0x30
	attrVolumeName          = 0x60
	attrData                = 0x80
	attrIndexRoot           = 0x90
	attrIndexAllocation     = 0xA0
	attrReparsePoint        = 0xC0
	attrEnd                 = 0xFFFFFFFF
)

// Attribute header flags.
const (
	attrFlagCompressionMask = 0x00FF
	attrFlagEncrypted       = 0x4000
	attrFlagSparse          = 0x8000
)

// record is one parsed MFT record (a "file record segment").
type record struct {
	num     uint64
	seq     uint16
	flags   uint16
	links   uint16
	baseRef fileRef // zero for a base record; the base record of an extension record
	size    int     // bytes held (the record size)
	attrs   []attribute
}

func (r *record) inUse() bool { return r.flags&recordInUse != 0 }

// fileRef is an MFT reference: a 48-bit record number and a 16-bit sequence number that is
// bumped each time the record is reused, so stale references can be told from live ones.
type fileRef struct {
	num uint64
	seq uint16
}

func parseRef(v uint64) fileRef { return fileRef{num: v & (1<<48 - 1), seq: uint16(v >> 48)} }

// attribute is one attribute header and its value (resident) or runlist (non-resident). Slices
// point into the record's buffer.
type attribute struct {
	typ    uint32
	name   string
	flags  uint16
	id     uint16
	record uint64 // the MFT record holding the attribute

	resident    bool
	value       []byte // resident value
	valueOffset int    // offset of the resident value in its record

	startVCN, lastVCN int64
	runlist           []byte
	compressionUnit   uint8 // log2 of clusters per compression unit
	allocSize         int64
	dataSize          int64
	initSize          int64
}

func (a *attribute) compressed() bool { return a.flags&attrFlagCompressionMask != 0 }

// parseRecord applies the fixups of an MFT record held in buf (which it modifies and keeps) and
// parses its header and attributes.
func parseRecord(num uint64, buf []byte) (*record, error) {
	what := func() string { return fmt.Sprintf("MFT record %d", num) }
	if err := applyFixups(buf, "FILE"); err != nil {
		return nil, corrupt(what(), "%v", err)
	}
	r := &record{
		num:     num,
		seq:     binary.LittleEndian.Uint16(buf[0x10:]),
		links:   binary.LittleEndian.Uint16(buf[0x12:]),
		flags:   binary.LittleEndian.Uint16(buf[0x16:]),
		baseRef: parseRef(binary.LittleEndian.Uint64(buf[0x20:])),
		size:    len(buf),
	}
	attrOff := int(binary.LittleEndian.Uint16(buf[0x14:]))
	inUse := int64(binary.LittleEndian.Uint32(buf[0x18:]))
	if inUse > int64(len(buf)) || inUse < 0x30 {
		return nil, corrupt(what(), "%d bytes in use of a %d-byte record", inUse, len(buf))
	}
	end := int(inUse)
	if attrOff < 0x30 || attrOff%8 != 0 || attrOff > end-4 {
		return nil, corrupt(what(), "attributes offset %d outside the %d bytes in use", attrOff, end)
	}
	for off := attrOff; ; {
		if off+4 > end {
			return nil, corrupt(what(), "attribute list not terminated before byte %d", end)
		}
		typ := binary.LittleEndian.Uint32(buf[off:])
		if typ == attrEnd {
			break
		}
		a, length, err := parseAttribute(buf, off, end)
		if err != nil {
			return nil, corrupt(what(), "attribute 0x%x at offset %d: %v", typ, off, err)
		}
		a.record = num
		r.attrs = append(r.attrs, a)
		off += length
	}
	return r, nil
}

// parseAttribute parses the attribute header at off; end is the end of the record's used bytes.
// It returns the attribute and its length, which is always at least 24 so that the caller's walk
// advances.
func parseAttribute(buf []byte, off, end int) (attribute, int, error) {
	var a attribute
	if off+0x18 > end {
		return a, 0, fmt.Errorf("header runs past the record end %d", end)
	}
	h := buf[off:end]
	a.typ = binary.LittleEndian.Uint32(h)
	length := int64(binary.LittleEndian.Uint32(h[4:]))
	if length < 0x18 || length%8 != 0 || length > int64(len(h)) {
		return a, 0, fmt.Errorf("length %d is not a multiple of 8 between 24 and the %d bytes left", length, len(h))
	}
	h = h[:length]
	a.resident = h[8] == 0
	nameLen := int(h[9])
	nameOff := int(binary.LittleEndian.Uint16(h[0x0A:]))
	a.flags = binary.LittleEndian.Uint16(h[0x0C:])
	a.id = binary.LittleEndian.Uint16(h[0x0E:])
	if nameLen > 0 {
		if nameOff+2*nameLen > len(h) {
			return a, 0, fmt.Errorf("name (%d chars at %d) runs past the attribute's %d bytes", nameLen, nameOff, len(h))
		}
		a.name = decodeUTF16(h[nameOff : nameOff+2*nameLen])
	}
	if a.resident {
		vlen := int64(binary.LittleEndian.Uint32(h[0x10:]))
		voff := int64(binary.LittleEndian.Uint16(h[0x14:]))
		if voff+vlen > int64(len(h)) {
			return a, 0, fmt.Errorf("resident value (%d bytes at %d) runs past the attribute's %d bytes", vlen, voff, len(h))
		}
		a.value = h[voff : voff+vlen]
		a.valueOffset = off + int(voff)
		return a, int(length), nil
	}
	if len(h) < 0x40 {
		return a, 0, fmt.Errorf("non-resident header of %d bytes is shorter than 64", len(h))
	}
	a.startVCN = int64(binary.LittleEndian.Uint64(h[0x10:]))
	a.lastVCN = int64(binary.LittleEndian.Uint64(h[0x18:]))
	runOff := int(binary.LittleEndian.Uint16(h[0x20:]))
	a.compressionUnit = h[0x22]
	a.allocSize = int64(binary.LittleEndian.Uint64(h[0x28:]))
	a.dataSize = int64(binary.LittleEndian.Uint64(h[0x30:]))
	a.initSize = int64(binary.LittleEndian.Uint64(h[0x38:]))
	if runOff < 0x40 || runOff > len(h) {
		return a, 0, fmt.Errorf("runlist offset %d outside the attribute's %d bytes", runOff, len(h))
	}
	// lastVCN is startVCN-1 for an empty attribute; anything lower, or a negative start or
	// size, cannot come from NTFS.
	if a.startVCN < 0 || a.lastVCN < a.startVCN-1 {
		return a, 0, fmt.Errorf("VCN range %d..%d is inverted", a.startVCN, a.lastVCN)
	}
	if a.allocSize < 0 || a.dataSize < 0 || a.initSize < 0 {
		return a, 0, fmt.Errorf("negative size (allocated %d, data %d, initialized %d)", a.allocSize, a.dataSize, a.initSize)
	}
	a.runlist = h[runOff:]
	return a, int(length), nil
}
