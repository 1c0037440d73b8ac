package fat

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// TestPartialLongNames damages the long-name entries of one file in a FAT16 root directory made
// by mtools: the file stays listed under its 8.3 name, the other files keep theirs, and the
// listing comes with an error naming the entry.
func TestPartialLongNames(t *testing.T) {
	src := t.TempDir()
	names := []string{"alpha-long-name.txt", "bravo-long-name.txt", "charlie-long-name.txt"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(src, n), []byte(n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	img := fixture.FAT(t, src, 20, 16)
	data, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(e []byte) // the first-stored (0x40) long-name entry of "bravo…"
		why  string
	}{
		{"checksum", func(e []byte) {}, "does not match the short name"},
		{"sequence", func(e []byte) { e[0] = 0x45 }, "does not follow"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(data)
			// Part 1 of "bravo-long-name.txt" starts with "bravo" at offset 1 of its entry.
			at := bytes.Index(b, []byte{'b', 0, 'r', 0, 'a', 0, 'v', 0, 'o', 0}) - 1
			if at < 0 || b[at+11] != 0x0F {
				t.Fatal("long-name entry of bravo-long-name.txt not found")
			}
			// Its parts are stored last first: part 2 (0x42) at at-32, part 1 at at.
			for p := at - 32; p <= at; p += 32 {
				b[p+13] ^= 0x55
			}
			c.edit(b[at-32 : at])
			v, err := Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			entries, err := v.ReadDir(rootIno)
			if err == nil || !strings.Contains(err.Error(), "long name lost") || !strings.Contains(err.Error(), c.why) ||
				!strings.Contains(err.Error(), "root directory") {
				t.Fatalf("ReadDir error %v, want the lost long name reported (%q)", err, c.why)
			}
			t.Log(err)
			got := map[string]bool{}
			for _, e := range entries {
				got[e.Name] = true
			}
			if !got[names[0]] || !got[names[2]] || got[names[1]] || len(entries) != 3 {
				t.Fatalf("listing %v", entries)
			}
		})
	}
}
