package vhd

import (
	"fmt"
	"io"
)

// ReadAt reads guest bytes at off. It returns io.EOF with the bytes before the disk size when
// p runs past it. A fixed disk is read straight from the file, without copying; a dynamic or
// differencing disk reads each block's sector bitmap (cached) and then only the bytes asked for.
func (img *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("vhd: read at negative offset %d", off)
	}
	if off >= img.size {
		return 0, io.EOF
	}
	var atEOF error
	if int64(len(p)) > img.size-off {
		p, atEOF = p[:img.size-off], io.EOF
	}
	if img.diskType == typeFixed {
		if n, err := img.r.ReadAt(p, off); n < len(p) {
			return n, fmt.Errorf("vhd: reading fixed disk data at %#x: %w", off+int64(n), orShort(err))
		}
		return len(p), atEOF
	}
	done := 0
	for done < len(p) {
		n, err := img.readInBlock(p[done:], off+int64(done))
		if err != nil {
			return done, err
		}
		done += n
	}
	return len(p), atEOF
}

// readInBlock fills the start of p, up to the end of the block that holds guest offset off,
// and returns how many bytes it filled.
func (img *Image) readInBlock(p []byte, off int64) (int, error) {
	block := off / img.blockSize
	within := off % img.blockSize
	buf := p[:min(int64(len(p)), img.blockSize-within)]
	entry := img.bat[block]
	if entry == unallocatedBlock {
		return len(buf), img.readAbsent(buf, off)
	}
	blockOff := int64(entry) * sectorSize
	bitmap, err := img.bitmap(block, blockOff)
	if err != nil {
		return 0, err
	}
	dataOff := blockOff + img.bitmapBytes
	last := (within + int64(len(buf)) - 1) / sectorSize
	for pos := int64(0); pos < int64(len(buf)); {
		sector := (within + pos) / sectorSize
		present := bitSet(bitmap, sector)
		end := runEnd(bitmap, sector, last, present)
		chunk := buf[pos:min(int64(len(buf)), end*sectorSize-within)]
		if present {
			err = img.readData(chunk, dataOff+within+pos, block)
		} else {
			err = img.readAbsent(chunk, off+pos)
		}
		if err != nil {
			return 0, err
		}
		pos += int64(len(chunk))
	}
	return len(buf), nil
}

// bitSet reports whether the bitmap marks sector s of its block: the first sector is the most
// significant bit of the first byte.
func bitSet(bitmap []byte, s int64) bool { return bitmap[s/8]&(0x80>>(s%8)) != 0 }

// runEnd returns the first sector after s, and at most last+1, whose bit differs from present.
// Whole bytes are skipped at once: a block's bitmap is usually all set.
func runEnd(bitmap []byte, s, last int64, present bool) int64 {
	full := byte(0)
	if present {
		full = 0xff
	}
	s++
	for s <= last {
		if s%8 == 0 && s+8 <= last+1 && bitmap[s/8] == full {
			s += 8
			continue
		}
		if bitSet(bitmap, s) != present {
			return s
		}
		s++
	}
	return s
}

// bitmap returns the sector bitmap of block b, which starts at file offset off.
func (img *Image) bitmap(b, off int64) ([]byte, error) {
	if bm, ok := img.bitmaps.Get(uint32(b)); ok {
		return bm, nil
	}
	if off > img.fileSize-img.bitmapBytes {
		return nil, corrupt(fmt.Sprintf("BAT entry %d", b), "block at %#x points past the end of the file (%d bytes)", off, img.fileSize)
	}
	bm := make([]byte, img.bitmapBytes)
	if n, err := img.r.ReadAt(bm, off); n < len(bm) {
		return nil, fmt.Errorf("vhd: reading the sector bitmap of block %d at %#x: %w", b, off, orShort(err))
	}
	img.bitmaps.Add(uint32(b), bm)
	return bm, nil
}

// readData reads sectors present in block b from the file at off.
func (img *Image) readData(buf []byte, off, b int64) error {
	if off > img.fileSize-int64(len(buf)) {
		return corrupt(fmt.Sprintf("block %d", b), "data at %#x (%d bytes) runs past the end of the file (%d bytes)", off, len(buf), img.fileSize)
	}
	if n, err := img.r.ReadAt(buf, off); n < len(buf) {
		return fmt.Errorf("vhd: reading block %d data at %#x: %w", b, off, orShort(err))
	}
	return nil
}

// readAbsent fills guest bytes that the image does not hold: zeros in a dynamic disk, the
// parent's bytes in a differencing disk (zeros past the parent's end).
func (img *Image) readAbsent(buf []byte, guest int64) error {
	avail := int64(0)
	if img.parent != nil && guest < img.parentSize {
		avail = min(int64(len(buf)), img.parentSize-guest)
		if n, err := img.parent.ReadAt(buf[:avail], guest); int64(n) < avail {
			return fmt.Errorf("vhd: reading parent %q at %#x: %w", img.parentName, guest, orShort(err))
		}
	}
	clear(buf[avail:])
	return nil
}
