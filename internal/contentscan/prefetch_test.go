package contentscan

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"

	"io/fs"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
	"github.com/snapwatch/snapwatch/internal/target"
)

// openPlanted opens a GPT disk with an ext4 volume holding the plants and a 10 MiB file with a
// secret at its end, and returns the target and the ext4 volume's mount.
func openPlanted(t *testing.T) (*target.Target, *target.Mount) {
	return openPlantedWith(t)
}

func openPlantedWith(t *testing.T, extra ...fixture.File) (*target.Target, *target.Mount) {
	files, _ := plantedFiles(t)
	files = append(files, extra...)
	big := append(bytes.Repeat([]byte("x"), 10<<20), []byte("\nSTRIPE="+stripeKey+"\n")...)
	files = append(files, fixture.File{Path: "var/big.log", Data: big})
	raw, _ := fixture.Disk(t, fixture.LayoutGPT, fixture.Part{Image: fixture.Ext4(t, fixture.WriteTree(t, files), 32)})
	tg, err := target.Open(context.Background(), raw, target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	if len(tg.Mounts) != 1 {
		t.Fatalf("mounts: %+v", tg.Mounts)
	}
	return tg, &tg.Mounts[0]
}

func findingKeys(s *Scanner) []string {
	var out []string
	for _, f := range s.Findings() {
		out = append(out, f.Rule+" "+f.Location.Path)
	}
	slices.Sort(out)
	return out
}

// TestPrefetchAnnouncesWhatIsRead: with a prefetching source, every byte of file content the
// scan reads was announced first (the big file in windows), and the findings do not change.
func TestPrefetchAnnouncesWhatIsRead(t *testing.T) {
	tg, m := openPlanted(t)
	plain := New(Options{})
	plain.Scan(context.Background(), tg)

	var mu sync.Mutex
	var announced []filesystem.Range
	m.Prefetch = func(rs []filesystem.Range) {
		mu.Lock()
		announced = append(announced, rs...)
		mu.Unlock()
	}
	s := New(Options{})
	if err := s.Scan(context.Background(), tg); err != nil {
		t.Fatal(err)
	}
	if got, want := findingKeys(s), findingKeys(plain); !slices.Equal(got, want) {
		t.Errorf("findings with prefetch %v, without %v", got, want)
	}
	covered := func(off, n int64) bool {
		for _, r := range announced {
			if r.Off <= off && off+n <= r.Off+r.Len {
				return true
			}
		}
		return false
	}
	ext := m.Tree.(filesystem.Extenter)
	for _, p := range []string{"var/big.log", "home/alice/.aws/credentials"} {
		info, err := statPath(m, p)
		if err != nil {
			t.Fatal(err)
		}
		exts, err := ext.Extents(info.Inode)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range exts {
			if e.Physical < 0 {
				continue
			}
			for off := int64(0); off < e.Length; off += 4096 {
				if !covered(e.Physical+off, min(4096, e.Length-off)) {
					t.Fatalf("%s: byte %d of the volume read but never announced", p, e.Physical+off)
				}
			}
		}
	}
}

// TestChangedReadsOnlyTouchedFiles: an incremental scan reads the files with a changed byte and
// counts the others as unchanged.
func TestChangedReadsOnlyTouchedFiles(t *testing.T) {
	tg, m := openPlanted(t)
	info, err := statPath(m, "home/alice/.aws/credentials")
	if err != nil {
		t.Fatal(err)
	}
	exts, _ := m.Tree.(filesystem.Extenter).Extents(info.Inode)
	m.Changed = func(off, n int64) bool {
		for _, e := range exts {
			if e.Physical >= 0 && off < e.Physical+e.Length && e.Physical < off+n {
				return true
			}
		}
		return false
	}
	s := New(Options{})
	if err := s.Scan(context.Background(), tg); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.FilesScanned != 1 || st.Skipped[skipUnchanged] != st.FilesSeen-1 {
		t.Errorf("scanned %d, skipped %v of %d", st.FilesScanned, st.Skipped, st.FilesSeen)
	}
	for _, k := range findingKeys(s) {
		if !bytes.HasSuffix([]byte(k), []byte(" /home/alice/.aws/credentials")) {
			t.Errorf("finding outside the changed file: %s", k)
		}
	}
}

func statPath(m *target.Mount, p string) (*filesystem.Stat, error) {
	fi, err := fsStat(m, p)
	if err != nil {
		return nil, err
	}
	return fi.Sys().(*filesystem.Stat), nil
}

// TestChangedSlices: free space is cut to the runs of changed grains, each at most a slice.
func TestChangedSlices(t *testing.T) {
	g := int64(changedGrain)
	changed := map[int64]bool{1: true, 2: true, 5: true}
	for i := int64(10); i < 10+unallocatedSlice/changedGrain+3; i++ {
		changed[i] = true
	}
	m := &target.Mount{Changed: func(off, n int64) bool { return changed[off/g] }}
	var got [][2]int64
	for off, n := range changedSlices(m, g/2, 200*g) {
		got = append(got, [2]int64{off, n})
	}
	want := [][2]int64{{g, 2 * g}, {5 * g, g}, {10 * g, unallocatedSlice}, {10*g + unallocatedSlice, 3 * g}}
	if !slices.Equal(got, want) {
		t.Errorf("slices %v, want %v", got, want)
	}
	m.Changed = nil
	n := 0
	for range changedSlices(m, 0, 3*unallocatedSlice+1) {
		n++
	}
	if n != 4 {
		t.Errorf("full scan: %d slices", n)
	}
}

func fsStat(m *target.Mount, p string) (interface{ Sys() any }, error) {
	return fs.Stat(m.FS, p)
}

// TestPrefetchAnnouncesMetadata: the walk announces the records of every entry and the blocks
// of every subdirectory before it reads them, so that a slow source is not waited on one inode
// and one directory block at a time.
func TestPrefetchAnnouncesMetadata(t *testing.T) {
	tg, m := openPlanted(t)
	var mu sync.Mutex
	var announced []filesystem.Range
	m.Prefetch = func(rs []filesystem.Range) {
		mu.Lock()
		announced = append(announced, rs...)
		mu.Unlock()
	}
	if err := New(Options{}).Scan(context.Background(), tg); err != nil {
		t.Fatal(err)
	}
	covered := func(r filesystem.Range) bool {
		for _, a := range announced {
			if a.Off <= r.Off && r.Off+r.Len <= a.Off+a.Len {
				return true
			}
		}
		return false
	}
	loc := m.Tree.(filesystem.InodeLocator)
	ext := m.Tree.(filesystem.Extenter)
	checked := 0
	fs.WalkDir(m.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return nil
		}
		st, err := statPath(m, p)
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := loc.InodeRange(st.Inode); !ok || !covered(r) {
			t.Errorf("%s: the record of inode %d was not announced", p, st.Inode)
		}
		if d.IsDir() {
			exts, _ := ext.Extents(st.Inode)
			for _, e := range exts {
				if e.Physical >= 0 && !covered(filesystem.Range{Off: e.Physical, Len: min(e.Length, maxDirAhead)}) {
					t.Errorf("%s: directory block at %d not announced", p, e.Physical)
				}
			}
		}
		checked++
		return nil
	})
	if checked < 10 {
		t.Fatalf("only %d entries checked", checked)
	}
}

// An allow-listed file that the catalogue does not want is neither announced nor read.
func TestPrefetchSkipsAllowListedFiles(t *testing.T) {
	tg, m := openPlantedWith(t, fixture.File{Path: "usr/share/doc/pkg/changelog", Data: bytes.Repeat([]byte("notes "), 200_000)})
	var mu sync.Mutex
	var announced []filesystem.Range
	m.Prefetch = func(rs []filesystem.Range) {
		mu.Lock()
		announced = append(announced, rs...)
		mu.Unlock()
	}
	if err := New(Options{}).Scan(context.Background(), tg); err != nil {
		t.Fatal(err)
	}
	st, err := statPath(m, "usr/share/doc/pkg/changelog")
	if err != nil {
		t.Fatal(err)
	}
	exts, _ := m.Tree.(filesystem.Extenter).Extents(st.Inode)
	for _, e := range exts {
		for _, a := range announced {
			if e.Physical >= 0 && a.Off < e.Physical+e.Length && e.Physical < a.Off+a.Len {
				t.Fatalf("allow-listed content announced: %+v overlaps %+v", a, e)
			}
		}
	}
}
