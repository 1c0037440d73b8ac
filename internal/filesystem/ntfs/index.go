package ntfs

import (
	"encoding/binary"
	"fmt"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Index entry flags.
const (
	indexEntrySubnode = 0x01 // the entry ends with the VCN of a child node holding smaller keys
	indexEntryLast    = 0x02 // the entry carries no key; it closes the node
)

// collationFileName is the collation rule of $I30 indexes: names compared after $UpCase.
const collationFileName = 1

// indexEntry is one entry of an $I30 node: a $FILE_NAME key and the file it names.
type indexEntry struct {
	ref   fileRef
	flags uint16
	sub   int64 // child node VCN, or -1
	key   fileName
}

func (e *indexEntry) last() bool { return e.flags&indexEntryLast != 0 }

// dirIndex is the $I30 B+tree of a directory: the root node in $INDEX_ROOT, the other nodes in
// INDX blocks of $INDEX_ALLOCATION.
type dirIndex struct {
	f         *FS
	ino       uint64
	root      []indexEntry
	collation uint32
	blockSize int64
	vcnUnit   int64   // bytes per index VCN
	alloc     *stream // nil when the whole index fits in the root
}

func (f *FS) openIndex(n *node) (*dirIndex, error) {
	what := fmt.Sprintf("MFT record %d $INDEX_ROOT $I30", n.ino)
	roots := attrsOf(n.attrs, attrIndexRoot, "$I30")
	if len(roots) != 1 || !roots[0].resident {
		return nil, corrupt(what, "directory has %d resident $I30 roots, want 1", len(roots))
	}
	v := roots[0].value
	if len(v) < 0x20 {
		return nil, corrupt(what, "%d bytes, shorter than the 32-byte header", len(v))
	}
	ix := &dirIndex{
		f:         f,
		ino:       n.ino,
		collation: binary.LittleEndian.Uint32(v[4:]),
		blockSize: int64(binary.LittleEndian.Uint32(v[8:])),
	}
	if t := binary.LittleEndian.Uint32(v); t != attrFileName {
		return nil, corrupt(what, "indexes attribute 0x%x, not $FILE_NAME", t)
	}
	if !validRecordSize(ix.blockSize) {
		return nil, corrupt(what, "index block size %d is not a power of two in %d..%d", ix.blockSize, minRecordSize, maxRecordSize)
	}
	// Index VCNs count clusters, or 512-byte blocks when index blocks are smaller than clusters.
	ix.vcnUnit = f.geo.clusterSize
	if ix.blockSize < ix.vcnUnit {
		ix.vcnUnit = fixupStride
	}
	var err error
	if ix.root, err = parseIndexNode(v, 0x10); err != nil {
		return nil, corrupt(what, "%v", err)
	}
	if parts := attrsOf(n.attrs, attrIndexAllocation, "$I30"); len(parts) > 0 {
		if ix.alloc, err = f.newStream(parts, streamName(n.ino, attrIndexAllocation, "$I30")); err != nil {
			return nil, err
		}
	}
	return ix, nil
}

// parseIndexNode parses the entries of a node whose header (entries offset, index length,
// allocated length, flags) starts at hdr. Offsets are relative to the header.
func parseIndexNode(buf []byte, hdr int) ([]indexEntry, error) {
	if hdr+16 > len(buf) {
		return nil, fmt.Errorf("node header at %d runs past %d bytes", hdr, len(buf))
	}
	start := int64(hdr) + int64(binary.LittleEndian.Uint32(buf[hdr:]))
	end := int64(hdr) + int64(binary.LittleEndian.Uint32(buf[hdr+4:]))
	if start < int64(hdr)+16 || end > int64(len(buf)) || start+0x10 > end {
		return nil, fmt.Errorf("entries %d..%d do not fit the node's %d bytes", start, end, len(buf))
	}
	var out []indexEntry
	for off := int(start); ; {
		if off+0x10 > int(end) {
			return out, fmt.Errorf("entries end at byte %d without a last entry", off)
		}
		b := buf[off:end]
		length := int(binary.LittleEndian.Uint16(b[8:]))
		keyLen := int(binary.LittleEndian.Uint16(b[10:]))
		e := indexEntry{
			ref:   parseRef(binary.LittleEndian.Uint64(b)),
			flags: binary.LittleEndian.Uint16(b[12:]),
			sub:   -1,
		}
		if length < 0x10 || length%8 != 0 || length > len(b) {
			return out, fmt.Errorf("entry at byte %d has length %d (%d bytes left)", off, length, len(b))
		}
		body := length
		if e.flags&indexEntrySubnode != 0 {
			if length < 0x18 {
				return out, fmt.Errorf("entry at byte %d is too short for a child VCN", off)
			}
			body -= 8
			e.sub = int64(binary.LittleEndian.Uint64(b[body:]))
			if e.sub < 0 {
				return out, fmt.Errorf("entry at byte %d: child VCN %d", off, e.sub)
			}
		}
		if !e.last() {
			if 0x10+keyLen > body {
				return out, fmt.Errorf("entry at byte %d: key of %d bytes runs past the entry", off, keyLen)
			}
			var err error
			if e.key, err = parseFileName(b[0x10 : 0x10+keyLen]); err != nil {
				return out, fmt.Errorf("entry at byte %d: %v", off, err)
			}
		}
		out = append(out, e)
		if e.last() {
			return out, nil
		}
		off += length
	}
}

// readNode reads the INDX block at vcn and parses its entries.
func (ix *dirIndex) readNode(vcn int64) ([]indexEntry, error) {
	what := fmt.Sprintf("MFT record %d $I30 INDX block at VCN %d", ix.ino, vcn)
	if ix.alloc == nil {
		return nil, corrupt(what, "a node points to a child but the directory has no $INDEX_ALLOCATION")
	}
	if vcn > ix.alloc.size/ix.vcnUnit || vcn*ix.vcnUnit > ix.alloc.size-ix.blockSize {
		return nil, corrupt(what, "lies past the %d bytes of $INDEX_ALLOCATION", ix.alloc.size)
	}
	buf := make([]byte, ix.blockSize)
	if n, err := ix.alloc.ReadAt(buf, vcn*ix.vcnUnit); n < len(buf) {
		return nil, fmt.Errorf("ntfs: %s: %w", what, err)
	}
	if err := applyFixups(buf, "INDX"); err != nil {
		return nil, corrupt(what, "%v", err)
	}
	if self := int64(binary.LittleEndian.Uint64(buf[0x10:])); self != vcn {
		return nil, corrupt(what, "block says it is VCN %d", self)
	}
	entries, err := parseIndexNode(buf, 0x18)
	if err != nil {
		return nil, corrupt(what, "%v", err)
	}
	return entries, nil
}

// errStopWalk ends a walk early without an error.
var errStopWalk = fmt.Errorf("stop")

// walk visits every keyed entry of the tree in order (children before the entry that points to
// them). Each block is read at most once and the depth is bounded, so a block that points to
// itself or an ancestor is reported instead of looping. A child block that cannot be read or
// parsed (bad fixups, a wrong VCN, past $INDEX_ALLOCATION, a cycle) loses only its subtree: the
// walk goes on and returns the errors of every skipped block at the end. An error from visit
// ends it at once.
func (ix *dirIndex) walk(visit func(e *indexEntry) error) error {
	seen := map[int64]bool{}
	var skipped filesystem.Errors
	var walkNode func(entries []indexEntry, depth int) error
	walkNode = func(entries []indexEntry, depth int) error {
		for i := range entries {
			e := &entries[i]
			if e.sub >= 0 {
				children, err := ix.child(e.sub, depth, seen)
				if err != nil {
					skipped.Add(err)
				} else if err := walkNode(children, depth+1); err != nil {
					return err
				}
			}
			if !e.last() {
				if err := visit(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := walkNode(ix.root, 0)
	if err == errStopWalk {
		return nil
	}
	if err != nil {
		return err
	}
	return skipped.Err()
}

func (ix *dirIndex) child(vcn int64, depth int, seen map[int64]bool) ([]indexEntry, error) {
	if depth >= maxIndexDepth {
		return nil, corrupt(fmt.Sprintf("MFT record %d $I30", ix.ino), "index tree deeper than %d levels", maxIndexDepth)
	}
	if seen[vcn] {
		return nil, corrupt(fmt.Sprintf("MFT record %d $I30", ix.ino), "INDX block at VCN %d is reached twice (cycle)", vcn)
	}
	seen[vcn] = true
	return ix.readNode(vcn)
}
