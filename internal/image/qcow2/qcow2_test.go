package qcow2

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// TestMatchesQemuImg checks every qcow2 flavour qemu-img writes against qemu-img's own raw
// conversion of the same image, byte for byte over the whole guest disk.
func TestMatchesQemuImg(t *testing.T) {
	t.Parallel()
	fixture.Need(t, "qemu-img", "mke2fs")
	raw := rawDisk(t)
	type variant struct {
		name string
		args []string
	}
	var variants []variant
	for _, f := range fixture.ImageFormats {
		if strings.HasPrefix(f.Name, "qcow2") {
			variants = append(variants, variant{"fixture-" + f.Name, f.Args})
		}
	}
	variants = append(variants,
		variant{"cluster-512", []string{"-O", "qcow2", "-o", "cluster_size=512"}},
		variant{"cluster-4k-v2", []string{"-O", "qcow2", "-o", "cluster_size=4k,compat=0.10"}},
		variant{"cluster-2M", []string{"-O", "qcow2", "-o", "cluster_size=2M"}},
		variant{"compressed-zlib-512", []string{"-c", "-O", "qcow2", "-o", "cluster_size=512"}},
		variant{"compressed-zlib-2M", []string{"-c", "-O", "qcow2", "-o", "cluster_size=2M"}},
		variant{"compressed-zlib-v2", []string{"-c", "-O", "qcow2", "-o", "compat=0.10"}},
		variant{"compressed-zstd", []string{"-c", "-O", "qcow2", "-o", "compression_type=zstd"}},
		variant{"compressed-zstd-2M", []string{"-c", "-O", "qcow2", "-o", "compression_type=zstd,cluster_size=2M"}},
		variant{"extended-l2", []string{"-O", "qcow2", "-o", "extended_l2=on"}},
		variant{"extended-l2-16k", []string{"-O", "qcow2", "-o", "extended_l2=on,cluster_size=16k"}},
		variant{"extended-l2-compressed", []string{"-c", "-O", "qcow2", "-o", "extended_l2=on,compression_type=zstd"}},
	)
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			path := convert(t, raw, v.args...)
			img := openFile(t, path, Options{})
			if img.BackingFile() != "" {
				t.Errorf("BackingFile() = %q, want none", img.BackingFile())
			}
			sameAsReference(t, img, path)
		})
	}
}

// TestZeroClusters checks zero clusters made by qemu-io write -z: with the zero flag on a
// preallocated cluster, on an unmapped one, partial clusters, and zero clusters that must hide
// a backing file's data.
func TestZeroClusters(t *testing.T) {
	fixture.Need(t, "qemu-img", "qemu-io", "mke2fs")
	raw := rawDisk(t)
	for _, compat := range []string{"1.1", "0.10"} {
		t.Run("compat="+compat, func(t *testing.T) {
			path := convert(t, raw, "-O", "qcow2", "-o", "compat="+compat)
			fixture.Run(t, "qemu-io", "-f", "qcow2",
				"-c", "write -z 16M 1M", // allocated clusters keep their offset, gain the zero flag
				"-c", "write -z -u 17M 512k", // unmapped: the all-zero-offset zero cluster
				"-c", "write -z 100k 8k", // part of a cluster
				"-c", "write -z 20M 4M", // unallocated clusters
				path)
			if compat == "1.1" {
				mustHaveZeroClusters(t, path)
			}
			sameAsReference(t, openFile(t, path, Options{}), path)
		})
	}
	t.Run("over-backing", func(t *testing.T) {
		dir := t.TempDir()
		base := filepath.Join(dir, "base.qcow2")
		fixture.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, base)
		top := filepath.Join(dir, "top.qcow2")
		fixture.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top)
		fixture.Run(t, "qemu-io", "-f", "qcow2", "-c", "write -z 16M 2M", "-c", "write -z 0 64k", top)
		mustHaveZeroClusters(t, top)
		img := openFile(t, top, Options{OpenBacking: openBackingIn(t, dir, 4)})
		sameAsReference(t, img, top)
	})
}

// mustHaveZeroClusters makes sure qemu really wrote zero clusters (not zeroed data), so the
// test exercises the zero flag.
func mustHaveZeroClusters(t *testing.T, path string) {
	t.Helper()
	out := fixture.Run(t, "qemu-img", "map", "--output=json", path)
	if !strings.Contains(out, `"zero": true, "data": false`) {
		t.Fatalf("qemu-img map shows no zero clusters:\n%s", out)
	}
}

// openBackingIn returns an OpenBacking that opens names relative to dir as qcow2 (or raw when
// not qcow2), following chains up to depth images: the depth bound is the caller's job.
func openBackingIn(t testing.TB, dir string, depth int) func(string) (io.ReaderAt, int64, error) {
	return func(name string) (io.ReaderAt, int64, error) {
		if depth == 0 {
			return nil, 0, errors.New("backing chain too deep")
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return nil, 0, err
		}
		t.Cleanup(func() { f.Close() })
		st, err := f.Stat()
		if err != nil {
			return nil, 0, err
		}
		head := make([]byte, 512)
		n, _ := f.ReadAt(head, 0)
		if !Detect(head[:n]) {
			return f, st.Size(), nil
		}
		img, err := Open(f, st.Size(), Options{OpenBacking: openBackingIn(t, dir, depth-1)})
		if err != nil {
			return nil, 0, err
		}
		return img, img.Size(), nil
	}
}

// TestBackingChain checks a two-level chain: refused without OpenBacking, byte for byte equal
// to qemu-img's flattening with it, and zeros where the top is larger than its backing file.
func TestBackingChain(t *testing.T) {
	fixture.Need(t, "qemu-img", "qemu-io", "mke2fs")
	raw := rawDisk(t)
	dir := t.TempDir()
	base := filepath.Join(dir, "base.qcow2")
	fixture.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, base)
	top := filepath.Join(dir, "top.qcow2")
	fixture.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top)
	fixture.Run(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0xab 1M 64k", top)

	_, err := openPath(top, Options{})
	if !errors.Is(err, ErrBackingRefused) || !strings.Contains(err.Error(), `"base.qcow2"`) ||
		!strings.Contains(err.Error(), "explicitly") {
		t.Fatalf("Open without OpenBacking: %v; want a refusal that names base.qcow2", err)
	}

	img := openFile(t, top, Options{OpenBacking: openBackingIn(t, dir, 4)})
	if img.BackingFile() != "base.qcow2" || img.BackingFormat() != "qcow2" {
		t.Errorf("BackingFile() = %q, BackingFormat() = %q", img.BackingFile(), img.BackingFormat())
	}
	sameAsReference(t, img, top)

	t.Run("larger-than-backing", func(t *testing.T) {
		big := filepath.Join(dir, "big.qcow2")
		fixture.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", "top.qcow2", "-F", "qcow2", big, "40M")
		fixture.Run(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 39M 4k", "-c", "write -P 0x11 2M 512", big)
		sameAsReference(t, openFile(t, big, Options{OpenBacking: openBackingIn(t, dir, 4)}), big)
	})
	t.Run("raw-backing", func(t *testing.T) {
		rawCopy := filepath.Join(dir, "base.raw")
		fixture.Run(t, "cp", "--sparse=always", raw, rawCopy)
		over := filepath.Join(dir, "over-raw.qcow2")
		fixture.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", over)
		fixture.Run(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0xcd 3M 100k", over)
		sameAsReference(t, openFile(t, over, Options{OpenBacking: openBackingIn(t, dir, 4)}), over)
	})
	t.Run("extended-l2-subclusters", func(t *testing.T) {
		sub := filepath.Join(dir, "sub.qcow2")
		fixture.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-o", "extended_l2=on,cluster_size=64k",
			"-b", "base.qcow2", "-F", "qcow2", sub)
		// 2 KiB subclusters: these writes leave clusters partly allocated, partly zero and
		// partly unallocated (read from base).
		fixture.Run(t, "qemu-io", "-f", "qcow2",
			"-c", "write -P 0x77 16M 2k",
			"-c", "write -P 0x78 16388k 6k",
			"-c", "write -z 16400k 4k",
			"-c", "write -z -u 17M 2k",
			"-c", "write -P 0x79 18M 64k",
			sub)
		sameAsReference(t, openFile(t, sub, Options{OpenBacking: openBackingIn(t, dir, 4)}), sub)
	})
}

// TestSelfReferencingBacking opens an image whose backing file is itself: Open calls
// OpenBacking exactly once and does not recurse; the caller's depth bound ends the chain.
func TestSelfReferencingBacking(t *testing.T) {
	fixture.Need(t, "qemu-img")
	dir := t.TempDir()
	self := filepath.Join(dir, "self.qcow2")
	fixture.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", "self.qcow2", "-F", "qcow2", self, "1M")
	calls := 0
	_, err := openPath(self, Options{OpenBacking: func(name string) (io.ReaderAt, int64, error) {
		calls++
		if name != "self.qcow2" {
			t.Errorf("OpenBacking(%q)", name)
		}
		return openBackingIn(t, dir, 3)(name)
	}})
	if calls != 1 {
		t.Errorf("OpenBacking called %d times, want 1", calls)
	}
	if err == nil || !strings.Contains(err.Error(), "too deep") {
		t.Fatalf("Open of a self-referencing chain: %v; want the caller's depth error", err)
	}
	// A caller that hands back the file's own bytes gets an image whose unallocated clusters
	// read the container bytes: no recursion inside this package.
	f, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	img, err := Open(f, st.Size(), Options{OpenBacking: func(string) (io.ReaderAt, int64, error) { return f, st.Size(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if _, err := img.ReadAt(buf, 0); err != nil || string(buf[:4]) != magic {
		t.Fatalf("ReadAt through a self backing = %q, %v", buf, err)
	}
}

func TestDetect(t *testing.T) {
	fixture.Need(t, "qemu-img")
	path := filepath.Join(t.TempDir(), "d.qcow2")
	fixture.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", path, "1M")
	head := make([]byte, 512)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, _ := f.ReadAt(head, 0)
	if !Detect(head[:n]) {
		t.Error("Detect(qcow2 header) = false")
	}
	for _, h := range [][]byte{nil, []byte("QFI"), []byte("QFI\xfb\x00\x00\x00\x00"), make([]byte, 512), []byte("conectix")} {
		if Detect(h) {
			t.Errorf("Detect(%q) = true", h)
		}
	}
}

// TestConcurrentReads reads random ranges from many goroutines with a cache so small that
// tables and clusters are evicted all the time (run with -race).
func TestConcurrentReads(t *testing.T) {
	fixture.Need(t, "qemu-img", "mke2fs")
	raw := rawDisk(t)
	want, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-O", "qcow2", "-o", "cluster_size=4k"},
		{"-c", "-O", "qcow2"},
		{"-c", "-O", "qcow2", "-o", "compression_type=zstd"},
	} {
		path := convert(t, raw, args...)
		img := openFile(t, path, Options{CacheBytes: 1})
		concurrentReads(t, img, want)
		if img.cache.Len() > minCacheEntries {
			t.Errorf("%v: cache holds %d entries, bound is %d", args, img.cache.Len(), minCacheEntries)
		}
	}
}

// countingReader counts the bytes read from the file.
type countingReader struct {
	r     io.ReaderAt
	bytes int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.bytes += int64(len(p))
	return c.r.ReadAt(p, off)
}

// TestReadsOnlyWhatItNeeds checks that a small read costs the bytes asked for plus the L2
// table, and a second read in the same table only the bytes asked for.
func TestReadsOnlyWhatItNeeds(t *testing.T) {
	fixture.Need(t, "qemu-img", "mke2fs")
	raw := rawDisk(t)
	path := convert(t, raw, "-O", "qcow2", "-o", "cluster_size=2M")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	c := &countingReader{r: f}
	img, err := Open(c, st.Size(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.bytes = 0
	buf := make([]byte, 4096)
	if _, err := img.ReadAt(buf, 17<<20); err != nil {
		t.Fatal(err)
	}
	if want := int64(4096 + 2<<20); c.bytes != want {
		t.Errorf("first 4 KiB read cost %d file bytes, want %d (data + one L2 table)", c.bytes, want)
	}
	c.bytes = 0
	if _, err := img.ReadAt(buf, 18<<20+5); err != nil {
		t.Fatal(err)
	}
	if c.bytes != 4096 {
		t.Errorf("second 4 KiB read cost %d file bytes, want 4096", c.bytes)
	}
}

// TestRefusesWhatItCannotRead opens images qemu-img makes with features this reader refuses.
func TestRefusesWhatItCannotRead(t *testing.T) {
	t.Parallel() // qemu-img spends seconds of CPU on the LUKS header: overlap it with the rest
	fixture.Need(t, "qemu-img")
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		args  []string
		words []string
	}{
		{"luks", []string{"--object", "secret,id=sec0,data=abc", "-o", "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=100"}, []string{"encrypted", "LUKS"}},
		{"aes", []string{"--object", "secret,id=sec0,data=abc", "-o", "encrypt.format=aes,encrypt.key-secret=sec0"}, []string{"encrypted", "AES"}},
		{"external-data", []string{"-o", "data_file=" + filepath.Join(dir, "data.raw")}, []string{"external data file"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".qcow2")
			args := append(append([]string{"create", "-q", "-f", "qcow2"}, c.args...), path, "1M")
			// On a loaded machine qemu's PBKDF calibration can fail ("Unable to get accurate
			// CPU usage"): try again before giving up.
			var err error
			for range 3 {
				if _, err = fixture.RunEnv(nil, "qemu-img", args...); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = openPath(path, Options{})
			wantErr(t, err, ErrUnsupported, c.words...)
		})
	}
}

// TestActiveStateOnly checks images that carry internal snapshots (only the active L1 table is
// read), a persistent dirty bitmap (an extension this reader skips) and preallocated metadata.
func TestActiveStateOnly(t *testing.T) {
	fixture.Need(t, "qemu-img", "qemu-io", "mke2fs")
	raw := rawDisk(t)
	t.Run("snapshots-and-bitmap", func(t *testing.T) {
		path := convert(t, raw, "-O", "qcow2")
		fixture.Run(t, "qemu-img", "snapshot", "-c", "before", path)
		fixture.Run(t, "qemu-img", "bitmap", "--add", path, "dirty0")
		fixture.Run(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0x42 0 1M", "-c", "write -z 16M 1M", path)
		fixture.Run(t, "qemu-img", "snapshot", "-c", "after", path)
		fixture.Run(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0x43 512k 4k", path)
		if out := fixture.Run(t, "qemu-img", "snapshot", "-l", path); !strings.Contains(out, "before") {
			t.Fatalf("no snapshots made:\n%s", out)
		}
		sameAsReference(t, openFile(t, path, Options{}), path)
	})
	t.Run("preallocation-metadata", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "prealloc.qcow2")
		fixture.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", path, "8M")
		fixture.Run(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0x61 1M 100k", "-c", "write -z 3M 64k", path)
		sameAsReference(t, openFile(t, path, Options{}), path)
	})
}
