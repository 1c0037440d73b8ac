package unpack

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/snapwatch/snapwatch/internal/bytesize"
)

// spoolMemory is how much of a spooled stream stays in memory before it moves to a file.
const spoolMemory = 1 << 20

// spooled holds a stream that needs random access (a zip found inside a compressed stream or
// inside another archive): in memory up to spoolMemory bytes, beyond that in a temporary file
// that is unlinked as soon as it is created, so nothing is left behind even by a crash.
type spooled struct {
	mem     *bytes.Reader
	file    *os.File
	removed bool
	size    int64
}

// spool reads r whole, at most limit bytes (MaxEntryBytes); path names the stream in errors.
// Memory grows with what arrives, so a small zip costs a small buffer.
func spool(r io.Reader, limit int64, path string) (*spooled, error) {
	var mem bytes.Buffer
	n, err := io.CopyN(&mem, r, min(spoolMemory, limit)+1)
	switch {
	case err == io.EOF: // all of it, in memory
		return &spooled{mem: bytes.NewReader(mem.Bytes()), size: n}, nil
	case err != nil:
		return nil, err
	case n > limit:
		return nil, spoolLimit(path, limit)
	}
	f, err := os.CreateTemp("", "snapwatch-unpack-*")
	if err != nil {
		return nil, err
	}
	s := &spooled{file: f, removed: os.Remove(f.Name()) == nil}
	if _, err := f.Write(mem.Bytes()); err != nil {
		s.Close()
		return nil, err
	}
	copied, err := io.Copy(f, io.LimitReader(r, limit-n+1))
	if err != nil {
		s.Close()
		return nil, err
	}
	s.size = n + copied
	if s.size > limit {
		s.Close()
		return nil, spoolLimit(path, limit)
	}
	return s, nil
}

func spoolLimit(path string, limit int64) error {
	return &LimitError{Path: path, Limit: "MaxEntryBytes",
		Msg: fmt.Sprintf("zip: larger than %s, the most spooled for random access", bytesize.Format(limit))}
}

func (s *spooled) ReadAt(p []byte, off int64) (int, error) {
	if s.mem != nil {
		return s.mem.ReadAt(p, off)
	}
	return s.file.ReadAt(p, off)
}

func (s *spooled) Close() error {
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	if !s.removed {
		os.Remove(s.file.Name()) // systems that cannot unlink an open file
	}
	return err
}
