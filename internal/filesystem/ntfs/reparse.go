package ntfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Reparse tags snapshot interprets.
const (
	reparseTagMountPoint = 0xA0000003 // junction or volume mount point
	reparseTagSymlink    = 0xA000000C
	reparseTagLXSymlink  = 0xA000001D // WSL symbolic link
	// reparseNameSurrogate marks tags whose file stands for another file or directory.
	reparseNameSurrogate = 0x20000000
	symlinkRelative      = 0x00000001
)

// Interix special files, which ntfs-3g (and Services for Unix) create for symbolic links and
// devices: a system file whose $DATA starts with one of these magics.
var (
	interixSymlink = []byte("IntxLNK\x01")
	interixChar    = []byte("IntxCHR\x00")
	interixBlock   = []byte("IntxBLK\x00")
)

// maxInterixSize bounds the $DATA read to recognise an Interix special file (magic + a target
// of at most 4096 UTF-16 units).
const maxInterixSize = 8 + 2*4096

// classify sets n.kind and n.target. A damaged reparse point does not make the file unreadable:
// it is reported as irregular.
func (f *FS) classify(n *node) {
	n.kind = kindFile
	if n.dir {
		n.kind = kindDir
	}
	if firstAttr(n.attrs, attrReparsePoint) != nil {
		target, tag, err := f.reparseTarget(n)
		switch {
		case err == nil && target != "":
			n.kind, n.target = kindSymlink, target
		case err != nil || tag&reparseNameSurrogate != 0:
			n.kind = kindIrregular
		}
		return
	}
	if n.dir || n.si.attrs&fileSystem == 0 {
		return
	}
	data := n.dataAttr("")
	size := streamSize(data)
	if size < 8 || size > maxInterixSize {
		return
	}
	s, err := f.stream(n, attrData, "")
	if err != nil {
		return
	}
	buf := make([]byte, size)
	if k, _ := s.ReadAt(buf, 0); int64(k) != size {
		return
	}
	switch {
	case bytes.HasPrefix(buf, interixSymlink) && size%2 == 0 && size > 8:
		target := decodeUTF16(buf[8:])
		if target != "" && !strings.ContainsRune(target, 0) {
			n.kind, n.target = kindSymlink, target
		}
	case bytes.HasPrefix(buf, interixChar):
		n.kind = kindCharDevice
	case bytes.HasPrefix(buf, interixBlock):
		n.kind = kindBlockDevice
	}
}

// reparseTarget reads the $REPARSE_POINT attribute and returns the link target for symbolic
// links and junctions ("" for other tags).
func (f *FS) reparseTarget(n *node) (string, uint32, error) {
	s, err := f.stream(n, attrReparsePoint, "")
	if err != nil {
		return "", 0, err
	}
	if s.size > maxReparseSize || s.size < 8 {
		return "", 0, corrupt(s.what, "%d bytes, not 8..%d", s.size, maxReparseSize)
	}
	buf := make([]byte, s.size)
	if k, err := s.ReadAt(buf, 0); int64(k) != s.size {
		return "", 0, err
	}
	tag := binary.LittleEndian.Uint32(buf)
	dataLen := int(binary.LittleEndian.Uint16(buf[4:]))
	if 8+dataLen > len(buf) {
		return "", tag, corrupt(s.what, "reparse data of %d bytes runs past the attribute's %d", dataLen, len(buf))
	}
	target, err := parseReparse(tag, buf[8:8+dataLen])
	if err != nil {
		return "", tag, corrupt(s.what, "tag 0x%08x: %v", tag, err)
	}
	return target, tag, nil
}

// parseReparse turns a symbolic link, junction or WSL link into a slash-separated target.
// Windows targets are relative (kept relative) or absolute with a drive letter, which is taken
// to be this volume: "\??\C:\Users\x" becomes "/Users/x".
func parseReparse(tag uint32, d []byte) (string, error) {
	switch tag {
	case reparseTagLXSymlink:
		if len(d) < 4 || binary.LittleEndian.Uint32(d) != 2 {
			return "", fmt.Errorf("WSL symlink of unknown version")
		}
		t := string(d[4:])
		if t == "" || !utf8.ValidString(t) || strings.ContainsRune(t, 0) {
			return "", fmt.Errorf("WSL symlink target is empty or not UTF-8")
		}
		return t, nil
	case reparseTagSymlink, reparseTagMountPoint:
	default:
		return "", nil
	}
	hdr := 8
	if tag == reparseTagSymlink {
		hdr = 12
	}
	if len(d) < hdr {
		return "", fmt.Errorf("%d bytes of data, the header needs %d", len(d), hdr)
	}
	pathBuf := d[hdr:]
	name := func(off, n int) (string, bool) {
		if off%2 != 0 || n%2 != 0 || off+n > len(pathBuf) {
			return "", false
		}
		return decodeUTF16(pathBuf[off : off+n]), true
	}
	sub, okSub := name(int(binary.LittleEndian.Uint16(d[0:])), int(binary.LittleEndian.Uint16(d[2:])))
	print, okPrint := name(int(binary.LittleEndian.Uint16(d[4:])), int(binary.LittleEndian.Uint16(d[6:])))
	target := sub
	if !okSub || target == "" {
		target = print
		if !okPrint {
			return "", fmt.Errorf("substitute and print names lie outside the %d-byte path buffer", len(pathBuf))
		}
	}
	target = strings.TrimRight(target, "\x00")
	if target == "" || strings.ContainsRune(target, 0) {
		return "", fmt.Errorf("empty target")
	}
	relative := tag == reparseTagSymlink && binary.LittleEndian.Uint32(d[8:])&symlinkRelative != 0
	return windowsTarget(target, relative), nil
}

// windowsTarget converts a Windows link target to slash form.
func windowsTarget(t string, relative bool) string {
	if relative {
		return strings.ReplaceAll(t, `\`, "/")
	}
	for _, prefix := range []string{`\??\`, `\\?\`, `\\.\`} {
		t = strings.TrimPrefix(t, prefix)
	}
	switch {
	case len(t) >= 2 && t[1] == ':' && isLetter(t[0]):
		t = t[2:] // a drive letter: taken to be this volume
	case strings.HasPrefix(strings.ToUpper(t), `UNC\`):
		return "//" + strings.ReplaceAll(t[4:], `\`, "/") // a network share, outside the volume
	}
	t = strings.ReplaceAll(t, `\`, "/")
	if !strings.HasPrefix(t, "/") {
		t = "/" + t
	}
	return t
}

func isLetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
