package fat

import (
	"encoding/binary"
	"io/fs"
	"time"
	"unicode/utf16"
)

// exFAT directory entry types. Bit 7 is InUse: a deleted entry has it clear (0x85 → 0x05).
const (
	exEnd    = 0x00
	exInUse  = 0x80
	exBitmap = 0x81
	exUpcase = 0x82
	exLabel  = 0x83
	exFile   = 0x85
	exStream = 0xC0
	exName   = 0xC1
)

const (
	exNameChars       = 15 // UTF-16 units per File Name entry
	exMaxSecondary    = 18 // Stream + 17 name entries hold 255 characters
	exNoFatChain      = 0x02
	exAttrDirectory   = 0x10
	exAttrReadOnly    = 0x01
	exMaxDirBytes     = 256 << 20 // the specification's directory size limit
	exMaxLabelChars   = 11
	exFileEntryPrefix = 2 // entries before the first name: File and Stream
)

// exfatFile is a decoded file entry set.
type exfatFile struct {
	attr       uint16
	created    time.Time
	modified   time.Time
	accessed   time.Time
	noFatChain bool
	validLen   uint64
	dataLen    uint64
	first      uint32
	name       string
	entries    int // entries in the set, File included
}

func (f *exfatFile) isDir() bool { return f.attr&exAttrDirectory != 0 }

func (f *exfatFile) mode() fs.FileMode {
	switch {
	case f.isDir():
		return fs.ModeDir | 0o755
	case f.attr&exAttrReadOnly != 0:
		return 0o444
	}
	return 0o644
}

// setChecksum is the checksum of an entry set, skipping its own field (bytes 2 and 3). With
// restore, each entry's InUse bit is counted as set: deletion clears those bits without
// rewriting the checksum, so a deleted set still verifies this way.
func setChecksum(set []byte, restore bool) uint16 {
	var sum uint16
	for i, c := range set {
		if i == 2 || i == 3 {
			continue
		}
		if restore && i%direntSize == 0 {
			c |= exInUse
		}
		sum = (sum>>1 | sum<<15) + uint16(c)
	}
	return sum
}

// parseEntrySet decodes the entries of a file entry set (File, Stream, File Name…); deleted
// sets have their InUse bits clear. It reports false for anything that is not a whole, valid
// set: wrong types, a name that does not fit, a bad checksum.
func parseEntrySet(set []byte, deleted bool) (exfatFile, bool) {
	var f exfatFile
	inUse := byte(exInUse)
	if deleted {
		inUse = 0
	}
	if len(set) < 3*direntSize || set[0] != exFile&^exInUse|inUse {
		return f, false
	}
	n := int(set[1])
	if n < 2 || n > exMaxSecondary || len(set) != (n+1)*direntSize {
		return f, false
	}
	stream := set[direntSize:]
	if stream[0] != exStream&^exInUse|inUse {
		return f, false
	}
	nameLen := int(stream[3])
	nameEntries := (nameLen + exNameChars - 1) / exNameChars
	if nameLen == 0 || nameEntries > n-1 {
		return f, false
	}
	if binary.LittleEndian.Uint16(set[2:]) != setChecksum(set, deleted) {
		return f, false
	}
	units := make([]uint16, 0, nameEntries*exNameChars)
	for i := 0; i < nameEntries; i++ {
		e := set[(exFileEntryPrefix+i)*direntSize:]
		if e[0] != exName&^exInUse|inUse {
			return f, false
		}
		for k := 0; k < exNameChars; k++ {
			units = append(units, binary.LittleEndian.Uint16(e[2+2*k:]))
		}
	}
	f.name = safeName(string(utf16.Decode(units[:nameLen])))
	if f.name == "" {
		return f, false
	}
	f.attr = binary.LittleEndian.Uint16(set[4:])
	f.created = exfatTime(binary.LittleEndian.Uint32(set[8:]), set[20], set[22])
	f.modified = exfatTime(binary.LittleEndian.Uint32(set[12:]), set[21], set[23])
	f.accessed = exfatTime(binary.LittleEndian.Uint32(set[16:]), 0, set[24])
	f.noFatChain = stream[1]&exNoFatChain != 0
	f.validLen = binary.LittleEndian.Uint64(stream[8:])
	f.first = binary.LittleEndian.Uint32(stream[20:])
	f.dataLen = binary.LittleEndian.Uint64(stream[24:])
	f.validLen = min(f.validLen, f.dataLen)
	f.entries = n + 1
	return f, true
}

// exfatTime decodes a timestamp: a DOS date and time, 10 ms units on top, and the offset from
// UTC in 15-minute steps when its valid bit (7) is set. Without an offset, local time is taken
// as UTC, as for FAT.
func exfatTime(ts uint32, tenMS, utcOffset byte) time.Time {
	t := dosTime(uint16(ts>>16), uint16(ts), tenMS)
	if t.IsZero() || utcOffset&0x80 == 0 {
		return t
	}
	quarters := int(int8(utcOffset<<1) >> 1) // sign-extend the 7-bit field
	return t.Add(-time.Duration(quarters) * 15 * time.Minute)
}

// setCollector gathers the entries of entry sets as a directory is scanned in order; sets may
// span clusters.
type setCollector struct {
	buf     [(exMaxSecondary + 1) * direntSize]byte
	have    int   // entries collected
	need    int   // entries in the set being collected
	off     int64 // volume offset of its File entry
	deleted bool
}

// add feeds one entry. When it completes a set it returns the set's bytes and the offset of
// its File entry. A File entry (live or, with deleted, a deleted one) starts a set; anything
// out of place abandons the one being collected.
func (c *setCollector) add(off int64, e []byte) (set []byte, at int64, deleted, done bool) {
	t := e[0]
	if c.need > 0 {
		if t == exFile || t == exFile&^exInUse || t&0x40 == 0 { // a primary entry: the set is cut short
			c.need = 0
		} else {
			copy(c.buf[c.have*direntSize:], e)
			c.have++
			if c.have == c.need {
				c.need = 0
				return c.buf[:c.have*direntSize], c.off, c.deleted, true
			}
			return nil, 0, false, false
		}
	}
	if t == exFile || t == exFile&^exInUse {
		n := int(e[1])
		if n < 2 || n > exMaxSecondary {
			return nil, 0, false, false
		}
		copy(c.buf[:], e)
		c.have, c.need, c.off, c.deleted = 1, n+1, off, t == exFile&^exInUse
	}
	return nil, 0, false, false
}
