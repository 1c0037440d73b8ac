package unpack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// cpioArchive reads the cpio formats still written: newc ("070701", what initramfs and RPM
// payloads use), crc ("070702", newc plus a checksum) and odc ("070707", POSIX portable ASCII).
// The old binary format is not read.
type cpioArchive struct {
	r    io.Reader
	left int64 // unread bytes of the current member
	pad  int64 // padding after it
	done bool
}

// maxCpioName caps a member name (the header declares its length).
const maxCpioName = 64 << 10

func newCpioArchive(r io.Reader) archive { return &cpioArchive{r: r} }

func (c *cpioArchive) next() (entry, error) {
	if c.done {
		return entry{}, io.EOF
	}
	if err := skip(c.r, c.left+c.pad); err != nil {
		return entry{}, err
	}
	var magic [6]byte
	if _, err := io.ReadFull(c.r, magic[:]); err != nil {
		return entry{}, io.ErrUnexpectedEOF
	}
	var h cpioHeader
	var err error
	switch string(magic[:]) {
	case "070701", "070702":
		h, err = c.readNewc()
	case "070707":
		h, err = c.readODC()
	default:
		return entry{}, fmt.Errorf("bad header magic %q", magic)
	}
	if err != nil {
		return entry{}, err
	}
	if h.name == "TRAILER!!!" {
		c.done = true
		return entry{}, io.EOF
	}
	c.left = h.size
	return entry{name: h.name, size: h.size, mtime: time.Unix(h.mtime, 0).UTC(), regular: h.mode&0o170000 == 0o100000}, nil
}

type cpioHeader struct {
	name        string
	mode, mtime int64
	size        int64
}

// readNewc reads the rest of a newc/crc header: 13 eight-digit hex fields, the name, and
// padding of header+name and of the data to multiples of four.
func (c *cpioArchive) readNewc() (cpioHeader, error) {
	var f [104]byte
	if _, err := io.ReadFull(c.r, f[:]); err != nil {
		return cpioHeader{}, io.ErrUnexpectedEOF
	}
	field := func(i int) (int64, error) { return strconv.ParseInt(string(f[i*8:i*8+8]), 16, 64) }
	var h cpioHeader
	var errs [4]error
	h.mode, errs[0] = field(1)
	h.mtime, errs[1] = field(5)
	h.size, errs[2] = field(6)
	namesize, err3 := field(11)
	errs[3] = err3
	if err := errors.Join(errs[:]...); err != nil {
		return cpioHeader{}, errors.New("bad newc header")
	}
	name, err := c.readName(namesize)
	if err != nil {
		return cpioHeader{}, err
	}
	h.name = name
	if err := skip(c.r, (4-(110+namesize)%4)%4); err != nil {
		return cpioHeader{}, err
	}
	c.pad = (4 - h.size%4) % 4
	return h, nil
}

// readODC reads the rest of an odc header: octal fields, the name, no padding.
func (c *cpioArchive) readODC() (cpioHeader, error) {
	var f [70]byte
	if _, err := io.ReadFull(c.r, f[:]); err != nil {
		return cpioHeader{}, io.ErrUnexpectedEOF
	}
	field := func(from, to int) (int64, error) { return strconv.ParseInt(string(f[from:to]), 8, 64) }
	var h cpioHeader
	var errs [4]error
	h.mode, errs[0] = field(12, 18)
	h.mtime, errs[1] = field(42, 53)
	namesize, err3 := field(53, 59)
	h.size, errs[2] = field(59, 70)
	errs[3] = err3
	if err := errors.Join(errs[:]...); err != nil {
		return cpioHeader{}, errors.New("bad odc header")
	}
	name, err := c.readName(namesize)
	if err != nil {
		return cpioHeader{}, err
	}
	h.name = name
	c.pad = 0
	return h, nil
}

func (c *cpioArchive) readName(size int64) (string, error) {
	if size < 1 || size > maxCpioName {
		return "", fmt.Errorf("bad name size %d", size)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(c.r, buf); err != nil {
		return "", io.ErrUnexpectedEOF
	}
	return string(bytes.TrimRight(buf, "\x00")), nil
}

func (c *cpioArchive) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err == io.EOF && c.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
