package unpack

import (
	"archive/tar"
	"bytes"
	"testing"
)

func TestKind(t *testing.T) {
	tarHead := makeTar(t, map[string][]byte{"a": []byte("x")}, tar.FormatUSTAR)[:512]
	v7 := append([]byte{}, tarHead...)
	copy(v7[257:], make([]byte, 8)) // no magic: a pre-POSIX header, checksum fixed below
	fixTarChecksum(v7)
	corrupt := append([]byte{}, tarHead...)
	corrupt[0] ^= 1
	for _, c := range []struct {
		name string
		head []byte
		want string
	}{
		{"gzip", []byte("\x1f\x8b\x08\x00rest"), KindGzip},
		{"gzip other method", []byte("\x1f\x8b\x07"), ""},
		{"bzip2", []byte("BZh91AY&SYrest"), KindBzip2},
		{"bzip2 empty", []byte("BZh9\x17\x72\x45\x38\x50\x90"), KindBzip2},
		{"English", []byte("BZh is a word? no"), ""},
		{"xz", []byte("\xfd7zXZ\x00\x00"), KindXZ},
		{"zstd", []byte("\x28\xb5\x2f\xfd\x04"), KindZstd},
		{"zstd skippable", []byte("\x50\x2a\x4d\x18\x04\x00\x00\x00"), KindZstd},
		{"lz4", []byte("\x04\x22\x4d\x18\x64"), KindLZ4},
		{"lz4 legacy", []byte("\x02\x21\x4c\x18"), KindLZ4},
		{"zip", []byte("PK\x03\x04\x14\x00"), KindZip},
		{"empty zip", []byte("PK\x05\x06" + string(make([]byte, 18))), KindZip},
		{"7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04"), Kind7z},
		{"rar4", []byte("Rar!\x1a\x07\x00"), KindRar},
		{"rar5", []byte("Rar!\x1a\x07\x01\x00"), KindRar},
		{"ar", []byte("!<arch>\ndebian-binary"), KindAr},
		{"cpio newc", []byte("070701000000"), KindCpio},
		{"cpio odc", []byte("070707000000"), KindCpio},
		{"rpm", []byte("\xed\xab\xee\xdb\x03\x00"), KindRPM},
		{"ustar", tarHead, KindTar},
		{"v7 tar", v7, KindTar},
		{"tar with a bad checksum", corrupt, ""},
		{"tar cut short", tarHead[:300], ""},
		{"zeros", make([]byte, 512), ""},
		{"text", bytes.Repeat([]byte("hello "), 100), ""},
		{"empty", nil, ""},
		{"ELF", []byte("\x7fELF\x02\x01\x01"), ""},
	} {
		if got := Kind(c.head); got != c.want {
			t.Errorf("%s: Kind = %q, want %q", c.name, got, c.want)
		}
	}
}

func fixTarChecksum(h []byte) {
	copy(h[148:156], "        ")
	var s int64
	for _, b := range h[:512] {
		s += int64(b)
	}
	copy(h[148:156], []byte(string(appendOctal(s))))
}

func appendOctal(v int64) []byte {
	b := []byte("0000000\x00")
	for i := 6; i >= 0; i-- {
		b[i] = byte('0' + v&7)
		v >>= 3
	}
	return b
}
