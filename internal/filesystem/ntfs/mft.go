package ntfs

import (
	"cmp"
	"fmt"
	"io"
	"slices"
)

// mirrorRecords is how many records $MFTMirr duplicates ($MFT, $MFTMirr, $LogFile, $Volume).
const mirrorRecords = 4

// bootstrapMFT finds the $MFT stream. Record 0 describes $MFT itself; when $MFT is so fragmented
// that its runlist spills into extension records (listed by record 0's $ATTRIBUTE_LIST), those
// records are read through the part of the runlist already known, in VCN order.
func (f *FS) bootstrapMFT() error {
	cs := f.geo.clusterSize
	rec, err := f.readRecordAt(mftRecord, f.geo.mftLCN*cs)
	if err != nil || !rec.inUse() {
		mirror, merr := f.readRecordAt(mftRecord, f.geo.mirrorLCN*cs)
		if merr != nil {
			if err == nil {
				err = corrupt("MFT record 0", "$MFT's own record is not in use")
			}
			return err
		}
		rec = mirror
	}
	parts := attrsOf(rec.attrs, attrData, "")
	var list *attribute
	for i := range rec.attrs {
		if rec.attrs[i].typ == attrAttributeList {
			list = &rec.attrs[i]
		}
	}
	if list != nil {
		entries, err := f.readAttrList(list, "MFT record 0 $ATTRIBUTE_LIST")
		if err != nil {
			return err
		}
		slices.SortStableFunc(entries, func(a, b listEntry) int { return cmp.Compare(a.startVCN, b.startVCN) })
		seen := map[uint64]bool{mftRecord: true}
		for _, e := range entries {
			if e.typ != attrData || e.name != "" || seen[e.ref.num] {
				continue
			}
			seen[e.ref.num] = true
			known, err := f.partialStream(parts, "$MFT $DATA")
			if err != nil {
				return err
			}
			ext, err := f.readRecordFrom(known, e.ref.num)
			if err != nil {
				return fmt.Errorf("ntfs: $MFT extension record %d: %w", e.ref.num, err)
			}
			if ext.baseRef.num != mftRecord || ext.baseRef.seq != rec.seq || !ext.inUse() {
				return corrupt(fmt.Sprintf("MFT record %d", e.ref.num), "listed as an extension of $MFT but is an extension of record %d (sequence %d, in use %v)",
					ext.baseRef.num, ext.baseRef.seq, ext.inUse())
			}
			parts = append(parts, attrsOf(ext.attrs, attrData, "")...)
		}
	}
	if len(parts) == 0 {
		return corrupt("MFT record 0", "$MFT has no $DATA attribute")
	}
	mft, err := f.newStream(parts, "$MFT $DATA")
	if err != nil {
		return err
	}
	if mft.resident != nil || mft.compressed {
		return corrupt("MFT record 0", "$MFT $DATA is resident or compressed")
	}
	for _, r := range mft.runs {
		if r.sparse() {
			return corrupt("$MFT $DATA runlist", "hole at VCN %d", r.vcn)
		}
	}
	f.mft = mft
	f.records = uint64(mft.size / f.geo.recordSize)
	if f.records <= rootRecord {
		return corrupt("$MFT", "%d records, fewer than the root directory needs", f.records)
	}
	return nil
}

// partialStream maps the contiguous parts of $MFT known so far, without the size checks of a
// complete stream.
func (f *FS) partialStream(parts []*attribute, what string) (*stream, error) {
	s := &stream{f: f, what: what, cuNum: -1}
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b *attribute) int { return cmp.Compare(a.startVCN, b.startVCN) })
	maxVCN := maxVolumeBytes / f.geo.clusterSize
	next := int64(0)
	for _, p := range parts {
		if p.resident || p.startVCN != next {
			break
		}
		var err error
		if s.runs, err = decodeRuns(s.runs, p, f.geo.totalClusters, maxVCN, maxRunsPerStream); err != nil {
			return nil, corrupt(what+" runlist", "part in MFT record %d: %v", p.record, err)
		}
		next = p.lastVCN + 1
	}
	s.size = next * f.geo.clusterSize
	s.initSize = s.size
	return s, nil
}

// readRecord reads and parses MFT record num. The first records fall back to $MFTMirr when their
// copy in $MFT is damaged.
func (f *FS) readRecord(num uint64) (*record, error) {
	if num >= f.records {
		return nil, notExist(num)
	}
	rec, err := f.readRecordFrom(f.mft, num)
	if err != nil && num < mirrorRecords {
		if mirror, merr := f.readRecordAt(num, f.geo.mirrorLCN*f.geo.clusterSize+int64(num)*f.geo.recordSize); merr == nil {
			return mirror, nil
		}
	}
	return rec, err
}

// readRecordFrom reads record num through an $MFT stream.
func (f *FS) readRecordFrom(mft *stream, num uint64) (*record, error) {
	rs := f.geo.recordSize
	if num > uint64(mft.size/rs) || int64(num)*rs+rs > mft.size {
		return nil, corrupt(fmt.Sprintf("MFT record %d", num), "lies past the %d bytes of $MFT mapped", mft.size)
	}
	buf := make([]byte, rs)
	n, err := mft.ReadAt(buf, int64(num)*rs)
	if n < len(buf) {
		if err == nil || err == io.EOF {
			err = errShortRead
		}
		return nil, fmt.Errorf("ntfs: MFT record %d: %w", num, err)
	}
	return parseRecord(num, buf)
}

// readRecordAt reads a record at a byte offset of the volume (record 0 before $MFT is mapped, and
// $MFTMirr).
func (f *FS) readRecordAt(num uint64, off int64) (*record, error) {
	buf := make([]byte, f.geo.recordSize)
	if err := f.readVolume(buf, off, fmt.Sprintf("MFT record %d", num)); err != nil {
		return nil, err
	}
	return parseRecord(num, buf)
}

// attrsOf returns pointers to the attributes of a type and name.
func attrsOf(attrs []attribute, typ uint32, name string) []*attribute {
	var out []*attribute
	for i := range attrs {
		if attrs[i].typ == typ && attrs[i].name == name {
			out = append(out, &attrs[i])
		}
	}
	return out
}
