package vhdx

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"unicode/utf16"
)

// A minimal VHDX writer, following MS-VHDX, for what qemu-img cannot make: 4096-byte logical
// sectors, differencing disks, every payload block state, and non-empty logs. Its output is
// checked with qemu-img, vhdiinfo and vhdimount wherever they read it.

type spec struct {
	size           int64
	blockSize      int64  // 0 = 1 MiB
	logicalSector  int64  // 0 = 512
	physicalSector int64  // 0 = 4096
	data           []byte // the guest's bytes (a differencing disk's full view)
	// present says which sectors a differencing disk holds (the others come from the parent);
	// nil means every block with a non-zero byte, fully.
	present    func(sector int64) bool
	parentPath string           // relative_path of the parent: makes a differencing disk
	parentID   guid             // the parent's DataWriteGuid, for parent_linkage
	states     map[int64]uint64 // payload blocks given a state other than present or not present
	fixed      bool             // every block fully present
	seq        [2]uint64        // header sequence numbers; zero = 1 and 2
	logGUID    guid
	log        []logEntrySpec
	headerEdit func(h []byte) // applied to both headers before their checksums
}

// logEntrySpec is one entry written into the 1 MiB log.
type logEntrySpec struct {
	at, tail    int64 // offsets in the log
	seq         uint64
	writes      []logWrite
	guid        *guid // nil = the header's
	flushed     uint64
	last        uint64
	badChecksum bool
}

type logWrite struct {
	offset  int64
	data    []byte // 4 KiB, or nil for a zero descriptor
	zeroLen int64
}

// layout of a written file, for tests that edit it.
type layout struct {
	batOffset, metaOffset, logOffset int64
	chunkRatio                       int64
}

const logLen = 1 * mib

func (s *spec) defaults() {
	if s.blockSize == 0 {
		s.blockSize = mib
	}
	if s.logicalSector == 0 {
		s.logicalSector = 512
	}
	if s.physicalSector == 0 {
		s.physicalSector = 4096
	}
	if s.seq == [2]uint64{} {
		s.seq = [2]uint64{1, 2}
	}
}

func writeVHDX(t testing.TB, path string, s spec) layout {
	t.Helper()
	b, l := buildVHDX(s)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

func buildVHDX(s spec) ([]byte, layout) {
	s.defaults()
	le := binary.LittleEndian
	bs, lss := s.blockSize, s.logicalSector
	blocks := (s.size + bs - 1) / bs
	cr := (1 << 23) * lss / bs
	diff := s.parentPath != ""
	var entries int64
	switch {
	case blocks == 0:
	case diff:
		entries = (blocks + cr - 1) / cr * (cr + 1)
	default:
		entries = blocks + (blocks-1)/cr
	}
	roundMiB := func(n int64) int64 { return (n + mib - 1) / mib * mib }
	l := layout{logOffset: 1 * mib, batOffset: 2 * mib, chunkRatio: cr}
	batLen := max(mib, roundMiB(entries*8))
	l.metaOffset = l.batOffset + batLen
	file := make([]byte, l.metaOffset+mib)
	alloc := func(n int64) int64 {
		off := int64(len(file))
		file = append(file, make([]byte, n)...)
		return off
	}

	copy(file, "vhdxfile")
	for i, c := range utf16.Encode([]rune("snapwatch test writer")) {
		le.PutUint16(file[8+2*i:], c)
	}
	// Payload blocks and sector bitmaps.
	bat := make([]uint64, entries)
	bitmaps := map[int64]int64{} // chunk -> file offset of its sector bitmap block
	sectorsPerBlock := bs / lss
	for blk := range blocks {
		idx := blk + blk/cr
		if st, ok := s.states[blk]; ok {
			bat[idx] = st
			continue
		}
		start := blk * bs
		chunk := s.data[start:min(int64(len(s.data)), start+bs)]
		nonZero := bytes.Count(chunk, []byte{0}) != len(chunk)
		var have []bool
		n := 0
		for k := range sectorsPerBlock {
			sec := blk*sectorsPerBlock + k
			var in bool
			switch {
			case s.fixed:
				in = true
			case s.present != nil:
				in = sec*lss < s.size && s.present(sec)
			default:
				in = nonZero
			}
			have = append(have, in)
			if in {
				n++
			}
		}
		if n == 0 {
			continue // not present
		}
		off := alloc(bs)
		copy(file[off:], chunk)
		if n == int(sectorsPerBlock) || !diff {
			// A fully present block's bitmap bits are left clear: readers must not look at them.
			bat[idx] = payloadFullyPresent | uint64(off/mib)<<20
			continue
		}
		bat[idx] = payloadPartiallyPresent | uint64(off/mib)<<20
		c := blk / cr
		sb, ok := bitmaps[c]
		if !ok {
			sb = alloc(mib)
			bitmaps[c] = sb
			bat[c*(cr+1)+cr] = bitmapPresent | uint64(sb/mib)<<20
		}
		for k, in := range have {
			if in {
				bit := blk%cr*sectorsPerBlock + int64(k)
				file[sb+bit/8] |= 1 << (bit % 8)
			}
		}
	}
	for i, e := range bat {
		le.PutUint64(file[l.batOffset+int64(i)*8:], e)
	}
	// Metadata.
	meta := file[l.metaOffset:]
	copy(meta, "metadata")
	type item struct {
		id    guid
		flags uint32
		data  []byte
	}
	u32 := func(v uint32) []byte { return le.AppendUint32(nil, v) }
	params := uint32(0)
	if diff {
		params |= 2
	}
	if s.fixed {
		params |= 1
	}
	items := []item{
		{itemFileParameters, 4, append(u32(uint32(bs)), u32(params)...)},
		{itemVirtualDiskSize, 6, le.AppendUint64(nil, uint64(s.size))},
		{itemPage83Data, 6, bytes.Repeat([]byte{0xab}, 16)},
		{itemLogicalSectorSize, 6, u32(uint32(lss))},
		{itemPhysicalSectorSize, 6, u32(uint32(s.physicalSector))},
	}
	if diff {
		base := s.parentPath[strings.LastIndexAny(s.parentPath, `/\`)+1:]
		items = append(items, item{itemParentLocator, 4, parentLocator(map[string]string{
			"parent_linkage":      "{" + strings.ToLower(s.parentID.String()) + "}",
			"relative_path":       s.parentPath,
			"absolute_win32_path": `\\?\C:\vms\` + base, // what libvhdi of 2021 reads
		})})
	}
	le.PutUint16(meta[10:], uint16(len(items)))
	at := uint32(64 * kib)
	for i, it := range items {
		e := meta[32+i*32:]
		copy(e, it.id[:])
		le.PutUint32(e[16:], at)
		le.PutUint32(e[20:], uint32(len(it.data)))
		le.PutUint32(e[24:], it.flags)
		copy(meta[at:], it.data)
		at += uint32(len(it.data))
	}
	// Region tables.
	for _, off := range []int64{regionTable1Offset, regionTable2Offset} {
		rt := file[off : off+regionTableBytes]
		copy(rt, "regi")
		le.PutUint32(rt[8:], 2)
		for i, r := range []struct {
			id       guid
			off, len int64
		}{{regionBAT, l.batOffset, batLen}, {regionMetadata, l.metaOffset, mib}} {
			e := rt[16+i*32:]
			copy(e, r.id[:])
			le.PutUint64(e[16:], uint64(r.off))
			le.PutUint32(e[24:], uint32(r.len))
			le.PutUint32(e[28:], 1)
		}
		le.PutUint32(rt[4:], checksum(rt))
	}
	// Log and headers.
	log := make([]byte, logLen)
	for _, e := range s.log {
		writeLogEntry(log, e, s.logGUID)
	}
	copy(file[l.logOffset:], log)
	for i, off := range []int64{header1Offset, header2Offset} {
		h := file[off : off+headerBytes]
		copy(h, "head")
		le.PutUint64(h[8:], s.seq[i])
		copy(h[16:], bytes.Repeat([]byte{0x11}, 16))
		copy(h[32:], bytes.Repeat([]byte{0x22}, 16))
		copy(h[48:], s.logGUID[:])
		le.PutUint16(h[66:], 1)
		le.PutUint32(h[68:], logLen)
		le.PutUint64(h[72:], uint64(l.logOffset))
		if s.headerEdit != nil {
			s.headerEdit(h)
		}
		le.PutUint32(h[4:], checksum(h))
	}
	return file, l
}

func parentLocator(kv map[string]string) []byte {
	le := binary.LittleEndian
	b := make([]byte, 20+12*len(kv))
	copy(b, locatorTypeVHDX[:])
	le.PutUint16(b[18:], uint16(len(kv)))
	i := 0
	for _, k := range []string{"parent_linkage", "relative_path", "volume_path", "absolute_win32_path"} {
		v, ok := kv[k]
		if !ok {
			continue
		}
		e := b[20+12*i:]
		ks, vs := utf16le(k), utf16le(v)
		le.PutUint32(e, uint32(len(b)))
		le.PutUint16(e[8:], uint16(len(ks)))
		b = append(b, ks...)
		e = b[20+12*i:]
		le.PutUint32(e[4:], uint32(len(b)))
		le.PutUint16(e[10:], uint16(len(vs)))
		b = append(b, vs...)
		i++
	}
	return b
}

func utf16le(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

// writeLogEntry writes one entry into the log ring (wrapping at its end).
func writeLogEntry(log []byte, e logEntrySpec, headerGUID guid) {
	le := binary.LittleEndian
	g := headerGUID
	if e.guid != nil {
		g = *e.guid
	}
	count := int64(len(e.writes))
	descSectors := int64(1)
	if count > descriptorsInFirst {
		descSectors += (count - descriptorsInFirst + descriptorsPerMore - 1) / descriptorsPerMore
	}
	var data [][]byte
	for _, w := range e.writes {
		if w.data != nil {
			data = append(data, w.data)
		}
	}
	length := (descSectors + int64(len(data))) * logSectorBytes
	entry := make([]byte, length)
	copy(entry, "loge")
	le.PutUint32(entry[8:], uint32(length))
	le.PutUint32(entry[12:], uint32(e.tail))
	le.PutUint64(entry[16:], e.seq)
	le.PutUint32(entry[24:], uint32(count))
	copy(entry[32:], g[:])
	le.PutUint64(entry[48:], e.flushed)
	le.PutUint64(entry[56:], e.last)
	d := 0
	for k, w := range e.writes {
		var at int64
		if int64(k) < descriptorsInFirst {
			at = logHeaderBytes + int64(k)*descriptorBytes
		} else {
			at = (1+(int64(k)-descriptorsInFirst)/descriptorsPerMore)*logSectorBytes +
				(int64(k)-descriptorsInFirst)%descriptorsPerMore*descriptorBytes
		}
		desc := entry[at : at+descriptorBytes]
		le.PutUint64(desc[16:], uint64(w.offset))
		le.PutUint64(desc[24:], e.seq)
		if w.data == nil {
			copy(desc, "zero")
			le.PutUint64(desc[8:], uint64(w.zeroLen))
			continue
		}
		copy(desc, "desc")
		copy(desc[4:8], w.data[logSectorBytes-4:])
		copy(desc[8:16], w.data[:8])
		sec := entry[(descSectors+int64(d))*logSectorBytes:][:logSectorBytes]
		copy(sec, "data")
		le.PutUint32(sec[4:], uint32(e.seq>>32))
		copy(sec[8:logSectorBytes-4], w.data[8:logSectorBytes-4])
		le.PutUint32(sec[logSectorBytes-4:], uint32(e.seq))
		d++
	}
	le.PutUint32(entry[4:], checksum(entry))
	if e.badChecksum {
		entry[4] ^= 1
	}
	for i := int64(0); i < length; i += logSectorBytes {
		copy(log[(e.at+i)%int64(len(log)):], entry[i:i+logSectorBytes])
	}
}
