package vhdx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum is the CRC-32C of b computed with the 4-byte checksum field at b[4:8] taken as zero,
// as every checksummed VHDX structure (header, region table, log entry) defines it.
func checksum(b []byte) uint32 {
	var zero [4]byte
	c := crc32.Update(0, castagnoli, b[:4])
	c = crc32.Update(c, castagnoli, zero[:])
	return crc32.Update(c, castagnoli, b[8:])
}

// header is a VHDX header (MS-VHDX 2.2.2).
type header struct {
	raw           []byte
	sequence      uint64
	fileWriteGUID guid
	dataWriteGUID guid
	logGUID       guid
	logVersion    uint16
	version       uint16
	logLength     uint32
	logOffset     uint64
}

// parseHeader decodes a header and reports whether its signature and checksum are valid.
func parseHeader(b []byte) (*header, bool) {
	le := binary.LittleEndian
	if string(b[:4]) != "head" || le.Uint32(b[4:]) != checksum(b) {
		return nil, false
	}
	h := &header{
		raw:        b,
		sequence:   le.Uint64(b[8:]),
		logVersion: le.Uint16(b[64:]),
		version:    le.Uint16(b[66:]),
		logLength:  le.Uint32(b[68:]),
		logOffset:  le.Uint64(b[72:]),
	}
	copy(h.fileWriteGUID[:], b[16:])
	copy(h.dataWriteGUID[:], b[32:])
	copy(h.logGUID[:], b[48:])
	return h, true
}

// readHeader checks the file identifier and returns the current header: of the two valid ones,
// the one with the larger sequence number.
func readHeader(r io.ReaderAt, fileSize int64) (*header, error) {
	if fileSize < headerSectionBytes {
		return nil, corrupt("header section", "the %d-byte file is shorter than the 1 MiB header section", fileSize)
	}
	ident := make([]byte, 8)
	if err := readFull(r, ident, 0); err != nil {
		return nil, fmt.Errorf("vhdx: reading file identifier: %w", err)
	}
	if string(ident) != "vhdxfile" {
		return nil, corrupt("file identifier", "signature is %q, not \"vhdxfile\"", ident)
	}
	var hs [2]*header
	for i, off := range []int64{header1Offset, header2Offset} {
		b := make([]byte, headerBytes)
		if err := readFull(r, b, off); err != nil {
			return nil, fmt.Errorf("vhdx: reading header %d: %w", i+1, err)
		}
		hs[i], _ = parseHeader(b)
	}
	var h *header
	switch {
	case hs[0] == nil && hs[1] == nil:
		return nil, corrupt("headers", "neither header at 0x%x nor at 0x%x has a valid signature and checksum",
			header1Offset, header2Offset)
	case hs[1] == nil:
		h = hs[0]
	case hs[0] == nil:
		h = hs[1]
	case hs[0].sequence > hs[1].sequence:
		h = hs[0]
	case hs[1].sequence > hs[0].sequence:
		h = hs[1]
	case bytes.Equal(hs[0].raw, hs[1].raw):
		h = hs[0] // some tools (Disk2VHD) write two identical headers
	default:
		return nil, corrupt("headers", "both are valid with sequence number %d but differ: the current one is unknown",
			hs[0].sequence)
	}
	if h.version != 1 {
		return nil, unsupported("header version %d (only 1 is defined)", h.version)
	}
	if !h.logGUID.isZero() && h.logVersion != 0 {
		return nil, unsupported("log version %d (only 0 is defined)", h.logVersion)
	}
	return h, nil
}

// readFull reads exactly len(p) bytes at off; a short read is an error.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
