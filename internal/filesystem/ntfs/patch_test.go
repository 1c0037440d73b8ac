package ntfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// patchable is a pristine image in memory that tests damage in copies. Records and index blocks
// are edited in their fixed-up form and written back with fresh fixups, so that what a test
// breaks is exactly what it means to break.
type patchable struct {
	t        testing.TB
	pristine []byte
	v        *FS // over pristine, to locate things
	ino      map[string]uint64
}

func newPatchable(t *testing.T, img string) *patchable {
	t.Helper()
	data, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	p := &patchable{t: t, pristine: data, v: v, ino: map[string]uint64{}}
	for name, l := range walk(t, filesystem.New(v)) {
		p.ino[name] = l.ino
	}
	return p
}

// copy returns a fresh copy of the pristine image.
func (p *patchable) copy() []byte { return bytes.Clone(p.pristine) }

func open(img []byte) (*FS, error) { return Open(bytes.NewReader(img), int64(len(img))) }

// blocks returns the volume offsets of the 512-byte blocks of n bytes at off in a stream.
func (p *patchable) blocks(s *stream, off int64, n int) []int64 {
	cs := p.v.geo.clusterSize
	var out []int64
	for o := off; o < off+int64(n); o += fixupStride {
		i := s.findRun(o / cs)
		if i < 0 || s.runs[i].sparse() {
			p.t.Fatalf("%s: byte %d is not mapped", s.what, o)
		}
		r := s.runs[i]
		out = append(out, (r.lcn+o/cs-r.vcn)*cs+o%cs)
	}
	return out
}

func (p *patchable) recordBlocks(num uint64) []int64 {
	return p.blocks(p.v.mft, int64(num)*p.v.geo.recordSize, int(p.v.geo.recordSize))
}

// readFixed gathers blocks and applies their fixups.
func (p *patchable) readFixed(img []byte, blocks []int64, magic string) []byte {
	p.t.Helper()
	var buf []byte
	for _, b := range blocks {
		buf = append(buf, img[b:b+fixupStride]...)
	}
	if err := applyFixups(buf, magic); err != nil {
		p.t.Fatal(err)
	}
	return buf
}

// writeFixed protects buf with its update sequence again and scatters it to blocks.
func (p *patchable) writeFixed(img []byte, blocks []int64, buf []byte) {
	usaOff := int(binary.LittleEndian.Uint16(buf[4:]))
	for i := range blocks {
		end := (i+1)*fixupStride - 2
		copy(buf[usaOff+2+2*i:], buf[end:end+2])
		copy(buf[end:], buf[usaOff:usaOff+2])
	}
	for i, b := range blocks {
		copy(img[b:], buf[i*fixupStride:(i+1)*fixupStride])
	}
}

// editRecord applies edit to the fixed-up MFT record num of img.
func (p *patchable) editRecord(img []byte, num uint64, edit func(rec []byte)) {
	p.t.Helper()
	blocks := p.recordBlocks(num)
	rec := p.readFixed(img, blocks, "FILE")
	edit(rec)
	p.writeFixed(img, blocks, rec)
}

// editIndexBlock applies edit to the fixed-up INDX block at vcn of directory dir.
func (p *patchable) editIndexBlock(img []byte, dir uint64, vcn int64, edit func(buf []byte)) {
	p.t.Helper()
	ix := p.index(dir)
	blocks := p.blocks(ix.alloc, vcn*ix.vcnUnit, int(ix.blockSize))
	buf := p.readFixed(img, blocks, "INDX")
	edit(buf)
	p.writeFixed(img, blocks, buf)
}

func (p *patchable) index(dir uint64) *dirIndex {
	p.t.Helper()
	n, err := p.v.node(dir)
	if err != nil {
		p.t.Fatal(err)
	}
	ix, err := p.v.openIndex(n)
	if err != nil {
		p.t.Fatal(err)
	}
	return ix
}

// editStream applies edit to the content of a non-resident stream in img (attribute data has
// no fixups).
func (p *patchable) editStream(img []byte, s *stream, edit func(buf []byte)) {
	p.t.Helper()
	buf := make([]byte, s.size)
	if _, err := s.ReadAt(buf, 0); err != nil && err != io.EOF {
		p.t.Fatal(err)
	}
	edit(buf)
	cs := p.v.geo.clusterSize
	for off := int64(0); off < s.size; {
		r := s.runs[s.findRun(off/cs)]
		n := min(s.size-off, (r.vcn+r.length)*cs-off)
		copy(img[(r.lcn+off/cs-r.vcn)*cs+off%cs:], buf[off:off+n])
		off += n
	}
}

// attrOffset finds the nth attribute of a type in a fixed-up record.
func attrOffset(rec []byte, typ uint32, nth int) int {
	off := int(binary.LittleEndian.Uint16(rec[0x14:]))
	for off+8 <= len(rec) {
		t := binary.LittleEndian.Uint32(rec[off:])
		if t == attrEnd {
			break
		}
		if t == typ {
			if nth == 0 {
				return off
			}
			nth--
		}
		l := int(binary.LittleEndian.Uint32(rec[off+4:]))
		if l == 0 {
			break
		}
		off += l
	}
	return -1
}

// mustAttr is attrOffset that fails the test when the attribute is missing.
func (p *patchable) mustAttr(rec []byte, typ uint32) int {
	p.t.Helper()
	off := attrOffset(rec, typ, 0)
	if off < 0 {
		p.t.Fatalf("no attribute 0x%x", typ)
	}
	return off
}

// setRunlist replaces the runlist of the non-resident attribute at off in rec, fitting it in the
// space the attribute has, and sets its last VCN to match.
func (p *patchable) setRunlist(rec []byte, off int, runs []run, lastVCN int64) {
	p.t.Helper()
	length := int(binary.LittleEndian.Uint32(rec[off+4:]))
	runOff := int(binary.LittleEndian.Uint16(rec[off+0x20:]))
	enc := encodeRuns(runs)
	if len(enc) > length-runOff {
		length = p.resizeAttr(rec, off, (runOff+len(enc)+7)&^7)
	}
	space := rec[off+runOff : off+length]
	clear(space)
	copy(space, enc)
	binary.LittleEndian.PutUint64(rec[off+0x18:], uint64(lastVCN))
}

// resizeAttr changes the length of the attribute at off, moving the attributes after it.
func (p *patchable) resizeAttr(rec []byte, off, newLen int) int {
	p.t.Helper()
	oldLen := int(binary.LittleEndian.Uint32(rec[off+4:]))
	used := int(binary.LittleEndian.Uint32(rec[0x18:]))
	if used-oldLen+newLen > len(rec) {
		p.t.Fatalf("attribute of %d bytes does not fit in the record", newLen)
	}
	copy(rec[off+newLen:], rec[off+oldLen:used])
	if newLen > oldLen {
		clear(rec[off+oldLen : off+newLen])
	}
	binary.LittleEndian.PutUint32(rec[off+4:], uint32(newLen))
	binary.LittleEndian.PutUint32(rec[0x18:], uint32(used-oldLen+newLen))
	return newLen
}

// encodeRuns writes mapping pairs; lcn < 0 encodes a hole, and lcn deltas are taken from the
// previous run that was not a hole, as NTFS does. Runs with length < 0 are written as is, for
// hostile tests of the length field.
func encodeRuns(runs []run) []byte {
	var out []byte
	prev := int64(0)
	for _, r := range runs {
		l := intBytes(r.length, false)
		var o []byte
		if r.lcn >= 0 || r.lcn < -1 {
			lcn := r.lcn
			if r.lcn < -1 {
				lcn = r.lcn + 1 // -2 means LCN -1, which is not a hole
			}
			o = intBytes(lcn-prev, true)
			prev = lcn
		}
		out = append(out, byte(len(l)|len(o)<<4))
		out = append(out, l...)
		out = append(out, o...)
	}
	return append(out, 0)
}

// intBytes is the shortest little-endian encoding of v (signed: the top bit carries the sign).
func intBytes(v int64, signed bool) []byte {
	var out []byte
	for {
		b := byte(v)
		out = append(out, b)
		v >>= 8
		if signed {
			if (v == 0 && b&0x80 == 0) || (v == -1 && b&0x80 != 0) {
				return out
			}
		} else if v == 0 {
			return out
		}
		if len(out) == 8 {
			return out
		}
	}
}

func TestEncodeRunsRoundTrip(t *testing.T) {
	runs := []run{{0, 100, 5}, {5, -1, 11}, {16, 40, 300}, {316, 1 << 40, 2}, {318, 7, 1}}
	a := &attribute{startVCN: 0, lastVCN: 318, runlist: encodeRuns(runs)}
	got, err := decodeRuns(nil, a, 1<<41, 1<<50, 100)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(runs) {
		t.Fatalf("decode(encode(%v)) = %v, %v", runs, got, err)
	}
}
