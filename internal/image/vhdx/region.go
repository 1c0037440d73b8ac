package vhdx

import (
	"encoding/binary"
	"fmt"
	"io"
)

// region is an entry of the region table: where the BAT or the metadata lies.
type region struct {
	offset, length int64
}

// readRegions reads the region table, or its copy when the first is damaged, and returns the
// BAT and metadata regions.
func readRegions(v io.ReaderAt, fileSize int64) (bat, meta region, err error) {
	var firstErr error
	for _, off := range []int64{regionTable1Offset, regionTable2Offset} {
		bat, meta, err = readRegionTable(v, off, fileSize)
		if err == nil {
			return bat, meta, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return region{}, region{}, firstErr
}

func readRegionTable(v io.ReaderAt, off, fileSize int64) (bat, meta region, err error) {
	what := fmt.Sprintf("region table at 0x%x", off)
	b := make([]byte, regionTableBytes)
	if err := readFull(v, b, off); err != nil {
		return bat, meta, fmt.Errorf("vhdx: reading %s: %w", what, err)
	}
	le := binary.LittleEndian
	if string(b[:4]) != "regi" {
		return bat, meta, corrupt(what, "signature is %q, not \"regi\"", b[:4])
	}
	if le.Uint32(b[4:]) != checksum(b) {
		return bat, meta, corrupt(what, "CRC-32C mismatch")
	}
	count := le.Uint32(b[8:])
	if count > maxRegionEntries {
		return bat, meta, corrupt(what, "%d entries exceed the %d allowed", count, maxRegionEntries)
	}
	seen := map[guid]bool{}
	for i := range int(count) {
		e := b[16+i*32 : 16+(i+1)*32]
		var id guid
		copy(id[:], e)
		r := region{offset: int64(le.Uint64(e[16:])), length: int64(le.Uint32(e[24:]))}
		required := le.Uint32(e[28:])&1 != 0
		where := fmt.Sprintf("%s entry %d (%s)", what, i, id)
		if seen[id] {
			return bat, meta, corrupt(where, "the GUID appears twice")
		}
		seen[id] = true
		switch id {
		case regionBAT, regionMetadata:
		default:
			if required {
				return bat, meta, unsupported("%s: a required region of unknown type", where)
			}
			continue
		}
		if r.offset < headerSectionBytes || r.offset%mib != 0 || r.length == 0 || r.length%mib != 0 {
			return bat, meta, corrupt(where, "region at 0x%x of %d bytes is not 1 MiB-aligned after the header section",
				r.offset, r.length)
		}
		if r.offset > fileSize-r.length {
			return bat, meta, corrupt(where, "region at 0x%x of %d bytes runs past the end of the %d-byte file",
				r.offset, r.length, fileSize)
		}
		if id == regionBAT {
			bat = r
		} else {
			meta = r
		}
	}
	if bat.length == 0 || meta.length == 0 {
		return bat, meta, corrupt(what, "no BAT or no metadata region")
	}
	return bat, meta, nil
}
