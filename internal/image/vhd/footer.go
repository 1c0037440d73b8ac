package vhd

import (
	"encoding/binary"
	"fmt"
	"io"
)

// footer is what the reader needs from the 512-byte hard disk footer.
type footer struct {
	dataOffset  uint64 // the dynamic disk header, for dynamic and differencing disks
	currentSize uint64 // the guest disk size
	diskType    uint32
}

// checksum is the one's complement of the sum of the bytes of b except the four at skip.
func checksum(b []byte, skip int) uint32 {
	var sum uint32
	for i, c := range b {
		if i < skip || i >= skip+4 {
			sum += uint32(c)
		}
	}
	return ^sum
}

// parseFooter checks the cookie and the checksum of a 512-byte footer read at offset at.
func parseFooter(b []byte, at int64) (footer, error) {
	where := fmt.Sprintf("footer at %#x", at)
	if string(b[:8]) != footerCookie {
		return footer{}, corrupt(where, "no %q cookie", footerCookie)
	}
	be := binary.BigEndian
	if stored, computed := be.Uint32(b[64:]), checksum(b[:footerSize], 64); stored != computed {
		return footer{}, corrupt(where, "bad checksum (stored %#08x, computed %#08x)", stored, computed)
	}
	return footer{
		dataOffset:  be.Uint64(b[16:]),
		currentSize: be.Uint64(b[48:]),
		diskType:    be.Uint32(b[60:]),
	}, nil
}

// tailFooter reads the footer at the end of the file. Virtual PC before 2004 wrote 511-byte
// footers; one is recognised by its cookie one byte in, and read padded with a zero byte, which
// leaves its checksum unchanged. It returns the footer bytes and the offset where they start.
func tailFooter(r io.ReaderAt, size int64) ([]byte, int64, error) {
	if size < footerSize {
		return nil, 0, corrupt("file", "%d bytes, shorter than a footer (%d)", size, footerSize)
	}
	b := make([]byte, footerSize)
	if n, err := r.ReadAt(b, size-footerSize); n < footerSize {
		return nil, 0, fmt.Errorf("vhd: reading the footer at %#x: %w", size-footerSize, orShort(err))
	}
	if string(b[:8]) != footerCookie && string(b[1:9]) == footerCookie {
		copy(b, b[1:])
		b[footerSize-1] = 0
		return b, size - footerSize + 1, nil
	}
	return b, size - footerSize, nil
}

// headFooter reads the copy of the footer at offset 0 (dynamic and differencing disks).
func headFooter(r io.ReaderAt, size int64) ([]byte, error) {
	if size < footerSize {
		return nil, corrupt("file", "%d bytes, shorter than a footer (%d)", size, footerSize)
	}
	b := make([]byte, footerSize)
	if n, err := r.ReadAt(b, 0); n < footerSize {
		return nil, fmt.Errorf("vhd: reading the footer copy at 0: %w", orShort(err))
	}
	return b, nil
}

// findFooter returns the footer to trust and where the data of a fixed disk ends. The footer
// at the end of the file wins; when it is missing or damaged, the copy at offset 0 of a dynamic
// or differencing disk is used instead, as the specification intends that copy for.
func findFooter(r io.ReaderAt, size int64) (footer, int64, error) {
	tail, tailAt, err := tailFooter(r, size)
	if err != nil {
		return footer{}, 0, err
	}
	f, tailErr := parseFooter(tail, tailAt)
	if tailErr == nil {
		return f, tailAt, nil
	}
	head, err := headFooter(r, size)
	if err != nil {
		return footer{}, 0, tailErr
	}
	if g, err := parseFooter(head, 0); err == nil && (g.diskType == typeDynamic || g.diskType == typeDifferencing) {
		return g, size, nil
	}
	return footer{}, 0, tailErr
}

// Detect reports whether the file r of size bytes is a VHD: a footer cookie at the end (512- or
// 511-byte footer) or, for a dynamic disk whose end is damaged, the copy at offset 0.
func Detect(r io.ReaderAt, size int64) bool {
	if size < footerSize {
		return false
	}
	b := make([]byte, footerSize)
	if n, _ := r.ReadAt(b, size-footerSize); n == footerSize &&
		(string(b[:8]) == footerCookie || string(b[1:9]) == footerCookie) {
		return true
	}
	n, _ := r.ReadAt(b[:8], 0)
	return n == 8 && string(b[:8]) == footerCookie
}

// CorruptError names the structure of the image that is broken and what is wrong with it.
type CorruptError struct {
	What   string // "footer at 0x3200", "BAT entry 7", ...
	Reason string
}

func (e *CorruptError) Error() string { return "vhd: corrupt " + e.What + ": " + e.Reason }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// corrupt builds a CorruptError; reason is formatted with args.
func corrupt(what, reason string, args ...any) error {
	return &CorruptError{What: what, Reason: fmt.Sprintf(reason, args...)}
}

// orShort turns the nil error of a short read into io.ErrUnexpectedEOF.
func orShort(err error) error {
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
