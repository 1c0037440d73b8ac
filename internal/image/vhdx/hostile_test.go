package vhdx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// smallVHDX is a 4 MiB dynamic disk of 1 MiB blocks, blocks 0 and 2 present.
func smallVHDX(t testing.TB) ([]byte, layout) {
	data := make([]byte, 4*mib)
	for i := range mib {
		data[i] = byte(i*7 + 1)
		data[2*mib+i] = byte(i*11 + 3)
	}
	return buildVHDX(spec{size: int64(len(data)), data: data})
}

func openBytes(b []byte, opt Options) (*Image, error) {
	return Open(bytes.NewReader(b), int64(len(b)), opt)
}

func readAll(img *Image, limit int64) error {
	buf := make([]byte, 300<<10+3)
	for off := int64(0); off < min(img.Size(), limit); off += int64(len(buf)) {
		if _, err := img.ReadAt(buf, off); err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}

// rechecksum recomputes the checksums of both headers and region tables after an edit.
func rechecksum(b []byte) {
	for _, off := range []int{header1Offset, header2Offset} {
		h := b[off : off+headerBytes]
		binary.LittleEndian.PutUint32(h[4:], checksum(h))
	}
	for _, off := range []int{regionTable1Offset, regionTable2Offset} {
		rt := b[off : off+regionTableBytes]
		binary.LittleEndian.PutUint32(rt[4:], checksum(rt))
	}
}

func TestTruncatedFiles(t *testing.T) {
	file, _ := smallVHDX(t)
	for n := 0; n <= len(file); n += 64<<10 - 512 {
		img, err := openBytes(file[:n], Options{})
		if err == nil {
			_ = readAll(img, 1<<30)
		}
	}
	for _, n := range []int{0, 7, 8, 4096, headerSectionBytes - 1, headerSectionBytes, len(file) - 1} {
		img, err := openBytes(file[:n], Options{})
		if err == nil {
			err = readAll(img, 1<<30)
		}
		if err == nil {
			t.Errorf("a file cut at %d bytes opened and read without error", n)
		}
	}
}

// TestHostileStructures edits one field at a time and expects an error naming it.
func TestHostileStructures(t *testing.T) {
	base, l := smallVHDX(t)
	le := binary.LittleEndian
	meta := int(l.metaOffset)
	item := func(i int) int { return meta + int(le.Uint32(base[meta+32+32*i+16:])) }
	bat := int(l.batOffset)
	for _, tc := range []struct {
		name  string
		edit  func(b []byte)
		error string // a part of the error of Open, or of reading the disk
	}{
		{"block size 0", func(b []byte) { le.PutUint32(b[item(0):], 0) }, "block size 0"},
		{"block size not a power of two", func(b []byte) { le.PutUint32(b[item(0):], 3*mib) }, "block size"},
		{"block size 512 MiB", func(b []byte) { le.PutUint32(b[item(0):], 512*mib) }, "block size"},
		{"logical sector 1024", func(b []byte) { le.PutUint32(b[item(3):], 1024) }, "sector size 1024"},
		{"size not whole sectors", func(b []byte) { le.PutUint64(b[item(1):], 4*mib+1) }, "multiple of the 512-byte sector"},
		{"size 2^63", func(b []byte) { le.PutUint64(b[item(1):], 1<<63) }, "64 TiB"},
		{"BAT beyond its region", func(b []byte) { le.PutUint64(b[item(1):], 64<<40) }, "BAT region"},
		{"metadata item past region", func(b []byte) { le.PutUint32(b[meta+32+16:], uint32(mib-4)) }, "not inside"},
		{"metadata item of 2 MiB", func(b []byte) { le.PutUint32(b[meta+32+20:], 2*mib) }, "exceeds 1 MiB"},
		{"metadata entries 4000", func(b []byte) { le.PutUint16(b[meta+10:], 4000) }, "entries exceed"},
		{"metadata signature", func(b []byte) { copy(b[meta:], "metadaty") }, "signature"},
		{"duplicate metadata item", func(b []byte) { copy(b[meta+32+32:meta+32+48], b[meta+32:meta+48]) }, "appears twice"},
		{"unknown required item", func(b []byte) { b[meta+32+32*2] ^= 0xff; b[meta+32+32*2+24] = 4 }, "required metadata item"},
		{"missing file parameters", func(b []byte) { b[meta+32] ^= 0xff; b[meta+32+24] = 0 }, "file parameters item is missing"},
		{"differencing without locator", func(b []byte) { le.PutUint32(b[item(0)+4:], 2) }, "without a parent locator"},
		{"both headers bad", func(b []byte) {
			b[header1Offset+100] ^= 1
			b[header2Offset+100] ^= 1
		}, "neither header"},
		{"equal sequence numbers, different headers", func(b []byte) {
			le.PutUint64(b[header1Offset+8:], 7)
			le.PutUint64(b[header2Offset+8:], 7)
			b[header2Offset+200] = 1
			rechecksum(b)
		}, "both are valid with sequence number 7"},
		{"header version 2", func(b []byte) {
			le.PutUint16(b[header1Offset+66:], 2)
			le.PutUint16(b[header2Offset+66:], 2)
			rechecksum(b)
		}, "header version 2"},
		{"both region tables bad", func(b []byte) {
			b[regionTable1Offset+100] ^= 1
			b[regionTable2Offset+100] ^= 1
		}, "region table at 0x30000: CRC-32C"},
		{"region past EOF", func(b []byte) {
			le.PutUint64(b[regionTable1Offset+16+16:], 1<<40)
			le.PutUint64(b[regionTable2Offset+16+16:], 1<<40)
			rechecksum(b)
		}, "past the end"},
		{"unknown required region", func(b []byte) {
			b[regionTable1Offset+16] ^= 0xff
			b[regionTable2Offset+16] ^= 0xff
			rechecksum(b)
		}, "required region of unknown type"},
		{"region entries 5000", func(b []byte) {
			le.PutUint32(b[regionTable1Offset+8:], 5000)
			le.PutUint32(b[regionTable2Offset+8:], 5000)
			rechecksum(b)
		}, "entries exceed"},
		{"BAT entry past EOF", func(b []byte) { le.PutUint64(b[bat:], payloadFullyPresent|1<<30<<20) }, "BAT entry 0"},
		{"BAT entry offset 2^43 MiB", func(b []byte) { le.PutUint64(b[bat:], payloadFullyPresent|(1<<43)<<20) }, "BAT entry 0"},
		{"BAT entry in the header section", func(b []byte) { le.PutUint64(b[bat:], payloadFullyPresent) }, "header section"},
		{"BAT entry reserved state", func(b []byte) { le.PutUint64(b[bat:], 4|5<<20) }, "reserved state 4"},
		{"partially present without parent", func(b []byte) { le.PutUint64(b[bat:], payloadPartiallyPresent|5<<20) }, "without a parent"},
		{"log offset not aligned", func(b []byte) { setLog(b, 1, 3*mib+4096, mib) }, "log at"},
		{"log past EOF", func(b []byte) { setLog(b, 1, 1<<40, mib) }, "past the end"},
		{"log length not whole MiB", func(b []byte) { setLog(b, 1, mib, mib+1) }, "multiple of 1 MiB"},
		{"log length 4 GiB", func(b []byte) { setLog(b, 1, mib, 1<<32-mib) }, "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(base)
			tc.edit(b)
			img, err := openBytes(b, Options{})
			if err == nil {
				err = readAll(img, 1<<30)
			}
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("got %v; want an error about %q", err, tc.error)
			}
			var ce *CorruptError
			if err != nil && !errors.As(err, &ce) && !errors.Is(err, ErrUnsupported) {
				t.Errorf("error %v is neither a CorruptError nor ErrUnsupported", err)
			}
		})
	}
}

// setLog points both headers at a log and gives them a LogGuid.
func setLog(b []byte, g byte, offset, length uint64) {
	for _, off := range []int{header1Offset, header2Offset} {
		h := b[off : off+headerBytes]
		h[48] = g
		binary.LittleEndian.PutUint32(h[68:], uint32(length))
		binary.LittleEndian.PutUint64(h[72:], offset)
	}
	rechecksum(b)
}

// TestHeaderChoice: the valid header with the larger sequence number wins; a damaged one is
// skipped; two identical headers are accepted.
func TestHeaderChoice(t *testing.T) {
	base, _ := smallVHDX(t)
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		edit func(b []byte)
		want uint64
	}{
		{"second is newer", func(b []byte) {}, 2},
		{"first is newer", func(b []byte) { le.PutUint64(b[header1Offset+8:], 9); rechecksum(b) }, 9},
		{"newer one damaged", func(b []byte) { b[header2Offset+300] ^= 1 }, 1},
		{"identical", func(b []byte) { copy(b[header2Offset:header2Offset+headerBytes], b[header1Offset:]) }, 1},
		{"first region table damaged", func(b []byte) { b[regionTable1Offset+300] ^= 1 }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(base)
			tc.edit(b)
			img, err := openBytes(b, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if img.hdr.sequence != tc.want {
				t.Errorf("chose the header of sequence %d, want %d", img.hdr.sequence, tc.want)
			}
			if err := readAll(img, 1<<30); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestHostileLog: damaged logs cost bounded work and fail cleanly or replay nothing.
func TestHostileLog(t *testing.T) {
	base, l := smallVHDX(t)
	g := guid{7}
	log := func(b []byte) []byte { return b[l.logOffset : l.logOffset+logLen] }
	for _, tc := range []struct {
		name  string
		edit  func(b []byte)
		error string // "" = opens
	}{
		{"no entries", func(b []byte) {}, ""},
		{"entry claims 2^32-1 descriptors", func(b []byte) {
			writeLogEntry(log(b), logEntrySpec{at: 0, seq: 1, writes: []logWrite{{offset: 0, data: make([]byte, logSectorBytes)}}}, g)
			binary.LittleEndian.PutUint32(log(b)[24:], 0xffffffff)
		}, ""},
		{"a loge header on every sector", func(b []byte) {
			for at := int64(0); at < logLen; at += logSectorBytes {
				writeLogEntry(log(b), logEntrySpec{at: at, tail: 0, seq: uint64(at/logSectorBytes + 1)}, g)
			}
		}, ""},
		{"zero descriptor of 2^62 bytes", func(b []byte) {
			writeLogEntry(log(b), logEntrySpec{at: 0, seq: 1, writes: []logWrite{{offset: 0, zeroLen: 1 << 62}}}, g)
		}, ""},
		{"truncated file", func(b []byte) {
			writeLogEntry(log(b), logEntrySpec{at: 0, seq: 1, flushed: 1 << 40,
				writes: []logWrite{{offset: 4 * mib, data: make([]byte, logSectorBytes)}}}, g)
		}, "truncated"},
		{"last file offset 2^60", func(b []byte) {
			writeLogEntry(log(b), logEntrySpec{at: 0, seq: 1, last: 1 << 60,
				writes: []logWrite{{offset: 4 * mib, data: make([]byte, logSectorBytes)}}}, g)
		}, "LastFileOffset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(base)
			tc.edit(b)
			setLogGUID(b, g)
			img, err := openBytes(b, Options{})
			if tc.error == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := readAll(img, 1<<30); err != nil {
					t.Error(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("got %v; want an error about %q", err, tc.error)
			}
		})
	}
}

func TestDetectAndNotVHDX(t *testing.T) {
	if !Detect([]byte("vhdxfile\x00\x00")) || Detect([]byte("vhdxfil")) || Detect([]byte("conectix")) {
		t.Error("Detect")
	}
	for _, b := range [][]byte{nil, []byte("vhdxfile"), make([]byte, 2*mib)} {
		if _, err := openBytes(b, Options{}); err == nil {
			t.Errorf("Open(%.10q) succeeded", b)
		}
	}
	file, _ := smallVHDX(t)
	img, err := openBytes(file, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := img.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("negative offset accepted")
	}
	if _, err := Open(bytes.NewReader(file), -1, Options{}); err == nil {
		t.Error("negative size accepted")
	}
}

// TestHostileParentLocator: locators that point outside themselves, repeat keys, or point
// thousands of entries at one large value fail or cost little.
func TestHostileParentLocator(t *testing.T) {
	le := binary.LittleEndian
	good := parentLocator(map[string]string{"parent_linkage": "{x}", "relative_path": `a\b.vhdx`})
	kv, err := parseParentLocator(good)
	if err != nil || kv["relative_path"] != `a\b.vhdx` {
		t.Fatalf("%v %v", kv, err)
	}
	many := make([]byte, 20+12*65535+64<<10)
	copy(many, locatorTypeVHDX[:])
	le.PutUint16(many[18:], 65535)
	val := 20 + 12*65535
	for i := range 65535 {
		e := many[20+12*i:]
		le.PutUint32(e, uint32(val))
		le.PutUint16(e[8:], 0xfffe) // a 64 KiB "key": not a known one, skipped undecoded
		le.PutUint32(e[4:], uint32(val))
		le.PutUint16(e[10:], 0xfffe)
	}
	if _, err := parseParentLocator(many); err == nil || !strings.Contains(err.Error(), "no relative_path") {
		t.Errorf("65535 entries: %v", err)
	}
	dup := parentLocator(map[string]string{"relative_path": "a"})
	dup = append(dup[:20+12], dup[20:]...) // the entry twice
	le.PutUint16(dup[18:], 2)
	for i := 0; i < 2; i++ { // both entries' offsets moved by the inserted 12 bytes
		le.PutUint32(dup[20+12*i:], le.Uint32(dup[20+12*i:])+12)
		le.PutUint32(dup[20+12*i+4:], le.Uint32(dup[20+12*i+4:])+12)
	}
	if _, err := parseParentLocator(dup); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate key: %v", err)
	}
	outside := bytes.Clone(good)
	le.PutUint32(outside[20+4:], 1<<30)
	if _, err := parseParentLocator(outside); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("value outside: %v", err)
	}
	other := bytes.Clone(good)
	other[0] ^= 1
	if _, err := parseParentLocator(other); !errors.Is(err, ErrUnsupported) {
		t.Errorf("other locator type: %v", err)
	}
}
