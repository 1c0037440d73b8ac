package vhdx

import (
	"fmt"
)

// readBlock fills p with guest bytes from pos; p lies within one payload block.
func (img *Image) readBlock(p []byte, pos int64) error {
	block, within := pos/img.geo.blockSize, pos%img.geo.blockSize
	idx := img.geo.payloadIndex(block)
	e, err := img.bat.entry(idx)
	if err != nil {
		return err
	}
	state, offset := entryLocation(e)
	switch state {
	case payloadNotPresent:
		if img.meta.hasParent {
			return img.readParent(p, pos)
		}
		clear(p)
	case payloadUndefined, payloadZero, payloadUnmapped:
		// Undefined and unmapped blocks may read as anything or as zeros: zeros it is, even in a
		// differencing disk, where the parent's old data is no longer the guest's.
		clear(p)
	case payloadFullyPresent:
		return img.readPayload(p, idx, offset, within, int64(len(p)))
	case payloadPartiallyPresent:
		if !img.meta.hasParent {
			return corrupt(img.bat.where(idx), "block %d is partially present in a disk without a parent", block)
		}
		return img.readPartial(p, pos, idx, offset, block, within)
	default:
		return corrupt(img.bat.where(idx), "block %d has reserved state %d", block, state)
	}
	return nil
}

// readPayload reads p from within the payload block at offset, after checking that the block
// (as far as it is read) lies in the file after the header section.
func (img *Image) readPayload(p []byte, idx, offset, within, blockUsed int64) error {
	if offset < headerSectionBytes || offset > img.v.size-within-blockUsed {
		return corrupt(img.bat.where(idx), "payload block at 0x%x lies outside the %d-byte file (or in its header section)",
			offset, img.v.size)
	}
	if err := readFull(img.v, p, offset+within); err != nil {
		return fmt.Errorf("vhdx: reading payload block of %s: %w", img.bat.where(idx), err)
	}
	return nil
}

// readPartial reads a partially present block of a differencing disk: each sector comes from
// this file or from the parent, as the chunk's sector bitmap says.
func (img *Image) readPartial(p []byte, pos, idx, offset, block, within int64) error {
	bits, err := img.blockBitmap(block)
	if err != nil {
		return err
	}
	sector := img.meta.logicalSector
	for done := int64(0); done < int64(len(p)); {
		s := (within + done) / sector
		present := bits[s/8]>>(s%8)&1 != 0
		// Extend the run while the sectors keep the same state.
		end := (s + 1) * sector
		for end < within+int64(len(p)) && (bits[end/sector/8]>>(end/sector%8)&1 != 0) == present {
			end += sector
		}
		n := min(end-within, int64(len(p))) - done
		var err error
		if present {
			err = img.readPayload(p[done:done+n], idx, offset, within+done, n)
		} else {
			err = img.readParent(p[done:done+n], pos+done)
		}
		if err != nil {
			return err
		}
		done += n
	}
	return nil
}

// blockBitmap returns the sector bitmap bits of block, one per logical sector.
func (img *Image) blockBitmap(block int64) ([]byte, error) {
	if bits, ok := img.bitmaps.Get(block); ok {
		return bits, nil
	}
	idx := img.geo.bitmapIndex(block)
	e, err := img.bat.entry(idx)
	if err != nil {
		return nil, err
	}
	state, offset := entryLocation(e)
	if state != bitmapPresent {
		return nil, corrupt(img.bat.where(idx), "sector bitmap is in state %d, but block %d is partially present", state, block)
	}
	if offset < headerSectionBytes || offset > img.v.size-sectorBitmapBytes {
		return nil, corrupt(img.bat.where(idx), "sector bitmap block at 0x%x lies outside the %d-byte file (or in its header section)",
			offset, img.v.size)
	}
	perBlock := img.geo.blockSize / img.meta.logicalSector / 8
	bits := make([]byte, perBlock)
	at := offset + block%img.geo.chunkRatio*perBlock
	if err := readFull(img.v, bits, at); err != nil {
		return nil, fmt.Errorf("vhdx: reading sector bitmap of block %d at 0x%x: %w", block, at, err)
	}
	img.bitmaps.Add(block, bits)
	return bits, nil
}

// readParent fills p with the parent's bytes at off: zeros past its end.
func (img *Image) readParent(p []byte, off int64) error {
	k := int64(0)
	if img.parent != nil && off < img.parentSize {
		k = min(int64(len(p)), img.parentSize-off)
		if err := readFull(img.parent, p[:k], off); err != nil {
			return fmt.Errorf("vhdx: reading parent %s at 0x%x: %w", quote(img.backing), off, err)
		}
	}
	clear(p[k:])
	return nil
}
