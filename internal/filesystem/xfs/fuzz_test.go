package xfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// FuzzXFS opens arbitrary bytes as XFS and exercises every method. An input is either a raw
// image (starting with the superblock magic) or a zero-run-compressed one (see decodeSeed), so
// that committed seeds, whose images are mostly zeros, stay small.
func FuzzXFS(f *testing.F) {
	for _, opts := range seedVariants {
		if img, ok := seedImage(f, opts); ok {
			// Compressed whole images reach every structure; the raw first 16 KiB (superblock,
			// group headers, btree roots) let the mutator work on those fields directly.
			f.Add(encodeSeed(img))
			f.Add(img[:16<<10])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img := decodeSeed(data)
		if img == nil {
			return
		}
		r := bytes.NewReader(img)
		Detect(r, int64(len(img)))
		x, err := Open(r, int64(len(img)))
		if err != nil {
			return
		}
		exercise(t, x, int64(len(img)))
	})
}

// seedVariants make small images whose metadata and data all sit in the first 112 KiB: one
// allocation group and an external log, so nothing is pushed behind an internal log.
var seedVariants = [][]string{
	{"-b", "size=1024", "-d", "agcount=1"},
	{"-m", "crc=0", "-b", "size=512", "-d", "agcount=1"},
	{"-m", "crc=0", "-n", "ftype=0", "-b", "size=512", "-d", "agcount=1", "-n", "size=4096"},
}

// seedTree has a short-form and a block directory, a directory that needs leaf or node form
// with 512-byte blocks, small files, a remote and an inline symbolic link.
func seedTree() []fixture.File {
	files := []fixture.File{
		{Path: "d/f1", Data: []byte("file one\n")},
		{Path: "d/f2", Data: bytes.Repeat([]byte("two "), 300)},
		{Path: "lnk", Link: "d/f1"},
		{Path: "far", Link: string(bytes.Repeat([]byte("./"), 200)) + "d/f2"},
	}
	// 40 names of ~100 bytes overflow one 4 KiB directory block: leaf form.
	for i := range 40 {
		name := "entry-" + strconv.Itoa(i) + "-" + string(bytes.Repeat([]byte("x"), 90))
		files = append(files, fixture.File{Path: "many/" + name, Data: []byte{byte(i)}})
	}
	return files
}

// seedImageBytes is how much of a seed image is kept: enough for every structure of seedTree.
const seedImageBytes = 112 << 10

// seedImage builds a seed image with the real tools and returns its first seedImageBytes.
func seedImage(tb testing.TB, opts []string) ([]byte, bool) {
	if _, err := fixture.RunEnv(nil, "mkfs.xfs", "-V"); err != nil {
		return nil, false
	}
	dir := tb.TempDir()
	logdev := filepath.Join(dir, "log.img")
	fixture.Sparse(tb, logdev, 10<<20)
	args := append(append([]string(nil), opts...), "-l", "logdev="+logdev+",size=10m")
	img := fixture.XFS(tb, fixture.WriteTree(tb, seedTree()), 20, args...)
	b, err := os.ReadFile(img)
	if err != nil {
		tb.Fatal(err)
	}
	return b[:seedImageBytes], true
}

// maxSeedImage bounds what a compressed input may expand to.
const maxSeedImage = 4 << 20

// decodeSeed returns a raw image as is; an input starting with "RLE0" is a sequence of
// (uvarint literal length, literal bytes, uvarint zero-run length) decoded up to maxSeedImage.
func decodeSeed(data []byte) []byte {
	if !bytes.HasPrefix(data, []byte("RLE0")) {
		return data
	}
	var out []byte
	r := bytes.NewReader(data[4:])
	for r.Len() > 0 {
		lit, err := binary.ReadUvarint(r)
		if err != nil || lit > uint64(r.Len()) || lit > maxSeedImage-uint64(len(out)) {
			return nil
		}
		start := len(data) - r.Len()
		out = append(out, data[start:start+int(lit)]...)
		r.Seek(int64(lit), io.SeekCurrent)
		zeros, err := binary.ReadUvarint(r)
		if err != nil {
			break
		}
		if zeros > maxSeedImage-uint64(len(out)) {
			return nil
		}
		out = append(out, make([]byte, zeros)...)
	}
	return out
}

// encodeSeed is decodeSeed's inverse, for writing committed seeds.
func encodeSeed(img []byte) []byte {
	out := []byte("RLE0")
	for i := 0; i < len(img); {
		j := i
		// A literal ends at a run of at least 8 zeros (shorter runs are cheaper inline).
		for j < len(img) && !(j+8 <= len(img) && bytes.Count(img[j:j+8], []byte{0}) == 8) {
			j++
		}
		out = binary.AppendUvarint(out, uint64(j-i))
		out = append(out, img[i:j]...)
		k := j
		for k < len(img) && img[k] == 0 {
			k++
		}
		out = binary.AppendUvarint(out, uint64(k-j))
		i = k
	}
	return out
}

// TestWriteFuzzSeeds rewrites the committed seeds (run with SNAPWATCH_WRITE_SEEDS=1).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SNAPWATCH_WRITE_SEEDS") != "1" {
		t.Skip("set SNAPWATCH_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzXFS seeds")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzXFS")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, opts := range seedVariants {
		img, ok := seedImage(t, opts)
		if !ok {
			t.Skip("mkfs.xfs missing")
		}
		enc := encodeSeed(img)
		if !bytes.Equal(decodeSeed(enc), img) {
			t.Fatal("seed encoding does not round-trip")
		}
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(enc)) + ")\n"
		name := filepath.Join(dir, "seed-"+strconv.Itoa(i))
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes (image %d, encoded %d)", name, len(body), len(img), len(enc))
	}
}

// Work bounds of exercise, so that a hostile input cannot make one fuzz run slow.
const (
	exerciseNodes    = 2000
	exerciseRead     = 64 << 10
	exerciseRanges   = 100000
	exerciseDeleted  = 1000
	exerciseSubReads = 4 << 10
)

// exercise lists, stats, looks up, reads and maps everything reachable, then runs both residual
// iterators, checking the invariants the contract promises.
func exercise(t *testing.T, x *FS, size int64) {
	fsys := filesystem.New(x)
	nodes := 0
	buf := make([]byte, exerciseRead)
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if nodes++; nodes > exerciseNodes {
			return fs.SkipAll
		}
		if err != nil || p == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		st := info.Sys().(*filesystem.Stat)
		dirIno := x.Root()
		if parent := filepath.Dir(p); parent != "." {
			if pi, err := fsys.Stat(parent); err == nil {
				dirIno = pi.Sys().(*filesystem.Stat).Inode
			}
		}
		x.Lookup(dirIno, d.Name())
		x.Extents(st.Inode)
		switch {
		case d.Type().IsRegular():
			r, err := x.Open(st.Inode)
			if err != nil {
				return nil
			}
			n, _ := r.ReadAt(buf, 0)
			if n > len(buf) {
				t.Fatalf("ReadAt returned %d > %d", n, len(buf))
			}
			if st.Size > 0 {
				r.ReadAt(buf[:1], st.Size-1)
			}
		case d.Type()&fs.ModeSymlink != 0:
			x.ReadLink(st.Inode)
			fsys.Stat(p)
		}
		return nil
	})

	ctx := context.Background()
	var last filesystem.Range
	ranges := 0
	for r, err := range x.Unallocated(ctx) {
		if err != nil {
			continue
		}
		if r.Len <= 0 || r.Off < 0 || r.Off+r.Len > size || (ranges > 0 && r.Off <= last.Off+last.Len) {
			t.Fatalf("Unallocated range %+v after %+v (volume %d): not ascending, coalesced and inside", r, last, size)
		}
		last = r
		if ranges++; ranges > exerciseRanges {
			break
		}
	}
	deleted := 0
	for d, err := range x.Deleted(ctx) {
		if err != nil {
			continue
		}
		if d.Recovered < 0 || d.Recovered > d.Size {
			t.Fatalf("Deleted %s: Recovered %d outside 0..%d", d.Path, d.Recovered, d.Size)
		}
		if d.Content != nil {
			d.Content.ReadAt(buf[:exerciseSubReads], 0)
		}
		if deleted++; deleted > exerciseDeleted {
			break
		}
	}
}

// TestSeedsRoundTrip checks that the committed seeds decode to images the reader opens.
func TestSeedsRoundTrip(t *testing.T) {
	entries, _ := os.ReadDir(filepath.Join("testdata", "fuzz", "FuzzXFS"))
	opened := 0
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzXFS", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		data, err := parseCorpusFile(b)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		img := decodeSeed(data)
		x, err := Open(bytes.NewReader(img), int64(len(img)))
		if !strings.HasPrefix(e.Name(), "seed-") {
			continue // a crasher kept as a regression seed: FuzzXFS runs it
		}
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		opened++
		exercise(t, x, int64(len(img)))
		// The seed must reach real structures, or fuzzing starts from nothing.
		fsys := filesystem.New(x)
		if b, err := fs.ReadFile(fsys, "d/f1"); err != nil || string(b) != "file one\n" {
			t.Errorf("%s: d/f1 = %q, %v", e.Name(), b, err)
		}
		if es, err := fs.ReadDir(fsys, "many"); err != nil || len(es) != 40 {
			t.Errorf("%s: many/ lists %d entries, %v", e.Name(), len(es), err)
		}
		if target, err := fsys.ReadLink("far"); err != nil || len(target) != 404 {
			t.Errorf("%s: far -> %d bytes, %v", e.Name(), len(target), err)
		}
	}
	if opened == 0 && len(entries) > 0 {
		t.Error("no committed seed opens as XFS")
	}
}

// parseCorpusFile reads the single []byte value of a "go test fuzz v1" file.
func parseCorpusFile(b []byte) ([]byte, error) {
	_, rest, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return nil, errors.New("no header line")
	}
	rest = bytes.TrimSpace(rest)
	if !bytes.HasPrefix(rest, []byte("[]byte(")) || !bytes.HasSuffix(rest, []byte(")")) {
		return nil, errors.New("not a []byte value")
	}
	s, err := strconv.Unquote(string(rest[len("[]byte(") : len(rest)-1]))
	return []byte(s), err
}
