package unpack

import (
	"archive/tar"
	"io"
	"strings"
)

// tarArchive reads ustar, GNU and PAX archives (long names, sparse members, base-256 sizes)
// with the standard library, whose own caps bound long names, PAX records and sparse maps to
// 1 MiB each. Sparse members read as zeros where the holes are. Given an io.Seeker (the
// top-level file), skipping a member seeks instead of reading.
type tarArchive struct{ tr *tar.Reader }

func newTarArchive(r io.Reader) archive { return tarArchive{tar.NewReader(r)} }

func (t tarArchive) next() (entry, error) {
	h, err := t.tr.Next()
	if err != nil {
		return entry{}, err
	}
	e := entry{name: h.Name, size: h.Size, mtime: h.ModTime}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeCont:
		e.regular = true
	case tar.TypeGNUSparse:
		e.regular, e.holes = true, true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			e.holes = true
		}
	}
	return e, nil
}

func (t tarArchive) Read(p []byte) (int, error) { return t.tr.Read(p) }
