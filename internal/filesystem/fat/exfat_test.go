package fat

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// mountExFAT attaches an exFAT image to a loop device and mounts it with exfat-fuse (which
// wants a block device), runs fn on the mount point, and detaches everything. It skips the test
// where loop devices or FUSE are missing.
func mountExFAT(t testing.TB, img string, fn func(mnt string)) {
	t.Helper()
	fixture.Need(t, "losetup", "mount.exfat-fuse", "fusermount")
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("exFAT fixtures need FUSE (/dev/fuse) to populate the file system")
	}
	if err := tryMountExFAT(t.TempDir(), img, fn); err != nil {
		t.Skipf("cannot FUSE-mount exFAT here: %v", err)
	}
}

// tryMountExFAT is mountExFAT without the test: it reports what failed.
func tryMountExFAT(mnt, img string, fn func(mnt string)) (err error) {
	loop, err := fixture.RunEnv(nil, "losetup", "-f", "--show", img)
	if err != nil {
		return err
	}
	loop = strings.TrimSpace(loop)
	defer func() {
		if _, e := fixture.RunEnv(nil, "losetup", "-d", loop); e != nil && err == nil {
			err = e
		}
	}()
	if _, err := fixture.RunEnv(nil, "mount.exfat-fuse", loop, mnt); err != nil {
		return err
	}
	defer func() {
		if _, e := fixture.RunEnv(nil, "fusermount", "-u", mnt); e != nil && err == nil {
			err = e
		}
	}()
	fn(mnt)
	return nil
}

// exfatImage makes an exFAT image of sizeMiB with mkfs.exfat and copies src into it.
func exfatImage(t testing.TB, src string, sizeMiB int, extra ...string) string {
	t.Helper()
	fixture.Need(t, "mkfs.exfat")
	img := filepath.Join(t.TempDir(), "exfat.img")
	fixture.Sparse(t, img, int64(sizeMiB)<<20)
	fixture.Run(t, "mkfs.exfat", append(append([]string{"-L", "SNAPWATCH"}, extra...), img)...)
	if src != "" {
		mountExFAT(t, img, func(mnt string) {
			fixture.Run(t, "cp", "-r", "--preserve=timestamps", src+"/.", mnt+"/")
		})
	}
	return img
}

func TestExFATTree(t *testing.T) {
	fixture.Need(t, "fls", "icat")
	for _, c := range []struct {
		name    string
		sizeMiB int
		extra   []string
	}{{"exfat-4k", 64, nil}, {"exfat-512", 32, []string{"-c", "512"}}, {"exfat-128k", 128, []string{"-c", "128K"}}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			files := testTree(treeOptions{big: true, manyDir: 200})
			files = append(files, fixture.File{Path: "names/emoji 😀 file.txt", Data: []byte("outside the BMP\n")})
			srcDir := fixture.WriteTree(t, files)
			img := exfatImage(t, srcDir, c.sizeMiB, c.extra...)
			v := openImage(t, img)
			if v.Type() != "exfat" || v.Label() != "SNAPWATCH" {
				t.Errorf("type %q label %q", v.Type(), v.Label())
			}
			if want := strings.ToUpper(dumpExFAT(t, img)["Volume Serial"]); "0X"+strings.ReplaceAll(v.UUID(), "-", "") != want {
				t.Errorf("UUID %s, dump.exfat says %s", v.UUID(), want)
			}
			fsys := filesystem.New(v)
			got := walk(t, fsys)
			checkAgainstSource(t, fsys, got, files, treeOptions{})
			checkStatFromID(t, openImage(t, img), got)
			compareNodesSlack(t, "fls", withoutLongestNames(got), withoutLongestNames(tskBody(t, img, false)), 1)
			checkExFATTimes(t, fsys, srcDir, files)
			checkAgainstIcat(t, img, fsys, got)
			sub, _ := fsSub(fsys, "names")
			if err := fstest.TestFS(sub, "lower.txt", "emoji 😀 file.txt"); err != nil {
				t.Error(err)
			}
			checkExFATFree(t, img, v)
		})
	}
}

// dumpExFAT parses the "key: value" lines of exfatprogs' dump.exfat.
func dumpExFAT(t testing.TB, img string) map[string]string {
	t.Helper()
	fixture.Need(t, "dump.exfat")
	out := fixture.Run(t, "dump.exfat", img)
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, val, ok := strings.Cut(sc.Text(), ":")
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	return m
}

// checkExFATFree compares Unallocated with TSK's blkls (unallocated sectors of the cluster heap)
// and the free cluster count of dump.exfat.
func checkExFATFree(t *testing.T, img string, v *FS) {
	t.Helper()
	fixture.Need(t, "blkls")
	ev := v.v.(*exfatVolume)
	var ours []filesystem.Range
	var free int64
	for r, err := range v.Unallocated(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		ours = append(ours, r)
		free += r.Len
	}
	if n, _ := strconv.ParseInt(dumpExFAT(t, img)["Free Clusters"], 10, 64); n*ev.g.clusterSize != free {
		t.Errorf("%d free bytes, dump.exfat says %d clusters of %d", free, n, ev.g.clusterSize)
	}
	var tsk []filesystem.Range
	sc := bufio.NewScanner(strings.NewReader(fixture.Run(t, "blkls", "-l", img)))
	sector := ev.g.sectorSize
	for sc.Scan() {
		addr, flag, ok := strings.Cut(sc.Text(), "|")
		s, err := strconv.ParseInt(addr, 10, 64)
		if !ok || err != nil || flag != "f" {
			continue
		}
		off := s * sector
		if off < ev.g.heapOff || off >= ev.g.heapEnd() {
			continue
		}
		if n := len(tsk); n > 0 && tsk[n-1].Off+tsk[n-1].Len == off {
			tsk[n-1].Len += sector
		} else {
			tsk = append(tsk, filesystem.Range{Off: off, Len: sector})
		}
	}
	if fmt.Sprint(ours) != fmt.Sprint(tsk) {
		t.Errorf("free ranges differ from blkls:\n ours %v\n tsk  %v", ours, tsk)
	}
}

func TestExFATDeleted(t *testing.T) {
	fixture.Need(t, "fls")
	files := deletionTree()
	img := exfatImage(t, fixture.WriteTree(t, files), 16)
	mountExFAT(t, img, func(mnt string) {
		for _, f := range files {
			if strings.HasPrefix(f.Path, "gone/") {
				if err := os.Remove(filepath.Join(mnt, f.Path)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := os.RemoveAll(filepath.Join(mnt, "tree")); err != nil {
			t.Fatal(err)
		}
	})
	v := openImage(t, img)
	got := map[string]filesystem.Deleted{}
	for d, err := range v.Deleted(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got[d.Path] = d
	}
	// exFAT keeps whole names: every deleted file comes back under its own path.
	for _, f := range files {
		if !strings.HasPrefix(f.Path, "gone/") && !strings.HasPrefix(f.Path, "tree/") {
			continue
		}
		d, ok := got["/"+f.Path]
		if !ok {
			t.Errorf("deleted %q not reported", f.Path)
			continue
		}
		if d.Size != int64(len(f.Data)) || d.Recovered != d.Size {
			t.Errorf("%q: size %d recovered %d, want %d", f.Path, d.Size, d.Recovered, len(f.Data))
		}
		if len(f.Data) == 0 {
			continue
		}
		b, err := io.ReadAll(io.NewSectionReader(d.Content, 0, d.Size))
		if err != nil || sum(b) != sum(f.Data) {
			t.Errorf("%q: recovered content differs (%v)", f.Path, err)
		}
	}
	want := tskBody(t, img, true)
	ours := map[string]node{}
	for p, d := range got {
		ours[p] = node{dir: d.Mode.IsDir(), size: d.Size, mtime: unix(d.ModTime)}
	}
	for p, w := range want {
		w.atime, w.crtime = 0, 0
		want[p] = w
	}
	compareNodesSlack(t, "fls -d", ours, want, 1)
}

// TestExFATFragmented makes exfat-fuse store a file as a FAT chain (it writes contiguous files
// with NoFatChain otherwise) and checks content and clusters against TSK.
func TestExFATFragmented(t *testing.T) {
	fixture.Need(t, "fls", "istat", "icat")
	img := exfatImage(t, "", 8, "-c", "4K")
	want := randomBytes(500, 9*4096+5)
	mountExFAT(t, img, func(mnt string) {
		for i := 0; i < 8; i++ {
			os.WriteFile(filepath.Join(mnt, fmt.Sprintf("a%d", i)), randomBytes(uint64(i), 3*4096), 0o644)
			os.WriteFile(filepath.Join(mnt, fmt.Sprintf("b%d", i)), randomBytes(uint64(i+8), 2*4096), 0o644)
		}
		for i := 0; i < 8; i++ {
			os.Remove(filepath.Join(mnt, fmt.Sprintf("b%d", i)))
		}
		// Grow a file a cluster at a time: each append lands in the next hole.
		f, err := os.Create(filepath.Join(mnt, "scattered.bin"))
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(want); off += 4096 {
			f.Write(want[off:min(len(want), off+4096)])
			f.Sync()
		}
		f.Close()
	})
	v := openImage(t, img)
	fsys := filesystem.New(v)
	if sum(readAll(t, fsys, "scattered.bin")) != sum(want) {
		t.Error("scattered.bin differs from what was written")
	}
	body := tskBody(t, img, false)
	if icat := fixture.Run(t, "icat", img, body["/scattered.bin"].ino); sum([]byte(icat)) != sum(want) {
		t.Error("scattered.bin differs from icat's")
	}
	info, err := fsys.Stat("scattered.bin")
	if err != nil {
		t.Fatal(err)
	}
	ext, err := v.Extents(info.Sys().(*filesystem.Stat).Inode)
	if err != nil {
		t.Fatal(err)
	}
	if len(ext) < 2 {
		t.Errorf("scattered.bin is not fragmented: %+v", ext)
	}
	if got, want := extentSectors(ext, 512), istatSectors(t, img, body["/scattered.bin"].ino); got != want {
		t.Errorf("sectors\n ours  %s\n istat %s", got, want)
	}
	compareNodesSlack(t, "fls", walk(t, fsys), tskBody(t, img, false), 1)
}

// checkExFATTimes checks modification times to the second: cp preserved the source files'
// times, and exfat-fuse keeps whole seconds (odd ones in the 10 ms field) with a UTC offset.
func checkExFATTimes(t *testing.T, fsys *filesystem.FS, srcDir string, files []fixture.File) {
	t.Helper()
	bad := 0
	for _, f := range files {
		if f.Dir {
			continue
		}
		st, err := os.Stat(filepath.Join(srcDir, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		info, err := fsys.Stat(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if want := st.ModTime().UTC().Truncate(time.Second); !info.ModTime().Equal(want) {
			if bad++; bad < 5 {
				t.Errorf("%s: mtime %v, source %v", f.Path, info.ModTime(), want)
			}
		}
	}
}
