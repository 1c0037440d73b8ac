package vmdk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

var errNoRedundantGD = errors.New("no redundant grain directory")

// sparseExtent is a KDMV or COWD extent: a grain directory of grain tables of grain pointers.
type sparseExtent struct {
	id       uint32 // index among the image's extents: the cache key's first half
	name     string // for error messages
	r        io.ReaderAt
	fileSize int64

	mappedBytes  int64 // how much of the disk the extent maps (its descriptor size or capacity)
	grainBytes   int64
	grainSectors int64
	gtEntries    int64
	gd           []uint32 // the grain directory in use
	rgd          []uint32 // the redundant directory, a fallback for damaged grain tables (or nil)
	compressed   bool
	markers      bool // compressed grains start with a (lba, size) marker
}

// label names the extent in error messages: by file name when a descriptor gave one.
func (e *sparseExtent) label() string {
	if e.name == "" {
		return "sparse extent"
	}
	return "extent " + quote(e.name)
}

// grainState says where a grain's bytes come from.
type grainState uint8

const (
	grainUnallocated grainState = iota // zeros, or the parent's bytes in a delta disk
	grainZeroed                        // zeros even in a delta disk (entry 1)
	grainPresent                       // in the file at the entry's sector
)

// newSparseExtent loads the grain directory of the sparse extent r whose header is h.
func newSparseExtent(id uint32, name string, r io.ReaderAt, fileSize, mappedBytes int64, h *sparseHeader) (*sparseExtent, error) {
	e := &sparseExtent{
		id: id, name: name, r: r, fileSize: fileSize, mappedBytes: mappedBytes,
		grainSectors: int64(h.grainSectors),
		grainBytes:   int64(h.grainSectors) * sectorSize,
		gtEntries:    int64(h.gtEntries),
		compressed:   !h.cowd && h.compression == compressionDeflate,
		markers:      !h.cowd && h.flags&flagMarkers != 0,
	}
	what := e.label()
	gd, err := e.loadDirectory(h.gdOffset, h.gdEntries, what+" grain directory")
	var rgd []uint32
	var rgdErr error = errNoRedundantGD
	if !h.cowd && h.flags&flagRedundantGD != 0 && h.rgdOffset != 0 && h.rgdOffset != gdAtEnd {
		rgd, rgdErr = e.loadDirectory(h.rgdOffset, h.gdEntries, what+" redundant grain directory")
	}
	switch {
	case err == nil:
		e.gd = gd
		if rgdErr == nil {
			e.rgd = rgd
		}
	case rgdErr == nil:
		e.gd = rgd // the primary is damaged and the redundant copy is sound
	case gd != nil:
		// Damaged entries and no sound copy: keep what is readable; a read that needs a damaged
		// entry fails with an error that names it.
		e.gd = gd
	default:
		return nil, err
	}
	return e, nil
}

// loadDirectory reads and checks a grain directory of n entries at sector off.
func (e *sparseExtent) loadDirectory(off, n uint64, what string) ([]uint32, error) {
	if n == 0 {
		return nil, nil
	}
	what = fmt.Sprintf("%s at sector %d", what, off)
	if off > uint64(e.fileSize)/sectorSize || int64(off)*sectorSize+int64(n)*4 > e.fileSize {
		return nil, corrupt(what, "its %d entries lie past the end of the %d-byte file", n, e.fileSize)
	}
	gd := make([]uint32, n) // n*4 ≤ maxGDBytes (checkGeometry) and within the file
	buf := make([]byte, min(int64(n)*4, 1<<20))
	pos := int64(off) * sectorSize
	for i := 0; i < len(gd); {
		chunk := buf[:min(len(buf), (len(gd)-i)*4)]
		if err := readFull(e.r, chunk, pos); err != nil {
			return nil, fmt.Errorf("vmdk: reading %s: %w", what, err)
		}
		for j := 0; j < len(chunk); j += 4 {
			gd[i] = binary.LittleEndian.Uint32(chunk[j:])
			i++
		}
		pos += int64(len(chunk))
	}
	tableBytes := e.gtEntries * 4
	for i, s := range gd {
		if s != 0 && int64(s)*sectorSize+tableBytes > e.fileSize {
			// Return the directory with the error: the caller may have nothing better.
			return gd, corrupt(what, "entry %d points at a grain table at sector %d, past the end of the %d-byte file",
				i, s, e.fileSize)
		}
	}
	return gd, nil
}

// table returns grain table i (of e.gd), from the cache or the file. A table that cannot be
// read, or has entries pointing past the end of the file, is replaced by its redundant copy
// when that one is sound.
func (e *sparseExtent) table(img *Image, i int64) ([]uint32, error) {
	key := cacheKey{extent: e.id, index: uint64(i)}
	if t, ok := img.tables.Get(key); ok {
		return t, nil
	}
	t, err := e.readTable(e.gd[i], i)
	if err != nil && i < int64(len(e.rgd)) && e.rgd[i] != 0 && e.rgd[i] != e.gd[i] {
		if backup, berr := e.readTable(e.rgd[i], i); berr == nil {
			t, err = backup, nil
		}
	}
	if err != nil && t == nil {
		return nil, err
	}
	// A table with damaged entries is still used: reading a damaged grain fails on its own.
	img.tables.Add(key, t)
	return t, nil
}

// readTable reads grain table i at sector. Besides an I/O error it returns the table with an
// error when an entry points past the end of the file.
func (e *sparseExtent) readTable(sector uint32, i int64) ([]uint32, error) {
	what := fmt.Sprintf("%s grain table %d at 0x%x", e.label(), i, int64(sector)*sectorSize)
	raw := make([]byte, e.gtEntries*4)
	if err := readFull(e.r, raw, int64(sector)*sectorSize); err != nil {
		return nil, fmt.Errorf("vmdk: reading %s: %w", what, err)
	}
	t := make([]uint32, e.gtEntries)
	var damage error
	for j := range t {
		t[j] = binary.LittleEndian.Uint32(raw[j*4:])
		if damage == nil && t[j] > 1 && int64(t[j])*sectorSize >= e.fileSize {
			damage = corrupt(what, "entry %d points at sector %d, past the end of the %d-byte file", j, t[j], e.fileSize)
		}
	}
	return t, damage
}

// locate says where grain g of the extent is.
func (e *sparseExtent) locate(img *Image, g int64) (grainState, int64, error) {
	i := g / e.gtEntries
	if i >= int64(len(e.gd)) || e.gd[i] == 0 {
		return grainUnallocated, 0, nil
	}
	t, err := e.table(img, i)
	if err != nil {
		return 0, 0, err
	}
	switch s := t[g%e.gtEntries]; s {
	case 0:
		return grainUnallocated, 0, nil
	case 1:
		// Entry 1 is the zeroed grain of flagZeroedGTE; no grain can start at sector 1 (the header
		// is sector 0 and the metadata follows), so it means zeros whatever the flag says.
		return grainZeroed, 0, nil
	default:
		return grainPresent, int64(s), nil
	}
}

// readAt fills p with the extent's bytes at off; guestOff is the same position in the disk,
// where a delta disk finds its parent's bytes.
func (e *sparseExtent) readAt(img *Image, p []byte, off, guestOff int64) error {
	for len(p) > 0 {
		g, within := off/e.grainBytes, off%e.grainBytes
		if e.compressed && within == 0 && int64(len(p)) >= 2*e.grainBytes {
			n := int64(len(p)) / e.grainBytes * e.grainBytes
			if err := e.readWholeGrains(img, p[:n], g, guestOff); err != nil {
				return err
			}
			p, off, guestOff = p[n:], off+n, guestOff+n
			continue
		}
		n := min(int64(len(p)), e.grainBytes-within)
		state, sector, err := e.locate(img, g)
		if err != nil {
			return err
		}
		switch {
		case state == grainUnallocated:
			err = img.readParent(p[:n], guestOff)
		case state == grainZeroed:
			clear(p[:n])
		case e.compressed:
			err = e.readCompressed(img, p[:n], g, sector, within)
		default:
			// Grains written in order lie back to back: read a run of them in one call.
			for next := sector + e.grainSectors; n < int64(len(p)); next += e.grainSectors {
				s, sec, err := e.locate(img, g+(n+within)/e.grainBytes)
				if err != nil || s != grainPresent || sec != next {
					break
				}
				n = min(int64(len(p)), n+e.grainBytes)
			}
			err = e.readGrainBytes(p[:n], sector*sectorSize+within, g)
		}
		if err != nil {
			return err
		}
		p, off, guestOff = p[n:], off+n, guestOff+n
	}
	return nil
}

// readGrainBytes reads uncompressed grain data at file offset pos. A grain cut short by the end
// of the file reads as zeros past it, as qemu does; a grain that starts past it is an error.
func (e *sparseExtent) readGrainBytes(p []byte, pos, g int64) error {
	if pos >= e.fileSize {
		return corrupt(fmt.Sprintf("%s grain %d", e.label(), g), "data at 0x%x lies past the end of the %d-byte file", pos, e.fileSize)
	}
	k := min(int64(len(p)), e.fileSize-pos)
	if err := readFull(e.r, p[:k], pos); err != nil {
		return fmt.Errorf("vmdk: reading %s at 0x%x: %w", e.label(), pos, err)
	}
	clear(p[k:])
	return nil
}
