package unpack

import (
	"path/filepath"
	"testing"
)

// Archives made by the real tools, each walked and every member's path and content checked.

func TestToolTar(t *testing.T) {
	src := writeTree(t, tree)
	for _, format := range []string{"gnu", "ustar", "pax", "v7"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "a.tar")
			sh(t, src, "tar --format="+format+" -cf "+out+" etc home var srv", "tar")
			wantMembers(t, walkFile(t, out, Limits{}), prefixed("a.tar!", tree))
		})
	}
}

func TestToolCompressedTar(t *testing.T) {
	src := writeTree(t, tree)
	for _, c := range []struct{ ext, cmd, tool string }{
		{"tar.gz", "gzip -9", "gzip"},
		{"tgz", "gzip -1", "gzip"},
		{"tar.bz2", "bzip2", "bzip2"},
		{"tar.xz", "xz", "xz"},
		{"tar.xz", "xz -T2 --block-size=20000", "xz"}, // several blocks
		{"tar.zst", "zstd -q -19", "zstd"},
		{"tar.lz4", "lz4 -q", "lz4"},
		{"tar.lz4", "lz4 -q -l", "lz4"}, // legacy frame
	} {
		t.Run(c.cmd, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "a."+c.ext)
			sh(t, src, "tar -cf - etc home var srv | "+c.cmd+" > "+out, "tar", c.tool)
			res := walkFile(t, out, Limits{})
			wantMembers(t, res, prefixed("a."+c.ext+"!", tree))
			for p, d := range res.depths {
				if d != 1 {
					t.Errorf("%s: depth %d, want 1", p, d)
				}
			}
		})
	}
}

// Concatenated compressed streams read as one: gzip members, bzip2 streams, xz streams.
func TestToolConcatenatedStreams(t *testing.T) {
	dir := writeTree(t, map[string][]byte{"a": []byte("first part\n"), "b": []byte("second part\n")})
	want := []byte("first part\nsecond part\n")
	for _, c := range []struct{ name, tool string }{
		{"x.txt.gz", "gzip"}, {"x.txt.bz2", "bzip2"}, {"x.txt.xz", "xz"}, {"x.txt.zst", "zstd"},
	} {
		t.Run(c.tool, func(t *testing.T) {
			sh(t, dir, c.tool+" -c a > "+c.name+" && "+c.tool+" -c b >> "+c.name, c.tool)
			inner := c.name[:len(c.name)-len(filepath.Ext(c.name))]
			wantMembers(t, walkFile(t, filepath.Join(dir, c.name), Limits{}), map[string][]byte{c.name + "!" + inner: want})
		})
	}
}

func TestToolZip(t *testing.T) {
	src := writeTree(t, tree)
	for _, c := range []struct{ name, flags string }{
		{"stored.zip", "-0"},
		{"deflate.zip", "-9"},
		{"zip64.zip", "-fz"}, // zip64 records even though small
		{"app.jar", ""}, {"site.war", ""}, {"app.apk", ""}, {"report.docx", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), c.name)
			sh(t, src, "zip -q -r "+c.flags+" "+out+" etc home var srv", "zip")
			wantMembers(t, walkFile(t, out, Limits{}), prefixed(c.name+"!", tree))
		})
	}
}

// A zip behind a stub, as self-extractors and jar launchers are: with offsets as the stub left
// them and with offsets adjusted by zip -A.
func TestToolZipStub(t *testing.T) {
	src := writeTree(t, tree)
	for _, c := range []struct{ name, stub, adjust string }{
		{"sfx.exe", `printf 'MZ\220\0stub code here'`, ""},
		{"sfx-adjusted.exe", `printf 'MZ\220\0stub code here'`, "zip -q -A"},
		{"launcher.jar", `printf '#!/bin/sh\nexec java -jar "$0" "$@"\n'`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			script := "zip -q -r " + dir + "/inner.zip etc home var srv && (" + c.stub + "; cat " + dir + "/inner.zip) > " + dir + "/" + c.name
			if c.adjust != "" {
				script += " && " + c.adjust + " " + dir + "/" + c.name
			}
			sh(t, src, script, "zip")
			wantMembers(t, walkFile(t, filepath.Join(dir, c.name), Limits{}), prefixed(c.name+"!", tree))
		})
	}
}

// .tar.gz inside .zip inside .tar.zst, and a .deb (ar holding data.tar.xz and control.tar.gz).
func TestToolNested(t *testing.T) {
	src := writeTree(t, tree)
	dir := t.TempDir()
	sh(t, src, "tar -czf "+dir+"/inner.tar.gz etc home && cd "+dir+" && printf 'readme\\n' > README && "+
		"zip -q mid.zip inner.tar.gz README && tar -cf - mid.zip | zstd -q > outer.tar.zst", "tar", "gzip", "zip", "zstd")
	res := walkFile(t, filepath.Join(dir, "outer.tar.zst"), Limits{})
	want := map[string][]byte{"outer.tar.zst!mid.zip!README": []byte("readme\n")}
	for p, c := range tree {
		if p[:3] == "etc" || p[:4] == "home" {
			want["outer.tar.zst!mid.zip!inner.tar.gz!"+p] = c
		}
	}
	wantMembers(t, res, want)
	if d := res.depths["outer.tar.zst!mid.zip!inner.tar.gz!etc/app/config.ini"]; d != 3 {
		t.Errorf("depth %d, want 3", d)
	}
}

func TestToolDeb(t *testing.T) {
	src := writeTree(t, tree)
	dir := t.TempDir()
	sh(t, src, "printf '2.0\\n' > "+dir+"/debian-binary && tar -cJf "+dir+"/data.tar.xz etc home var srv && "+
		"printf 'Package: x\\n' > "+dir+"/control && tar -czf "+dir+"/control.tar.gz -C "+dir+" control && "+
		"cd "+dir+" && ar rc pkg.deb debian-binary control.tar.gz data.tar.xz", "tar", "xz", "gzip", "ar")
	want := merge(prefixed("pkg.deb!data.tar.xz!", tree), map[string][]byte{
		"pkg.deb!debian-binary":          []byte("2.0\n"),
		"pkg.deb!control.tar.gz!control": []byte("Package: x\n"),
	})
	wantMembers(t, walkFile(t, filepath.Join(dir, "pkg.deb"), Limits{}), want)
}

// GNU ar's long-name table, as made for names over 15 characters.
func TestToolArLongNames(t *testing.T) {
	dir := writeTree(t, map[string][]byte{"a-rather-long-member-name.txt": []byte("long\n"), "short": []byte("s\n")})
	sh(t, dir, "ar rc x.a a-rather-long-member-name.txt short", "ar")
	wantMembers(t, walkFile(t, filepath.Join(dir, "x.a"), Limits{}), map[string][]byte{
		"x.a!a-rather-long-member-name.txt": []byte("long\n"), "x.a!short": []byte("s\n")})
}

// A sparse file in a GNU and a PAX tar reads back with its holes as zeros.
func TestToolSparseTar(t *testing.T) {
	dir := t.TempDir()
	content := make([]byte, 3<<20)
	copy(content[1<<20:], "secret in the middle")
	copy(content[len(content)-5:], "tail\n")
	for _, format := range []string{"gnu", "pax"} {
		t.Run(format, func(t *testing.T) {
			sh(t, dir, "rm -f s.img && truncate -s 3M s.img && printf 'secret in the middle' | dd of=s.img bs=1 seek=1048576 conv=notrunc 2>/dev/null && "+
				"printf 'tail\\n' | dd of=s.img bs=1 seek=3145723 conv=notrunc 2>/dev/null && tar --format="+format+" -cSf s.tar s.img", "tar", "truncate", "dd")
			wantMembers(t, walkFile(t, filepath.Join(dir, "s.tar"), Limits{}), map[string][]byte{"s.tar!s.img": content})
		})
	}
}

func TestToolEncryptedZip(t *testing.T) {
	src := writeTree(t, tree)
	out := filepath.Join(t.TempDir(), "enc.zip")
	sh(t, src, "zip -q -P secret "+out+" etc/app/config.ini", "zip")
	res := walkFile(t, out, Limits{})
	wantErr(t, res, ErrEncrypted, "enc.zip!etc/app/config.ini", "encrypted")
	if len(res.sums) != 0 {
		t.Errorf("encrypted member was read: %v", res.sums)
	}
}
