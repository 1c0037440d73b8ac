package unpack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// zipDir says where a zip's central directory is and how the offsets recorded in the archive
// map onto the file.
type zipDir struct {
	base  int64 // added to every recorded offset: the length of a stub before the zip (self-extractor, launcher script), usually 0
	start int64 // file offset of the central directory
	end   int64 // its end, never past the end record nor the file
}

const (
	zipEndLen      = 22         // end of central directory record, without its comment
	zipMaxTail     = 22 + 65535 // where the end record can be: a comment is at most 65535 bytes
	zip64EndLen    = 56
	zip64LocLen    = 20
	zipCentralSig  = "PK\x01\x02"
	zipLocalSig    = "PK\x03\x04"
	zipEndSig      = "PK\x05\x06"
	zip64EndSig    = "PK\x06\x06"
	zip64LocSig    = "PK\x06\x07"
	zipCentralLen  = 46
	zipLocalLen    = 30
	stubProbeBytes = 1024 // tail read to spot a zip behind an executable or script stub
)

// mayHaveStub tells heads that can front a zip: PE and ELF self-extractors, shell launchers of
// jars. Only those earn a look at the file's tail, which costs a read per file.
func mayHaveStub(head []byte) bool {
	return bytes.HasPrefix(head, []byte("MZ")) || bytes.HasPrefix(head, []byte("\x7fELF")) ||
		bytes.HasPrefix(head, []byte("#!"))
}

// hasZipEnd reports whether the file ends with a zip whose central directory is where its end
// record says (a short comment at most).
func hasZipEnd(r io.ReaderAt, size int64) bool {
	_, err := findZipDir(r, size, stubProbeBytes)
	return err == nil
}

// findZipDir reads the end record (and the zip64 one) from the last tail bytes of the file.
func findZipDir(r io.ReaderAt, size, tail int64) (zipDir, error) {
	tail = min(tail, size)
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && err != io.EOF {
		return zipDir{}, err
	}
	i := lastZipEnd(buf)
	if i < 0 {
		return zipDir{}, errors.New("no end of central directory record (not a zip, or truncated)")
	}
	rec := buf[i:]
	dirEnd := size - tail + int64(i) // where the directory must end: the end record, or the zip64 one
	disk, cdDisk := binary.LittleEndian.Uint16(rec[4:]), binary.LittleEndian.Uint16(rec[6:])
	cdSize := uint64(binary.LittleEndian.Uint32(rec[12:]))
	cdOff := uint64(binary.LittleEndian.Uint32(rec[16:]))
	if z64, pos, ok := zip64End(r, dirEnd); ok {
		disk16 := binary.LittleEndian.Uint32(z64[16:])
		cd16 := binary.LittleEndian.Uint32(z64[20:])
		disk, cdDisk = uint16(min(disk16, 0xffff)), uint16(min(cd16, 0xffff))
		cdSize = binary.LittleEndian.Uint64(z64[40:])
		cdOff = binary.LittleEndian.Uint64(z64[48:])
		dirEnd = pos
	}
	if disk != 0 || cdDisk != 0 {
		return zipDir{}, fmt.Errorf("multi-volume (split) archive: %w", ErrUnsupported)
	}
	if cdSize > uint64(dirEnd) || cdOff > uint64(dirEnd) {
		return zipDir{}, errors.New("central directory beyond the end record")
	}
	d := zipDir{end: dirEnd}
	// A stub before the zip shifts every offset unless the writer adjusted them (zip -A):
	// try the shift the directory's size implies, then none.
	for _, base := range []int64{dirEnd - int64(cdSize) - int64(cdOff), 0} {
		if base < 0 {
			continue
		}
		d.base, d.start = base, base+int64(cdOff)
		if cdSize == 0 || hasSig(r, d.start, zipCentralSig) {
			return d, nil
		}
	}
	return zipDir{}, errors.New("no central directory where the end record says")
}

// lastZipEnd finds the last end record in buf whose comment fits in what follows it.
func lastZipEnd(buf []byte) int {
	for i := len(buf) - zipEndLen; i >= 0; i-- {
		if string(buf[i:i+4]) == zipEndSig {
			comment := int(binary.LittleEndian.Uint16(buf[i+20:]))
			if i+zipEndLen+comment <= len(buf) {
				return i
			}
		}
	}
	return -1
}

// zip64End reads the zip64 end record through the locator just before the end record at
// endPos. The locator's offset is tried as written, then as if a stub shifted it (the record
// right before the locator).
func zip64End(r io.ReaderAt, endPos int64) ([]byte, int64, bool) {
	if endPos < zip64LocLen {
		return nil, 0, false
	}
	loc := make([]byte, zip64LocLen)
	if _, err := r.ReadAt(loc, endPos-zip64LocLen); err != nil || string(loc[:4]) != zip64LocSig {
		return nil, 0, false
	}
	rec := make([]byte, zip64EndLen)
	recorded := int64(binary.LittleEndian.Uint64(loc[8:]) & (1<<62 - 1))
	for _, pos := range []int64{recorded, endPos - zip64LocLen - zip64EndLen} {
		if pos < 0 || pos+zip64EndLen > endPos {
			continue
		}
		if _, err := r.ReadAt(rec, pos); err == nil && string(rec[:4]) == zip64EndSig {
			return rec, pos, true
		}
	}
	return nil, 0, false
}

func hasSig(r io.ReaderAt, off int64, sig string) bool {
	var b [4]byte
	_, err := r.ReadAt(b[:], off)
	return err == nil && string(b[:]) == sig
}
