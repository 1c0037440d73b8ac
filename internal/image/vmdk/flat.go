package vmdk

import (
	"fmt"
	"io"
)

// extent is one piece of the virtual disk, addressed from its own start.
type extent interface {
	// readAt fills p with the extent's bytes at off; guestOff is the same position in the disk,
	// where a delta disk's unallocated grains find their parent's bytes.
	readAt(img *Image, p []byte, off, guestOff int64) error
}

// flatExtent is a FLAT or VMFS extent: the disk's bytes as they are, from base in the file.
type flatExtent struct {
	name string
	r    io.ReaderAt
	base int64 // byte offset of the extent in the file; base+length ≤ file size was checked
}

func (e *flatExtent) readAt(_ *Image, p []byte, off, _ int64) error {
	if err := readFull(e.r, p, e.base+off); err != nil {
		return fmt.Errorf("vmdk: reading flat extent %s at 0x%x: %w", quote(e.name), e.base+off, err)
	}
	return nil
}

// zeroExtent is a ZERO extent, or one the descriptor marks NOACCESS: it reads as zeros.
type zeroExtent struct{}

func (zeroExtent) readAt(_ *Image, p []byte, _, _ int64) error {
	clear(p)
	return nil
}
