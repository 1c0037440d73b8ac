package ntfs

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// fixupStride is the block size of the update sequence: NTFS protects every 512 bytes of an MFT
// or index record, whatever the sector size.
const fixupStride = 512

var errFixupMagic = errors.New("bad signature")

// applyFixups checks a multi-sector record ("FILE" or "INDX") and restores the last two bytes of
// each 512-byte block from the update sequence array. A block whose last two bytes do not hold
// the update sequence number was torn by an interrupted write; the record is rejected.
func applyFixups(buf []byte, magic string) error {
	if len(buf) < fixupStride || len(buf)%fixupStride != 0 {
		return fmt.Errorf("record of %d bytes is not a whole number of %d-byte blocks", len(buf), fixupStride)
	}
	if string(buf[:4]) != magic {
		return fmt.Errorf("%w %q, want %q", errFixupMagic, buf[:4], magic)
	}
	usaOff := int(binary.LittleEndian.Uint16(buf[4:]))
	usaCount := int(binary.LittleEndian.Uint16(buf[6:]))
	blocks := len(buf) / fixupStride
	if usaCount != blocks+1 {
		return fmt.Errorf("update sequence array has %d entries for %d blocks", usaCount, blocks)
	}
	// The array must lie in the first block, which it does not itself protect.
	if usaOff < 8 || usaOff%2 != 0 || usaOff+2*usaCount > fixupStride-2 {
		return fmt.Errorf("update sequence array at %d (%d entries) is outside the first block", usaOff, usaCount)
	}
	usn0, usn1 := buf[usaOff], buf[usaOff+1]
	for i := range blocks {
		end := (i+1)*fixupStride - 2
		if buf[end] != usn0 || buf[end+1] != usn1 {
			return fmt.Errorf("block %d does not end with the update sequence number %02x%02x (torn write)", i, usn1, usn0)
		}
		src := usaOff + 2 + 2*i
		buf[end], buf[end+1] = buf[src], buf[src+1]
	}
	return nil
}
