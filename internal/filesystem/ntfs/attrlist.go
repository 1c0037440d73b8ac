package ntfs

import (
	"encoding/binary"
	"fmt"
)

// listEntry is one entry of an $ATTRIBUTE_LIST: where (which MFT record) an attribute of the file
// lives, and for non-resident attributes split over records, the first VCN of each part.
type listEntry struct {
	typ      uint32
	name     string
	startVCN int64
	ref      fileRef
	id       uint16
}

// readAttrList reads and parses an $ATTRIBUTE_LIST attribute (resident, or non-resident with its
// runlist in the same record).
func (f *FS) readAttrList(a *attribute, what string) ([]listEntry, error) {
	value := a.value
	if !a.resident {
		s, err := f.newStream([]*attribute{a}, what)
		if err != nil {
			return nil, err
		}
		if s.size > maxAttrListSize {
			return nil, corrupt(what, "%d bytes exceed the %d-byte limit", s.size, maxAttrListSize)
		}
		value = make([]byte, s.size)
		if n, err := s.ReadAt(value, 0); n < len(value) {
			return nil, fmt.Errorf("ntfs: %s: %w", what, err)
		}
	}
	entries, err := parseAttrList(value)
	if err != nil {
		return nil, corrupt(what, "%v", err)
	}
	return entries, nil
}

func parseAttrList(b []byte) ([]listEntry, error) {
	var out []listEntry
	for off := 0; off < len(b); {
		if off+0x1A > len(b) {
			// Windows pads the list; trailing bytes too short for an entry end it.
			break
		}
		e := b[off:]
		length := int(binary.LittleEndian.Uint16(e[4:]))
		if length < 0x1A || off+length > len(b) {
			return out, fmt.Errorf("entry at byte %d has length %d (%d bytes left)", off, length, len(b)-off)
		}
		e = e[:length]
		nameLen, nameOff := int(e[6]), int(e[7])
		le := listEntry{
			typ:      binary.LittleEndian.Uint32(e),
			startVCN: int64(binary.LittleEndian.Uint64(e[8:])),
			ref:      parseRef(binary.LittleEndian.Uint64(e[0x10:])),
			id:       binary.LittleEndian.Uint16(e[0x18:]),
		}
		if nameLen > 0 {
			if nameOff+2*nameLen > length {
				return out, fmt.Errorf("entry at byte %d: name runs past the entry", off)
			}
			le.name = decodeUTF16(e[nameOff : nameOff+2*nameLen])
		}
		out = append(out, le)
		off += length
	}
	return out, nil
}
