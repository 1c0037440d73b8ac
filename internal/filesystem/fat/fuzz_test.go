package fat

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// FuzzFAT opens arbitrary bytes as a FAT or exFAT volume and exercises every method on them.
// Seeds: small volumes made by the real tools when they are installed, plus the committed ones
// under testdata/fuzz/FuzzFAT (truncated real volumes, and what fuzzing found).
func FuzzFAT(f *testing.F) {
	for _, seed := range toolSeeds(f) {
		f.Add(seed)
	}
	if haveTools("mkfs.vfat", "mcopy", "mdel") {
		f.Add(brokenDirSeed(f))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		size := int64(len(data))
		detected := Detect(r, size)
		v, err := Open(r, size)
		if err != nil {
			return
		}
		if !detected && v.Type() != "exfat" {
			t.Errorf("Open accepts a %s volume that Detect rejects", v.Type())
		}
		exercise(v)
	})
}

// haveTools reports whether every tool is installed, without skipping the caller.
func haveTools(tools ...string) bool {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat(filepath.Join("/usr/sbin", tool)); err != nil {
				if _, err := os.Stat(filepath.Join("/sbin", tool)); err != nil {
					return false
				}
			}
		}
	}
	return true
}

// seedFiles is a little of everything: a long name, a lowercase 8.3 name, a subdirectory, a
// file spanning clusters, and (after mkSmallFAT) deleted entries.
func seedFiles() []fixture.File {
	return []fixture.File{
		{Path: "A Long File Name.txt", Data: []byte("long name\n")},
		{Path: "lower.txt", Data: []byte("lower\n")},
		{Path: "dir/sub/deep.bin", Data: randomBytes(3, 1500)},
		{Path: "dir/gone.txt", Data: []byte("to be deleted\n")},
		{Path: "Deleted Long Name.txt", Data: []byte("to be deleted too\n")},
		{Path: "multi.bin", Data: randomBytes(4, 3000)},
	}
}

// mkSmallFAT makes a FAT volume of sizeKiB with mkfs.vfat, fills it with seedFiles and
// deletes two of them. extra are further mkfs.vfat arguments.
func mkSmallFAT(tb testing.TB, sizeKiB, bits int, extra ...string) []byte {
	tb.Helper()
	dir := tb.TempDir()
	img := filepath.Join(dir, "seed.img")
	if err := os.WriteFile(img, make([]byte, sizeKiB<<10), 0o644); err != nil {
		tb.Fatal(err)
	}
	args := append([]string{"-F", strconv.Itoa(bits), "-n", "SEED", "-i", "5eed1234"}, extra...)
	if _, err := fixture.RunEnv(nil, "mkfs.vfat", append(args, img)...); err != nil {
		tb.Fatal(err)
	}
	src := fixture.WriteTree(tb, seedFiles())
	env := []string{"MTOOLS_SKIP_CHECK=1"}
	for _, top := range []string{"A Long File Name.txt", "lower.txt", "dir", "Deleted Long Name.txt", "multi.bin"} {
		if _, err := fixture.RunEnv(env, "mcopy", "-s", "-i", img, filepath.Join(src, top), "::/"+top); err != nil {
			tb.Fatal(err)
		}
	}
	for _, p := range []string{"::/dir/gone.txt", "::/Deleted Long Name.txt"} {
		if _, err := fixture.RunEnv(env, "mdel", "-i", img, p); err != nil {
			tb.Fatal(err)
		}
	}
	b, err := os.ReadFile(img)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// shrinkFAT32 cuts a freshly filled FAT32 volume down to fatSectors sectors per FAT and the
// first clusters of its heap, rewriting the boot sector to match: mtools only writes FAT32
// volumes with at least 65525 clusters, far too big for a fuzzing seed, but its files all lie at
// the start of the heap.
func shrinkFAT32(tb testing.TB, img []byte, fatSectors, clusters int) []byte {
	tb.Helper()
	bps := int(binary.LittleEndian.Uint16(img[11:]))
	spc := int(img[13])
	reserved := int(binary.LittleEndian.Uint16(img[14:]))
	nfats := int(img[16])
	oldFAT := int(binary.LittleEndian.Uint32(img[36:]))
	var out []byte
	out = append(out, img[:reserved*bps]...)
	for i := 0; i < nfats; i++ {
		start := (reserved + i*oldFAT) * bps
		out = append(out, img[start:start+fatSectors*bps]...)
	}
	heap := (reserved + nfats*oldFAT) * bps
	out = append(out, img[heap:heap+clusters*spc*bps]...)
	binary.LittleEndian.PutUint32(out[36:], uint32(fatSectors))
	binary.LittleEndian.PutUint32(out[32:], uint32(len(out)/bps))
	return out
}

// trimZeros cuts a volume after the last sector that holds anything: small seeds make fuzzing
// (and the minimizing of what it finds) faster, and the Go corpus format spells each zero byte
// in four characters.
func trimZeros(b []byte) []byte {
	end := len(b)
	for end > 0 && b[end-1] == 0 {
		end--
	}
	return b[:min(len(b), (end+511)/512*512)]
}

// toolSeeds builds seed volumes with the real tools, or none when they are missing.
func toolSeeds(tb testing.TB) (seeds [][]byte) {
	defer func() {
		for i := range seeds {
			seeds[i] = trimZeros(seeds[i])
		}
	}()
	if haveTools("mkfs.vfat", "mcopy", "mdel") {
		seeds = append(seeds,
			mkSmallFAT(tb, 64, 12, "-s", "1", "-r", "16"),
			shrinkFAT32(tb, mkSmallFAT(tb, 34<<10, 32, "-s", "1", "-R", "8"), 2, 64),
			mkSmallFAT(tb, 2200, 16, "-s", "1", "-r", "16", "-f", "1")[:64<<10], // cut inside the heap
		)
	}
	seeds = append(seeds, handmadeExFAT())
	if haveTools("mkfs.exfat") {
		seeds = append(seeds, exfatSeeds(tb)...)
	}
	return seeds
}

// TestWriteFuzzSeeds regenerates the committed seeds (SNAPWATCH_WRITE_SEEDS=1).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SNAPWATCH_WRITE_SEEDS") != "1" {
		t.Skip("set SNAPWATCH_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzFAT")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzFAT")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	names := []string{"fat12-64k", "fat32-shrunk", "fat16-cut", "exfat-handmade", "exfat-fuse"}
	for i, seed := range toolSeeds(t) {
		name := fmt.Sprintf("seed-%d", i)
		if i < len(names) {
			name = names[i]
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(seed)))
		if len(body) >= 64<<10 {
			t.Logf("seed %d is %d bytes in corpus form: not committed", i, len(body))
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(brokenDirSeed(t))))
	if err := os.WriteFile(filepath.Join(dir, "fat12-broken-lfn"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// brokenDirSeed is the FAT12 seed volume with the long name of "A Long File Name.txt" broken
// (its checksum no longer matches the short entry): the root lists partly, with an error, so
// that fuzzing starts from a damaged directory.
func brokenDirSeed(tb testing.TB) []byte {
	tb.Helper()
	b := trimZeros(mkSmallFAT(tb, 64, 12, "-s", "1", "-r", "16"))
	// Part 1 of the long name starts with "A Lon" at offset 1 of its entry.
	at := bytes.Index(b, []byte{'A', 0, ' ', 0, 'L', 0, 'o', 0, 'n', 0}) - 1
	if at < 0 || b[at+11] != 0x0F {
		tb.Fatal("long-name entry of \"A Long File Name.txt\" not found")
	}
	b[at+13] ^= 0x55
	return b
}

// TestBrokenDirSeed checks that the damaged-directory seed lists the root partly, with an error.
func TestBrokenDirSeed(t *testing.T) {
	if !haveTools("mkfs.vfat", "mcopy", "mdel") {
		fixture.Need(t, "mkfs.vfat", "mcopy", "mdel")
	}
	b := brokenDirSeed(t)
	v, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := v.ReadDir(rootIno)
	if err == nil || !strings.Contains(err.Error(), "long name lost") || len(entries) < 3 {
		t.Fatalf("root: %d entries, error %v; want the others listed and the lost long name reported", len(entries), err)
	}
	t.Logf("root: %d entries: %v", len(entries), err)
}

// TestToolSeeds checks that the seeds are the volumes they claim to be, so that fuzzing starts
// from readable structures.
func TestToolSeeds(t *testing.T) {
	if !haveTools("mkfs.vfat", "mcopy", "mdel") {
		fixture.Need(t, "mkfs.vfat", "mcopy", "mdel")
	}
	for i, seed := range toolSeeds(t) {
		v, err := Open(bytes.NewReader(seed), int64(len(seed)))
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if v.Type() == "exfat" && v.Label() == "HANDMÄ" {
			continue // TestExFATHandmade checks it
		}
		got := readAll(t, filesystem.New(v), "dir/sub/deep.bin")
		if i != 2 && !bytes.Equal(got, randomBytes(3, 1500)) {
			t.Errorf("seed %d (%s): dir/sub/deep.bin differs", i, v.Type())
		}
		deleted := 0
		for _, err := range v.Deleted(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			deleted++
		}
		if deleted < 2 {
			t.Errorf("seed %d (%s): %d deleted entries", i, v.Type(), deleted)
		}
	}
}

// exfatSeeds makes a 256 KiB exFAT volume (512-byte clusters, 4 KiB alignment) with the seed
// files, two of them deleted, when mkfs.exfat, loop devices and exfat-fuse are all available.
func exfatSeeds(tb testing.TB) [][]byte {
	if !haveTools("mkfs.exfat", "losetup", "mount.exfat-fuse", "fusermount") {
		return nil
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil
	}
	dir := tb.TempDir()
	img := filepath.Join(dir, "seed.img")
	if err := os.WriteFile(img, make([]byte, 256<<10), 0o644); err != nil {
		tb.Fatal(err)
	}
	if _, err := fixture.RunEnv(nil, "mkfs.exfat", "-b", "4K", "-c", "512", "-L", "SEED", img); err != nil {
		tb.Fatal(err)
	}
	src := fixture.WriteTree(tb, seedFiles())
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		tb.Fatal(err)
	}
	err := tryMountExFAT(mnt, img, func(mnt string) {
		if _, err := fixture.RunEnv(nil, "cp", "-r", src+"/.", mnt+"/"); err != nil {
			tb.Error(err)
		}
		os.Remove(filepath.Join(mnt, "dir", "gone.txt"))
		os.Remove(filepath.Join(mnt, "Deleted Long Name.txt"))
	})
	if err != nil {
		return nil // no loop device or FUSE here: fuzz without an exFAT seed
	}
	b, err := os.ReadFile(img)
	if err != nil {
		tb.Fatal(err)
	}
	return [][]byte{b}
}
