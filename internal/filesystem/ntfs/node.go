package ntfs

import (
	"fmt"
	"slices"
)

// nodeKind is what a file is, as far as io/fs cares.
type nodeKind uint8

const (
	kindFile nodeKind = iota
	kindDir
	kindSymlink
	kindIrregular // a reparse point snapshot cannot interpret (dedup, cloud placeholder, ...)
	kindCharDevice
	kindBlockDevice
)

// node is a file: its base MFT record and the attributes of its extension records.
type node struct {
	ino   uint64
	seq   uint16
	inUse bool
	dir   bool // the record's directory flag: the file has an $I30 index
	si    stdInfo
	names []fileName
	attrs []attribute
	bytes int // record bytes the node keeps alive

	kind   nodeKind
	target string // symbolic link target, slash-separated
}

// node returns the in-use file at MFT record ino, from the cache when it is there.
func (f *FS) node(ino uint64) (*node, error) {
	if n, ok := f.nodes.Get(ino); ok {
		return n, nil
	}
	n, err := f.loadNode(ino, false)
	if err != nil {
		return nil, err
	}
	if n.bytes <= maxCachedNodeBytes {
		f.nodes.Add(ino, n)
	}
	return n, nil
}

// loadNode reads the base record ino and, through its $ATTRIBUTE_LIST, the extension records
// holding the rest of its attributes. allowFree admits records no longer in use (deleted files).
func (f *FS) loadNode(ino uint64, allowFree bool) (*node, error) {
	rec, err := f.readRecord(ino)
	if err != nil {
		return nil, err
	}
	if rec.baseRef != (fileRef{}) || (!rec.inUse() && !allowFree) {
		return nil, notExist(ino)
	}
	what := func() string { return fmt.Sprintf("MFT record %d", ino) }
	n := &node{
		ino:   ino,
		seq:   rec.seq,
		inUse: rec.inUse(),
		dir:   rec.flags&recordDirectory != 0,
		attrs: rec.attrs,
		bytes: rec.size,
	}
	if list := firstAttr(rec.attrs, attrAttributeList); list != nil {
		if err := f.addExtensions(n, rec, list); err != nil {
			return nil, err
		}
	}
	haveSI := false
	for i := range n.attrs {
		a := &n.attrs[i]
		switch {
		case a.typ == attrStandardInformation && a.resident && !haveSI:
			if n.si, err = parseStdInfo(a.value); err != nil {
				return nil, corrupt(what(), "%v", err)
			}
			haveSI = true
		case a.typ == attrFileName && a.resident:
			fn, err := parseFileName(a.value)
			if err != nil {
				return nil, corrupt(what(), "%v", err)
			}
			n.names = append(n.names, fn)
		}
	}
	f.classify(n)
	return n, nil
}

// addExtensions appends the attributes of the extension records an attribute list names. Each
// record is read once, whatever the list repeats, and must name ino as its base record: a list
// cannot lead into another file or loop back.
func (f *FS) addExtensions(n *node, base *record, list *attribute) error {
	entries, err := f.readAttrList(list, fmt.Sprintf("MFT record %d $ATTRIBUTE_LIST", n.ino))
	if err != nil {
		return err
	}
	var exts []uint64
	for _, e := range entries {
		if e.ref.num != n.ino {
			exts = append(exts, e.ref.num)
		}
	}
	slices.Sort(exts)
	exts = slices.Compact(exts)
	if int64(len(exts)+1)*f.geo.recordSize > maxNodeRecordBytes {
		return corrupt(fmt.Sprintf("MFT record %d $ATTRIBUTE_LIST", n.ino), "names %d extension records, more than %d bytes of records",
			len(exts), maxNodeRecordBytes)
	}
	n.attrs = slices.Clone(n.attrs)
	for _, num := range exts {
		ext, err := f.readRecord(num)
		if err != nil {
			return fmt.Errorf("ntfs: extension record %d of MFT record %d: %w", num, n.ino, err)
		}
		// Deleting a file bumps its base record's sequence number, not its extensions'.
		sameSeq := ext.baseRef.seq == base.seq || (!n.inUse && ext.baseRef.seq+1 == base.seq)
		if ext.baseRef.num != n.ino || !sameSeq || (n.inUse && !ext.inUse()) {
			if !n.inUse {
				continue // reused since the file was deleted
			}
			return corrupt(fmt.Sprintf("MFT record %d", num), "listed as an extension of record %d (sequence %d) but its base is record %d (sequence %d)",
				n.ino, base.seq, ext.baseRef.num, ext.baseRef.seq)
		}
		for _, a := range ext.attrs {
			if a.typ != attrAttributeList {
				n.attrs = append(n.attrs, a)
			}
		}
		if len(n.attrs) > maxNodeAttributes {
			return corrupt(fmt.Sprintf("MFT record %d", n.ino), "more than %d attributes across its extension records", maxNodeAttributes)
		}
		n.bytes += ext.size
	}
	return nil
}

func firstAttr(attrs []attribute, typ uint32) *attribute {
	for i := range attrs {
		if attrs[i].typ == typ {
			return &attrs[i]
		}
	}
	return nil
}

// dataAttr is the attribute that carries a stream's sizes and flags: the resident value, or the
// non-resident part starting at VCN 0.
func (n *node) dataAttr(name string) *attribute {
	for i := range n.attrs {
		a := &n.attrs[i]
		if a.typ == attrData && a.name == name && (a.resident || a.startVCN == 0) {
			return a
		}
	}
	return nil
}

// streamSize is a stream's data size without decoding its runlist.
func streamSize(a *attribute) int64 {
	if a == nil {
		return 0
	}
	if a.resident {
		return int64(len(a.value))
	}
	return a.dataSize
}

// stream assembles the attribute stream typ/name of the node.
func (f *FS) stream(n *node, typ uint32, name string) (*stream, error) {
	return f.newStream(attrsOf(n.attrs, typ, name), streamName(n.ino, typ, name))
}

func streamName(ino uint64, typ uint32, name string) string {
	var t string
	switch typ {
	case attrData:
		t = "$DATA"
	case attrIndexAllocation:
		t = "$INDEX_ALLOCATION"
	case attrIndexRoot:
		t = "$INDEX_ROOT"
	case attrReparsePoint:
		t = "$REPARSE_POINT"
	default:
		t = fmt.Sprintf("attribute 0x%x", typ)
	}
	if name != "" {
		t += " " + name
	}
	return fmt.Sprintf("MFT record %d %s", ino, t)
}

// bestName is the name to show for the file: a Win32 or POSIX name rather than its DOS 8.3 alias.
func (n *node) bestName() (fileName, bool) {
	best := -1
	for i, fn := range n.names {
		if fn.namespace != namespaceDOS {
			return fn, true
		}
		if best < 0 {
			best = i
		}
	}
	if best < 0 {
		return fileName{}, false
	}
	return n.names[best], true
}

// nlink counts the file's hard links: its names, not counting DOS aliases.
func (n *node) nlink() uint32 {
	c := uint32(0)
	for _, fn := range n.names {
		if fn.namespace != namespaceDOS {
			c++
		}
	}
	return max(c, 1)
}
