package qcow2

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// Incompatible feature bits (header bytes 72-79) this reader knows.
const (
	incompatDirty        = 1 << 0 // refcounts may be stale: harmless for reading
	incompatCorrupt      = 1 << 1 // QEMU found damage: we read anyway and check every offset
	incompatExternalData = 1 << 2 // guest clusters live in another file: refused
	incompatCompression  = 1 << 3 // compression_type is not zlib
	incompatExtendedL2   = 1 << 4 // 128-bit L2 entries with subclusters
	incompatKnown        = incompatDirty | incompatCorrupt | incompatExternalData | incompatCompression | incompatExtendedL2
)

// Compression types (header byte 104).
const (
	compressionZlib = 0
	compressionZstd = 1
)

// Header extension types.
const (
	extEnd           = 0x00000000
	extBackingFormat = 0xe2792aca
	extFeatureNames  = 0x6803f857
)

// header is what the reader needs from the image header and its extensions.
type header struct {
	version         uint32
	clusterBits     uint32
	size            uint64 // virtual disk size
	cryptMethod     uint32
	l1Size          uint32 // entries in the active L1 table
	l1Offset        uint64
	incompatible    uint64
	compressionType uint8
	headerLength    uint32
	backingOffset   uint64
	backingSize     uint32
	backingName     string
	backingFormat   string
	featureNames    map[featureKey]string // from the feature name table, for error messages
}

type featureKey struct {
	kind uint8 // 0 incompatible, 1 compatible, 2 autoclear
	bit  uint8
}

func (h *header) clusterSize() int64 { return 1 << h.clusterBits }
func (h *header) extendedL2() bool   { return h.incompatible&incompatExtendedL2 != 0 }

// l2EntryBytes is 8 for standard L2 entries and 16 for extended ones (descriptor + bitmap).
func (h *header) l2EntryBytes() int64 {
	if h.extendedL2() {
		return 16
	}
	return 8
}

// l2Entries is the number of entries in one L2 table (one cluster).
func (h *header) l2Entries() int64 { return h.clusterSize() / h.l2EntryBytes() }

// l1Needed is the number of L1 entries that cover the virtual size.
func (h *header) l1Needed() uint64 {
	clusters := ceilDiv(h.size, uint64(h.clusterSize()))
	return ceilDiv(clusters, uint64(h.l2Entries()))
}

func ceilDiv(a, b uint64) uint64 {
	q := a / b
	if a%b != 0 {
		q++
	}
	return q
}

// Detect reports whether head (the first 512 bytes of a file, or fewer) starts a qcow2 image.
// Any qcow version counts, so that a version-1 or future image is refused by Open with a clear
// error instead of being mistaken for a raw disk.
func Detect(head []byte) bool {
	return len(head) >= 8 && string(head[:4]) == magic && binary.BigEndian.Uint32(head[4:8]) != 0
}

// readHeader reads and validates the header, its extensions and the backing file name.
func readHeader(r io.ReaderAt, fileSize int64) (*header, error) {
	if fileSize < v2HeaderLength {
		return nil, corrupt("header", "file is %d bytes, shorter than a header (%d)", fileSize, v2HeaderLength)
	}
	fixed := make([]byte, v3MinHeaderLength+8)
	n, err := r.ReadAt(fixed[:min(int64(len(fixed)), fileSize)], 0)
	if n < v2HeaderLength {
		return nil, fmt.Errorf("qcow2: reading header: %w", orShort(err))
	}
	fixed = fixed[:n]
	if string(fixed[:4]) != magic {
		return nil, corrupt("header", "bad magic %q", fixed[:4])
	}
	be := binary.BigEndian
	h := &header{
		version:       be.Uint32(fixed[4:]),
		backingOffset: be.Uint64(fixed[8:]),
		backingSize:   be.Uint32(fixed[16:]),
		clusterBits:   be.Uint32(fixed[20:]),
		size:          be.Uint64(fixed[24:]),
		cryptMethod:   be.Uint32(fixed[32:]),
		l1Size:        be.Uint32(fixed[36:]),
		l1Offset:      be.Uint64(fixed[40:]),
		headerLength:  v2HeaderLength,
	}
	if h.version != 2 && h.version != 3 {
		return nil, fmt.Errorf("%w: qcow version %d (only versions 2 and 3 are read)", ErrUnsupported, h.version)
	}
	if h.clusterBits < minClusterBits || h.clusterBits > maxClusterBits {
		return nil, corrupt("header", "cluster_bits %d outside %d..%d", h.clusterBits, minClusterBits, maxClusterBits)
	}
	if h.version == 3 {
		if len(fixed) < v3MinHeaderLength {
			return nil, corrupt("header", "version 3 header truncated at %d bytes", len(fixed))
		}
		h.incompatible = be.Uint64(fixed[72:])
		h.headerLength = be.Uint32(fixed[100:])
		if h.headerLength < v3MinHeaderLength {
			return nil, corrupt("header", "header_length %d is less than %d", h.headerLength, v3MinHeaderLength)
		}
		if int64(h.headerLength) > h.clusterSize() {
			return nil, corrupt("header", "header_length %d exceeds the cluster size %d", h.headerLength, h.clusterSize())
		}
		if h.headerLength > compressionTypeOff {
			if len(fixed) <= compressionTypeOff {
				return nil, corrupt("header", "header_length %d but the file ends at %d", h.headerLength, len(fixed))
			}
			h.compressionType = fixed[compressionTypeOff]
		}
	}
	if err := h.readExtensions(r, fileSize); err != nil {
		return nil, err
	}
	if err := h.checkFeatures(); err != nil {
		return nil, err
	}
	if err := h.checkGeometry(fileSize); err != nil {
		return nil, err
	}
	if err := h.readBackingName(r, fileSize); err != nil {
		return nil, err
	}
	return h, nil
}

// readExtensions walks the header extensions between the header and the backing file name
// (or the end of the first cluster). Each step advances at least 8 bytes inside that bounded
// area, so the walk ends.
func (h *header) readExtensions(r io.ReaderAt, fileSize int64) error {
	start := int64(h.headerLength)
	end := h.clusterSize()
	if h.backingOffset != 0 && h.backingOffset < uint64(end) {
		end = int64(h.backingOffset)
	}
	end = min(end, fileSize)
	if end <= start {
		return nil
	}
	area := make([]byte, end-start)
	if n, err := r.ReadAt(area, start); n < len(area) {
		return fmt.Errorf("qcow2: reading header extensions at %#x: %w", start, orShort(err))
	}
	be := binary.BigEndian
	for pos := int64(0); pos+8 <= int64(len(area)); {
		typ := be.Uint32(area[pos:])
		length := int64(be.Uint32(area[pos+4:]))
		if typ == extEnd {
			return nil
		}
		dataStart := pos + 8
		if length > int64(len(area))-dataStart {
			return corrupt(fmt.Sprintf("header extension %#x at %#x", typ, start+pos),
				"length %d runs past the end of the extension area (%#x)", length, end)
		}
		data := area[dataStart : dataStart+length]
		switch typ {
		case extBackingFormat:
			h.backingFormat = string(data)
		case extFeatureNames:
			h.featureNames = parseFeatureNames(data)
		}
		// Unknown extensions are skipped: the spec says they can be ignored safely.
		pos = dataStart + (length+7)&^7
	}
	// Running out of room without an end marker is what a v2 image without extensions
	// followed by zero padding looks like when the area is not zero; tolerate it.
	return nil
}

// parseFeatureNames reads the 48-byte entries of a feature name table.
func parseFeatureNames(data []byte) map[featureKey]string {
	names := make(map[featureKey]string)
	for len(data) >= 48 {
		name := data[2:48]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		names[featureKey{data[0], data[1]}] = sanitize(string(name))
		data = data[48:]
	}
	return names
}

// sanitize keeps attacker-chosen strings printable in error messages.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// checkFeatures refuses, with the feature's name, what this reader cannot read correctly.
func (h *header) checkFeatures() error {
	switch h.cryptMethod {
	case 0:
	case 1:
		return fmt.Errorf("%w: image is encrypted (crypt_method 1, AES); encrypted images are not read", ErrUnsupported)
	case 2:
		return fmt.Errorf("%w: image is encrypted (crypt_method 2, LUKS); encrypted images are not read", ErrUnsupported)
	default:
		return fmt.Errorf("%w: image is encrypted (unknown crypt_method %d)", ErrUnsupported, h.cryptMethod)
	}
	if unknown := h.incompatible &^ incompatKnown; unknown != 0 {
		var names []string
		for b := range 64 {
			if unknown&(1<<b) != 0 {
				name := h.featureNames[featureKey{0, uint8(b)}]
				if name == "" {
					name = "unnamed"
				}
				names = append(names, fmt.Sprintf("bit %d (%s)", b, name))
			}
		}
		return fmt.Errorf("%w: unknown incompatible features %s", ErrUnsupported, strings.Join(names, ", "))
	}
	if h.incompatible&incompatExternalData != 0 {
		return fmt.Errorf("%w: guest data is in an external data file (incompatible feature bit 2); such images are not read", ErrUnsupported)
	}
	if h.incompatible&incompatCompression != 0 {
		switch h.compressionType {
		case compressionZlib:
			return corrupt("header", "compression type bit set but compression_type is 0 (zlib)")
		case compressionZstd:
		default:
			return fmt.Errorf("%w: compression_type %d", ErrUnsupported, h.compressionType)
		}
	} else if h.compressionType != compressionZlib {
		return corrupt("header", "compression_type %d without the compression type feature bit", h.compressionType)
	}
	if h.extendedL2() && h.clusterBits < extendedL2MinBits {
		return corrupt("header", "extended L2 entries with cluster_bits %d (need at least %d)", h.clusterBits, extendedL2MinBits)
	}
	return nil
}

// checkGeometry validates the virtual size and the active L1 table's place.
func (h *header) checkGeometry(fileSize int64) error {
	if h.size > maxVirtualSize {
		return corrupt("header", "virtual size %d exceeds %d", h.size, uint64(maxVirtualSize))
	}
	if uint64(h.l1Size) > maxL1Bytes/8 {
		return corrupt("header", "L1 table of %d entries exceeds the cap of %d entries (%d MiB)", h.l1Size, maxL1Bytes/8, maxL1Bytes>>20)
	}
	need := h.l1Needed()
	if need > uint64(h.l1Size) {
		return corrupt("header", "L1 table of %d entries is too small for a virtual size of %d bytes (needs %d)", h.l1Size, h.size, need)
	}
	if need == 0 {
		return nil
	}
	if h.l1Offset&uint64(h.clusterSize()-1) != 0 {
		return corrupt("header", "L1 table offset %#x is not cluster aligned", h.l1Offset)
	}
	if h.l1Offset > uint64(fileSize) || need*8 > uint64(fileSize)-h.l1Offset {
		return corrupt("header", "L1 table at %#x (%d entries) runs past the end of the file (%d bytes)", h.l1Offset, need, fileSize)
	}
	return nil
}

// readBackingName reads the backing file name, which must lie in the first cluster.
func (h *header) readBackingName(r io.ReaderAt, fileSize int64) error {
	if h.backingOffset == 0 {
		return nil
	}
	if h.backingSize == 0 {
		return corrupt("header", "backing file offset %#x with a zero-length name", h.backingOffset)
	}
	if h.backingSize > maxBackingNameLen {
		return corrupt("header", "backing file name of %d bytes exceeds %d", h.backingSize, maxBackingNameLen)
	}
	end := h.backingOffset + uint64(h.backingSize)
	if end > uint64(h.clusterSize()) || end > uint64(fileSize) {
		return corrupt("header", "backing file name at %#x (%d bytes) is outside the first cluster or the file", h.backingOffset, h.backingSize)
	}
	name := make([]byte, h.backingSize)
	if n, err := r.ReadAt(name, int64(h.backingOffset)); n < len(name) {
		return fmt.Errorf("qcow2: reading backing file name at %#x: %w", h.backingOffset, orShort(err))
	}
	h.backingName = string(name)
	return nil
}

// CorruptError names the structure of the image that is broken and what is wrong with it.
type CorruptError struct {
	What   string // "header", "L2 table at 0x50000", ...
	Reason string
}

func (e *CorruptError) Error() string { return "qcow2: corrupt " + e.What + ": " + e.Reason }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// corrupt builds a CorruptError; reason is formatted with args.
func corrupt(what, reason string, args ...any) error {
	return &CorruptError{What: what, Reason: fmt.Sprintf(reason, args...)}
}

// orShort turns the nil error of a short read into io.ErrUnexpectedEOF.
func orShort(err error) error {
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
