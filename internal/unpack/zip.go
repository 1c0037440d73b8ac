package unpack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
)

// zip walks a zip archive (jar, war, ear, apk, docx, xlsx and the rest) through its central
// directory, in two passes. The first records where each member's bytes lie and marks members
// that share bytes with another: the overlapping-entry bomb (David Fifield, "A better zip
// bomb", 2019) makes thousands of entries out of one compressed kernel, which no honest writer
// does. The second yields the members. Both passes read at most MaxEntries+1 records, so an end
// record claiming 10^9 entries costs nothing, and memory per member is a fixed 32 bytes.
func (w *walker) zip(n node) {
	r, size := n.ra, n.size
	fail := func(err error) { w.emit(Member{Path: n.path, Depth: n.depth}, locate(n.path, KindZip, err)) }
	if r == nil {
		sp, err := spool(n.r, w.lim.MaxEntryBytes, n.path)
		if err != nil {
			fail(err)
			return
		}
		defer sp.Close()
		r, size = sp, sp.size
	}
	d, err := findZipDir(r, size, zipMaxTail)
	if err != nil {
		// Not a zip after all (a file that merely starts like one, a truncated archive): when
		// its bytes are held here, the consumer may still read them as they are.
		m := Member{Path: n.path, Size: size, ModTime: n.mtime, Depth: n.depth}
		if n.ra == nil {
			m.Open = func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(r, 0, size)), nil }
		}
		w.emit(m, locate(n.path, KindZip, err))
		return
	}
	spans := zipSpans(r, size, d, w.lim.MaxEntries+1)
	overlapping := 0
	for _, s := range spans {
		if s.owner >= 0 {
			overlapping++
		}
	}
	recs := newZipRecords(r, d)
	for i := 0; i < len(spans) && w.alive(); i++ {
		e, err := recs.next(true)
		if err != nil {
			if err != io.EOF {
				fail(err)
			}
			return
		}
		if i == w.lim.MaxEntries {
			w.emit(Member{Path: n.path, Depth: n.depth}, &LimitError{Path: n.path, Limit: "MaxEntries",
				Msg: fmt.Sprintf("zip: more than %d members; the rest are skipped", w.lim.MaxEntries)})
			return
		}
		if e.isDir() || e.symlink {
			continue
		}
		s := spans[i]
		if s.owner >= 0 {
			if overlapping > 0 { // reported once per archive
				m := Member{Path: n.path + Sep + cleanName(e.name), Depth: n.depth + 1}
				if !w.emit(m, &LimitError{Path: m.Path, Limit: "Overlap", Msg: fmt.Sprintf(
					"zip: bomb: member shares its bytes with entry %d (overlapping entries); it and %d more such members are not read",
					s.owner+1, overlapping-1)}) {
					return
				}
				overlapping = 0
			}
			continue
		}
		if !w.zipMember(n, r, e, s) {
			return
		}
	}
}

// zipMember checks that one member can be read and hands it to member.
func (w *walker) zipMember(n node, r io.ReaderAt, e zipEntry, s zipSpan) bool {
	path := n.path + Sep + cleanName(e.name)
	fail := func(err error) bool {
		return w.emit(Member{Path: path, Size: e.usize, ModTime: e.mtime, Depth: n.depth + 1}, locate(path, KindZip, err))
	}
	switch {
	case e.malformed != nil:
		return fail(e.malformed)
	case e.encrypted():
		return fail(ErrEncrypted)
	case zipMethodFormat(e.method) == "":
		return fail(fmt.Errorf("compression method %d (%s): %w", e.method, zipMethodName(e.method), ErrUnsupported))
	case s.data < 0:
		return fail(errors.New("local header missing, or data beyond the end of the file"))
	}
	open := func() (io.ReadCloser, error) { return w.zipStream(path, r, e, s) }
	rc, err := open()
	if err != nil {
		return fail(err)
	}
	defer rc.Close()
	return w.member(n, e.name, e.usize, e.mtime, rc, open)
}

// zipMethodFormat names the decompressor for a zip compression method; "" when there is none.
func zipMethodFormat(method uint16) string {
	switch method {
	case 0:
		return "stored"
	case 8:
		return "deflate"
	case 12:
		return KindBzip2
	case 93:
		return KindZstd
	case 95:
		return KindXZ
	}
	return ""
}

// zipStream opens one member's bytes: decompressed and metered, then checked against the
// declared size and CRC-32, which catches lying headers.
func (w *walker) zipStream(path string, r io.ReaderAt, e zipEntry, s zipSpan) (io.ReadCloser, error) {
	raw := io.NewSectionReader(r, s.data, e.csize)
	var rc io.ReadCloser = io.NopCloser(raw)
	if e.method != 0 {
		var err error
		if rc, err = w.decompress(zipMethodFormat(e.method), path, raw, e.csize); err != nil {
			return nil, err
		}
	}
	return &zipCheck{ReadCloser: rc, path: path, left: e.usize, want: e.crc}, nil
}

// zipCheck holds a member to its declared size and checksum.
type zipCheck struct {
	io.ReadCloser
	path      string
	left      int64
	crc, want uint32
}

func (z *zipCheck) Read(p []byte) (int, error) {
	n, err := z.ReadCloser.Read(p)
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p[:n])
	z.left -= int64(n)
	switch {
	case z.left < 0:
		err = errors.New("member longer than its declared size (lying header)")
	case err == io.EOF && z.left > 0:
		err = fmt.Errorf("member shorter than its declared size: %w", io.ErrUnexpectedEOF)
	case err == io.EOF && z.crc != z.want:
		err = fmt.Errorf("checksum mismatch (CRC-32 %08x, header says %08x)", z.crc, z.want)
	}
	if err != nil && err != io.EOF {
		err = locate(z.path, KindZip, err)
	}
	return n, err
}

// zipSpan is where one member's bytes lie in the file.
type zipSpan struct {
	start int64 // local header
	data  int64 // compressed data; -1 when the local header is missing or the data runs past the file
	end   int64 // end of the compressed data
	owner int32 // index of the earlier-placed member whose bytes this one overlaps; -1 for none
}

// zipSpans is the first pass: the span of each of the first max records, overlaps marked.
func zipSpans(r io.ReaderAt, size int64, d zipDir, max int) []zipSpan {
	recs := newZipRecords(r, d)
	var spans []zipSpan
	lh := make([]byte, zipLocalLen)
	for len(spans) < max {
		e, err := recs.next(false)
		if err != nil {
			break
		}
		s := zipSpan{start: d.base + e.offset, data: -1, owner: -1}
		if e.malformed == nil && s.start >= 0 && s.start <= size-zipLocalLen {
			if _, err := r.ReadAt(lh, s.start); err == nil && string(lh[:4]) == zipLocalSig {
				data := s.start + zipLocalLen + int64(binary.LittleEndian.Uint16(lh[26:])) + int64(binary.LittleEndian.Uint16(lh[28:]))
				if e.csize <= size-data {
					s.data, s.end = data, data+e.csize
				}
			}
		}
		spans = append(spans, s)
	}
	markOverlaps(spans)
	return spans
}

// markOverlaps sets owner on every span that starts before an earlier-placed span has ended.
// Of members sharing bytes, the one placed first is read; the others are not.
func markOverlaps(spans []zipSpan) {
	order := make([]int32, 0, len(spans))
	for i, s := range spans {
		if s.data >= 0 {
			order = append(order, int32(i))
		}
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		return int(min(max(spans[a].start-spans[b].start, -1), 1))
	})
	owner, reach := int32(-1), int64(-1)
	for _, i := range order {
		s := &spans[i]
		if owner >= 0 && s.start < reach {
			s.owner = owner
		} else {
			owner = i
		}
		reach = max(reach, s.end)
	}
}
