package volume

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// discoverFile runs Discover on a disk image file.
func discoverFile(t testing.TB, path string) *Layout {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	l, err := Discover(f, st.Size())
	if err != nil {
		t.Fatalf("Discover(%s): %v", path, err)
	}
	t.Logf("%s:\n%s", path, dumpLayout(l))
	return l
}

// dumpLayout prints a layout for test logs.
func dumpLayout(l *Layout) string {
	var b strings.Builder
	fmt.Fprintf(&b, "scheme=%s sector=%d id=%s\n", l.Scheme, l.SectorSize, l.DiskID)
	for _, v := range l.Volumes {
		fmt.Fprintf(&b, "  %-12s parent=%-6s %-4s %-28q id=%-38s label=%q off=%d size=%d boot=%v cont=%v reader=%v problem=%q\n",
			v.Name, v.Parent, v.Scheme, v.Type, v.TypeID, v.Label, v.Offset, v.Size, v.Bootable, v.Container, v.Reader != nil, v.Problem)
	}
	for _, w := range l.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	return b.String()
}

// volumeNamed returns the volume with the given name or fails.
func volumeNamed(t testing.TB, l *Layout, name string) Volume {
	t.Helper()
	for _, v := range l.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %q in\n%s", name, dumpLayout(l))
	return Volume{}
}

// extent is a byte range of the disk.
type extent struct{ start, size int64 }

// dataPartitions returns the extents of the partition volumes that are not extended containers.
func dataPartitions(l *Layout) []extent {
	var out []extent
	for _, v := range l.Volumes {
		if (v.Scheme == SchemeMBR || v.Scheme == SchemeGPT) && v.Type != "Extended" && v.Type != "W95 Extended (LBA)" && v.Type != "Linux extended" {
			out = append(out, extent{v.Offset, v.Size})
		}
	}
	return out
}

// sfdiskExtents lists the partitions sfdisk --json sees, extended ones excluded.
func sfdiskExtents(t testing.TB, path string) []extent {
	t.Helper()
	var out []extent
	for _, p := range fixture.Partitions(t, path) {
		if p.Type == "5" || p.Type == "f" || p.Type == "85" {
			continue
		}
		out = append(out, extent{p.Start, p.Size})
	}
	return out
}

var (
	mmlsUnit = regexp.MustCompile(`Units are in (\d+)-byte sectors`)
	// A data row: "004:  000:001   0000002048   0000004095   0000002048   Linux (0x83)" (DOS) or
	// "004:  000       0000002048 ..." (GPT). Meta and unallocated rows have other slot texts.
	mmlsRow = regexp.MustCompile(`^\d+:\s+(\d+(?::\d+)?)\s+(\d+)\s+(\d+)\s+(\d+)\s*(.*)$`)
)

// mmlsExtents lists the data partitions The Sleuth Kit's mmls sees, in bytes.
func mmlsExtents(t testing.TB, path string, args ...string) []extent {
	t.Helper()
	fixture.Need(t, "mmls")
	out := fixture.Run(t, "mmls", append(args, path)...)
	unit := int64(512)
	if m := mmlsUnit.FindStringSubmatch(out); m != nil {
		unit, _ = strconv.ParseInt(m[1], 10, 64)
	}
	var got []extent
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := mmlsRow.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		start, _ := strconv.ParseInt(m[2], 10, 64)
		length, _ := strconv.ParseInt(m[4], 10, 64)
		got = append(got, extent{start * unit, length * unit})
	}
	return got
}

// sameExtents fails unless both lists hold the same extents in the same order.
func sameExtents(t testing.TB, what string, got, want []extent) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// sha256Reader hashes the first n bytes of r.
func sha256Reader(t testing.TB, r io.ReaderAt, n int64) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, n)); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sha256File hashes a file.
func sha256File(t testing.TB, path string) (string, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// sameContent fails unless the volume starts with exactly the bytes of the image file.
func sameContent(t testing.TB, v Volume, image string) {
	t.Helper()
	if v.Reader == nil {
		t.Fatalf("%s has no reader (problem %q)", v.Name, v.Problem)
	}
	want, n := sha256File(t, image)
	if v.Reader.Size() < n {
		t.Fatalf("%s: %d bytes readable, image has %d", v.Name, v.Reader.Size(), n)
	}
	if got := sha256Reader(t, v.Reader, n); got != want {
		t.Errorf("%s: sha256 of the first %d bytes is %s, the image's is %s", v.Name, n, got, want)
	}
}

// writeAt patches a file.
func writeAt(t testing.TB, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// hasWarning reports whether a warning contains all the given fragments.
func hasWarning(l *Layout, fragments ...string) bool {
	for _, w := range l.Warnings {
		all := true
		for _, f := range fragments {
			if !strings.Contains(w, f) {
				all = false
			}
		}
		if all {
			return true
		}
	}
	return false
}

// sfdiskImage writes an empty sparse image of sizeMiB and partitions it from an sfdisk script.
func sfdiskImage(t testing.TB, sizeMiB int64, script string) string {
	t.Helper()
	fixture.Need(t, "sfdisk")
	path := t.TempDir() + "/disk.raw"
	fixture.Sparse(t, path, sizeMiB<<20)
	fixture.SFDisk(t, path, script)
	return path
}
