package ntfs

import (
	"encoding/binary"
	"fmt"
)

// LZNT1 (MS-XCA 2.5) as NTFS uses it: a compression unit is a sequence of chunks, each a 16-bit
// header followed by at most 4096 bytes of data that stand for 4096 bytes of output. The header
// holds the data size minus 1 in its low 12 bits and, in bit 15, whether the chunk is
// compressed. A header of 0 ends the unit early; what is left of the unit reads as zeros.
const (
	lzntChunkSize       = 4096
	lzntChunkCompressed = 0x8000
)

// decompressLZNT1 decompresses one compression unit from src into dst, whose length is the
// unit's size; bytes of dst not produced are zeroed. It never writes outside dst and fails when
// a header or back-reference points outside src or the output.
func decompressLZNT1(dst, src []byte) error {
	out := 0
	in := 0
	for out < len(dst) && in+2 <= len(src) {
		h := binary.LittleEndian.Uint16(src[in:])
		if h == 0 {
			break
		}
		size := int(h&0x0FFF) + 1
		if in+2+size > len(src) {
			return fmt.Errorf("LZNT1 chunk at byte %d claims %d bytes, %d are left", in, size, len(src)-in-2)
		}
		data := src[in+2 : in+2+size]
		in += 2 + size
		chunk := dst[out:min(out+lzntChunkSize, len(dst))]
		var n int
		if h&lzntChunkCompressed == 0 {
			n = copy(chunk, data)
		} else {
			var err error
			if n, err = decompressChunk(chunk, data); err != nil {
				return fmt.Errorf("LZNT1 chunk at byte %d: %w", in-2-size, err)
			}
		}
		// A chunk stands for a whole 4096 bytes; a short one is padded with zeros.
		clear(chunk[n:])
		out += len(chunk)
	}
	clear(dst[out:])
	return nil
}

// decompressChunk expands one compressed chunk: groups of a flag byte and eight items, each a
// literal byte (flag bit 0) or a 16-bit back-reference (flag bit 1) whose split between offset
// and length bits depends on how much output the chunk has produced so far.
func decompressChunk(dst, src []byte) (int, error) {
	o, i := 0, 0
	for i < len(src) {
		flags := src[i]
		i++
		for bit := 0; bit < 8 && i < len(src); bit, flags = bit+1, flags>>1 {
			if flags&1 == 0 {
				if o >= len(dst) {
					return o, fmt.Errorf("literal past the %d-byte chunk output", len(dst))
				}
				dst[o] = src[i]
				o++
				i++
				continue
			}
			if i+2 > len(src) {
				return o, fmt.Errorf("back-reference truncated at byte %d", i)
			}
			token := int(binary.LittleEndian.Uint16(src[i:]))
			i += 2
			if o == 0 {
				return o, fmt.Errorf("back-reference before any output")
			}
			lengthBits := 12
			for p := o - 1; p >= 0x10; p >>= 1 {
				lengthBits--
			}
			offset := token>>lengthBits + 1
			length := token&(1<<lengthBits-1) + 3
			if offset > o {
				return o, fmt.Errorf("back-reference %d bytes back from output position %d", offset, o)
			}
			if length > len(dst)-o {
				return o, fmt.Errorf("back-reference of %d bytes at output position %d overruns the chunk", length, o)
			}
			// Byte by byte: the source may overlap what is being written (run-length encoding).
			for k := 0; k < length; k++ {
				dst[o] = dst[o-offset]
				o++
			}
		}
	}
	return o, nil
}
