package unpack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// overlapZip writes David Fifield's "better zip bomb" shapes: every central directory entry
// pointing at one local file (full), or each entry's data quoting the next entry's local
// header in a stored deflate block (quoted), so that every entry inflates to the kernel.
func overlapZip(kernel []byte, n int, quoted bool) []byte {
	var kc bytes.Buffer
	fw, _ := flate.NewWriter(&kc, flate.BestCompression)
	fw.Write(kernel)
	fw.Close()
	k := kc.Bytes()
	name := func(i int) string { return fmt.Sprintf("f%05d", i) }
	lh := func(i int, crc uint32, csize, usize int) []byte {
		b := make([]byte, 30, 30+len(name(i)))
		copy(b, zipLocalSig)
		binary.LittleEndian.PutUint16(b[4:], 20)
		binary.LittleEndian.PutUint16(b[8:], 8)
		binary.LittleEndian.PutUint32(b[14:], crc)
		binary.LittleEndian.PutUint32(b[18:], uint32(csize))
		binary.LittleEndian.PutUint32(b[22:], uint32(usize))
		binary.LittleEndian.PutUint16(b[26:], uint16(len(name(i))))
		return append(b, name(i)...)
	}
	type ent struct {
		off, csize, usize int
		crc               uint32
	}
	ents := make([]ent, n)
	var body []byte
	if !quoted {
		crc := crc32.ChecksumIEEE(kernel)
		body = append(lh(0, crc, len(k), len(kernel)), k...)
		for i := range ents {
			ents[i] = ent{0, len(k), len(kernel), crc}
		}
	} else {
		// Built back to front: entry i's output is the local headers after it, then the kernel.
		out, data := kernel, k
		headers := make([][]byte, n)
		for i := n - 1; i >= 0; i-- {
			crc := crc32.ChecksumIEEE(out)
			headers[i] = lh(i, crc, len(data), len(out))
			ents[i] = ent{crc: crc, csize: len(data), usize: len(out)}
			if i > 0 {
				quote := []byte{0, 0, 0, 0, 0}
				binary.LittleEndian.PutUint16(quote[1:], uint16(len(headers[i])))
				binary.LittleEndian.PutUint16(quote[3:], ^uint16(len(headers[i])))
				data = append(append(quote, headers[i]...), data...)
				out = append(append([]byte{}, headers[i]...), out...)
			}
		}
		for i := 0; i < n; i++ {
			ents[i].off = len(body)
			body = append(body, headers[i]...)
			if i < n-1 {
				body = append(body, 0, byte(len(headers[i+1])), byte(len(headers[i+1])>>8), ^byte(len(headers[i+1])), ^byte(len(headers[i+1])>>8))
			}
		}
		body = append(body, k...)
	}
	cdStart := len(body)
	for i, e := range ents {
		c := make([]byte, 46)
		copy(c, zipCentralSig)
		binary.LittleEndian.PutUint16(c[4:], 20)
		binary.LittleEndian.PutUint16(c[6:], 20)
		binary.LittleEndian.PutUint16(c[10:], 8)
		binary.LittleEndian.PutUint32(c[16:], e.crc)
		binary.LittleEndian.PutUint32(c[20:], uint32(e.csize))
		binary.LittleEndian.PutUint32(c[24:], uint32(e.usize))
		binary.LittleEndian.PutUint16(c[28:], uint16(len(name(i))))
		binary.LittleEndian.PutUint32(c[42:], uint32(e.off))
		body = append(append(body, c...), name(i)...)
	}
	end := make([]byte, 22)
	copy(end, zipEndSig)
	binary.LittleEndian.PutUint16(end[8:], uint16(n))
	binary.LittleEndian.PutUint16(end[10:], uint16(n))
	binary.LittleEndian.PutUint32(end[12:], uint32(len(body)-cdStart))
	binary.LittleEndian.PutUint32(end[16:], uint32(cdStart))
	return append(body, end...)
}

func TestBombOverlappingZip(t *testing.T) {
	kernel := bytes.Repeat([]byte("password=hunter2 "), 6000) // compressible, but not a ratio bomb
	for _, quoted := range []bool{false, true} {
		t.Run(fmt.Sprintf("quoted=%v", quoted), func(t *testing.T) {
			z := overlapZip(kernel, 2000, quoted)
			// Info-ZIP's unzip (Debian's, with the overlap check) agrees that it is this bomb.
			if _, err := exec.LookPath("unzip"); err == nil {
				path := filepath.Join(t.TempDir(), "bomb.zip")
				if err := writeFile(path, z); err != nil {
					t.Fatal(err)
				}
				out, _ := exec.Command("unzip", "-t", path).CombinedOutput()
				if !strings.Contains(string(out), "overlapped components") {
					t.Errorf("unzip -t does not see an overlap bomb:\n%s", out)
				}
			}
			res := walk(t, "bomb.zip", z, Limits{})
			wantErr(t, res, ErrLimit, "bomb.zip!f00001: zip: bomb", "overlapping entries", "1998 more")
			wantErrs := 1
			if quoted {
				// The one member read starts with the next local header, so it looks like a
				// zip; it is not one, and is offered as it is.
				wantErr(t, res, nil, "bomb.zip!f00000: zip: no end of central directory")
				wantErrs = 2
			}
			if len(res.sums) != 1 || len(res.errs) != wantErrs {
				t.Errorf("%d members read, %d errors; want 1 and %d:\n%s", len(res.sums), len(res.errs), wantErrs, res.errText())
			}
			if res.read > 2*int64(len(kernel))+int64(len(z)) {
				t.Errorf("read %d bytes", res.read)
			}
		})
	}
}

// zipEnd64 is an end of central directory (zip64 form) claiming entries records of cdSize bytes.
func zipEnd64(body []byte, cdStart int, entries, cdSize uint64) []byte {
	rec := make([]byte, 56)
	copy(rec, zip64EndSig)
	binary.LittleEndian.PutUint64(rec[4:], 44)
	binary.LittleEndian.PutUint64(rec[24:], entries)
	binary.LittleEndian.PutUint64(rec[32:], entries)
	binary.LittleEndian.PutUint64(rec[40:], cdSize)
	binary.LittleEndian.PutUint64(rec[48:], uint64(cdStart))
	loc := make([]byte, 20)
	copy(loc, zip64LocSig)
	binary.LittleEndian.PutUint64(loc[8:], uint64(len(body)))
	binary.LittleEndian.PutUint32(loc[16:], 1)
	end := make([]byte, 22)
	copy(end, zipEndSig)
	for i := 8; i < 20; i++ {
		end[i] = 0xff
	}
	out := append(append(append(append([]byte{}, body...), rec...), loc...), end...)
	return out
}

func TestBombZipClaimsBillionEntries(t *testing.T) {
	real := makeZip(t, map[string][]byte{"a": []byte("a"), "b": []byte("b"), "c": []byte("c")}, zip.Deflate)
	d, err := findZipDir(bytes.NewReader(real), int64(len(real)), zipMaxTail)
	if err != nil {
		t.Fatal(err)
	}
	body := real[:d.end] // records, without the end record
	start := time.Now()
	// 10^9 entries in a directory that is really three records long: three members.
	res := walk(t, "claim.zip", zipEnd64(body, int(d.start), 1e9, uint64(d.end-d.start)), Limits{})
	wantMembers(t, res, map[string][]byte{"claim.zip!a": []byte("a"), "claim.zip!b": []byte("b"), "claim.zip!c": []byte("c")})
	// 10^9 entries in a directory larger than the file: refused at once.
	res = walk(t, "claim2.zip", zipEnd64(body, int(d.start), 1e9, 46e9), Limits{})
	wantErr(t, res, nil, "claim2.zip: zip: central directory beyond the end record")
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	// More real records than MaxEntries: the limit, after exactly MaxEntries members.
	many := map[string][]byte{}
	for i := 0; i < 50; i++ {
		many[fmt.Sprintf("m%02d", i)] = []byte{byte(i)}
	}
	res = walk(t, "many.zip", makeZip(t, many, zip.Store), Limits{MaxEntries: 10})
	wantErr(t, res, ErrLimit, "many.zip: zip: more than 10 members")
	if len(res.sums) != 10 {
		t.Errorf("%d members read, want 10", len(res.sums))
	}
	res = walk(t, "many.tar", makeTar(t, many, tar.FormatPAX), Limits{MaxEntries: 10})
	wantErr(t, res, ErrLimit, "many.tar: tar: more than 10 members")
}
