package unpack

import (
	"bytes"
	"strconv"
)

// Format names Kind returns.
const (
	KindGzip  = "gzip"
	KindBzip2 = "bzip2"
	KindXZ    = "xz"
	KindZstd  = "zstd"
	KindLZ4   = "lz4"
	KindTar   = "tar"
	KindZip   = "zip"
	KindAr    = "ar"   // Unix ar, the container of .deb packages
	KindCpio  = "cpio" // newc, crc and odc (portable ASCII) formats
	KindRPM   = "rpm"  // an RPM package: headers, then a compressed cpio payload
	Kind7z    = "7z"   // recognised, not opened
	KindRar   = "rar"  // recognised, not opened
)

// HeadSize is how many leading bytes Kind wants (tar's magic sits at offset 257).
const HeadSize = 512

// magics maps leading bytes to formats; tar, which has no leading magic, is tested apart.
var magics = []struct {
	prefix string
	kind   string
}{
	{"\x1f\x8b\x08", KindGzip}, // deflate is the only method gzip defines
	{"\xfd7zXZ\x00", KindXZ},
	{"\x28\xb5\x2f\xfd", KindZstd},
	{"\x04\x22\x4d\x18", KindLZ4}, // frame format
	{"\x02\x21\x4c\x18", KindLZ4}, // legacy format (Linux kernel and initramfs)
	{"PK\x03\x04", KindZip},
	{"PK\x05\x06", KindZip},           // empty archive: the end record alone
	{"PK\x07\x08PK\x03\x04", KindZip}, // spanning marker of a single-segment "split" archive
	{"7z\xbc\xaf\x27\x1c", Kind7z},
	{"Rar!\x1a\x07\x00", KindRar},
	{"Rar!\x1a\x07\x01\x00", KindRar},
	{"!<arch>\n", KindAr},
	{"070701", KindCpio},
	{"070702", KindCpio},
	{"070707", KindCpio},
	{"\xed\xab\xee\xdb", KindRPM},
}

// Kind names the compression or archive format whose first bytes are head ("" for none). Give it
// HeadSize bytes when the file is that long: a tar is recognised by its header checksum.
func Kind(head []byte) string {
	for _, m := range magics {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			return m.kind
		}
	}
	switch {
	case isBzip2(head):
		return KindBzip2
	case isZstdSkippable(head):
		return KindZstd
	case isTar(head):
		return KindTar
	}
	return ""
}

// isBzip2 wants "BZh", a block size digit and the magic of a first block or of the end of an
// empty stream: "BZh" alone starts too much English text.
func isBzip2(h []byte) bool {
	if len(h) < 10 || string(h[:3]) != "BZh" || h[3] < '1' || h[3] > '9' {
		return false
	}
	m := string(h[4:10])
	return m == "\x31\x41\x59\x26\x53\x59" || m == "\x17\x72\x45\x38\x50\x90"
}

// isZstdSkippable recognises a zstd skippable frame (0x184D2A50-5F), which pzstd writes first.
func isZstdSkippable(h []byte) bool {
	return len(h) >= 8 && h[0]&0xf0 == 0x50 && h[1] == 0x2a && h[2] == 0x4d && h[3] == 0x18
}

// isTar checks the first header block: a valid checksum plus either the ustar/GNU magic or, for
// pre-POSIX (v7) archives, a name and octal size and mode fields.
func isTar(h []byte) bool {
	if len(h) < 512 {
		return false
	}
	h = h[:512]
	want, ok := octal(h[148:156])
	if !ok {
		return false
	}
	var unsigned, signed int64
	for i, b := range h {
		if i >= 148 && i < 156 {
			b = ' '
		}
		unsigned += int64(b)
		signed += int64(int8(b))
	}
	if want != unsigned && want != signed {
		return false
	}
	if bytes.HasPrefix(h[257:], []byte("ustar")) {
		return true
	}
	_, sizeOK := octal(h[124:136])
	_, modeOK := octal(h[100:108])
	return h[0] != 0 && sizeOK && modeOK
}

// octal parses a tar numeric field: octal digits padded by spaces or NULs.
func octal(f []byte) (int64, bool) {
	s := string(bytes.Trim(f, " \x00"))
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 8, 64)
	return v, err == nil
}
