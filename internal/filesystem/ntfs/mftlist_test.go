package ntfs

import (
	"encoding/binary"
	"fmt"
	"maps"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// extensionRecord is the reserved MFT record the test turns into an extension of $MFT.
const extensionRecord = 15

// splitMFT rewrites record 0 so that $MFT's $DATA is split in two: VCNs 0..k-1 stay in record 0,
// the rest moves to an extension record named by a new $ATTRIBUTE_LIST, as NTFS does when $MFT
// is too fragmented for one record. tweak may damage the extension record.
func splitMFT(p *patchable, img []byte, k int64, tweak func(ext []byte, dataAt int)) {
	p.t.Helper()
	runs := p.v.mft.runs
	last := runs[len(runs)-1].vcn + runs[len(runs)-1].length - 1
	if runs[0].length <= k {
		p.t.Fatalf("the first $MFT run has %d clusters, the split needs more than %d", runs[0].length, k)
	}
	partA := []run{{0, runs[0].lcn, k}}
	partB := append([]run{{k, runs[0].lcn + k, runs[0].length - k}}, runs[1:]...)

	var rec0 []byte
	p.editRecord(img, mftRecord, func(rec []byte) {
		data := p.mustAttr(rec, attrData)
		dataAttr := append([]byte(nil), rec[data:data+int(binary.LittleEndian.Uint32(rec[data+4:]))]...)
		seq := binary.LittleEndian.Uint16(rec[0x10:])

		// The extension record: record 0's header, one $DATA attribute for VCNs k..last.
		ext := append([]byte(nil), rec...)
		attrOff := int(binary.LittleEndian.Uint16(ext[0x14:]))
		binary.LittleEndian.PutUint32(ext[0x2C:], extensionRecord)
		binary.LittleEndian.PutUint16(ext[0x16:], recordInUse)
		binary.LittleEndian.PutUint64(ext[0x20:], uint64(seq)<<48)
		copy(ext[attrOff:], dataAttr)
		binary.LittleEndian.PutUint64(ext[attrOff+0x10:], uint64(k))
		for _, f := range []int{0x28, 0x30, 0x38} { // sizes live in the first part only
			binary.LittleEndian.PutUint64(ext[attrOff+f:], 0)
		}
		end := attrOff + len(dataAttr)
		binary.LittleEndian.PutUint32(ext[end:], attrEnd)
		binary.LittleEndian.PutUint32(ext[0x18:], uint32(end+8))
		p.setRunlist(ext, attrOff, partB, last)
		if tweak != nil {
			tweak(ext, attrOff)
		}
		rec0 = ext

		// Record 0: the first part, and an attribute list after $STANDARD_INFORMATION.
		p.setRunlist(rec, data, partA, k-1)
		var list []byte
		entry := func(typ uint32, vcn int64, ref uint64, id uint16) {
			e := make([]byte, 0x20)
			binary.LittleEndian.PutUint32(e, typ)
			binary.LittleEndian.PutUint16(e[4:], 0x20)
			e[7] = 0x1A
			binary.LittleEndian.PutUint64(e[8:], uint64(vcn))
			binary.LittleEndian.PutUint64(e[0x10:], ref)
			binary.LittleEndian.PutUint16(e[0x18:], id)
			list = append(list, e...)
		}
		entry(attrStandardInformation, 0, uint64(seq)<<48, 0)
		entry(attrFileName, 0, uint64(seq)<<48, 3)
		entry(attrData, 0, uint64(seq)<<48, 1)
		entry(attrData, k, extensionRecord|uint64(seq)<<48, 1)
		si := p.mustAttr(rec, attrStandardInformation)
		insertAttr(p, rec, si+int(binary.LittleEndian.Uint32(rec[si+4:])), residentAttr(attrAttributeList, 9, list))
	})
	p.editRecord(img, extensionRecord, func(rec []byte) { copy(rec, rec0) })
}

func residentAttr(typ uint32, id uint16, value []byte) []byte {
	a := make([]byte, (0x18+len(value)+7)&^7)
	binary.LittleEndian.PutUint32(a, typ)
	binary.LittleEndian.PutUint32(a[4:], uint32(len(a)))
	binary.LittleEndian.PutUint16(a[0x0A:], 0x18)
	binary.LittleEndian.PutUint16(a[0x0E:], id)
	binary.LittleEndian.PutUint32(a[0x10:], uint32(len(value)))
	binary.LittleEndian.PutUint16(a[0x14:], 0x18)
	copy(a[0x18:], value)
	return a
}

func insertAttr(p *patchable, rec []byte, at int, attr []byte) {
	p.t.Helper()
	used := int(binary.LittleEndian.Uint32(rec[0x18:]))
	if used+len(attr) > len(rec) {
		p.t.Fatalf("no room for a %d-byte attribute", len(attr))
	}
	copy(rec[at+len(attr):], rec[at:used])
	copy(rec[at:], attr)
	binary.LittleEndian.PutUint32(rec[0x18:], uint32(used+len(attr)))
}

// TestMFTAttributeList reads a volume whose $MFT runlist continues in an extension record
// (listed by an $ATTRIBUTE_LIST in record 0), and rejects broken variants of it.
func TestMFTAttributeList(t *testing.T) {
	img, _ := buildNTFS(t, 16, func(p *populator) {
		for i := range 100 {
			p.file(fmt.Sprintf("d/file-%03d.txt", i), p.random(100+i*50))
		}
	})
	p := newPatchable(t, img)
	pristine := walk(t, filesystem.New(p.v))
	const k = 8 // clusters of $MFT left in record 0; the extension record lies inside them
	if int64(extensionRecord+1)*p.v.geo.recordSize > k*p.v.geo.clusterSize {
		t.Fatal("the extension record would not be readable during the bootstrap")
	}

	split := p.copy()
	splitMFT(p, split, k, nil)
	v, err := open(split)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got := firstAttr(mustNode(t, v, mftRecord).attrs, attrAttributeList); got == nil {
		t.Fatal("record 0 has no attribute list after the split")
	}
	var want, got []istatRun
	for _, r := range p.v.mft.runs {
		want = appendRun(want, istatRun{r.lcn, r.length})
	}
	for _, r := range v.mft.runs {
		got = appendRun(got, istatRun{r.lcn, r.length})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || v.records != p.v.records {
		t.Errorf("$MFT runs %v (%d records), want %v (%d)", got, v.records, want, p.v.records)
	}
	if after := walk(t, filesystem.New(v)); !maps.Equal(after, pristine) {
		t.Errorf("listing after the split differs: %d entries, %d before", len(after), len(pristine))
	}
	if st, err := v.Stat(mftRecord); err != nil || st.Size != p.v.mft.size {
		t.Errorf("Stat($MFT) = %+v, %v", st, err)
	}
	if failures := exercise(v, hostileLimits); failures != 0 {
		t.Errorf("%d failures", failures)
	}

	for _, c := range []struct {
		name  string
		tweak func(ext []byte, dataAt int)
		want  string
	}{
		{"extension overlaps record 0", func(ext []byte, at int) {
			binary.LittleEndian.PutUint64(ext[at+0x10:], 3)
		}, "gap or overlap"},
		{"extension of another file", func(ext []byte, at int) {
			binary.LittleEndian.PutUint64(ext[0x20:], 7)
		}, "listed as an extension of $MFT"},
		{"extension not in use", func(ext []byte, at int) {
			binary.LittleEndian.PutUint16(ext[0x16:], 0)
		}, "listed as an extension of $MFT"},
	} {
		img := p.copy()
		splitMFT(p, img, k, c.tweak)
		_, err := open(img)
		wantCorrupt(t, err, c.want)
	}
}

func mustNode(t *testing.T, v *FS, ino uint64) *node {
	t.Helper()
	n, err := v.node(ino)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
