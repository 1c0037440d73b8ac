package vmdk

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
)

// Minimal VMDK writers for layouts qemu-img does not write: the streamOptimized layout of
// VMware and AWS exports (grain directory at the end, found through a footer) and ESX sparse
// (COWD) extents. Their output is checked with qemu-img and vmdkinfo, which read both.

// streamOptions varies what writeStreamOptimized makes.
type streamOptions struct {
	rawDeflate bool   // deflate without the zlib wrapper (what the VMDK specification says)
	grainSize  uint64 // sectors; 0 = 128
	createType string // "" = streamOptimized
	parentHint string // makes a delta disk
	zeroedGTE  []int  // grains recorded as "zeroed" (entry 1) instead of written
}

// writeStreamOptimized writes disk as a streamOptimized extent the way VMware does: header with
// gdOffset = GD_AT_END, embedded descriptor, compressed grains each behind a grain marker, then
// for every grain table a GT marker and the table, a GD marker and the directory, the footer
// marker with a copy of the header pointing at the directory, and the end-of-stream marker.
func writeStreamOptimized(t testing.TB, path string, disk []byte, o streamOptions) {
	t.Helper()
	if err := os.WriteFile(path, streamBytes(disk, o), 0o644); err != nil {
		t.Fatal(err)
	}
}

func streamBytes(disk []byte, o streamOptions) []byte {
	grain := o.grainSize
	if grain == 0 {
		grain = 128
	}
	const gtEntries = 512
	capacity := uint64(len(disk)) / sectorSize
	grains := (capacity + grain - 1) / grain
	gdEntries := (grains + gtEntries - 1) / gtEntries
	createType := o.createType
	if createType == "" {
		createType = "streamOptimized"
	}
	desc := fmt.Sprintf("# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType=%q\n", createType)
	if o.parentHint != "" {
		desc += fmt.Sprintf("parentFileNameHint=%q\n", o.parentHint)
	}
	desc += fmt.Sprintf("\n# Extent description\nRW %d SPARSE \"disk.vmdk\"\n\n# The Disk Data Base\n#DDB\n\nddb.virtualHWVersion = \"4\"\n", capacity)
	descSectors := uint64(len(desc)+sectorSize-1) / sectorSize
	overhead := uint64(1) + descSectors

	var out bytes.Buffer
	header := func(gdOffset uint64) []byte {
		h := make([]byte, sectorSize)
		le := binary.LittleEndian
		le.PutUint32(h[0:], magicKDMV)
		le.PutUint32(h[4:], 3)
		le.PutUint32(h[8:], flagNewlineCheck|flagCompressed|flagMarkers|flagZeroedGTE)
		le.PutUint64(h[12:], capacity)
		le.PutUint64(h[20:], grain)
		le.PutUint64(h[28:], 1)
		le.PutUint64(h[36:], descSectors)
		le.PutUint32(h[44:], gtEntries)
		le.PutUint64(h[56:], gdOffset)
		le.PutUint64(h[64:], overhead)
		copy(h[73:], "\n \r\n")
		le.PutUint16(h[77:], compressionDeflate)
		return h
	}
	out.Write(header(gdAtEnd))
	out.WriteString(desc)
	pad(&out)
	marker := func(val uint64, typ uint32) {
		m := make([]byte, sectorSize)
		binary.LittleEndian.PutUint64(m, val)
		binary.LittleEndian.PutUint32(m[12:], typ)
		out.Write(m)
	}
	zeroed := map[uint64]bool{}
	for _, g := range o.zeroedGTE {
		zeroed[uint64(g)] = true
	}
	gd := make([]uint32, gdEntries)
	for ti := range gdEntries {
		gt := make([]uint32, gtEntries)
		used := false
		for j := range uint64(gtEntries) {
			g := ti*gtEntries + j
			if g >= grains {
				break
			}
			if zeroed[g] {
				gt[j], used = 1, true
				continue
			}
			data := disk[g*grain*sectorSize : min(uint64(len(disk)), (g+1)*grain*sectorSize)]
			if bytes.Count(data, []byte{0}) == len(data) {
				continue
			}
			full := make([]byte, grain*sectorSize)
			copy(full, data)
			comp := compress(full, o.rawDeflate)
			gt[j], used = uint32(out.Len()/sectorSize), true
			var m [12]byte
			binary.LittleEndian.PutUint64(m[:], g*grain)
			binary.LittleEndian.PutUint32(m[8:], uint32(len(comp)))
			out.Write(m[:])
			out.Write(comp)
			pad(&out)
		}
		if !used {
			continue
		}
		marker(gtEntries*4/sectorSize, markerGT)
		gd[ti] = uint32(out.Len() / sectorSize)
		binary.Write(&out, binary.LittleEndian, gt)
		pad(&out)
	}
	gdBytes := uint64(len(gd)) * 4
	marker((gdBytes+sectorSize-1)/sectorSize, markerGD)
	gdSector := uint64(out.Len() / sectorSize)
	binary.Write(&out, binary.LittleEndian, gd)
	pad(&out)
	marker(1, markerFooter)
	out.Write(header(gdSector))
	marker(0, markerEOS)
	return out.Bytes()
}

func compress(data []byte, raw bool) []byte {
	var b bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	var err error
	if raw {
		w, err = flate.NewWriter(&b, flate.BestSpeed)
	} else {
		w, err = zlib.NewWriterLevel(&b, zlib.BestSpeed)
	}
	if err != nil {
		panic(err) // only for a bad level
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func pad(b *bytes.Buffer) {
	if r := b.Len() % sectorSize; r != 0 {
		b.Write(make([]byte, sectorSize-r))
	}
}

// writeCOWD writes disk as an ESX sparse (COWD) extent with grains of grain sectors: the
// 2048-byte header, the grain directory at sector 4, the grain tables of 4096 entries, then
// every grain that skip does not leave unallocated.
func writeCOWD(t testing.TB, path string, disk []byte, grain uint32, skip func(g uint64) bool) {
	t.Helper()
	if err := os.WriteFile(path, cowdBytes(disk, grain, skip), 0o644); err != nil {
		t.Fatal(err)
	}
}

func cowdBytes(disk []byte, grain uint32, skip func(g uint64) bool) []byte {
	capacity := uint32(len(disk) / sectorSize)
	grains := (uint64(capacity) + uint64(grain) - 1) / uint64(grain)
	gdEntries := uint32((grains + cowdGTEntries - 1) / cowdGTEntries)
	const gdSector = 4
	gdSectors := (gdEntries*4 + sectorSize - 1) / sectorSize
	tableSectors := uint32(cowdGTEntries * 4 / sectorSize)
	file := make([]byte, (gdSector+gdSectors+gdEntries*tableSectors)*sectorSize)
	le := binary.LittleEndian
	le.PutUint32(file[0:], magicCOWD)
	le.PutUint32(file[4:], 1)
	le.PutUint32(file[8:], 3)
	le.PutUint32(file[12:], capacity)
	le.PutUint32(file[16:], grain)
	le.PutUint32(file[20:], gdSector)
	le.PutUint32(file[24:], gdEntries)
	for i := range gdEntries {
		le.PutUint32(file[gdSector*sectorSize+i*4:], gdSector+gdSectors+i*tableSectors)
	}
	grainBytes := uint64(grain) * sectorSize
	for g := range grains {
		data := disk[g*grainBytes : min(uint64(len(disk)), (g+1)*grainBytes)]
		if skip(g) {
			continue
		}
		table := uint64(gdSector+gdSectors) + g/cowdGTEntries*uint64(tableSectors)
		le.PutUint32(file[table*sectorSize+g%cowdGTEntries*4:], uint32(len(file)/sectorSize))
		full := make([]byte, grainBytes)
		copy(full, data)
		file = append(file, full...)
	}
	return file
}
