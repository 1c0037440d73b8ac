package ntfs

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// File attribute flags of $STANDARD_INFORMATION and $FILE_NAME.
const (
	fileReadOnly     = 0x0001
	fileHidden       = 0x0002
	fileSystem       = 0x0004
	fileSparse       = 0x0200
	fileReparsePoint = 0x0400
	fileCompressed   = 0x0800
	fileEncrypted    = 0x4000
	fileDirectory    = 0x10000000 // $FILE_NAME only: the file has an $I30 index
)

// $FILE_NAME namespaces. A long name that is not a valid 8.3 name gets a second, DOS-namespace
// $FILE_NAME; a name valid in both namespaces is stored once as winDOS.
const (
	namespacePOSIX  = 0
	namespaceWin32  = 1
	namespaceDOS    = 2
	namespaceWinDOS = 3
)

// stdInfo is the part of $STANDARD_INFORMATION snapwatch reports.
type stdInfo struct {
	created, modified, changed, accessed time.Time
	attrs                                uint32
}

func parseStdInfo(v []byte) (stdInfo, error) {
	if len(v) < 0x24 {
		return stdInfo{}, fmt.Errorf("$STANDARD_INFORMATION of %d bytes is shorter than 36", len(v))
	}
	return stdInfo{
		created:  fileTime(v[0x00:]),
		modified: fileTime(v[0x08:]),
		changed:  fileTime(v[0x10:]),
		accessed: fileTime(v[0x18:]),
		attrs:    binary.LittleEndian.Uint32(v[0x20:]),
	}, nil
}

// fileName is a parsed $FILE_NAME (an attribute value or a directory index key).
type fileName struct {
	parent    fileRef
	modified  time.Time
	attrs     uint32
	namespace uint8
	raw       []byte // the name in UTF-16LE, for collation
}

func (n *fileName) name() string { return decodeUTF16(n.raw) }

// parseFileName parses a $FILE_NAME structure; v may be longer than the structure.
func parseFileName(v []byte) (fileName, error) {
	if len(v) < 0x42 {
		return fileName{}, fmt.Errorf("$FILE_NAME of %d bytes is shorter than 66", len(v))
	}
	n := int(v[0x40])
	if 0x42+2*n > len(v) {
		return fileName{}, fmt.Errorf("$FILE_NAME name of %d characters runs past its %d bytes", n, len(v))
	}
	return fileName{
		parent:    parseRef(binary.LittleEndian.Uint64(v)),
		modified:  fileTime(v[0x10:]),
		attrs:     binary.LittleEndian.Uint32(v[0x38:]),
		namespace: v[0x41],
		raw:       v[0x42 : 0x42+2*n],
	}, nil
}

// fileTimeEpochDelta is the number of seconds from 1601-01-01 (FILETIME's epoch) to 1970-01-01.
const fileTimeEpochDelta = 11644473600

// fileTime converts a FILETIME (100 ns ticks since 1601); 0 means "not set".
func fileTime(b []byte) time.Time {
	v := binary.LittleEndian.Uint64(b)
	if v == 0 {
		return time.Time{}
	}
	secs := int64(v/1e7) - fileTimeEpochDelta
	return time.Unix(secs, int64(v%1e7)*100).UTC()
}

// decodeUTF16 decodes little-endian UTF-16; unpaired surrogates become U+FFFD.
func decodeUTF16(b []byte) string {
	ascii := true
	for i := 0; i+1 < len(b); i += 2 {
		if b[i+1] != 0 || b[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		buf := make([]byte, len(b)/2)
		for i := range buf {
			buf[i] = b[2*i]
		}
		return string(buf)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	var sb strings.Builder
	for _, r := range utf16.Decode(u) {
		sb.WriteRune(r)
	}
	return sb.String()
}

// validName reports whether a directory entry name can be an io/fs path element. NTFS forbids
// "/" and NUL in names and has no "." or ".." entries below the root; a hostile image that has
// them would make paths ambiguous, so such entries are not listed.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}
