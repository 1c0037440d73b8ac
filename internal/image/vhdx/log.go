package vhdx

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
)

// logEntry is a log entry that passed every check of MS-VHDX 2.3.1.
type logEntry struct {
	offset      int64 // in the log
	length      int64
	tail        int64
	sequence    uint64
	flushedSize uint64 // FlushedFileOffset
	lastSize    uint64 // LastFileOffset
	descriptors []logDescriptor
}

// logDescriptor is a data descriptor (write one 4 KiB page) or a zero descriptor.
type logDescriptor struct {
	zero       bool
	fileOffset int64
	zeroLength int64
	data       logRef
}

// Log entry layout: a 64-byte header and up to 126 descriptors in the first 4 KiB sector, 128
// descriptors in each further descriptor sector, then one data sector per data descriptor.
const (
	logHeaderBytes     = 64
	descriptorBytes    = 32
	descriptorsInFirst = (logSectorBytes - logHeaderBytes) / descriptorBytes
	descriptorsPerMore = logSectorBytes / descriptorBytes
)

// replayLog returns the view of the file after replaying the active log sequence, or the raw
// file when the header's LogGuid says the log is empty. Nothing is written: the replayed pages
// are referenced from the log, which stays where it is.
func replayLog(r io.ReaderAt, fileSize int64, h *header) (*view, error) {
	if h.logGUID.isZero() || h.logLength == 0 {
		return rawView(r, fileSize), nil
	}
	what := fmt.Sprintf("log at 0x%x", h.logOffset)
	length := int64(h.logLength)
	switch {
	case h.logOffset%mib != 0 || h.logOffset < headerSectionBytes:
		return nil, corrupt(what, "offset is not a multiple of 1 MiB after the header section")
	case length%mib != 0:
		return nil, corrupt(what, "length %d is not a multiple of 1 MiB", length)
	case length > maxLogBytes:
		return nil, corrupt(what, "length %d exceeds the %d bytes this reader replays", length, maxLogBytes)
	case h.logOffset > uint64(fileSize) || int64(h.logOffset) > fileSize-length:
		return nil, corrupt(what, "its %d bytes run past the end of the %d-byte file", length, fileSize)
	}
	log := make([]byte, length)
	if err := readFull(r, log, int64(h.logOffset)); err != nil {
		return nil, fmt.Errorf("vhdx: reading %s: %w", what, err)
	}
	l := &logScan{log: log, base: int64(h.logOffset), guid: h.logGUID, parsed: map[int64]*logEntry{}}
	active := l.activeSequence()
	if len(active) == 0 {
		// MS-VHDX calls this corrupt; qemu opens such files as they are, which is what a
		// crash between setting LogGuid and writing the first entry leaves behind.
		return rawView(r, fileSize), nil
	}
	head := active[len(active)-1]
	if uint64(fileSize) < head.flushedSize {
		return nil, corrupt(what, "the file is %d bytes but the log says it was flushed at %d: it was truncated",
			fileSize, head.flushedSize)
	}
	return buildView(r, fileSize, active, head)
}

// buildView replays the entries, in order, into page references and zeroed ranges.
func buildView(r io.ReaderAt, fileSize int64, entries []*logEntry, head *logEntry) (*view, error) {
	v := &view{r: r, rawSize: fileSize, size: fileSize, pages: map[int64]logRef{}}
	if head.lastSize > maxFileBytes {
		return nil, corrupt("log entry", "LastFileOffset %d exceeds %d", head.lastSize, int64(maxFileBytes))
	}
	v.size = max(v.size, int64(head.lastSize))
	for _, e := range entries {
		for _, d := range e.descriptors {
			if !d.zero {
				v.pages[d.fileOffset/logSectorBytes] = d.data
				v.size = max(v.size, d.fileOffset+logSectorBytes)
				continue
			}
			end := d.fileOffset + d.zeroLength
			// Pages written before this zeroing are gone; iterate whichever is smaller.
			if pages := d.zeroLength / logSectorBytes; pages < int64(len(v.pages)) {
				for pi := d.fileOffset / logSectorBytes; pi < end/logSectorBytes; pi++ {
					delete(v.pages, pi)
				}
			} else {
				for pi := range v.pages {
					if pi*logSectorBytes >= d.fileOffset && pi*logSectorBytes < end {
						delete(v.pages, pi)
					}
				}
			}
			v.zeros = append(v.zeros, byteRange{d.fileOffset, end})
			v.size = max(v.size, end)
		}
	}
	v.zeros = mergeRanges(v.zeros)
	return v, nil
}

func mergeRanges(rs []byteRange) []byteRange {
	sort.Slice(rs, func(i, j int) bool { return rs[i].start < rs[j].start })
	var out []byteRange
	for _, r := range rs {
		if n := len(out); n > 0 && r.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, r.end)
			continue
		}
		out = append(out, r)
	}
	return out
}

// logScan finds the active sequence of a log held in memory.
type logScan struct {
	log    []byte
	base   int64 // file offset of the log
	guid   guid
	parsed map[int64]*logEntry // entries by log offset; nil for offsets that hold none
}

// activeSequence follows MS-VHDX 2.3.3: from every 4 KiB offset, extend a sequence of valid
// entries with consecutive sequence numbers; a sequence whose head entry's tail lies within it
// is valid; the valid one with the largest head sequence number is active, and its entries from
// the tail to the head are replayed. Each offset is parsed at most once.
func (l *logScan) activeSequence() []*logEntry {
	size := int64(len(l.log))
	var best []*logEntry
	for tail, oldTail := int64(0), int64(0); ; oldTail = tail {
		var seq []*logEntry
		at := tail
		for covered := int64(0); covered < size; {
			e := l.entry(at)
			if e == nil || (len(seq) > 0 && e.sequence != seq[len(seq)-1].sequence+1) {
				break
			}
			seq = append(seq, e)
			covered += e.length
			at = (at + e.length) % size
		}
		if active := fromTail(seq); active != nil && (best == nil || active[len(active)-1].sequence > best[len(best)-1].sequence) {
			best = active
		}
		if len(seq) == 0 {
			tail += logSectorBytes
			if tail == size {
				tail = 0
			}
		} else {
			// MS-VHDX steps 4 KiB past an incomplete sequence; but no entry starts inside a valid
			// entry (its sectors start with "desc", "zero" or "data"), and a sequence from a later
			// entry ends at the same head and is as incomplete: jumping to the head is the same
			// scan without its quadratic cost.
			tail = at
		}
		if tail <= oldTail {
			return best
		}
	}
}

// fromTail returns seq from the entry its head's Tail field points at, or nil when that entry
// is not in seq (the sequence is incomplete).
func fromTail(seq []*logEntry) []*logEntry {
	if len(seq) == 0 {
		return nil
	}
	for i, e := range seq {
		if e.offset == seq[len(seq)-1].tail {
			return seq[i:]
		}
	}
	return nil
}

// entry returns the valid log entry at offset off of the log, or nil.
func (l *logScan) entry(off int64) *logEntry {
	if e, ok := l.parsed[off]; ok {
		return e
	}
	e := l.parse(off)
	l.parsed[off] = e
	return e
}

// sector returns the 4 KiB sector i of the entry at off, wrapping around the end of the log.
func (l *logScan) sector(off, i int64) []byte {
	at := (off + i*logSectorBytes) % int64(len(l.log))
	return l.log[at : at+logSectorBytes]
}

// parse checks everything that is cheap (signatures, sequence numbers, counts) before the
// checksum over the whole entry, so that a log full of entry-like sectors costs little.
func (l *logScan) parse(off int64) *logEntry {
	le := binary.LittleEndian
	first := l.sector(off, 0)
	size := int64(len(l.log))
	e := &logEntry{
		offset:      off,
		length:      int64(le.Uint32(first[8:])),
		tail:        int64(le.Uint32(first[12:])),
		sequence:    le.Uint64(first[16:]),
		flushedSize: le.Uint64(first[48:]),
		lastSize:    le.Uint64(first[56:]),
	}
	count := int64(le.Uint32(first[24:]))
	var g guid
	copy(g[:], first[32:])
	if string(first[:4]) != "loge" || g != l.guid || e.sequence == 0 ||
		e.length < logSectorBytes || e.length%logSectorBytes != 0 || e.length > size ||
		e.tail%logSectorBytes != 0 || e.tail >= size {
		return nil
	}
	sectors := e.length / logSectorBytes
	descSectors := int64(1)
	if count > descriptorsInFirst {
		descSectors += (count - descriptorsInFirst + descriptorsPerMore - 1) / descriptorsPerMore
	}
	if descSectors > sectors {
		return nil
	}
	e.descriptors = make([]logDescriptor, 0, min(count, 1024))
	dataSector := descSectors
	for k := int64(0); k < count; k++ {
		s, at := int64(0), logHeaderBytes+k*descriptorBytes
		if k >= descriptorsInFirst {
			s = 1 + (k-descriptorsInFirst)/descriptorsPerMore
			at = (k - descriptorsInFirst) % descriptorsPerMore * descriptorBytes
		}
		b := l.sector(off, s)[at : at+descriptorBytes]
		if le.Uint64(b[24:]) != e.sequence {
			return nil
		}
		d := logDescriptor{fileOffset: int64(le.Uint64(b[16:]))}
		switch string(b[:4]) {
		case "zero":
			d.zero = true
			d.zeroLength = int64(le.Uint64(b[8:]))
			if d.zeroLength <= 0 || d.zeroLength%logSectorBytes != 0 || d.zeroLength > maxFileBytes {
				return nil
			}
		case "desc":
			if dataSector >= sectors {
				return nil
			}
			ds := l.sector(off, dataSector)
			if string(ds[:4]) != "data" || le.Uint32(ds[4:]) != uint32(e.sequence>>32) ||
				le.Uint32(ds[logSectorBytes-4:]) != uint32(e.sequence) {
				return nil
			}
			d.data.sector = l.base + (off+dataSector*logSectorBytes)%size
			copy(d.data.leading[:], b[8:16])
			copy(d.data.trailing[:], b[4:8])
			dataSector++
		default:
			return nil
		}
		if d.fileOffset < 0 || d.fileOffset%logSectorBytes != 0 || d.fileOffset > maxFileBytes-d.zeroLength-logSectorBytes {
			return nil
		}
		e.descriptors = append(e.descriptors, d)
	}
	if dataSector != sectors {
		return nil // data sectors must be exactly those the descriptors need
	}
	// The checksum covers the whole entry with its checksum field as zero.
	c := crc32.Update(0, castagnoli, first[:4])
	c = crc32.Update(c, castagnoli, []byte{0, 0, 0, 0})
	c = crc32.Update(c, castagnoli, first[8:])
	for i := int64(1); i < sectors; i++ {
		c = crc32.Update(c, castagnoli, l.sector(off, i))
	}
	if c != le.Uint32(first[4:]) {
		return nil
	}
	return e
}
