package unpack

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// zipEntry is one central directory record.
type zipEntry struct {
	name      string
	flags     uint16
	method    uint16
	crc       uint32
	csize     int64
	usize     int64
	offset    int64 // of the local header, as recorded (before adding zipDir.base)
	mtime     time.Time
	symlink   bool
	malformed error // a zip64 field the record needs is missing
}

func (e *zipEntry) encrypted() bool { return e.flags&1 != 0 || e.method == 99 } // 99: WinZip AES
func (e *zipEntry) isDir() bool     { return len(e.name) > 0 && e.name[len(e.name)-1] == '/' }

// zipRecords reads central directory records one after another; the variable parts go through
// one reused buffer, so a directory of any size costs a fixed amount of memory.
type zipRecords struct {
	br     *bufio.Reader
	header [zipCentralLen]byte
	buf    []byte // name and extra fields
}

func newZipRecords(r io.ReaderAt, d zipDir) *zipRecords {
	return &zipRecords{br: bufio.NewReaderSize(io.NewSectionReader(r, d.start, d.end-d.start), 64<<10)}
}

// next reads the following record; io.EOF at the directory's end (anything that is not a
// record ends it, as in other readers). withName false leaves the name out (the first pass).
func (z *zipRecords) next(withName bool) (zipEntry, error) {
	h := z.header[:]
	if _, err := io.ReadFull(z.br, h); err != nil || string(h[:4]) != zipCentralSig {
		return zipEntry{}, io.EOF
	}
	e := zipEntry{
		flags:  binary.LittleEndian.Uint16(h[8:]),
		method: binary.LittleEndian.Uint16(h[10:]),
		crc:    binary.LittleEndian.Uint32(h[16:]),
		csize:  int64(binary.LittleEndian.Uint32(h[20:])),
		usize:  int64(binary.LittleEndian.Uint32(h[24:])),
		offset: int64(binary.LittleEndian.Uint32(h[42:])),
		mtime:  dosTime(binary.LittleEndian.Uint16(h[14:]), binary.LittleEndian.Uint16(h[12:])),
	}
	madeBy := binary.LittleEndian.Uint16(h[4:]) >> 8
	mode := binary.LittleEndian.Uint32(h[38:]) >> 16
	e.symlink = madeBy == 3 && mode&0o170000 == 0o120000 // Unix-made, S_IFLNK
	nameLen := int(binary.LittleEndian.Uint16(h[28:]))
	extraLen := int(binary.LittleEndian.Uint16(h[30:]))
	commentLen := int(binary.LittleEndian.Uint16(h[32:]))
	if cap(z.buf) < nameLen+extraLen {
		z.buf = make([]byte, nameLen+extraLen)
	}
	v := z.buf[:nameLen+extraLen]
	if _, err := io.ReadFull(z.br, v); err != nil {
		return zipEntry{}, fmt.Errorf("truncated central directory: %w", io.ErrUnexpectedEOF)
	}
	if _, err := z.br.Discard(commentLen); err != nil {
		return zipEntry{}, fmt.Errorf("truncated central directory: %w", io.ErrUnexpectedEOF)
	}
	if withName {
		e.name = string(v[:nameLen])
	}
	e.readExtra(v[nameLen:], h)
	return e, nil
}

// readExtra takes the zip64 sizes and offset (each present only when the 32-bit field is
// 0xFFFFFFFF) and the Unix modification time from the extra fields.
func (e *zipEntry) readExtra(extra, h []byte) {
	need64 := []*int64{}
	for _, f := range []struct {
		field *int64
		at    int
	}{{&e.usize, 24}, {&e.csize, 20}, {&e.offset, 42}} {
		if binary.LittleEndian.Uint32(h[f.at:]) == 0xffffffff {
			need64 = append(need64, f.field)
		}
	}
	for len(extra) >= 4 {
		tag := binary.LittleEndian.Uint16(extra)
		size := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			break
		}
		body := extra[:size]
		extra = extra[size:]
		switch tag {
		case 0x0001: // zip64
			for len(need64) > 0 && len(body) >= 8 {
				*need64[0] = int64(binary.LittleEndian.Uint64(body) & (1<<62 - 1))
				need64, body = need64[1:], body[8:]
			}
		case 0x5455: // extended timestamp: flags, then mtime when bit 0 is set
			if len(body) >= 5 && body[0]&1 != 0 {
				e.mtime = time.Unix(int64(int32(binary.LittleEndian.Uint32(body[1:]))), 0).UTC()
			}
		}
	}
	if len(need64) > 0 {
		e.malformed = errors.New("32-bit size or offset field says zip64, but no zip64 extra field holds it")
	}
}

// dosTime converts an MS-DOS date and time, which carry no time zone; they are taken as UTC.
func dosTime(date, t uint16) time.Time {
	if date == 0 {
		return time.Time{}
	}
	return time.Date(int(date>>9)+1980, time.Month(date>>5&0xf), int(date&0x1f),
		int(t>>11), int(t>>5&0x3f), int(t&0x1f)*2, 0, time.UTC)
}

// zipMethodName names compression methods for error messages.
func zipMethodName(m uint16) string {
	names := map[uint16]string{0: "stored", 1: "shrunk", 6: "imploded", 8: "deflate", 9: "deflate64",
		12: "bzip2", 14: "LZMA", 19: "LZ77", 93: "zstd", 95: "xz", 96: "JPEG", 97: "WavPack", 98: "PPMd", 99: "AES"}
	if n, ok := names[m]; ok {
		return n
	}
	return "unknown"
}
