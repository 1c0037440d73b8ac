package fat

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
)

// maxLFNEntries is the most long-name entries one name may use: 20 × 13 = 260 ≥ 255 characters.
const maxLFNEntries = 20

const lfnCharsPerEntry = 13

// cp437 maps the upper half of the OEM code page that short names use. Code page 437 is the
// default of DOS, Windows (US) and Linux (codepage=437); other code pages cannot be told apart
// from the bytes, and every name mtools or Windows writes with non-ASCII characters also has a
// long name, which is Unicode.
const cp437 = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐" +
	"└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0"

var cp437High = []rune(cp437)

// shortName formats an 8.3 name as "BASE.EXT", honouring the 0x05 escape for a leading 0xE5 and
// the NT lowercase flags. The result is made safe for use as a path element (see safeName).
func shortName(raw [11]byte, ntCase byte) string {
	if raw[0] == entryKanji {
		raw[0] = 0xE5
	}
	base := decodeOEM(trimSpaces(raw[0:8]), ntCase&caseLowerBase != 0)
	ext := decodeOEM(trimSpaces(raw[8:11]), ntCase&caseLowerExt != 0)
	name := base
	if ext != "" {
		name += "." + ext
	}
	return safeName(name)
}

func trimSpaces(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

func decodeOEM(b []byte, lower bool) string {
	var s strings.Builder
	for _, c := range b {
		r := rune(c)
		if c >= 0x80 {
			r = cp437High[c-0x80]
		}
		if lower {
			r = unicode.ToLower(r)
		}
		s.WriteRune(r)
	}
	return s.String()
}

// safeName replaces what cannot appear in an io/fs path element ('/' and NUL, which no valid FAT
// name holds) by '_'. Names that are empty, "." or ".." are returned as "" so callers skip them.
func safeName(s string) string {
	if s == "" || s == "." || s == ".." {
		return ""
	}
	if strings.ContainsAny(s, "/\x00") {
		s = strings.NewReplacer("/", "_", "\x00", "_").Replace(s)
	}
	return s
}

// lfnChecksum is the checksum of an 8.3 name that each of its long-name entries carries.
func lfnChecksum(name []byte) byte {
	var sum byte
	for _, c := range name[:11] {
		sum = (sum>>1 | sum<<7) + c
	}
	return sum
}

// lfnUnits appends the 13 UTF-16 code units of a long-name entry.
func lfnUnits(dst []uint16, b []byte) []uint16 {
	for _, off := range [...]int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30} {
		dst = append(dst, binary.LittleEndian.Uint16(b[off:]))
	}
	return dst
}

// decodeLFN turns the code units of a long name (in order) into a string: the name ends at the
// first NUL; unpaired surrogates become U+FFFD. It fails ("") for an empty name or one that holds
// '/' (no valid name does), so that the caller falls back to the short name.
func decodeLFN(units []uint16) string {
	for i, u := range units {
		if u == 0 {
			units = units[:i]
			break
		}
	}
	s := string(utf16.Decode(units))
	if strings.ContainsRune(s, '/') {
		return ""
	}
	return safeName(s)
}

// lfnAssembler collects the long-name entries that precede a live short entry. They are stored
// last part first, with ordinals counting down to 1; the first one stored carries flag 0x40.
type lfnAssembler struct {
	parts  [maxLFNEntries][lfnCharsPerEntry]uint16
	total  int  // number of parts, from the 0x40 entry
	next   int  // ordinal expected next; 0 once part 1 has been seen
	sum    byte // checksum all parts must carry
	active bool
	lost   string // why a sequence being collected was dropped, until the next short entry
}

func (a *lfnAssembler) reset() { a.active, a.lost = false, "" }

// add takes a live long-name entry; an entry out of sequence drops what was collected.
func (a *lfnAssembler) add(b []byte) {
	ord := b[0]
	seq := int(ord & 0x1F)
	valid := ord&0xA0 == 0 && seq >= 1 && seq <= maxLFNEntries && b[12] == 0 &&
		binary.LittleEndian.Uint16(b[26:]) == 0
	switch {
	case !valid:
		if a.active {
			a.lost = fmt.Sprintf("long-name entry with ordinal 0x%02x is invalid", ord)
		}
		a.active = false
		return
	case ord&0x40 != 0:
		a.active, a.total, a.next, a.sum, a.lost = true, seq, seq, b[13], ""
	case !a.active:
		a.lost = fmt.Sprintf("long-name part %d has no first part before it", seq)
		return
	case seq != a.next || b[13] != a.sum:
		a.lost = fmt.Sprintf("long-name part %d (checksum 0x%02x) does not follow part %d (checksum 0x%02x)", seq, b[13], a.next+1, a.sum)
		a.active = false
		return
	}
	copy(a.parts[seq-1][:], lfnUnits(nil, b))
	a.next--
}

// name returns the long name for the short entry that follows, if the collected sequence is
// complete and its checksum matches the short name; otherwise "".
func (a *lfnAssembler) name(short []byte) string {
	defer a.reset()
	if !a.active || a.next != 0 || a.sum != lfnChecksum(short) {
		return ""
	}
	units := make([]uint16, 0, a.total*lfnCharsPerEntry)
	for i := 0; i < a.total; i++ {
		units = append(units, a.parts[i][:]...)
	}
	return decodeLFN(units)
}

// nameOrWhy is name, and when long-name entries were collected but do not name this short
// entry, why not ("" when there were none, or they fit).
func (a *lfnAssembler) nameOrWhy(short []byte) (string, string) {
	if !a.active {
		lost := a.lost
		return a.name(short), lost
	}
	switch sum := lfnChecksum(short); {
	case a.next != 0:
		a.reset()
		return "", fmt.Sprintf("the long-name sequence stops at part %d of %d", a.next+1, a.total)
	case a.sum != sum:
		a.reset()
		return "", fmt.Sprintf("long-name checksum 0x%02x does not match the short name's 0x%02x", a.sum, sum)
	}
	return a.name(short), ""
}

// orphanLFN keeps the long-name entries just seen in a row, whatever their first byte: when a
// file is deleted its long-name entries are marked 0xE5 too, which erases their ordinals, but
// their characters and checksum survive.
type orphanLFN struct {
	entries [maxLFNEntries][direntSize]byte
	n       int // entries held, the most recent last
}

func (o *orphanLFN) reset() { o.n = 0 }

func (o *orphanLFN) add(b []byte) {
	if o.n == maxLFNEntries {
		copy(o.entries[:], o.entries[1:])
		o.n--
	}
	copy(o.entries[o.n][:], b)
	o.n++
}

// recover names a deleted short entry from the long-name entries right before it. The entry
// nearest the short entry is part 1. Because the checksum is a bijection of the first name byte,
// the lost byte can be computed back from it; a long name is believed only when that byte is a
// legal 8.3 character. It returns the long name, or "" when none survives.
func (o *orphanLFN) recover(short []byte) string {
	defer o.reset()
	if o.n == 0 {
		return ""
	}
	sum := o.entries[o.n-1][13]
	var name [11]byte
	copy(name[:], short[:11])
	restored := false
	for c := 0; c < 256; c++ {
		name[0] = byte(c)
		if lfnChecksum(name[:]) == sum {
			restored = legalShortChar(byte(c))
			break
		}
	}
	if !restored {
		return ""
	}
	var units []uint16
	for i := o.n - 1; i >= 0 && o.n-i <= maxLFNEntries; i-- {
		e := o.entries[i][:]
		if e[13] != sum {
			break
		}
		units = lfnUnits(units, e)
		if ord := e[0]; ord != entryDeleted && ord&0x40 != 0 {
			break // a surviving last-part marker
		}
		if ended(units[len(units)-lfnCharsPerEntry:]) {
			break
		}
	}
	return decodeLFN(units)
}

// ended reports whether a part holds the name's terminating NUL or its 0xFFFF padding.
func ended(part []uint16) bool {
	for _, u := range part {
		if u == 0 || u == 0xFFFF {
			return true
		}
	}
	return false
}

// legalShortChar reports whether c may start an 8.3 name: uppercase letters, digits, the
// punctuation the specification allows, OEM characters above 0x7F, and 0x05 (a leading 0xE5).
func legalShortChar(c byte) bool {
	switch {
	case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80 && c != 0xE5, c == entryKanji:
		return true
	}
	return strings.IndexByte("$%'-_@~`!(){}^#&", c) >= 0
}

// deletedShortName is TSK's convention for a deleted entry whose first character is lost and no
// long name survives: "_" in its place.
func deletedShortName(raw [11]byte, ntCase byte) string {
	raw[0] = '_'
	return shortName(raw, ntCase)
}
