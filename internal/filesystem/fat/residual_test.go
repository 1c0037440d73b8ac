package fat

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// deletionTree is what TestDeleted puts on a volume before deleting most of it.
func deletionTree() []fixture.File {
	return []fixture.File{
		{Path: "keep/kept.txt", Data: []byte("still here\n")},
		{Path: "gone/Long Deleted Name.txt", Data: []byte("a long name survives deletion\n")},
		{Path: "gone/SHORT.TXT", Data: []byte("short upper-case name\n")},
		{Path: "gone/lower.txt", Data: []byte("short lower-case name\n")},
		{Path: "gone/deleted-big.bin", Data: randomBytes(7, 300_000)},
		{Path: "gone/empty.dat", Data: nil},
		{Path: "gone/naïve résumé.txt", Data: []byte("unicode\n")},
		{Path: "tree/sub/x.bin", Data: randomBytes(8, 5000)},
		{Path: "tree/Long Name Dir/y.txt", Data: []byte("in a deleted directory with a long name\n")},
		{Path: "tree/Long Name Dir/deeper/z.txt", Data: []byte("two levels down\n")},
		{Path: "tree/top.txt", Data: []byte("top of the deleted tree\n")},
	}
}

// deletedPaths maps each deleted source file to the path Deleted must report: long names come
// back whole, 8.3 names lose their first character to "_" (the convention fls follows too).
var deletedPaths = map[string]string{
	"gone/Long Deleted Name.txt":      "/gone/Long Deleted Name.txt",
	"gone/SHORT.TXT":                  "/gone/_HORT.TXT",
	"gone/lower.txt":                  "/gone/_ower.txt",
	"gone/deleted-big.bin":            "/gone/deleted-big.bin",
	"gone/empty.dat":                  "/gone/_mpty.dat",
	"gone/naïve résumé.txt":           "/gone/naïve résumé.txt",
	"tree/sub/x.bin":                  "/_ree/_ub/_.bin",
	"tree/Long Name Dir/y.txt":        "/_ree/Long Name Dir/_.txt",
	"tree/Long Name Dir/deeper/z.txt": "/_ree/Long Name Dir/_eeper/_.txt",
	"tree/top.txt":                    "/_ree/_op.txt",
}

func TestDeleted(t *testing.T) {
	fixture.Need(t, "mkfs.vfat", "mcopy", "mdel", "mdeltree", "fls")
	for _, c := range []struct {
		name          string
		sizeMiB, bits int
	}{{"fat12", 2, 12}, {"fat16", 32, 16}, {"fat32", 64, 32}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			files := deletionTree()
			img := fixture.FAT(t, fixture.WriteTree(t, files), c.sizeMiB, c.bits)
			for _, f := range files {
				if strings.HasPrefix(f.Path, "gone/") {
					mtools(t, "mdel", "-i", img, "::/"+f.Path)
				}
			}
			mtools(t, "mdeltree", "-i", img, "::/tree")

			v := openImage(t, img)
			got := map[string]filesystem.Deleted{}
			for d, err := range v.Deleted(context.Background()) {
				if err != nil {
					t.Fatal(err)
				}
				if _, dup := got[d.Path]; dup {
					t.Errorf("%q reported twice", d.Path)
				}
				got[d.Path] = d
			}
			for _, f := range files {
				want, ok := deletedPaths[f.Path]
				if !ok {
					continue
				}
				d, ok := got[want]
				if !ok {
					t.Errorf("deleted %q not reported as %q", f.Path, want)
					continue
				}
				if d.Size != int64(len(f.Data)) || d.Recovered != d.Size || d.Mode.IsDir() {
					t.Errorf("%q: size %d recovered %d mode %v, want size %d fully recovered", want, d.Size, d.Recovered, d.Mode, len(f.Data))
				}
				if len(f.Data) == 0 {
					if d.Content != nil {
						t.Errorf("%q: empty file has content", want)
					}
					continue
				}
				b, err := io.ReadAll(io.NewSectionReader(d.Content, 0, d.Size))
				if err != nil {
					t.Fatal(err)
				}
				if sum(b) != sum(f.Data) {
					t.Errorf("%q: recovered content differs from the original", want)
				}
			}
			for _, dir := range []string{"/_ree", "/_ree/_ub", "/_ree/Long Name Dir", "/_ree/Long Name Dir/_eeper"} {
				if d, ok := got[dir]; !ok || !d.Mode.IsDir() {
					t.Errorf("deleted directory %q not reported (%+v)", dir, d)
				}
			}
			if _, ok := got["/keep/kept.txt"]; ok {
				t.Error("a live file is reported deleted")
			}
			// The Sleuth Kit reads the same names, sizes and times.
			want := tskBody(t, img, true)
			ours := map[string]node{}
			for p, d := range got {
				ours[p] = node{dir: d.Mode.IsDir(), size: d.Size, mtime: unix(d.ModTime)}
			}
			for p, w := range want {
				w.atime, w.crtime = 0, 0 // Deleted carries the modification time only
				want[p] = w
			}
			compareNodes(t, "fls -d", ours, want)
			if len(got) != len(deletedPaths)+4 {
				t.Errorf("%d deleted entries reported, want %d", len(got), len(deletedPaths)+4)
			}
		})
	}
}

func TestUnallocated(t *testing.T) {
	fixture.Need(t, "mkfs.vfat", "mcopy", "mdel", "fsstat", "fsck.fat")
	for _, c := range []struct {
		name          string
		sizeMiB, bits int
	}{{"fat12", 2, 12}, {"fat16", 32, 16}, {"fat32", 64, 32}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			img := fragmentedImage(t, c.sizeMiB, c.bits)
			v := openImage(t, img)
			var ours []filesystem.Range
			var free int64
			for r, err := range v.Unallocated(context.Background()) {
				if err != nil {
					t.Fatal(err)
				}
				if n := len(ours); n > 0 && ours[n-1].Off+ours[n-1].Len >= r.Off {
					t.Fatalf("ranges not ascending and coalesced: %+v then %+v", ours[n-1], r)
				}
				ours = append(ours, r)
				free += r.Len
			}
			want := tskFree(t, img)
			if fmt.Sprint(ours) != fmt.Sprint(want) {
				t.Errorf("free ranges differ from fsstat's:\n ours %v\n tsk  %v", ours, want)
			}
			// fsck.fat counts used clusters independently.
			out, _ := fixture.RunEnv(nil, "fsck.fat", "-n", "-v", img)
			m := regexp.MustCompile(`(\d+)/(\d+) clusters`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("fsck.fat output: %s", out)
			}
			used, _ := strconv.ParseInt(m[1], 10, 64)
			total, _ := strconv.ParseInt(m[2], 10, 64)
			if cs := v.v.(*fatVolume).g.clusterSize; free != (total-used)*cs {
				t.Errorf("free bytes %d, fsck.fat says %d clusters of %d free", free, total-used, cs)
			}
		})
	}
}

// tskFree derives the free clusters from fsstat: the cluster area minus the runs its FAT
// CONTENTS section lists as allocated.
func tskFree(t *testing.T, img string) []filesystem.Range {
	t.Helper()
	out := fixture.Run(t, "fsstat", img)
	var sector, first, last int64
	var alloc [][2]int64
	inFAT := false
	sc := bufio.NewScanner(strings.NewReader(out))
	runRE := regexp.MustCompile(`^(\d+)-(\d+) \(\d+\) ->`)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "Sector Size:"):
			sector, _ = strconv.ParseInt(strings.TrimSpace(l[len("Sector Size:"):]), 10, 64)
		case strings.HasPrefix(l, "** Cluster Area:"):
			fmt.Sscanf(strings.TrimSpace(l[len("** Cluster Area:"):]), "%d - %d", &first, &last)
		case strings.HasPrefix(l, "FAT CONTENTS"):
			inFAT = true
		case inFAT:
			if m := runRE.FindStringSubmatch(l); m != nil {
				a, _ := strconv.ParseInt(m[1], 10, 64)
				b, _ := strconv.ParseInt(m[2], 10, 64)
				alloc = append(alloc, [2]int64{a, b})
			}
		}
	}
	if sector == 0 || last == 0 {
		t.Fatalf("fsstat output not understood:\n%s", out)
	}
	used := make([]bool, last+1)
	for _, a := range alloc {
		for s := a[0]; s <= a[1]; s++ {
			used[s] = true
		}
	}
	var free []filesystem.Range
	for s := first; s <= last; s++ {
		if used[s] {
			continue
		}
		if n := len(free); n > 0 && free[n-1].Off+free[n-1].Len == s*sector {
			free[n-1].Len += sector
		} else {
			free = append(free, filesystem.Range{Off: s * sector, Len: sector})
		}
	}
	return free
}

// fragmentedImage writes interleaved files, deletes every other one and then writes a file
// bigger than each hole, so that mtools scatters it over the holes; it also rewrites a file
// larger than it was (mtools has no append: it frees and reallocates).
func fragmentedImage(t *testing.T, sizeMiB, bits int) string {
	t.Helper()
	img := fixture.FAT(t, "", sizeMiB, bits)
	dir := t.TempDir()
	cs := clusterSizeOf(t, img)
	write := func(name string, data []byte, extra ...string) {
		p := dir + "/" + name
		if err := writeFile(p, data); err != nil {
			t.Fatal(err)
		}
		mtools(t, "mcopy", append(append([]string{"-i", img}, extra...), p, "::/"+name)...)
	}
	for i := 0; i < 8; i++ {
		write(fmt.Sprintf("a%d.bin", i), randomBytes(uint64(200+i), 3*cs))
		write(fmt.Sprintf("b%d.bin", i), randomBytes(uint64(300+i), 2*cs+100))
	}
	for i := 0; i < 8; i += 2 {
		mtools(t, "mdel", "-i", img, fmt.Sprintf("::/b%d.bin", i))
	}
	if bits == 32 {
		forgetNextFree(t, img)
	}
	write("scattered.bin", randomBytes(400, 9*cs+17))
	write("a1.bin", randomBytes(401, 5*cs+3), "-o")
	return img
}

func TestFragmented(t *testing.T) {
	fixture.Need(t, "mkfs.vfat", "mcopy", "mdel", "fls", "istat", "icat")
	for _, c := range []struct {
		name          string
		sizeMiB, bits int
	}{{"fat12", 2, 12}, {"fat16", 32, 16}, {"fat32", 64, 32}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			img := fragmentedImage(t, c.sizeMiB, c.bits)
			v := openImage(t, img)
			fsys := filesystem.New(v)
			body := tskBody(t, img, false)
			for name, want := range map[string][]byte{
				"scattered.bin": randomBytes(400, 9*clusterSizeOf(t, img)+17),
				"a1.bin":        randomBytes(401, 5*clusterSizeOf(t, img)+3),
			} {
				if sum(readAll(t, fsys, name)) != sum(want) {
					t.Errorf("%s: content differs from the source", name)
				}
				if sum(readAll(t, fsys, name)) != sum([]byte(fixture.Run(t, "icat", img, body["/"+name].ino))) {
					t.Errorf("%s: content differs from icat's", name)
				}
				info, err := fsys.Stat(name)
				if err != nil {
					t.Fatal(err)
				}
				ext, err := v.Extents(info.Sys().(*filesystem.Stat).Inode)
				if err != nil {
					t.Fatal(err)
				}
				if name == "scattered.bin" && len(ext) < 2 {
					t.Errorf("%s is not fragmented: %+v", name, ext)
				}
				if got, want := extentSectors(ext, v.v.(*fatVolume).g.sectorSize), istatSectors(t, img, body["/"+name].ino); got != want {
					t.Errorf("%s: sectors\n ours  %s\n istat %s", name, got, want)
				}
			}
		})
	}
}

// extentSectors lists the sectors extents cover, as istat prints them.
func extentSectors(ext []filesystem.Extent, sector int64) string {
	var s []string
	for _, e := range ext {
		for off := int64(0); off < e.Length; off += sector {
			s = append(s, strconv.FormatInt((e.Physical+off)/sector, 10))
		}
	}
	return strings.Join(s, " ")
}

// forgetNextFree clears the FAT32 FSInfo next-free hint, so that mtools allocates first-fit
// from cluster 2 (into the holes) as it does on FAT12/16, instead of after the last allocation.
func forgetNextFree(t *testing.T, img string) {
	t.Helper()
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var boot [512]byte
	if _, err := f.ReadAt(boot[:], 0); err != nil {
		t.Fatal(err)
	}
	bps := int64(binary.LittleEndian.Uint16(boot[11:]))
	fsinfo := int64(binary.LittleEndian.Uint16(boot[48:])) * bps
	if _, err := f.WriteAt([]byte{0xFF, 0xFF, 0xFF, 0xFF}, fsinfo+492); err != nil {
		t.Fatal(err)
	}
}

// istatSectors is the "Sectors:" list of TSK's istat, without the zeros it prints for the
// sectors of the last cluster that lie past the end of the file.
func istatSectors(t *testing.T, img, ino string) string {
	out := fixture.Run(t, "istat", img, ino)
	i := strings.Index(out, "Sectors:\n")
	if i < 0 {
		t.Fatalf("istat output: %s", out)
	}
	f := strings.Fields(out[i+len("Sectors:\n"):])
	for len(f) > 0 && f[len(f)-1] == "0" {
		f = f[:len(f)-1]
	}
	return strings.Join(f, " ")
}

func clusterSizeOf(t *testing.T, img string) int {
	t.Helper()
	return int(openImage(t, img).v.(*fatVolume).g.clusterSize)
}
