package unpack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pierrec/lz4/v4"
)

// fuzzLimits keep one fuzz input cheap while leaving every limit reachable.
var fuzzLimits = Limits{MaxDepth: 3, MaxEntryBytes: 1 << 20, MaxTotalBytes: 4 << 20, MaxEntries: 64}

// fuzzSeeds are small files of every format, made with Go's writers and, where installed, the
// tools (which a fuzz run keeps only as generated seeds; committed ones live in testdata/fuzz).
func fuzzSeeds(f *testing.F) [][]byte {
	small := map[string][]byte{"a/b.txt": []byte("password=1\n"), "c": pseudoRandom(300, 5)}
	tarb := makeTar(f, small, tar.FormatPAX)
	var lz bytes.Buffer
	lw := lz4.NewWriter(&lz)
	lw.Write(tarb)
	lw.Close()
	seeds := [][]byte{
		tarb, makeTar(f, small, tar.FormatGNU), gz(f, tarb), lz.Bytes(),
		makeZip(f, small, zip.Store), makeZip(f, small, zip.Deflate), makeZip(f, small, 93), makeZip(f, small, 95),
		cpioNewc(small, "070701"), cpioODC(small), rpm(gz(f, cpioNewc(small, "070701"))),
		xzFile([][]byte{[]byte("abc"), []byte("defg")}, 20, true),
		gz(f, makeZip(f, map[string][]byte{"in.tar.gz": gz(f, tarb)}, zip.Deflate)),
		overlapZip([]byte("kernel kernel kernel"), 3, true),
		encodeUTF16("text", true, true),
	}
	if _, err := exec.LookPath("ar"); err == nil {
		dir := writeTree(f, map[string][]byte{"debian-binary": []byte("2.0\n"), "a-long-member-name-here": []byte("x")})
		cmd := exec.Command("sh", "-c", "ar rc x.deb debian-binary a-long-member-name-here && bzip2 -k debian-binary && zstd -q debian-binary")
		cmd.Dir = dir
		if cmd.Run() == nil {
			for _, n := range []string{"x.deb", "debian-binary.bz2", "debian-binary.zst"} {
				if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
					seeds = append(seeds, b)
				}
			}
		}
	}
	return seeds
}

// FuzzWalk walks arbitrary bytes and reads every member: no panic, no member past the limits,
// every path cleaned, the walk's reads bounded.
func FuzzWalk(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var total int64
		for m, err := range Walk(t.Context(), "in", bytes.NewReader(data), int64(len(data)), fuzzLimits) {
			checkPath(t, m)
			if err != nil || m.Open == nil {
				continue
			}
			rc, err := m.Open()
			if err != nil {
				continue
			}
			n, _ := io.Copy(io.Discard, rc)
			rc.Close()
			if n > fuzzLimits.MaxEntryBytes {
				t.Fatalf("%s: read %d bytes, over the member limit", m.Path, n)
			}
			total += n
		}
		// Raw bytes of the input may be read once per level besides what was decompressed.
		if total > fuzzLimits.MaxTotalBytes+int64(fuzzLimits.MaxDepth+1)*int64(len(data)) {
			t.Fatalf("read %d bytes in all", total)
		}
	})
}

func checkPath(t *testing.T, m Member) {
	t.Helper()
	if m.Path == "in" {
		return
	}
	levels := strings.Split(m.Path, Sep)
	if levels[0] != "in" || len(levels)-1 != m.Depth || m.Depth > fuzzLimits.MaxDepth {
		t.Fatalf("path %q depth %d", m.Path, m.Depth)
	}
	for _, l := range levels[1:] {
		if l == "" || strings.HasPrefix(l, "/") || !utf8.ValidString(l) {
			t.Fatalf("level %q of %q", l, m.Path)
		}
		for _, e := range strings.Split(l, "/") {
			if e == ".." || e == "." || e == "" {
				t.Fatalf("element %q in %q", e, m.Path)
			}
		}
		if strings.ContainsFunc(l, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("control character in %q", m.Path)
		}
	}
}

var kinds = []string{"", KindGzip, KindBzip2, KindXZ, KindZstd, KindLZ4, KindTar, KindZip, KindAr, KindCpio, KindRPM, Kind7z, KindRar}

// FuzzKind: Kind answers a known name, looks at no more than HeadSize bytes, and never panics.
func FuzzKind(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s[:min(len(s), 600)])
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		k := Kind(head)
		if !slices.Contains(kinds, k) {
			t.Fatalf("Kind = %q", k)
		}
		if len(head) > HeadSize && Kind(head[:HeadSize]) != k {
			t.Fatalf("Kind looks past HeadSize")
		}
	})
}

// FuzzUTF16 checks the streaming decoder against unicode/utf16 on whole input.
func FuzzUTF16(f *testing.F) {
	f.Add([]byte{0xff, 0xfe, 'a', 0, 0x3d, 0xd8, 0x00, 0xde}, true)
	f.Add([]byte{0, 'a', 0xd8}, false)
	f.Fuzz(func(t *testing.T, data []byte, le bool) {
		units := make([]uint16, len(data)/2)
		for i := range units {
			if le {
				units[i] = uint16(data[2*i]) | uint16(data[2*i+1])<<8
			} else {
				units[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
			}
		}
		if len(units) > 0 && units[0] == 0xfeff {
			units = units[1:]
		}
		want := string(utf16.Decode(units))
		if len(data)%2 == 1 {
			want += "\uFFFD"
		}
		got, err := io.ReadAll(NewUTF16Reader(&chunky{data: data}, le))
		if err != nil || string(got) != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

// chunky returns its data in reads of varying sizes, to split surrogate pairs.
type chunky struct {
	data []byte
	n    int
}

func (c *chunky) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	c.n++
	k := min(len(p), len(c.data), c.n%5+1)
	copy(p, c.data[:k])
	c.data = c.data[k:]
	return k, nil
}
