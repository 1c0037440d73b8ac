package ntfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf16"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// expected is what the test wrote to a path of an image, as the ntfs-3g mount showed it.
type expected struct {
	kind       string // "file", "dir", "symlink", "irregular"
	data       []byte // file content
	target     string // symlink target as ntfs-3g's readlink gives it, mount point removed
	streams    map[string][]byte
	compressed bool
	sparse     bool
	readOnly   bool
	nlink      uint32
}

// populator writes a tree onto an ntfs-3g mount and records what it wrote.
type populator struct {
	t    testing.TB
	mnt  string
	want map[string]*expected
	rng  *rand.Rand
	// readLater are reparse-point links whose target is read after a remount: the kernel
	// cached them as regular files and would fail readlink on the mount that made them.
	readLater []string
}

func newPopulator(t testing.TB, mnt string) *populator {
	return &populator{t: t, mnt: mnt, want: map[string]*expected{}, rng: rand.New(rand.NewPCG(1, 2))}
}

func (p *populator) abs(rel string) string { return filepath.Join(p.mnt, filepath.FromSlash(rel)) }

func (p *populator) random(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(p.rng.Uint32())
	}
	return b
}

func (p *populator) mkdir(rel string) {
	p.t.Helper()
	if err := os.MkdirAll(p.abs(rel), 0o755); err != nil {
		p.t.Fatal(err)
	}
	for d := rel; d != "." && d != ""; d = filepath.ToSlash(filepath.Dir(d)) {
		if p.want[d] == nil {
			p.want[d] = &expected{kind: "dir"}
		}
	}
}

func (p *populator) file(rel string, data []byte) *expected {
	p.t.Helper()
	p.mkdir(filepath.ToSlash(filepath.Dir(rel)))
	if err := os.WriteFile(p.abs(rel), data, 0o644); err != nil {
		p.t.Fatalf("write %s: %v", rel, err)
	}
	e := &expected{kind: "file", data: data, nlink: 1}
	p.want[rel] = e
	return e
}

// symlink makes an Interix symbolic link, the kind ntfs-3g creates.
func (p *populator) symlink(rel, target string) {
	p.t.Helper()
	p.mkdir(filepath.ToSlash(filepath.Dir(rel)))
	if err := os.Symlink(target, p.abs(rel)); err != nil {
		p.t.Fatal(err)
	}
	p.want[rel] = &expected{kind: "symlink", target: p.readlink(rel)}
}

func (p *populator) readlink(rel string) string {
	p.t.Helper()
	got, err := os.Readlink(p.abs(rel))
	if err != nil {
		p.t.Fatalf("readlink %s: %v", rel, err)
	}
	return strings.TrimPrefix(got, p.mnt)
}

func (p *populator) link(oldRel, newRel string) {
	p.t.Helper()
	p.mkdir(filepath.ToSlash(filepath.Dir(newRel)))
	if err := os.Link(p.abs(oldRel), p.abs(newRel)); err != nil {
		p.t.Fatal(err)
	}
	orig := p.want[oldRel]
	orig.nlink++
	p.want[newRel] = orig
}

// setAttrs sets the Windows file attributes through ntfs-3g's system.ntfs_attrib_be.
func (p *populator) setAttrs(rel string, attrs uint32) {
	p.t.Helper()
	v := binary.BigEndian.AppendUint32(nil, attrs)
	if err := syscall.Setxattr(p.abs(rel), "system.ntfs_attrib_be", v, 0); err != nil {
		p.t.Fatalf("set attributes of %s: %v", rel, err)
	}
}

// stream writes an alternate data stream through ntfs-3g's user.* extended attributes.
func (p *populator) stream(rel, name string, data []byte) {
	p.t.Helper()
	if err := syscall.Setxattr(p.abs(rel), "user."+name, data, 0); err != nil {
		p.t.Fatalf("write stream %s:%s: %v", rel, name, err)
	}
	e := p.want[rel]
	if e.streams == nil {
		e.streams = map[string][]byte{}
	}
	e.streams[name] = data
}

// reparse makes rel (an existing empty file or directory) a reparse point through ntfs-3g's
// system.ntfs_reparse_data.
func (p *populator) reparse(rel string, data []byte) {
	p.t.Helper()
	if err := syscall.Setxattr(p.abs(rel), "system.ntfs_reparse_data", data, 0); err != nil {
		p.t.Fatalf("set reparse point on %s: %v", rel, err)
	}
}

// reparseLink builds the reparse data of a symbolic link (relative or absolute) or junction.
func reparseLink(tag uint32, target string, relative bool) []byte {
	sub := utf16le(target)
	var body []byte
	body = binary.LittleEndian.AppendUint16(body, 0)                  // substitute name offset
	body = binary.LittleEndian.AppendUint16(body, uint16(len(sub)))   // substitute name length
	body = binary.LittleEndian.AppendUint16(body, uint16(len(sub)+2)) // print name offset
	body = binary.LittleEndian.AppendUint16(body, uint16(len(sub)))   // print name length
	if tag == reparseTagSymlink {
		flags := uint32(0)
		if relative {
			flags = symlinkRelative
		}
		body = binary.LittleEndian.AppendUint32(body, flags)
	}
	body = append(body, sub...)
	body = append(body, 0, 0)
	body = append(body, sub...)
	body = append(body, 0, 0)
	return reparseHeader(tag, body)
}

func reparseHeader(tag uint32, body []byte) []byte {
	out := binary.LittleEndian.AppendUint32(nil, tag)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(body)))
	out = binary.LittleEndian.AppendUint16(out, 0)
	return append(out, body...)
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Windows file attributes settable through ntfs-3g.
const (
	winReadOnly   = 0x01
	winHidden     = 0x02
	winSystem     = 0x04
	winCompressed = 0x800
)

// populateMain writes the main test tree: files of many sizes, nested and unicode names, a
// directory of 3,000 files (a multi-level $I30 index), hard links (and enough of them on one
// file to need an $ATTRIBUTE_LIST), Interix and reparse-point symbolic links, a junction,
// sparse and compressed files, alternate data streams and Windows attributes.
func populateMain(p *populator) {
	p.file("empty", nil)
	p.file("tiny.txt", []byte("x"))
	p.file("resident.txt", bytes.Repeat([]byte("resident data "), 40)) // 560 bytes, inside the record
	for _, n := range []int{4095, 4096, 4097} {
		p.file(fmt.Sprintf("cluster/c%d.bin", n), p.random(n))
	}
	p.file("big/random-1m.bin", p.random(1<<20+513))
	p.file("big/random-3m.bin", p.random(3<<20+123))
	p.file("nested/a/b/c/d/deep.txt", []byte("deep inside\n"))

	for i := range 3000 {
		data := fmt.Appendf(nil, "file number %d\n", i)
		if i%100 == 0 {
			data = bytes.Repeat(data, 400) // some non-resident ones
		}
		p.file(fmt.Sprintf("many/f%04d.txt", i), data)
	}

	p.file("unicode/héllo wörld.txt", []byte("accents"))
	p.file("unicode/日本語のファイル.txt", []byte("japanese"))
	p.file("unicode/emoji-😀.txt", []byte("astral plane, a surrogate pair in UTF-16"))
	p.file("unicode/Ωmega/ДОКУМЕНТ.md", []byte("cyrillic"))

	p.file("links/original.txt", p.random(3000))
	p.link("links/original.txt", "links/hard1.txt")
	p.link("links/original.txt", "nested/hard2.txt")
	p.file("manylinks/base.bin", p.random(10000))
	for i := range 60 {
		p.link("manylinks/base.bin", fmt.Sprintf("manylinks/a-hard-link-with-a-rather-long-name-that-fills-records-%02d", i))
	}

	p.symlink("sym/rel-file", "../tiny.txt")
	p.symlink("sym/rel-dir", "../nested/a")
	p.symlink("sym/abs", "/big/random-1m.bin")

	p.mkdir("reparse")
	// ntfs-3g follows relative reparse links only downwards from the link's directory.
	p.file("reparse/target/file.txt", []byte("reparse target"))
	for _, rp := range []struct {
		name string
		dir  bool
		data []byte
	}{
		{"reparse/symlink-rel", false, reparseLink(reparseTagSymlink, `target\file.txt`, true)},
		{"reparse/symlink-abs", false, reparseLink(reparseTagSymlink, `\??\C:\nested\a\b\c\d\deep.txt`, false)},
		{"reparse/junction", true, reparseLink(reparseTagMountPoint, `\??\C:\nested`, false)},
	} {
		if rp.dir {
			p.mkdir(rp.name)
		} else {
			p.file(rp.name, nil)
		}
		p.reparse(rp.name, rp.data)
		p.want[rp.name] = &expected{kind: "symlink"}
		p.readLater = append(p.readLater, rp.name)
	}
	// A name-surrogate tag nothing here understands (a projected-file-system tombstone) makes
	// an irregular file; a tag that is no name surrogate (a cloud-files placeholder) leaves a
	// regular file with its data.
	p.file("reparse/tombstone", nil)
	p.reparse("reparse/tombstone", reparseHeader(0xA0000022, []byte("tombstone")))
	p.want["reparse/tombstone"] = &expected{kind: "irregular"}
	p.file("reparse/placeholder", []byte("hydrated cloud file content"))
	p.reparse("reparse/placeholder", reparseHeader(0x9000601A, []byte("cloud placeholder data..")))

	sp := p.file("sparse/seek.bin", nil)
	f, err := os.OpenFile(p.abs("sparse/seek.bin"), os.O_WRONLY, 0)
	if err != nil {
		p.t.Fatal(err)
	}
	head, tail := []byte("head of a sparse file"), []byte("tail, 20 MiB further")
	if _, err = f.WriteAt(head, 0); err == nil {
		_, err = f.WriteAt(tail, 20<<20+5)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		p.t.Fatal(err)
	}
	sp.data = make([]byte, 20<<20+5+len(tail))
	copy(sp.data, head)
	copy(sp.data[20<<20+5:], tail)
	sp.sparse = true
	tr := p.file("sparse/truncated.bin", nil)
	if err := os.Truncate(p.abs("sparse/truncated.bin"), 30<<20); err != nil {
		p.t.Fatal(err)
	}
	tr.data = make([]byte, 30<<20)
	tr.sparse = true

	p.mkdir("comp")
	p.setAttrs("comp", winCompressed)
	text := []byte{}
	for i := 0; len(text) < 300_000; i++ {
		text = fmt.Appendf(text, "line %d of a compressible text file, password=hunter%d\n", i, i%7)
	}
	p.file("comp/text.txt", text).compressed = true
	p.file("comp/random.bin", p.random(100_000)).compressed = true
	mixed := append(append(append([]byte{}, text[:65536]...), make([]byte, 131072)...), text[:65536]...)
	p.file("comp/mixed.bin", mixed).compressed = true
	p.file("comp/small.txt", text[:3000]).compressed = true
	p.file("comp/sub/inner.txt", text[:50000]).compressed = true

	p.file("ads/file.txt", []byte("main stream"))
	p.stream("ads/file.txt", "secret", []byte("hunter2 is the password"))
	p.stream("ads/file.txt", "big", p.random(60_000)) // xattrs stop at 64 KiB

	p.file("attrs/readonly.txt", []byte("read only")).readOnly = true
	p.setAttrs("attrs/readonly.txt", winReadOnly)
	p.file("attrs/hidden.txt", []byte("hidden"))
	p.setAttrs("attrs/hidden.txt", winHidden)
	p.file("attrs/system.txt", []byte("a system file, not an Interix one"))
	p.setAttrs("attrs/system.txt", winSystem)

	p.file("System Volume Information/tracking.log", []byte("volume shadow copy residue"))
	p.file("pagefile.sys", p.random(8192))
	p.file("hiberfil.sys", p.random(12288))
}

// buildNTFS makes an empty NTFS image, mounts it, runs populate and unmounts it.
func buildNTFS(t testing.TB, sizeMiB int, populate func(p *populator), mkntfsArgs ...string) (string, map[string]*expected) {
	t.Helper()
	fixture.Need(t, "mkntfs", "ntfs-3g")
	img := fixture.NTFS(t, "", sizeMiB, mkntfsArgs...)
	mnt, unmount := fixture.MountNTFS(t, img)
	p := newPopulator(t, mnt)
	func() {
		defer unmount()
		populate(p)
	}()
	if len(p.readLater) > 0 {
		p.mnt, unmount = fixture.MountNTFS(t, img)
		defer unmount()
		for _, rel := range p.readLater {
			p.want[rel].target = p.readlink(rel)
		}
	}
	return img, p.want
}
