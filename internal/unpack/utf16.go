package unpack

import (
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// utf16Sample is how many leading bytes IsUTF16 judges.
const utf16Sample = 512

// IsUTF16 reports whether head starts UTF-16 text, and its byte order: a byte-order mark
// (FF FE little endian, FE FF big endian; FF FE 00 00 is UTF-32 and is not UTF-16) or, without
// one, the pattern ASCII text makes in UTF-16 — at least 90% of the first code units (and at
// least four) are a printable ASCII character or whitespace next to a zero byte. Windows
// writes registry exports, PowerShell transcripts and many .ini and .log files this way.
func IsUTF16(head []byte) (le bool, ok bool) {
	switch {
	case len(head) >= 4 && string(head[:4]) == "\xff\xfe\x00\x00":
		return false, false
	case len(head) >= 2 && string(head[:2]) == "\xff\xfe":
		return true, true
	case len(head) >= 2 && string(head[:2]) == "\xfe\xff":
		return false, true
	}
	head = head[:min(len(head), utf16Sample)&^1]
	units := len(head) / 2
	if units < 4 {
		return false, false
	}
	var little, big int
	for i := 0; i < len(head); i += 2 {
		if head[i+1] == 0 && asciiText(head[i]) {
			little++
		}
		if head[i] == 0 && asciiText(head[i+1]) {
			big++
		}
	}
	switch {
	case little*10 >= units*9:
		return true, true
	case big*10 >= units*9:
		return false, true
	}
	return false, false
}

func asciiText(b byte) bool { return b >= 0x20 && b < 0x7f || b == '\t' || b == '\n' || b == '\r' }

// NewUTF16Reader returns a reader of r's UTF-16 text (of the given byte order) as UTF-8. A
// leading byte-order mark is dropped; unpaired surrogates and a trailing odd byte become
// U+FFFD. Memory is a few KiB whatever the input.
func NewUTF16Reader(r io.Reader, littleEndian bool) io.Reader {
	return &utf16Reader{r: r, le: littleEndian, first: true}
}

type utf16Reader struct {
	r     io.Reader
	le    bool
	first bool       // no code unit decoded yet: a BOM there is dropped
	in    [4096]byte // undecoded input: in[:n]
	n     int
	out   []byte // decoded, not yet returned
	buf   []byte // backing store of out, reused
	err   error  // from r, returned once out is drained
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		m, err := u.r.Read(u.in[u.n:])
		u.n += m
		if err != nil {
			u.err = err
		}
		u.decode(err != nil)
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

// decode turns the buffered input into UTF-8, keeping an odd byte or a high surrogate whose
// partner has not arrived, unless the input is over.
func (u *utf16Reader) decode(final bool) {
	out := u.buf[:0] // drained by now: Read decodes only when out is empty
	i := 0
	for ; i+2 <= u.n; i += 2 {
		c := u.unit(i)
		if u.first {
			u.first = false
			if c == 0xfeff {
				continue
			}
		}
		r := rune(c)
		if utf16.IsSurrogate(r) {
			if c < 0xdc00 && i+4 > u.n && !final {
				break // a high surrogate waiting for its low half
			}
			r = utf8.RuneError
			if c < 0xdc00 && i+4 <= u.n {
				if pair := utf16.DecodeRune(rune(c), rune(u.unit(i+2))); pair != utf8.RuneError {
					r = pair
					i += 2
				}
			}
		}
		out = utf8.AppendRune(out, r)
	}
	if final && i < u.n {
		out = utf8.AppendRune(out, utf8.RuneError) // a trailing odd byte
		i = u.n
	}
	u.n = copy(u.in[:], u.in[i:u.n])
	u.out, u.buf = out, out
}

func (u *utf16Reader) unit(i int) uint16 {
	if u.le {
		return uint16(u.in[i]) | uint16(u.in[i+1])<<8
	}
	return uint16(u.in[i])<<8 | uint16(u.in[i+1])
}
