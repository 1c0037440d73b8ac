package fat

import (
	"testing"
	"time"
)

func TestCP437Table(t *testing.T) {
	if len(cp437High) != 128 {
		t.Fatalf("cp437 table has %d characters, want 128", len(cp437High))
	}
	for b, want := range map[byte]rune{0x80: 'Ç', 0x9A: 'Ü', 0xA5: 'Ñ', 0xB0: '░', 0xE1: 'ß', 0xE5: 'σ', 0xFE: '■', 0xFF: '\u00a0'} {
		if got := cp437High[b-0x80]; got != want {
			t.Errorf("0x%02X = %q, want %q", b, got, want)
		}
	}
}

func TestShortNames(t *testing.T) {
	for _, c := range []struct {
		raw  string
		nt   byte
		want string
	}{
		{"README  TXT", 0, "README.TXT"},
		{"README  TXT", caseLowerBase, "readme.TXT"},
		{"README  TXT", caseLowerExt, "README.txt"},
		{"README  TXT", caseLowerBase | caseLowerExt, "readme.txt"},
		{"MAKEFILE   ", 0, "MAKEFILE"},
		{"\x05BC     TXT", 0, "σBC.TXT"},
		{"A/B     TXT", 0, "A_B.TXT"},
		{"           ", 0, ""},
		{".          ", 0, ""},
		{"\x9aBER    TXT", caseLowerBase, "über.TXT"},
	} {
		var raw [11]byte
		copy(raw[:], c.raw)
		if got := shortName(raw, c.nt); got != c.want {
			t.Errorf("shortName(%q, %#x) = %q, want %q", c.raw, c.nt, got, c.want)
		}
	}
}

func TestDOSTime(t *testing.T) {
	date := uint16(44)<<9 | 2<<5 | 29  // 2024-02-29
	tod := uint16(23)<<11 | 59<<5 | 29 // 23:59:58
	if got, want := dosTime(date, tod, 199), time.Date(2024, 2, 29, 23, 59, 59, 990e6, time.UTC); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// no date; Feb 30; month 13; month 0; day 0
	for _, bad := range []uint16{0, 44<<9 | 2<<5 | 30, 44<<9 | 13<<5 | 1, 44<<9 | 1, 44<<9 | 1<<5} {
		if got := dosTime(bad, 0, 0); !got.IsZero() {
			t.Errorf("dosTime(%#x) = %v, want zero", bad, got)
		}
	}
	if got := dosTime(date, 24<<11, 0); !got.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("impossible time of day: %v", got)
	}
	if got := exfatTime(uint32(date)<<16|uint32(tod), 0, 0x80|0x7C); !got.Equal(time.Date(2024, 3, 1, 0, 59, 58, 0, time.UTC)) {
		t.Errorf("exFAT UTC-1: %v", got)
	}
}

func TestLFNChecksumRestore(t *testing.T) {
	// The checksum is a bijection of the first byte: exactly one byte gives each checksum.
	name := []byte("XONGFI~1TXT")
	seen := map[byte]bool{}
	for b := 0; b < 256; b++ {
		name[0] = byte(b)
		seen[lfnChecksum(name)] = true
	}
	if len(seen) != 256 {
		t.Errorf("%d distinct checksums over the 256 first bytes", len(seen))
	}
}
