package fat

import (
	"encoding/binary"
	"io/fs"
	"time"
)

// Directory entry attribute bits.
const (
	attrReadOnly  = 0x01
	attrHidden    = 0x02
	attrSystem    = 0x04
	attrVolumeID  = 0x08
	attrDirectory = 0x10
	attrArchive   = 0x20
	attrLongName  = attrReadOnly | attrHidden | attrSystem | attrVolumeID // 0x0F, under mask 0x3F
)

// First bytes of a directory entry with special meaning.
const (
	entryEnd     = 0x00 // this and all following entries are free
	entryDeleted = 0xE5 // a free (deleted) entry
	entryKanji   = 0x05 // the name really starts with 0xE5
)

// NT case flags (byte 12): Windows NT and later store all-lowercase 8.3 parts this way.
const (
	caseLowerBase = 0x08
	caseLowerExt  = 0x10
)

const direntSize = 32

// shortEntry is a decoded 8.3 directory entry.
type shortEntry struct {
	name      [11]byte
	attr      byte
	ntCase    byte
	crtTenth  byte
	crtTime   uint16
	crtDate   uint16
	accDate   uint16
	clusterHi uint16
	wrtTime   uint16
	wrtDate   uint16
	clusterLo uint16
	size      uint32
}

func parseShort(b []byte) shortEntry {
	var e shortEntry
	copy(e.name[:], b[0:11])
	e.attr = b[11]
	e.ntCase = b[12]
	e.crtTenth = b[13]
	e.crtTime = binary.LittleEndian.Uint16(b[14:])
	e.crtDate = binary.LittleEndian.Uint16(b[16:])
	e.accDate = binary.LittleEndian.Uint16(b[18:])
	e.clusterHi = binary.LittleEndian.Uint16(b[20:])
	e.wrtTime = binary.LittleEndian.Uint16(b[22:])
	e.wrtDate = binary.LittleEndian.Uint16(b[24:])
	e.clusterLo = binary.LittleEndian.Uint16(b[26:])
	e.size = binary.LittleEndian.Uint32(b[28:])
	return e
}

func isLongNameEntry(b []byte) bool { return b[11]&0x3F == attrLongName }

// cluster is the first cluster; FAT12/16 keep the high half for other uses and ignore it.
func (e *shortEntry) cluster(bits int) uint32 {
	if bits == 32 {
		return uint32(e.clusterHi)<<16 | uint32(e.clusterLo)
	}
	return uint32(e.clusterLo)
}

func (e *shortEntry) isDir() bool { return e.attr&attrDirectory != 0 }

// isLabel is the volume label entry (volume-ID bit without the long-name combination).
func (e *shortEntry) isLabel() bool { return e.attr&attrVolumeID != 0 }

// isDot is the "." or ".." entry every subdirectory starts with.
func (e *shortEntry) isDot() bool {
	return string(e.name[:]) == ".          " || string(e.name[:]) == "..         "
}

// mode maps attributes: directories 0755, read-only files 0444, other files 0644. Hidden and
// system bits have no Unix equivalent and are not reflected.
func (e *shortEntry) mode() fs.FileMode {
	switch {
	case e.isDir():
		return fs.ModeDir | 0o755
	case e.attr&attrReadOnly != 0:
		return 0o444
	}
	return 0o644
}

// dosTime decodes a FAT date and time (2-second resolution) plus the 10 ms units of the creation
// time. FAT stores local time without a zone; it is taken as UTC. A zero or impossible date is the
// zero time; an impossible time of day keeps the date at midnight.
func dosTime(date, tod uint16, tenMS byte) time.Time {
	day, month, year := int(date&0x1F), int(date>>5&0x0F), 1980+int(date>>9)
	if date == 0 || day == 0 || month == 0 || month > 12 || day > daysIn(month, year) {
		return time.Time{}
	}
	hour, minute, sec := int(tod>>11), int(tod>>5&0x3F), int(tod&0x1F)*2
	if hour > 23 || minute > 59 || sec > 59 {
		hour, minute, sec = 0, 0, 0
	}
	ns := 0
	if tenMS < 200 {
		ns = int(tenMS) * 10 * int(time.Millisecond)
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, ns, time.UTC)
}

func daysIn(month, year int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
