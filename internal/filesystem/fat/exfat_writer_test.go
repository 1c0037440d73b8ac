package fat

import (
	"encoding/binary"
	"unicode/utf16"
)

// A hand-made exFAT volume: small enough to commit as a fuzzing seed, and with what exfat-fuse
// never writes (a valid-data length short of the size, a non-zero UTC offset, FAT-chained
// fragments). Don't-care bytes are 'A' rather than zeros, which the Go corpus format spells
// in four characters.
//
// Layout (512-byte sectors and clusters): main boot region 0-11, backup 12-23, FAT 24, heap
// from 25 with 16 clusters:
//
//	2 bitmap   3 up-case table   4 root directory   5 hello.txt (contiguous)
//	6 sub/ (FAT chain)   7, 9 sub/inner.bin (FAT chain 7 → 9)   8 gone.txt (deleted, free)
//	10-17 free
const (
	hmSector   = 512
	hmHeap     = 25
	hmClusters = 16
	hmSectors  = hmHeap + hmClusters
)

// handmade data of the volume's files.
var (
	hmHello   = []byte("hello, exFAT\n")
	hmInner   = append(randomBytes(11, 512), randomBytes(12, 300)...) // 812 bytes over clusters 7 and 9
	hmGone    = []byte("deleted but not forgotten\n")
	hmHelloVD = 5 // valid data length of hello.txt: the rest reads as zeros
)

func hmCluster(img []byte, c int) []byte {
	off := (hmHeap + c - 2) * hmSector
	return img[off : off+hmSector]
}

// exfatEntrySet builds a File + Stream + Name entry set; typ is 0x85 (live) or 0x05 (deleted).
func exfatEntrySet(name string, attr uint16, first uint32, size, valid uint64, noFatChain bool, deleted bool, utcOffset byte) []byte {
	units := utf16.Encode([]rune(name))
	names := (len(units) + exNameChars - 1) / exNameChars
	set := make([]byte, (2+names)*direntSize)
	set[0] = exFile
	set[1] = byte(1 + names)
	binary.LittleEndian.PutUint16(set[4:], attr)
	// 2024-02-29 13:37:42 local time, + 1.23 s of 10 ms units on the times that have them.
	ts := uint32(44)<<25 | 2<<21 | 29<<16 | 13<<11 | 37<<5 | 21
	for _, off := range []int{8, 12, 16} {
		binary.LittleEndian.PutUint32(set[off:], ts)
	}
	set[20], set[21] = 123, 123
	set[22], set[23], set[24] = utcOffset, utcOffset, utcOffset
	s := set[direntSize:]
	s[0] = exStream
	s[1] = 0x01
	if noFatChain {
		s[1] |= exNoFatChain
	}
	s[3] = byte(len(units))
	binary.LittleEndian.PutUint64(s[8:], valid)
	binary.LittleEndian.PutUint32(s[20:], first)
	binary.LittleEndian.PutUint64(s[24:], size)
	for i := 0; i < names; i++ {
		e := set[(2+i)*direntSize:]
		e[0] = exName
		for k := 0; k < exNameChars && i*exNameChars+k < len(units); k++ {
			binary.LittleEndian.PutUint16(e[2+2*k:], units[i*exNameChars+k])
		}
	}
	binary.LittleEndian.PutUint16(set[2:], setChecksum(set, false))
	if deleted {
		for i := 0; i < len(set); i += direntSize {
			set[i] &^= exInUse
		}
	}
	return set
}

// handmadeExFAT builds the volume.
func handmadeExFAT() []byte {
	img := make([]byte, hmSectors*hmSector)
	for i := range img {
		img[i] = 'A'
	}
	// Boot sector.
	b := img[:hmSector]
	copy(b, []byte{0xEB, 0x76, 0x90})
	copy(b[3:], exfatSignature)
	clear(b[11:64])
	binary.LittleEndian.PutUint64(b[64:], 0)
	binary.LittleEndian.PutUint64(b[72:], hmSectors)
	binary.LittleEndian.PutUint32(b[80:], 24)
	binary.LittleEndian.PutUint32(b[84:], 1)
	binary.LittleEndian.PutUint32(b[88:], hmHeap)
	binary.LittleEndian.PutUint32(b[92:], hmClusters)
	binary.LittleEndian.PutUint32(b[96:], 4)
	binary.LittleEndian.PutUint32(b[100:], 0xC0FFEE42)
	binary.LittleEndian.PutUint16(b[104:], 0x0100)
	binary.LittleEndian.PutUint16(b[106:], 0)
	b[108], b[109], b[110], b[111], b[112] = 9, 0, 1, 0x80, 0
	b[510], b[511] = 0x55, 0xAA
	sealExFATBoot(img)
	// FAT: media and reserved entries, end-of-chain for the single-cluster metadata, the chains.
	fat := img[24*hmSector : 25*hmSector]
	clear(fat)
	put := func(c int, v uint32) { binary.LittleEndian.PutUint32(fat[4*c:], v) }
	put(0, 0xFFFFFFF8)
	put(1, 0xFFFFFFFF)
	for _, c := range []int{2, 3, 4, 6, 9} {
		put(c, 0xFFFFFFFF)
	}
	put(7, 9)
	put(8, 0) // gone.txt, freed
	// Allocation bitmap: clusters 2-7 and 9 in use.
	bm := hmCluster(img, 2)
	bm[0], bm[1] = 0b1011_1111, 0 // bit n is cluster n+2
	// Root directory.
	root := hmCluster(img, 4)
	var entries []byte
	label := make([]byte, direntSize)
	label[0], label[1] = exLabel, 6
	for i, u := range utf16.Encode([]rune("HANDMÄ")) {
		binary.LittleEndian.PutUint16(label[2+2*i:], u)
	}
	bitmap := make([]byte, direntSize)
	bitmap[0] = exBitmap
	binary.LittleEndian.PutUint32(bitmap[20:], 2)
	binary.LittleEndian.PutUint64(bitmap[24:], 2)
	upcase := make([]byte, direntSize)
	upcase[0] = exUpcase
	binary.LittleEndian.PutUint32(upcase[20:], 3)
	binary.LittleEndian.PutUint64(upcase[24:], 128)
	entries = append(entries, label...)
	entries = append(entries, bitmap...)
	entries = append(entries, upcase...)
	entries = append(entries, exfatEntrySet("hello.txt", 0x20, 5, uint64(len(hmHello)), uint64(hmHelloVD), true, false, 0x80|8)...) // UTC+2
	entries = append(entries, exfatEntrySet("sub", exAttrDirectory, 6, hmSector, hmSector, false, false, 0x80)...)
	entries = append(entries, exfatEntrySet("gone.txt", 0x20, 8, uint64(len(hmGone)), uint64(len(hmGone)), true, true, 0x80)...)
	entries = append(entries, make([]byte, direntSize)...) // end of directory
	copy(root, entries)
	// sub/ holds inner.bin (FAT chain 7 → 9) and a deleted directory entry set.
	sub := hmCluster(img, 6)
	var se []byte
	se = append(se, exfatEntrySet("inner.bin", exAttrReadOnly, 7, uint64(len(hmInner)), uint64(len(hmInner)), false, false, 0x80|0x7C)...) // UTC-1
	se = append(se, exfatEntrySet("A rather long name for a deleted file that spans clusters.dat", 0x20, 10, 700, 700, false, true, 0x80)...)
	se = append(se, make([]byte, direntSize)...)
	copy(sub, se)
	copy(hmCluster(img, 5), hmHello[:hmHelloVD]) // past the valid length the disk holds junk ('A')
	copy(hmCluster(img, 7), hmInner[:512])
	copy(hmCluster(img, 9), hmInner[512:])
	copy(hmCluster(img, 8), hmGone)
	return img
}

// sealExFATBoot recomputes the main boot region's checksum sector and copies the region to the
// backup.
func sealExFATBoot(img []byte) {
	sum := exfatBootChecksum(img[:11*hmSector])
	for i := 11 * hmSector; i < 12*hmSector; i += 4 {
		binary.LittleEndian.PutUint32(img[i:], sum)
	}
	copy(img[12*hmSector:24*hmSector], img[:12*hmSector])
}
