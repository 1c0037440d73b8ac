package unpack

import (
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sep separates nesting levels in Member.Path: "outer.tar.gz!inner/dir/file.txt".
const Sep = "!"

// cleanName turns a member name from an archive into a relative slash path that cannot climb
// out of its archive ("../../etc/passwd" → "etc/passwd", "/etc/shadow" → "etc/shadow",
// `C:\x\y` → "x/y") and cannot fake a nesting level or spoof a report: "!", "%", control and
// bidirectional-override characters and invalid UTF-8 are percent-escaped.
func cleanName(name string) string {
	return escapeName(cleanPath(name))
}

// cleanPath is cleanName before escaping.
func cleanPath(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	if len(name) >= 2 && name[1] == ':' && isASCIILetter(name[0]) {
		name = name[2:] // a DOS drive letter
	}
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" {
		return "_"
	}
	return name
}

func isASCIILetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

// escapeName percent-escapes what must not appear raw in a Member.Path.
func escapeName(name string) string {
	clean := true
	for _, r := range name {
		if needsEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		if needsEscape(r) {
			for _, c := range []byte(name[i : i+size]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		} else {
			b.WriteString(name[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return r == '!' || r == '%' || r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// compressedSuffixes maps a compressed file's suffix to the suffix of what it holds, so that
// "dump.sql.gz" yields "dump.sql.gz!dump.sql" and "x.tgz" is known to hold "x.tar".
var compressedSuffixes = []struct{ from, to string }{
	{".tgz", ".tar"}, {".taz", ".tar"}, {".tbz2", ".tar"}, {".tbz", ".tar"}, {".txz", ".tar"},
	{".tzst", ".tar"}, {".tlz4", ".tar"},
	{".gz", ""}, {".gzip", ""}, {".z", ""}, {".bz2", ""}, {".bz", ""}, {".xz", ""},
	{".zst", ""}, {".zstd", ""}, {".lz4", ""},
}

// innerName is the name of the decompressed content of the file named base: base without its
// compression suffix, or base itself when it has none.
func innerName(base string) string {
	lower := strings.ToLower(base)
	for _, s := range compressedSuffixes {
		if strings.HasSuffix(lower, s.from) && len(base) > len(s.from) {
			return base[:len(base)-len(s.from)] + s.to
		}
	}
	return base
}
