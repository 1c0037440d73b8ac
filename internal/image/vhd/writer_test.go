package vhd

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
)

// sparseSpec describes a dynamic or differencing VHD for buildSparse, the tests' own small VHD
// writer (qemu-img cannot make differencing disks, nor dynamic disks with other block sizes).
type sparseSpec struct {
	diskType   uint32 // typeDynamic or typeDifferencing
	size       int64
	blockSize  int64
	parentName string
	parentID   []byte                 // the parent footer's unique id (16 bytes), which libvhdi checks
	guest      []byte                 // the image's own content for the sectors it holds
	allocated  func(block int64) bool // blocks present in the file
	present    func(sector int64) bool
	junk       byte // fills the data of absent sectors in allocated blocks, which must not be read
	locators   []Locator
}

// buildSparse lays out: footer copy, dynamic header, BAT, allocated blocks (bitmap + data),
// footer — the layout Virtual PC and qemu use.
func buildSparse(s sparseSpec) []byte {
	be := binary.BigEndian
	blocks := (s.size + s.blockSize - 1) / s.blockSize
	bitmapBytes := ((s.blockSize/sectorSize+7)/8 + sectorSize - 1) / sectorSize * sectorSize
	batOff := int64(footerSize + dynamicHeaderSize)
	batBytes := (blocks*4 + sectorSize - 1) / sectorSize * sectorSize
	// Locator data goes after the BAT, one sector each (paths here are short).
	var locData []byte
	locAt := batOff + batBytes

	foot := makeFooter(s.diskType, uint64(s.size), uint64(footerSize))
	dyn := make([]byte, dynamicHeaderSize)
	copy(dyn, dynamicCookie)
	be.PutUint64(dyn[8:], ^uint64(0))
	be.PutUint64(dyn[16:], uint64(batOff))
	be.PutUint32(dyn[24:], 0x00010000)
	be.PutUint32(dyn[28:], uint32(blocks))
	be.PutUint32(dyn[32:], uint32(s.blockSize))
	copy(dyn[40:56], s.parentID)
	if s.parentName != "" {
		for i, u := range utf16.Encode([]rune(s.parentName)) {
			be.PutUint16(dyn[64+2*i:], u)
		}
	}
	for i, l := range s.locators {
		var data []byte
		if l.Platform == "MacX" {
			data = []byte(l.Path)
		} else {
			for _, u := range utf16.Encode([]rune(l.Path)) {
				data = binary.LittleEndian.AppendUint16(data, u)
			}
		}
		e := dyn[576+24*i:]
		copy(e, l.Platform)
		be.PutUint32(e[4:], 1) // data space: one sector
		be.PutUint32(e[8:], uint32(len(data)))
		be.PutUint64(e[16:], uint64(locAt+int64(len(locData))))
		sector := make([]byte, sectorSize)
		copy(sector, data)
		locData = append(locData, sector...)
	}
	be.PutUint32(dyn[36:], checksum(dyn, 36))

	var out bytes.Buffer
	out.Write(foot)
	out.Write(dyn)
	bat := make([]byte, batBytes)
	for i := range blocks {
		be.PutUint32(bat[i*4:], unallocatedBlock)
	}
	out.Write(bat)
	out.Write(locData)
	for b := range blocks {
		if !s.allocated(b) {
			continue
		}
		be.PutUint32(out.Bytes()[batOff+b*4:], uint32(out.Len()/sectorSize))
		bitmap := make([]byte, bitmapBytes)
		data := bytes.Repeat([]byte{s.junk}, int(s.blockSize))
		for sec := range s.blockSize / sectorSize {
			guestSec := b*s.blockSize/sectorSize + sec
			if guestSec*sectorSize >= s.size || !s.present(guestSec) {
				continue
			}
			bitmap[sec/8] |= 0x80 >> (sec % 8)
			clear(data[sec*sectorSize : (sec+1)*sectorSize])
			copy(data[sec*sectorSize:], s.guest[guestSec*sectorSize:min(int64(len(s.guest)), (guestSec+1)*sectorSize)])
		}
		out.Write(bitmap)
		out.Write(data)
	}
	out.Write(foot)
	return out.Bytes()
}

// makeFooter builds a 512-byte footer with a valid checksum.
func makeFooter(diskType uint32, size, dataOffset uint64) []byte {
	be := binary.BigEndian
	f := make([]byte, footerSize)
	copy(f, footerCookie)
	be.PutUint32(f[8:], 2)
	be.PutUint32(f[12:], 0x00010000)
	be.PutUint64(f[16:], dataOffset)
	copy(f[28:], "snpw")
	copy(f[36:], "Wi2k")
	be.PutUint64(f[40:], size)
	be.PutUint64(f[48:], size)
	be.PutUint32(f[56:], 0xffff10ff)
	be.PutUint32(f[60:], diskType)
	copy(f[68:], "0123456789abcdef")
	be.PutUint32(f[64:], checksum(f, 64))
	return f
}
