package vhdx

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// metadata is what the metadata region says about the virtual disk (MS-VHDX 2.6).
type metadata struct {
	blockSize      int64
	leaveAllocated bool
	hasParent      bool
	virtualSize    int64
	diskID         guid // page 83 data
	logicalSector  int64
	physicalSector int64
	parent         map[string]string // parent locator key/value pairs
}

// Metadata table entry flags.
const (
	metaIsUser     = 1 << 0
	metaIsRequired = 1 << 2
)

func readMetadata(v io.ReaderAt, reg region) (*metadata, error) {
	what := fmt.Sprintf("metadata table at 0x%x", reg.offset)
	table := make([]byte, metadataTableBytes)
	if err := readFull(v, table, reg.offset); err != nil {
		return nil, fmt.Errorf("vhdx: reading %s: %w", what, err)
	}
	le := binary.LittleEndian
	if string(table[:8]) != "metadata" {
		return nil, corrupt(what, "signature is %q, not \"metadata\"", table[:8])
	}
	count := int(le.Uint16(table[10:]))
	if count > maxMetadataEntries {
		return nil, corrupt(what, "%d entries exceed the %d allowed", count, maxMetadataEntries)
	}
	type key struct {
		id   guid
		user bool
	}
	seen := map[key]bool{}
	items := map[guid][]byte{}
	for i := range count {
		e := table[32+i*32 : 32+(i+1)*32]
		var id guid
		copy(id[:], e)
		off, length, flags := int64(le.Uint32(e[16:])), int64(le.Uint32(e[20:])), le.Uint32(e[24:])
		where := fmt.Sprintf("%s entry %d (%s)", what, i, id)
		k := key{id, flags&metaIsUser != 0}
		if seen[k] {
			return nil, corrupt(where, "the item appears twice")
		}
		seen[k] = true
		if length > maxMetadataItem {
			return nil, corrupt(where, "item of %d bytes exceeds 1 MiB", length)
		}
		if length > 0 && (off < metadataTableBytes || off > reg.length-length) {
			return nil, corrupt(where, "item at %d of %d bytes is not inside the %d-byte region after its table",
				off, length, reg.length)
		}
		if k.user {
			continue // user metadata is the user's business
		}
		switch id {
		case itemFileParameters, itemVirtualDiskSize, itemPage83Data, itemLogicalSectorSize,
			itemPhysicalSectorSize, itemParentLocator:
		default:
			if flags&metaIsRequired != 0 {
				return nil, unsupported("%s: a required metadata item of unknown type", where)
			}
			continue
		}
		data := make([]byte, length)
		if err := readFull(v, data, reg.offset+off); err != nil {
			return nil, fmt.Errorf("vhdx: reading %s: %w", where, err)
		}
		items[id] = data
	}
	return parseItems(items)
}

// parseItems decodes and checks the known metadata items.
func parseItems(items map[guid][]byte) (*metadata, error) {
	le := binary.LittleEndian
	need := func(id guid, name string, n int) ([]byte, error) {
		b, ok := items[id]
		if !ok {
			return nil, corrupt("metadata", "the required %s item is missing", name)
		}
		if len(b) < n {
			return nil, corrupt("metadata "+name, "item is %d bytes, want %d", len(b), n)
		}
		return b, nil
	}
	m := &metadata{}
	b, err := need(itemFileParameters, "file parameters", 8)
	if err != nil {
		return nil, err
	}
	m.blockSize = int64(le.Uint32(b))
	m.leaveAllocated = le.Uint32(b[4:])&1 != 0
	m.hasParent = le.Uint32(b[4:])&2 != 0
	if m.blockSize < minBlockBytes || m.blockSize > maxBlockBytes || m.blockSize&(m.blockSize-1) != 0 {
		return nil, corrupt("metadata file parameters", "block size %d is not a power of two from 1 MiB to 256 MiB", m.blockSize)
	}
	if b, err = need(itemLogicalSectorSize, "logical sector size", 4); err != nil {
		return nil, err
	}
	m.logicalSector = int64(le.Uint32(b))
	m.physicalSector = m.logicalSector
	if b, ok := items[itemPhysicalSectorSize]; ok {
		if len(b) < 4 {
			return nil, corrupt("metadata physical sector size", "item is %d bytes, want 4", len(b))
		}
		m.physicalSector = int64(le.Uint32(b))
	}
	for _, s := range []int64{m.logicalSector, m.physicalSector} {
		if s != 512 && s != 4096 {
			return nil, corrupt("metadata sector sizes", "sector size %d is neither 512 nor 4096", s)
		}
	}
	if b, err = need(itemVirtualDiskSize, "virtual disk size", 8); err != nil {
		return nil, err
	}
	size := le.Uint64(b)
	if size > maxVirtualBytes || size%uint64(m.logicalSector) != 0 {
		return nil, corrupt("metadata virtual disk size", "%d bytes is not a multiple of the %d-byte sector up to 64 TiB",
			size, m.logicalSector)
	}
	m.virtualSize = int64(size)
	if b, ok := items[itemPage83Data]; ok {
		if len(b) < 16 {
			return nil, corrupt("metadata page 83 data", "item is %d bytes, want 16", len(b))
		}
		copy(m.diskID[:], b)
	}
	if m.hasParent {
		b, ok := items[itemParentLocator]
		if !ok {
			return nil, corrupt("metadata", "a differencing disk without a parent locator")
		}
		if m.parent, err = parseParentLocator(b); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// parseParentLocator decodes a VHDX parent locator: a type GUID and UTF-16 key/value pairs.
func parseParentLocator(b []byte) (map[string]string, error) {
	const what = "metadata parent locator"
	le := binary.LittleEndian
	if len(b) < 20 {
		return nil, corrupt(what, "item is %d bytes, shorter than its header", len(b))
	}
	var typ guid
	copy(typ[:], b)
	if typ != locatorTypeVHDX {
		return nil, unsupported("parent locator of type %s (only VHDX parents are read)", typ)
	}
	count := int(le.Uint16(b[18:]))
	if 20+count*12 > len(b) {
		return nil, corrupt(what, "%d entries do not fit in %d bytes", count, len(b))
	}
	// Only the known keys' values are decoded, each once: a hostile locator may point 65535
	// entries at the same 64 KiB value.
	known := map[string]bool{"parent_linkage": true, "parent_linkage2": true, "relative_path": true,
		"volume_path": true, "absolute_win32_path": true}
	const maxKeyBytes = 64 // longer than any known key
	str := func(off uint32, n uint16) (string, bool) {
		if n == 0 || n%2 != 0 || int64(off)+int64(n) > int64(len(b)) {
			return "", false
		}
		u := make([]uint16, n/2)
		for i := range u {
			u[i] = le.Uint16(b[int(off)+2*i:])
		}
		return string(utf16.Decode(u)), true
	}
	kv := map[string]string{}
	for i := range count {
		e := b[20+i*12:]
		keyLen := le.Uint16(e[8:])
		if keyLen > maxKeyBytes {
			continue
		}
		k, okK := str(le.Uint32(e), keyLen)
		if !okK {
			return nil, corrupt(what, "entry %d points outside the item", i)
		}
		if !known[k] {
			continue
		}
		if _, dup := kv[k]; dup {
			return nil, corrupt(what, "key %s appears twice", quote(k))
		}
		val, okV := str(le.Uint32(e[4:]), le.Uint16(e[10:]))
		if !okV {
			return nil, corrupt(what, "entry %d points outside the item", i)
		}
		kv[k] = val
	}
	if kv["relative_path"] == "" && kv["volume_path"] == "" && kv["absolute_win32_path"] == "" {
		return nil, corrupt(what, "no relative_path, volume_path or absolute_win32_path")
	}
	return kv, nil
}

// backingName is the parent's path as Options.OpenBacking receives it, in the order MS-VHDX
// says to try them: relative_path with Windows separators turned into slashes, else
// volume_path or absolute_win32_path as recorded.
func (m *metadata) backingName() string {
	if p := m.parent["relative_path"]; p != "" {
		return strings.ReplaceAll(p, `\`, "/")
	}
	if p := m.parent["volume_path"]; p != "" {
		return p
	}
	return m.parent["absolute_win32_path"]
}
