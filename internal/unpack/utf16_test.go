package unpack

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"testing/iotest"
	"unicode/utf16"
)

func encodeUTF16(s string, le, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	var order binary.ByteOrder = binary.BigEndian
	if le {
		order = binary.LittleEndian
	}
	b := make([]byte, 2*len(units))
	for i, u := range units {
		order.PutUint16(b[2*i:], u)
	}
	return b
}

func TestUTF16(t *testing.T) {
	text := "Windows Registry Editor Version 5.00\r\n\"Password\"=\"hunter2\"\r\nünïcode 名前 😀 end\r\n"
	for _, le := range []bool{true, false} {
		for _, bom := range []bool{true, false} {
			enc := encodeUTF16(text, le, bom)
			gotLE, ok := IsUTF16(enc)
			if !ok || gotLE != le {
				t.Errorf("le=%v bom=%v: IsUTF16 = %v %v", le, bom, gotLE, ok)
			}
			for name, r := range map[string]io.Reader{
				"whole": bytes.NewReader(enc), "one byte at a time": iotest.OneByteReader(bytes.NewReader(enc)),
				"half": iotest.HalfReader(bytes.NewReader(enc)),
			} {
				got, err := io.ReadAll(NewUTF16Reader(r, le))
				if err != nil || string(got) != text {
					t.Errorf("le=%v bom=%v %s: %q, %v", le, bom, name, got, err)
				}
			}
		}
	}
}

func TestUTF16Malformed(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{[]byte{'a', 0, 0x00, 0xd8, 'b', 0}, "a\uFFFDb"}, // a high surrogate without its low half
		{[]byte{'a', 0, 0x00, 0xdc}, "a\uFFFD"},          // a lone low surrogate
		{[]byte{'a', 0, 0x00, 0xd8}, "a\uFFFD"},          // a high surrogate at the end
		{[]byte{'a', 0, 'b'}, "a\uFFFD"},                 // an odd byte at the end
		{[]byte{0xff, 0xfe, 0xff, 0xfe}, "\uFEFF"},       // only the first BOM is dropped
	} {
		got, _ := io.ReadAll(NewUTF16Reader(iotest.OneByteReader(bytes.NewReader(c.in)), true))
		if string(got) != c.want {
			t.Errorf("%x: %q, want %q", c.in, got, c.want)
		}
	}
}

func TestIsUTF16Negative(t *testing.T) {
	for name, head := range map[string][]byte{
		"ascii":        []byte("plain ASCII text, nothing else"),
		"utf-8":        []byte("ünïcödé text in UTF-8 only"),
		"utf-32le bom": {0xff, 0xfe, 0, 0, 'a', 0, 0, 0},
		"zeros":        make([]byte, 512),
		"binary":       pseudoRandom(512, 3),
		"short":        {'a', 0, 'b', 0},
		"elf":          append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 100)...),
	} {
		if _, ok := IsUTF16(head); ok {
			t.Errorf("%s: taken for UTF-16", name)
		}
	}
}
