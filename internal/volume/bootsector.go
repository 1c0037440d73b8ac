package volume

import (
	"bytes"
	"encoding/binary"
)

// bootSectorFS tells whether sector 0 is the boot sector (VBR) of a file system written on the
// whole disk, and which: "NTFS", "exFAT", "FAT" or "". Such a sector also ends in 0x55AA, so
// only this check keeps its boot code from being read as partition entries. It is the one piece
// of file-system knowledge this package has, and it looks no further than the BPB.
func bootSectorFS(s []byte) string {
	if len(s) < mbrSectorSize {
		return ""
	}
	switch string(s[3:11]) {
	case "NTFS    ":
		return "NTFS"
	case "EXFAT   ":
		return "exFAT"
	}
	if fatBPB(s) {
		return "FAT"
	}
	return ""
}

// fatBPB checks the BIOS parameter block fields every FAT file system sets sanely, plus either the
// x86 jump that starts a VBR or "FAT" in the FAT12/16 or FAT32 file-system type field.
func fatBPB(s []byte) bool {
	bytesPerSector := binary.LittleEndian.Uint16(s[11:])
	sectorsPerCluster := s[13]
	reserved := binary.LittleEndian.Uint16(s[14:])
	fats := s[16]
	media := s[21]
	powerOfTwo := func(v uint) bool { return v != 0 && v&(v-1) == 0 }
	if bytesPerSector < 512 || bytesPerSector > 4096 || !powerOfTwo(uint(bytesPerSector)) ||
		!powerOfTwo(uint(sectorsPerCluster)) || reserved == 0 || fats == 0 || fats > 2 ||
		(media != 0xF0 && media < 0xF8) {
		return false
	}
	jump := s[0] == 0xE9 || (s[0] == 0xEB && s[2] == 0x90)
	fatName := bytes.HasPrefix(s[0x36:], []byte("FAT")) || bytes.HasPrefix(s[0x52:], []byte("FAT"))
	return jump || fatName
}
