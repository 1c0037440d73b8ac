package image

import (
	"archive/tar"
	"io"
	"path"
	"strings"
)

// maxOVAMembers bounds the tar headers read while looking for the disk of an OVA.
const maxOVAMembers = 64

// ovaDisk finds the first .vmdk member of an OVA (a tar of an OVF descriptor and its disks) and
// returns where its bytes lie in the file, so the disk is read in place, not extracted.
func ovaDisk(r io.ReaderAt, size int64) (off int64, name string, n int64, ok bool) {
	if size < 1024 {
		return 0, "", 0, false
	}
	magic := make([]byte, 6)
	if _, err := r.ReadAt(magic, 257); err != nil || string(magic[:5]) != "ustar" {
		return 0, "", 0, false
	}
	cr := &countingReader{r: io.NewSectionReader(r, 0, size)}
	tr := tar.NewReader(cr)
	for i := 0; i < maxOVAMembers; i++ {
		h, err := tr.Next()
		if err != nil {
			return 0, "", 0, false
		}
		if h.Typeflag == tar.TypeReg && strings.EqualFold(path.Ext(h.Name), ".vmdk") {
			// After Next, the reader stands at the member's first data byte.
			if cr.n+h.Size > size {
				return 0, "", 0, false
			}
			return cr.n, h.Name, h.Size, true
		}
	}
	return 0, "", 0, false
}

// countingReader tells how far archive/tar has read, i.e. where a member's data begins. Seek lets
// tar skip member bodies without reading them.
type countingReader struct {
	r *io.SectionReader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

func (c *countingReader) Seek(off int64, whence int) (int64, error) {
	pos, err := c.r.Seek(off, whence)
	if err == nil {
		c.n = pos
	}
	return pos, err
}
