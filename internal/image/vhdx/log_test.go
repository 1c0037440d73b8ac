package vhdx

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// replayedByQemu lets qemu replay the log of a copy of path (qemu replays on a read-write open)
// and returns qemu-img's raw conversion of the result: the reference for log replay.
func replayedByQemu(t testing.TB, path string) string {
	t.Helper()
	fixture.Need(t, "qemu-io", "qemu-img")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "replayed.vhdx")
	if err := os.WriteFile(cp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fixture.Run(t, "qemu-io", "-f", "vhdx", "-c", "read 0 512", cp)
	h := currentHeader(t, cp)
	if !h.logGUID.isZero() {
		t.Fatal("qemu did not replay the log")
	}
	return fixture.ToRaw(t, cp)
}

func currentHeader(t testing.TB, path string) *header {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	h, err := readHeader(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// setLogGUID writes g into both headers of file (recomputing their checksums).
func setLogGUID(file []byte, g guid) {
	for _, off := range []int{header1Offset, header2Offset} {
		h := file[off : off+headerBytes]
		copy(h[48:], g[:])
		binary.LittleEndian.PutUint32(h[4:], checksum(h))
	}
}

// TestQemuLog reads a VHDX whose log qemu wrote: qemu-io writes blocks (qemu logs the BAT
// updates) and aborts, then the file is put in the state of a crash between the log flush and
// the BAT write: the BAT as it was before, the header's LogGuid set. Only replaying the log
// gives the written blocks; qemu's own replay is the reference.
func TestQemuLog(t *testing.T) {
	fixture.Need(t, "qemu-img", "qemu-io")
	dir := t.TempDir()
	path := filepath.Join(dir, "log.vhdx")
	fixture.Run(t, "qemu-img", "create", "-q", "-f", "vhdx", "-o", "block_size=1M", path, "64M")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// qemu-io exits through abort(3): its exit status is expected to be an error.
	_, _ = fixture.RunEnv(nil, "qemu-io", "-f", "vhdx", "-c", "write -P 0xab 0 1M", "-c", "write -P 0xcd 5M 64k",
		"-c", "write -P 0xef 63M 4k", "-c", "abort", path)
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img := mustOpen(t, path, Options{})
	bat := img.bat.region
	// Each entry carries the LogGuid qemu used for it (qemu clears the header's after every
	// flush): the newest entry's is the one a crash would have left in the header.
	var g guid
	newest := uint64(0)
	for off := int(img.hdr.logOffset); off < int(img.hdr.logOffset)+int(img.hdr.logLength); off += logSectorBytes {
		if seq := binary.LittleEndian.Uint64(after[off+16:]); string(after[off:off+4]) == "loge" && seq > newest {
			newest = seq
			copy(g[:], after[off+32:])
		}
	}
	if newest == 0 {
		t.Fatal("qemu wrote no log entry")
	}
	crashed := bytes.Clone(after)
	copy(crashed[bat.offset:bat.offset+bat.length], before[bat.offset:bat.offset+bat.length])
	setLogGUID(crashed, g)
	crashedPath := filepath.Join(dir, "crashed.vhdx")
	if err := os.WriteFile(crashedPath, crashed, 0o644); err != nil {
		t.Fatal(err)
	}

	want := make([]byte, 64*mib)
	copy(want[:mib], bytes.Repeat([]byte{0xab}, mib))
	copy(want[5*mib:], bytes.Repeat([]byte{0xcd}, 64<<10))
	copy(want[63*mib:], bytes.Repeat([]byte{0xef}, 4096))
	got := mustOpen(t, crashedPath, Options{})
	if len(got.v.pages) == 0 {
		t.Fatal("no log replayed")
	}
	sameAsBytes(t, got, want)
	sameAsFile(t, got, replayedByQemu(t, crashedPath))
}

// TestHandWrittenLog builds logs by hand following MS-VHDX 2.3: an active sequence of three
// entries that wraps around the end of the log, whose first entry restores a stale BAT page,
// with a zero descriptor ordered between data descriptors and an entry of 200 descriptors
// (several descriptor sectors); around it an older sequence, an entry chained before the tail,
// an entry with another LogGuid and a higher sequence number, and one with a bad checksum.
// The expected bytes are computed here. qemu's replay is a second reference for the variant it
// handles: qemu fails to open entries of more than 126 descriptors and replays entries chained
// before the tail, both against MS-VHDX.
func TestHandWrittenLog(t *testing.T) {
	for _, full := range []bool{true, false} {
		name := "spec"
		if !full {
			name = "qemu-compatible"
		}
		t.Run(name, func(t *testing.T) {
			file, want := handWrittenLog(t, full)
			path := filepath.Join(t.TempDir(), "hand.vhdx")
			if err := os.WriteFile(path, file, 0o644); err != nil {
				t.Fatal(err)
			}
			img := mustOpen(t, path, Options{})
			sameAsBytes(t, img, want)
			if !full {
				sameAsFile(t, img, replayedByQemu(t, path))
			}
		})
	}
}

// handWrittenLog returns the file of TestHandWrittenLog and the guest bytes replay must give;
// full adds what qemu does not handle as MS-VHDX says.
func handWrittenLog(t testing.TB, full bool) (file, want []byte) {
	const size = 16 * mib
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(31, 41))
	fillRandom(rng, data[:8*mib])
	file, l := buildVHDX(spec{size: size, data: data})
	// Make the BAT stale: its first page (blocks 0-7 are all there is) says nothing is present.
	goodBAT := bytes.Clone(file[l.batOffset : l.batOffset+logSectorBytes])
	clear(file[l.batOffset : l.batOffset+logSectorBytes])
	block := func(b int64) int64 { // file offset of payload block b
		return int64(binary.LittleEndian.Uint64(goodBAT[(b+b/l.chunkRatio)*8:])>>20) * mib
	}
	page := func(fill byte) []byte { return bytes.Repeat([]byte{fill}, logSectorBytes) }
	x := block(1) + 8*logSectorBytes // a page in payload block 1 (guest 1 MiB + 32 KiB)
	y := block(3)                    // pages from the start of payload block 3
	bigCount := 198
	if !full {
		bigCount = 100
	}
	var big []logWrite
	for i := range int64(bigCount) {
		p := make([]byte, logSectorBytes)
		fillRandom(rng, p)
		big = append(big, logWrite{offset: y + i*logSectorBytes, data: p})
	}
	g := guid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	other := guid{9, 9, 9}
	sector := func(n int64) int64 { return n * logSectorBytes }
	// Active sequence: 20 at sector 216 (3 sectors), 21 at 219 (1 sector), 22 at 220 (1 or 2
	// descriptor sectors and its data sectors) wrapping around the end of the 256-sector log.
	at20, at21, at22 := sector(216), sector(219), sector(220)
	end22 := sector((220 + 2 + 200) % 256)
	if !full {
		end22 = sector((220 + 1 + 102) % 256)
	}
	entries := []logEntrySpec{
		{at: at20, tail: at20, seq: 20, writes: []logWrite{
			{offset: l.batOffset, data: goodBAT},
			{offset: x, data: page(0x20)},
		}},
		{at: at21, tail: at20, seq: 21, writes: []logWrite{{offset: x, zeroLen: 4 * logSectorBytes}}},
		{at: at22, tail: at20, seq: 22, writes: append([]logWrite{
			{offset: x + logSectorBytes, data: page(0x22)},
			{offset: x + 3*logSectorBytes, data: page(0x23)},
		}, big...)},
		// Right after the head: a bad checksum ends the sequence.
		{at: end22, tail: at20, seq: 23, badChecksum: true, writes: []logWrite{{offset: x + 4*logSectorBytes, data: page(0xba)}}},
		// An older valid sequence.
		{at: end22 + sector(4), tail: end22 + sector(4), seq: 3, writes: []logWrite{{offset: x + 7*logSectorBytes, data: page(0x33)}}},
		// Another LogGuid with a higher sequence number.
		{at: sector(200), tail: sector(200), seq: 500, guid: &other, writes: []logWrite{{offset: x + 5*logSectorBytes, data: page(0xee)}}},
	}
	if full {
		// Chained to the active sequence but before its tail: not replayed.
		entries = append(entries, logEntrySpec{at: sector(214), tail: sector(214), seq: 19,
			writes: []logWrite{{offset: x + 6*logSectorBytes, data: page(0x19)}}})
	}
	log := file[l.logOffset : l.logOffset+logLen]
	for _, e := range entries {
		writeLogEntry(log, e, g)
	}
	setLogGUID(file, g)

	want = bytes.Clone(data)
	guest := func(fileOff int64) int64 { // guest offset of a file offset in blocks 1 or 3
		for _, b := range []int64{1, 3} {
			if fileOff >= block(b) && fileOff < block(b)+mib {
				return b*mib + fileOff - block(b)
			}
		}
		t.Fatalf("file offset 0x%x outside the test blocks", fileOff)
		return 0
	}
	clear(want[guest(x) : guest(x)+4*logSectorBytes])
	copy(want[guest(x+logSectorBytes):], page(0x22))
	copy(want[guest(x+3*logSectorBytes):], page(0x23))
	for _, w := range big {
		copy(want[guest(w.offset):], w.data)
	}
	return file, want
}
