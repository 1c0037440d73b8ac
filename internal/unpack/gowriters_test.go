package unpack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Archives made with Go's own writers (and hand-made where Go has none), walked and checked.

func sortedPaths(files map[string][]byte) []string {
	var ps []string
	for p := range files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// makeZip writes files into a zip with the given method (registered compressors for zstd, xz).
func makeZip(t testing.TB, files map[string][]byte, method uint16) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(93, func(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w) })
	zw.RegisterCompressor(95, func(w io.Writer) (io.WriteCloser, error) { return &lazyXZ{w: w}, nil })
	for _, p := range sortedPaths(files) {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: p, Method: method, Modified: time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		f.Write(files[p])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lazyXZ starts the xz writer at the first write: xz.NewWriter writes the stream header at
// once, and zip.Writer calls the compressor's constructor before it writes the local header.
type lazyXZ struct {
	w  io.Writer
	xw *xz.Writer
}

func (l *lazyXZ) Write(p []byte) (int, error) {
	if l.xw == nil {
		var err error
		if l.xw, err = xz.NewWriter(l.w); err != nil {
			return 0, err
		}
	}
	return l.xw.Write(p)
}

func (l *lazyXZ) Close() error {
	if _, err := l.Write(nil); err != nil {
		return err
	}
	return l.xw.Close()
}

func makeTar(t testing.TB, files map[string][]byte, format tar.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range sortedPaths(files) {
		if err := tw.WriteHeader(&tar.Header{Name: p, Size: int64(len(files[p])), Mode: 0o644, Typeflag: tar.TypeReg,
			ModTime: time.Unix(1700000000, 0), Format: format}); err != nil {
			t.Fatal(err)
		}
		tw.Write(files[p])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestGoZipMethods(t *testing.T) {
	for _, m := range []struct {
		name   string
		method uint16
	}{{"stored", zip.Store}, {"deflate", zip.Deflate}, {"zstd", 93}, {"xz", 95}} {
		t.Run(m.name, func(t *testing.T) {
			wantMembers(t, walk(t, "a.zip", makeZip(t, tree, m.method), Limits{}), prefixed("a.zip!", tree))
		})
	}
}

// Method 12 (bzip2) has no Go writer: the bzip2 tool's output goes in raw.
func TestZipBzip2Method(t *testing.T) {
	dir := writeTree(t, map[string][]byte{"n.txt": tree["home/u/notes.txt"]})
	sh(t, dir, "bzip2 -k n.txt", "bzip2")
	raw := readFile(t, filepath.Join(dir, "n.txt.bz2"))
	content := tree["home/u/notes.txt"]
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "n.txt", Method: 12, CRC32: crc32.ChecksumIEEE(content),
		CompressedSize64: uint64(len(raw)), UncompressedSize64: uint64(len(content))})
	w.Write(raw)
	zw.Close()
	wantMembers(t, walk(t, "b.zip", buf.Bytes(), Limits{}), map[string][]byte{"b.zip!n.txt": content})
}

func TestZipUnsupportedMethod(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "x.txt", Method: 98, CompressedSize64: 3, UncompressedSize64: 3})
	w.Write([]byte("abc"))
	w, _ = zw.CreateRaw(&zip.FileHeader{Name: "aes.txt", Method: 99, Flags: 1, CompressedSize64: 3, UncompressedSize64: 3})
	w.Write([]byte("abc"))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "ok.txt"})
	w.Write([]byte("fine"))
	zw.Close()
	res := walk(t, "m.zip", buf.Bytes(), Limits{})
	wantErr(t, res, ErrUnsupported, "m.zip!x.txt: zip: compression method 98 (PPMd): not supported")
	wantErr(t, res, ErrEncrypted, "m.zip!aes.txt: zip: encrypted")
	if res.sums["m.zip!ok.txt"] != sum([]byte("fine")) {
		t.Errorf("the readable member after the bad ones was not read: %v", res.sums)
	}
}

// A member whose header lies about its size or checksum fails while being read.
func TestZipLyingHeaders(t *testing.T) {
	content := []byte("the real content, longer than declared")
	for _, c := range []struct {
		name  string
		usize uint64
		crc   uint32
		want  string
	}{
		{"short", 5, crc32.ChecksumIEEE(content), "member longer than its declared size"},
		{"long", 1000, crc32.ChecksumIEEE(content), "member shorter than its declared size"},
		{"crc", uint64(len(content)), 1234, "checksum mismatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, _ := zw.CreateRaw(&zip.FileHeader{Name: "x", Method: zip.Store, CRC32: c.crc,
				CompressedSize64: uint64(len(content)), UncompressedSize64: c.usize})
			w.Write(content)
			zw.Close()
			wantErr(t, walk(t, "l.zip", buf.Bytes(), Limits{}), nil, "l.zip!x: zip: "+c.want)
		})
	}
}

func TestGoTarFormats(t *testing.T) {
	long := map[string][]byte{
		strings.Repeat("very-long-directory-name/", 12) + "file.txt": []byte("deep\n"),
		"ünïcödé/名前.txt":                                             []byte("utf-8 names\n"),
		"plain.txt":                                                  []byte("plain\n"),
	}
	for _, f := range []tar.Format{tar.FormatPAX, tar.FormatGNU} {
		t.Run(f.String(), func(t *testing.T) {
			wantMembers(t, walk(t, "t.tar", makeTar(t, long, f), Limits{}), prefixed("t.tar!", long))
			wantMembers(t, walk(t, "t.tar.gz", gz(t, makeTar(t, long, f)), Limits{}), prefixed("t.tar.gz!", long))
		})
	}
}

// Compressed files that hold no archive yield their content under the name without the suffix.
func TestCompressedLeafNames(t *testing.T) {
	text := []byte("DB_PASSWORD=hunter2\n")
	gzText := gz(t, text)
	for name, want := range map[string]string{
		"dump.sql.gz": "dump.sql.gz!dump.sql", "blob": "blob!blob", "x.tgz": "x.tgz!x.tar", "DUMP.GZ": "DUMP.GZ!DUMP",
	} {
		wantMembers(t, walk(t, name, gzText, Limits{}), map[string][]byte{want: text})
	}
	// gzip inside gzip: both layers peeled in one level.
	wantMembers(t, walk(t, "a.txt.gz.gz", gz(t, gzText), Limits{}), map[string][]byte{"a.txt.gz.gz!a.txt": text})
	// Not compressed, not an archive: nothing.
	if res := walk(t, "plain.txt", text, Limits{}); len(res.sums)+len(res.errs) != 0 {
		t.Errorf("plain text yielded %v %v", res.sums, res.errs)
	}
}

// cpioNewc writes a newc (or crc) archive with a trailer, as initramfs and RPM payloads are.
func cpioNewc(files map[string][]byte, magic string) []byte {
	var b bytes.Buffer
	add := func(name string, mode int, data []byte) {
		fmt.Fprintf(&b, "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic,
			1, mode, 0, 0, 1, 1700000000, len(data), 0, 0, 0, 0, len(name)+1, 0)
		b.WriteString(name + "\x00")
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		b.Write(data)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	add("etc", 0o40755, nil)
	for _, p := range sortedPaths(files) {
		add(p, 0o100644, files[p])
	}
	add("TRAILER!!!", 0, nil)
	return b.Bytes()
}

// cpioODC writes a POSIX portable (odc) archive.
func cpioODC(files map[string][]byte) []byte {
	var b bytes.Buffer
	add := func(name string, mode int, data []byte) {
		fmt.Fprintf(&b, "070707%06o%06o%06o%06o%06o%06o%06o%011o%06o%011o", 0, 1, mode, 0, 0, 1, 0, 1700000000, len(name)+1, len(data))
		b.WriteString(name + "\x00")
		b.Write(data)
	}
	for _, p := range sortedPaths(files) {
		add(p, 0o100644, files[p])
	}
	add("TRAILER!!!", 0, nil)
	return b.Bytes()
}

func TestCpio(t *testing.T) {
	wantMembers(t, walk(t, "i.cpio", cpioNewc(tree, "070701"), Limits{}), prefixed("i.cpio!", tree))
	wantMembers(t, walk(t, "c.cpio", cpioNewc(tree, "070702"), Limits{}), prefixed("c.cpio!", tree))
	wantMembers(t, walk(t, "o.cpio", cpioODC(tree), Limits{}), prefixed("o.cpio!", tree))
	wantMembers(t, walk(t, "initrd.img", gz(t, cpioNewc(tree, "070701")), Limits{}), prefixed("initrd.img!", tree))
}

// The cpio tool's own output, when it is installed.
func TestToolCpio(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio is not installed; the Go-written archives of TestCpio cover the format")
	}
	src := writeTree(t, tree)
	out := filepath.Join(t.TempDir(), "x.cpio")
	sh(t, src, "find etc home var srv -type f | sort | cpio -o -H newc --quiet > "+out, "cpio")
	wantMembers(t, walk(t, "x.cpio", readFile(t, out), Limits{}), prefixed("x.cpio!", tree))
}

// rpm wraps a payload in a lead and two header structures, as rpmbuild does.
func rpm(payload []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte("\xed\xab\xee\xdb\x03\x00"))
	b.Write(make([]byte, 90))
	header := func(entries, data int, pad bool) {
		b.Write([]byte("\x8e\xad\xe8\x01\x00\x00\x00\x00"))
		binary.Write(&b, binary.BigEndian, uint32(entries))
		binary.Write(&b, binary.BigEndian, uint32(data))
		b.Write(bytes.Repeat([]byte{0xaa}, 16*entries+data))
		for pad && b.Len()%8 != 0 {
			b.WriteByte(0)
		}
	}
	header(3, 37, true)
	header(5, 101, false)
	b.Write(payload)
	return b.Bytes()
}

func TestRPM(t *testing.T) {
	wantMembers(t, walk(t, "p.rpm", rpm(gz(t, cpioNewc(tree, "070701"))), Limits{}), prefixed("p.rpm!", tree))
	var zs bytes.Buffer
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(cpioNewc(tree, "070701"))
	zw.Close()
	wantMembers(t, walk(t, "q.rpm", rpm(zs.Bytes()), Limits{}), prefixed("q.rpm!", tree))
}

// A zip inside a compressed stream is spooled: in memory when small, else in an unlinked temp
// file that is gone after the walk.
func TestSpooledZip(t *testing.T) {
	big := map[string][]byte{"big.bin": pseudoRandom(3<<20, 7), "small.txt": []byte("s")}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for name, files := range map[string]map[string][]byte{"small.zip.gz": tree, "big.zip.gz": big} {
		res := walk(t, name, gz(t, makeZip(t, files, zip.Deflate)), Limits{})
		wantMembers(t, res, prefixed(name+"!", files))
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
	// Too big to spool: MaxEntryBytes.
	res := walk(t, "big.zip.gz", gz(t, makeZip(t, big, zip.Store)), Limits{MaxEntryBytes: 1 << 20})
	wantErr(t, res, ErrLimit, "big.zip.gz", "spooled")
}

// Member.Open is valid only inside the loop body, once for streamed members, again for zip ones.
func TestOpenContract(t *testing.T) {
	data := makeTar(t, map[string][]byte{"a": []byte("aaa"), "b": []byte("bbb")}, tar.FormatPAX)
	var kept io.ReadCloser
	for m, err := range Walk(t.Context(), "t.tar", bytes.NewReader(data), int64(len(data)), Limits{}) {
		if err != nil {
			t.Fatal(err)
		}
		rc, _ := m.Open()
		if _, err := m.Open(); err == nil {
			t.Error("a tar member opened twice")
		}
		if kept == nil {
			kept = rc
		}
	}
	if _, err := kept.Read(make([]byte, 10)); err == nil || !strings.Contains(err.Error(), "moved past") {
		t.Errorf("read after the loop moved on: %v", err)
	}
	z := makeZip(t, map[string][]byte{"a": []byte("aaa")}, zip.Deflate)
	for m := range Walk(t.Context(), "z.zip", bytes.NewReader(z), int64(len(z)), Limits{}) {
		for i := 0; i < 2; i++ {
			rc, err := m.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			if string(b) != "aaa" || err != nil {
				t.Errorf("zip open %d: %q %v", i, b, err)
			}
			rc.Close()
		}
	}
}
