package vhd

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// dynamicHeader is what the reader needs from the dynamic disk header ("cxsparse").
type dynamicHeader struct {
	batOffset  uint64
	maxEntries uint32
	blockSize  uint32
	parentName string // differencing disks: the parent's file name
	locators   [8]locatorEntry
}

// locatorEntry is one of the eight parent locator entries of the dynamic header.
type locatorEntry struct {
	platform string // "W2ru", "W2ku", "MacX", ...
	length   uint32 // bytes of locator data
	offset   uint64 // file offset of the data
}

// Locator is a parent path recorded by a differencing disk besides its parent name.
type Locator struct {
	Platform string // "W2ru" (relative Windows path), "W2ku" (absolute Windows path), "MacX" (file URL)
	Path     string
}

// maxLocatorBytes caps the data of one parent locator: a path, at most 32 Ki UTF-16 units on
// Windows.
const maxLocatorBytes = 64 << 10

// readDynamicHeader reads and checks the dynamic disk header at off.
func readDynamicHeader(r io.ReaderAt, fileSize int64, off uint64) (dynamicHeader, error) {
	where := fmt.Sprintf("dynamic disk header at %#x", off)
	if off > uint64(fileSize) || dynamicHeaderSize > uint64(fileSize)-off {
		return dynamicHeader{}, corrupt(where, "runs past the end of the file (%d bytes)", fileSize)
	}
	b := make([]byte, dynamicHeaderSize)
	if n, err := r.ReadAt(b, int64(off)); n < len(b) {
		return dynamicHeader{}, fmt.Errorf("vhd: reading the %s: %w", where, orShort(err))
	}
	if string(b[:8]) != dynamicCookie {
		return dynamicHeader{}, corrupt(where, "no %q cookie", dynamicCookie)
	}
	be := binary.BigEndian
	if stored, computed := be.Uint32(b[36:]), checksum(b, 36); stored != computed {
		return dynamicHeader{}, corrupt(where, "bad checksum (stored %#08x, computed %#08x)", stored, computed)
	}
	h := dynamicHeader{
		batOffset:  be.Uint64(b[16:]),
		maxEntries: be.Uint32(b[28:]),
		blockSize:  be.Uint32(b[32:]),
		parentName: decodeParentName(b[64 : 64+parentNameBytes]),
	}
	for i := range h.locators {
		e := b[576+24*i:]
		h.locators[i] = locatorEntry{platform: string(e[:4]), length: be.Uint32(e[8:]), offset: be.Uint64(e[16:])}
	}
	bs := h.blockSize
	if bs < sectorSize || bs > maxBlockSize || bs&(bs-1) != 0 {
		return dynamicHeader{}, corrupt(where, "block size %d is not a power of two from %d to %d", bs, sectorSize, maxBlockSize)
	}
	return h, nil
}

// decodeParentName decodes the NUL-terminated UTF-16BE parent name, keeping it printable.
func decodeParentName(b []byte) string { return decodeUTF16(b, binary.BigEndian) }

// decodeUTF16 decodes NUL-terminated UTF-16 and replaces control characters, so that names an
// attacker chose stay printable in paths and messages.
func decodeUTF16(b []byte, order binary.ByteOrder) string {
	units := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u := order.Uint16(b[i:])
		if u == 0 {
			break
		}
		units = append(units, u)
	}
	return printable(string(utf16.Decode(units)))
}

func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// readLocators reads the Windows and Mac OS X parent locators of a differencing disk. They are
// hints for the caller: a broken one is left out, never an error.
func readLocators(r io.ReaderAt, fileSize int64, h dynamicHeader) []Locator {
	var out []Locator
	for _, e := range h.locators {
		if e.length == 0 || e.length > maxLocatorBytes || e.offset > uint64(fileSize) ||
			uint64(e.length) > uint64(fileSize)-e.offset {
			continue
		}
		var decode func([]byte) string
		switch e.platform {
		case "W2ru", "W2ku":
			decode = func(b []byte) string { return decodeUTF16(b, binary.LittleEndian) }
		case "MacX":
			decode = func(b []byte) string {
				return printable(strings.ToValidUTF8(strings.TrimRight(string(b), "\x00"), "?"))
			}
		default:
			continue
		}
		b := make([]byte, e.length)
		if n, _ := r.ReadAt(b, int64(e.offset)); n < len(b) {
			continue
		}
		if p := decode(b); p != "" {
			out = append(out, Locator{Platform: e.platform, Path: p})
		}
	}
	return out
}

// bitmapBytes is the size of a block's sector bitmap: one bit per sector, padded to a sector.
func (h dynamicHeader) bitmapBytes() int64 {
	bytes := (int64(h.blockSize)/sectorSize + 7) / 8
	return (bytes + sectorSize - 1) / sectorSize * sectorSize
}

// readBAT reads the BAT entries that cover size guest bytes, after checking that the table
// holds that many, that they lie in the file and under maxBATBytes.
func readBAT(r io.ReaderAt, fileSize int64, h dynamicHeader, size uint64) ([]uint32, error) {
	where := fmt.Sprintf("block allocation table at %#x", h.batOffset)
	need := (size + uint64(h.blockSize) - 1) / uint64(h.blockSize)
	if need > uint64(h.maxEntries) {
		return nil, corrupt(where, "%d entries do not cover the disk size %d (need %d blocks of %d bytes)",
			h.maxEntries, size, need, h.blockSize)
	}
	if need*4 > maxBATBytes {
		return nil, corrupt(where, "%d entries exceed the cap of %d", need, maxBATBytes/4)
	}
	if h.batOffset > uint64(fileSize) || need*4 > uint64(fileSize)-h.batOffset {
		return nil, corrupt(where, "%d entries run past the end of the file (%d bytes)", need, fileSize)
	}
	raw := make([]byte, need*4)
	if n, err := r.ReadAt(raw, int64(h.batOffset)); n < len(raw) {
		return nil, fmt.Errorf("vhd: reading the %s: %w", where, orShort(err))
	}
	bat := make([]uint32, need)
	for i := range bat {
		bat[i] = binary.BigEndian.Uint32(raw[i*4:])
	}
	return bat, nil
}
