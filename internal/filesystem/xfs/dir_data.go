package xfs

import (
	"encoding/binary"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Directory data blocks (block, leaf and node directories alike) hold a header, then entries and
// unused regions back to back, each a multiple of 8 bytes:
//
//	entry:  inumber u64, namelen u8, name, [ftype u8], padding, tag u16 (offset of the entry)
//	unused: freetag u16 = 0xFFFF, length u16, ..., tag u16
//
// A single-block directory ("block" form) also keeps its hash index at the end of the block:
// leaf entries (hash u32, address u32) followed by a tail (count u32, stale u32).
const (
	dataMagicBlockV4 = 0x58443242 // "XD2B"
	dataMagicDataV4  = 0x58443244 // "XD2D"
	dataMagicBlockV5 = 0x58444233 // "XDB3"
	dataMagicDataV5  = 0x58444433 // "XDD3"
	dataHdrV4        = 16         // magic + 3 bestfree pairs
	dataHdrV5        = 64         // magic, crc, blkno, lsn, uuid, owner + bestfree + pad
	freeTag          = 0xffff
	blockTailSize    = 8
	leafEntrySize    = 8
)

// rawDirent is one entry as found on disk.
type rawDirent struct {
	name  []byte
	ino   uint64
	ftype uint8
	off   int // byte offset in its block (or short-form fork)
}

// dataBlock describes a parsed data block's layout.
type dataBlock struct {
	hdr       int  // first byte after the header
	end       int  // end of the entry area (start of the leaf index in block form)
	blockForm bool // XD2B / XDB3
	leafCount int  // block form: number of leaf entries
}

// layoutDataBlock checks a data block's magic and, for block form, its tail.
func (f *FS) layoutDataBlock(b []byte, what string) (dataBlock, error) {
	be := binary.BigEndian
	magic := be.Uint32(b)
	d := dataBlock{end: len(b)}
	switch {
	case f.sb.version == 5 && (magic == dataMagicBlockV5 || magic == dataMagicDataV5):
		d.hdr, d.blockForm = dataHdrV5, magic == dataMagicBlockV5
	case f.sb.version == 4 && (magic == dataMagicBlockV4 || magic == dataMagicDataV4):
		d.hdr, d.blockForm = dataHdrV4, magic == dataMagicBlockV4
	default:
		return d, filesystem.Corrupt("xfs", what, "magic %#08x is not a directory data block", magic)
	}
	if d.blockForm {
		count := uint64(be.Uint32(b[len(b)-blockTailSize:]))
		room := uint64(len(b)-blockTailSize-d.hdr) / leafEntrySize
		if count > room {
			return d, filesystem.Corrupt("xfs", what, "block tail counts %d leaf entries, room for %d", count, room)
		}
		d.leafCount = int(count)
		d.end = len(b) - blockTailSize - int(count)*leafEntrySize
	}
	return d, nil
}

// walkDataBlock visits each entry and each unused region of a data block in on-disk order.
// Lengths that do not advance or pass the end stop the walk with an error.
func (f *FS) walkDataBlock(b []byte, what string, entry func(rawDirent) bool, unused func(start, length int)) (dataBlock, error) {
	d, err := f.layoutDataBlock(b, what)
	if err != nil {
		return d, err
	}
	be := binary.BigEndian
	for p := d.hdr; p < d.end; {
		if d.end-p < 8 {
			return d, filesystem.Corrupt("xfs", what, "%d stray bytes at offset %d", d.end-p, p)
		}
		if be.Uint16(b[p:]) == freeTag {
			length := int(be.Uint16(b[p+2:]))
			if length < 8 || length%8 != 0 || length > d.end-p {
				return d, filesystem.Corrupt("xfs", what, "unused region at offset %d has length %d (end %d)", p, length, d.end)
			}
			if unused != nil {
				unused(p, length)
			}
			p += length
			continue
		}
		e, size, ok := f.parseDataEntry(b[:d.end], p)
		if !ok {
			return d, filesystem.Corrupt("xfs", what, "entry at offset %d runs past the data area (end %d)", p, d.end)
		}
		if entry != nil && !entry(e) {
			return d, nil
		}
		p += size
	}
	return d, nil
}

// dataEntrySize is the aligned on-disk size of an entry with a name of n bytes.
func (f *FS) dataEntrySize(n int) int {
	size := 8 + 1 + n + 2
	if f.ftype {
		size++
	}
	return (size + 7) &^ 7
}

// parseDataEntry decodes the entry at p in b; ok is false when it has no name or does not fit.
func (f *FS) parseDataEntry(b []byte, p int) (rawDirent, int, bool) {
	if p+9 > len(b) {
		return rawDirent{}, 0, false
	}
	nameLen := int(b[p+8])
	size := f.dataEntrySize(nameLen)
	if nameLen == 0 || size > len(b)-p {
		return rawDirent{}, 0, false
	}
	e := rawDirent{ino: binary.BigEndian.Uint64(b[p:]), name: b[p+9 : p+9+nameLen], off: p}
	if f.ftype {
		e.ftype = b[p+9+nameLen]
	}
	return e, size, true
}
