package unpack

import (
	"encoding/binary"
	"errors"
	"io"
)

// maxRPMHeader caps the header sections skipped before an RPM's payload: real ones are a few
// hundred KiB (file lists, changelogs).
const maxRPMHeader = 64 << 20

// rpmPayload skips an RPM's 96-byte lead, its signature header (padded to 8 bytes) and its main
// header, and returns the payload that follows: usually a compressed cpio archive, which the
// walk then opens at the same level, so "x.rpm!usr/bin/y".
func rpmPayload(r io.Reader) (io.ReadCloser, error) {
	if err := skip(r, 96); err != nil {
		return nil, errors.New("truncated lead")
	}
	for i := 0; i < 2; i++ {
		var h [16]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return nil, errors.New("truncated header")
		}
		if string(h[:4]) != "\x8e\xad\xe8\x01" {
			return nil, errors.New("bad header magic")
		}
		entries := int64(binary.BigEndian.Uint32(h[8:]))
		data := int64(binary.BigEndian.Uint32(h[12:]))
		n := 16*entries + data
		if n > maxRPMHeader {
			return nil, errors.New("header larger than 64 MiB")
		}
		if i == 0 {
			n += (8 - n%8) % 8 // the signature header is padded to 8 bytes
		}
		if err := skip(r, n); err != nil {
			return nil, errors.New("truncated header")
		}
	}
	return io.NopCloser(r), nil
}
