package unpack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// arArchive reads Unix ar archives, the container of .deb packages (debian-binary,
// control.tar.*, data.tar.*): "!<arch>\n", then 60-byte headers, each member padded to an even
// length. Long names come from the GNU "//" table or follow a BSD "#1/N" header.
type arArchive struct {
	r     io.Reader
	left  int64 // unread bytes of the current member
	pad   int64 // padding after it
	names []byte
	begun bool
}

// maxArNames caps the GNU long-name table kept in memory.
const maxArNames = 1 << 20

func newArArchive(r io.Reader) archive { return &arArchive{r: r} }

func (a *arArchive) next() (entry, error) {
	if !a.begun {
		a.begun = true
		var magic [8]byte
		if _, err := io.ReadFull(a.r, magic[:]); err != nil || string(magic[:]) != "!<arch>\n" {
			return entry{}, errors.New("bad magic")
		}
	}
	for {
		if err := skip(a.r, a.left+a.pad); err != nil {
			return entry{}, err
		}
		var h [60]byte
		n, err := io.ReadFull(a.r, h[:])
		if n == 0 && err == io.EOF {
			return entry{}, io.EOF
		}
		if err != nil {
			return entry{}, io.ErrUnexpectedEOF
		}
		if string(h[58:60]) != "`\n" {
			return entry{}, errors.New("bad member header")
		}
		size, err := strconv.ParseInt(strings.TrimSpace(string(h[48:58])), 10, 64)
		if err != nil || size < 0 {
			return entry{}, fmt.Errorf("bad member size %q", h[48:58])
		}
		a.left, a.pad = size, size%2
		mtime, _ := strconv.ParseInt(strings.TrimSpace(string(h[16:28])), 10, 64)
		e := entry{size: size, mtime: time.Unix(mtime, 0).UTC(), regular: true}
		name := strings.TrimRight(string(h[:16]), " ")
		switch {
		case name == "/" || name == "/SYM64/" || name == "__.SYMDEF" || name == "__.SYMDEF SORTED":
			continue // symbol tables
		case name == "//":
			if size > maxArNames {
				return entry{}, fmt.Errorf("long-name table of %d bytes", size)
			}
			a.names = make([]byte, size)
			if _, err := io.ReadFull(a.r, a.names); err != nil {
				return entry{}, io.ErrUnexpectedEOF
			}
			a.left = 0
			continue
		case strings.HasPrefix(name, "#1/"): // BSD: the name is the first N bytes of the data
			n, err := strconv.ParseInt(name[3:], 10, 64)
			if err != nil || n < 0 || n > size || n > 4096 {
				return entry{}, fmt.Errorf("bad BSD long name %q", name)
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(a.r, buf); err != nil {
				return entry{}, io.ErrUnexpectedEOF
			}
			a.left -= n
			e.size -= n
			e.name = string(bytes.TrimRight(buf, "\x00"))
		case len(name) > 1 && name[0] == '/': // GNU: offset into the long-name table
			off, err := strconv.Atoi(name[1:])
			if err != nil || off < 0 || off >= len(a.names) {
				return entry{}, fmt.Errorf("bad long-name reference %q", name)
			}
			end := bytes.Index(a.names[off:], []byte("/\n"))
			if end < 0 {
				end = len(a.names) - off
			}
			e.name = string(a.names[off : off+end])
		default:
			e.name = strings.TrimSuffix(name, "/")
		}
		return e, nil
	}
}

func (a *arArchive) Read(p []byte) (int, error) {
	if a.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > a.left {
		p = p[:a.left]
	}
	n, err := a.r.Read(p)
	a.left -= int64(n)
	if err == io.EOF && a.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// skip discards n bytes of r.
func skip(r io.Reader, n int64) error {
	if n <= 0 {
		return nil
	}
	if _, err := io.CopyN(io.Discard, r, n); err != nil {
		return io.ErrUnexpectedEOF
	}
	return nil
}
