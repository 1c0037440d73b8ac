package volume

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"unicode/utf16"
)

// Builders of synthetic on-disk structures for the hostile-input tests and the fuzz seeds. The
// tool-made images cover what real tools write; these cover what they never would.

// testEntry is an MBR/EBR partition entry.
type testEntry struct {
	status  byte
	typ     byte
	start   uint32
	sectors uint32
}

// putMBR writes a table with the 0x55AA signature into the 512 bytes at sector.
func putMBR(disk []byte, sector int64, id uint32, entries ...testEntry) {
	s := disk[sector*512 : sector*512+512]
	binary.LittleEndian.PutUint32(s[mbrDiskIDAt:], id)
	for i, e := range entries {
		b := s[mbrEntriesAt+i*16:]
		b[0], b[4] = e.status, e.typ
		binary.LittleEndian.PutUint32(b[8:], e.start)
		binary.LittleEndian.PutUint32(b[12:], e.sectors)
	}
	s[510], s[511] = 0x55, 0xAA
}

// testGPTPart is a GPT entry.
type testGPTPart struct {
	index       int // 0-based slot in the array
	typ         [16]byte
	first, last uint64
	name        string
	attrs       uint64
}

var linuxFSType = [16]byte{0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47, 0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4}

// gptSpec describes a GPT to write; zero fields get standard values.
type gptSpec struct {
	ss         int64
	entryCount uint32
	entrySize  uint32
	parts      []testGPTPart
	// overrides applied after the header is filled in, before its CRC (hostile values)
	tweak func(h []byte)
}

// putGPT writes a protective MBR, the primary header and array, and the backup array and header.
func putGPT(disk []byte, g gptSpec) {
	ss := g.ss
	if ss == 0 {
		ss = 512
	}
	if g.entryCount == 0 {
		g.entryCount = 128
	}
	if g.entrySize == 0 {
		g.entrySize = 128
	}
	lastLBA := uint64(int64(len(disk))/ss - 1)
	putMBR(disk, 0, 0, testEntry{typ: 0xEE, start: 1, sectors: uint32(min(lastLBA, 0xFFFFFFFF))})
	arrayBytes := int(g.entryCount) * int(g.entrySize)
	array := make([]byte, arrayBytes)
	for _, p := range g.parts {
		e := array[p.index*int(g.entrySize):]
		copy(e, p.typ[:])
		e[16], e[31] = byte(p.index+1), 0x42 // some unique GUID
		binary.LittleEndian.PutUint64(e[32:], p.first)
		binary.LittleEndian.PutUint64(e[40:], p.last)
		binary.LittleEndian.PutUint64(e[48:], p.attrs)
		for i, u := range utf16.Encode([]rune(p.name)) {
			if i < 36 {
				binary.LittleEndian.PutUint16(e[56+2*i:], u)
			}
		}
	}
	arraySectors := uint64((int64(arrayBytes) + ss - 1) / ss)
	header := func(my, alt, entries uint64) {
		h := disk[int64(my)*ss : int64(my)*ss+ss]
		clear(h)
		copy(h, gptSignature)
		binary.LittleEndian.PutUint32(h[8:], 0x00010000)
		binary.LittleEndian.PutUint32(h[12:], gptMinHeaderSize)
		binary.LittleEndian.PutUint64(h[24:], my)
		binary.LittleEndian.PutUint64(h[32:], alt)
		binary.LittleEndian.PutUint64(h[40:], 2+arraySectors)
		binary.LittleEndian.PutUint64(h[48:], lastLBA-1-arraySectors)
		copy(h[56:72], "snapwatch-disk-g")
		binary.LittleEndian.PutUint64(h[72:], entries)
		binary.LittleEndian.PutUint32(h[80:], g.entryCount)
		binary.LittleEndian.PutUint32(h[84:], g.entrySize)
		binary.LittleEndian.PutUint32(h[88:], crc32.ChecksumIEEE(array))
		if g.tweak != nil {
			g.tweak(h)
		}
		binary.LittleEndian.PutUint32(h[16:], 0)
		size := binary.LittleEndian.Uint32(h[12:])
		if int64(size) <= ss {
			binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h[:size]))
		}
		if end := int64(entries)*ss + int64(arrayBytes); end <= int64(len(disk)) && entries > 0 {
			copy(disk[int64(entries)*ss:], array)
		}
	}
	header(1, lastLBA, 2)
	header(lastLBA, 1, lastLBA-arraySectors)
}

// lvmPV describes a synthetic PV for putPV.
type lvmPV struct {
	uuid     string // 32 characters
	devSize  uint64
	metadata string // metadata text ("" for a PV without metadata)
	mdaSize  uint64 // default 1 MiB - 4 KiB
}

// putPV writes an LVM2 label in sector 1, a metadata area at 4 KiB and its text at 4.5 KiB of
// the volume starting at byte base of disk (extents start at 1 MiB, pe_start 2048).
func putPV(disk []byte, base int64, pv lvmPV) {
	if pv.mdaSize == 0 {
		pv.mdaSize = 1<<20 - 4096
	}
	label := disk[base+512 : base+1024]
	copy(label, lvmLabelID)
	binary.LittleEndian.PutUint64(label[8:], 1)
	binary.LittleEndian.PutUint32(label[20:], 32)
	copy(label[24:], lvmLabelType)
	h := label[32:]
	copy(h, pv.uuid)
	binary.LittleEndian.PutUint64(h[32:], pv.devSize)
	areas := h[40:]
	binary.LittleEndian.PutUint64(areas[0:], 1<<20) // data area at 1 MiB, to the end
	// areas[16:32] zero: end of data areas
	binary.LittleEndian.PutUint64(areas[32:], 4096)
	binary.LittleEndian.PutUint64(areas[40:], pv.mdaSize)
	binary.LittleEndian.PutUint32(label[16:], lvmCRC(lvmInitialCRC, label[20:]))

	mda := disk[base+4096 : base+4096+512]
	copy(mda[4:], lvmMDAMagic)
	binary.LittleEndian.PutUint32(mda[20:], 1)
	binary.LittleEndian.PutUint64(mda[24:], 4096)
	binary.LittleEndian.PutUint64(mda[32:], pv.mdaSize)
	if pv.metadata != "" {
		text := append([]byte(pv.metadata), 0)
		copy(disk[base+4096+512:], text)
		binary.LittleEndian.PutUint64(mda[40:], 512)
		binary.LittleEndian.PutUint64(mda[48:], uint64(len(text)))
		binary.LittleEndian.PutUint32(mda[56:], lvmCRC(lvmInitialCRC, text))
	}
	binary.LittleEndian.PutUint32(mda, lvmCRC(lvmInitialCRC, mda[4:]))
}

// testPVUUID is the UUID of synthetic PV number i (32 characters).
func testPVUUID(i int) string {
	return fmt.Sprintf("SnapWatchTestPhysicalVolume%05d", i)
}
