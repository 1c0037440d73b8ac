package unpack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// zeroGzip is a gzip file of total zero bytes (after prefix), made on the fly: its deflate
// stream is one flushed chunk that inflates to 1 MiB of zeros, repeated. Nothing is stored; a
// 10 GB bomb is ten megabytes of arithmetic.
type zeroGzip struct {
	head  []byte // gzip header + deflate of prefix and the first MiB of zeros
	chunk []byte // deflate of 1 MiB of zeros, referring only to earlier zeros
	n     int64  // chunks after head
	tail  []byte // final empty block + trailer
	size  int64
}

func newZeroGzip(t testing.TB, prefix []byte, total int64) *zeroGzip {
	t.Helper()
	return newFillGzip(t, prefix, total, 0)
}

// newFillGzip is newZeroGzip with another byte repeated: a bomb whose output is not zeros.
func newFillGzip(t testing.TB, prefix []byte, total int64, fill byte) *zeroGzip {
	t.Helper()
	const mib = 1 << 20
	zeros := bytes.Repeat([]byte{fill}, mib)
	deflate := func(parts ...[]byte) []byte {
		var b bytes.Buffer
		fw, _ := flate.NewWriter(&b, flate.BestCompression)
		for _, p := range parts {
			fw.Write(p)
		}
		fw.Flush() // ends on a byte boundary with an empty stored block
		return b.Bytes()
	}
	z := &zeroGzip{
		head:  append([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"), deflate(prefix, zeros)...),
		chunk: deflate(zeros),
		n:     total/mib - 1,
		tail:  []byte{0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}, // the CRC and size are never reached
	}
	// The chunk must not depend on what came before beyond the zeros: check it alone inflates.
	if got, _ := io.ReadAll(flate.NewReader(bytes.NewReader(append(z.chunk, 3, 0)))); len(got) != mib {
		t.Fatalf("zero chunk inflates to %d bytes", len(got))
	}
	z.size = int64(len(z.head)) + z.n*int64(len(z.chunk)) + int64(len(z.tail))
	return z
}

func (z *zeroGzip) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off < z.size {
		var src []byte
		var at int64
		switch body := z.n * int64(len(z.chunk)); {
		case off < int64(len(z.head)):
			src, at = z.head, off
		case off < int64(len(z.head))+body:
			rel := off - int64(len(z.head))
			src, at = z.chunk, rel%int64(len(z.chunk))
		default:
			src, at = z.tail, off-int64(len(z.head))-body
		}
		c := copy(p[n:], src[at:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// peakHeap samples the live heap while f runs.
func peakHeap(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		for {
			metrics.Read(sample)
			mu.Lock()
			peak = max(peak, sample[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	mu.Lock()
	defer mu.Unlock()
	return peak
}

func TestBombTenGBGzip(t *testing.T) {
	const tenGB = 10_000_000_000
	z := newZeroGzip(t, nil, tenGB)
	t.Logf("10 GB of zeros as %d bytes of gzip", z.size)
	ctx := context.Background()

	// Zeros are no bomb by ratio (a gzipped sparse disk image is mostly zeros and must be
	// read): they count a quarter against the allowances, so the member limit stops them after
	// four times 256 MiB.
	start := time.Now()
	var res result
	peak := peakHeap(func() { res = walkReaderAt(ctx, "zeros.gz", z, z.size, Limits{}) })
	wantErr(t, res, ErrLimit, "zeros.gz!zeros: member larger than 256.0 MiB")
	if !nearly(res.read, 4*256<<20) || time.Since(start) > 30*time.Second {
		t.Errorf("the bomb was read for %d bytes, %v, before it was stopped", res.read, time.Since(start))
	}
	if peak > 256<<20 {
		t.Errorf("heap peaked at %d MiB", peak>>20)
	}

	// A bomb of anything else is caught by its ratio within the first megabytes.
	a := newFillGzip(t, nil, tenGB, 'A')
	res = walkReaderAt(ctx, "a.gz", a, a.size, Limits{})
	wantErr(t, res, ErrLimit, "a.gz: gzip: bomb: ratio", "exceeds 200:1")
	if res.read > 64<<20 {
		t.Errorf("the dense bomb was read for %d bytes before it was stopped", res.read)
	}

	// Without the ratio check, the member limit stops it, exactly there (zeros at a quarter).
	res = walkReaderAt(ctx, "zeros.gz", z, z.size, Limits{MaxRatio: -1, MaxEntryBytes: 64 << 20})
	wantErr(t, res, ErrLimit, "zeros.gz!zeros: member larger than 64.0 MiB")
	if !nearly(res.read, 4*64<<20) {
		t.Errorf("read %d bytes, want exactly 4 × 64 MiB of zeros", res.read)
	}
	// Without either, the file's total.
	res = walkReaderAt(ctx, "zeros.gz", z, z.size, Limits{MaxRatio: -1, MaxEntryBytes: -1, MaxTotalBytes: 100 << 20})
	wantErr(t, res, ErrLimit, "gzip: more than 100.0 MiB decompressed from one file")
	var le *LimitError
	for _, e := range res.errs {
		if errors.As(e, &le) && le.Limit != "MaxTotalBytes" {
			t.Errorf("unexpected limit %s", le.Limit)
		}
	}

	// The same zeros as one member of a .tar.gz: the tar header claims 10 GB.
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	tw.WriteHeader(&tar.Header{Name: "disk.img", Size: tenGB, Mode: 0o644, Format: tar.FormatPAX})
	tz := newZeroGzip(t, hdr.Bytes(), tenGB)
	res = walkReaderAt(ctx, "backup.tar.gz", tz, tz.size, Limits{})
	wantErr(t, res, ErrLimit, "backup.tar.gz!disk.img: member larger than 256.0 MiB")
}

// nearly: n is want, less the rounding of the last few reads (each costs at least one byte).
func nearly(n, want int64) bool { return n <= want && n > want-4096 }

// A gzipped sparse disk image: 300 MB of zeros and a credential at the end. Its overall ratio
// is far past 200:1, and it is read whole.
func TestGzippedSparseImageIsNoBomb(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zeros := make([]byte, 1<<20)
	for range 300 {
		zw.Write(zeros)
	}
	zw.Write([]byte("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"))
	zw.Close()
	res := walkReaderAt(context.Background(), "disk.img.gz", bytes.NewReader(b.Bytes()), int64(b.Len()), Limits{})
	if len(res.errs) > 0 {
		t.Fatalf("errors: %v", res.errs)
	}
	if res.read != 300<<20+int64(len("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")) {
		t.Fatalf("read %d bytes", res.read)
	}
}

// build42 makes a zip in the shape of 42.zip: levels of zips each holding 16 copies of the
// level below, with 16 files of zeros at the bottom.
func build42(t testing.TB, leaf int64, levels int) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	for n := int64(0); n < leaf; n += int64(len(zeros)) {
		fw.Write(zeros[:min(int64(len(zeros)), leaf-n)])
	}
	fw.Close()
	crc := crc32.ChecksumIEEE(nil)
	for n := int64(0); n < leaf; n += int64(len(zeros)) {
		crc = crc32.Update(crc, crc32.IEEETable, zeros[:min(int64(len(zeros)), leaf-n)])
	}
	data, method, usize, name := comp.Bytes(), uint16(zip.Deflate), uint64(leaf), "%d.txt"
	for level := 0; level < levels; level++ {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for i := 0; i < 16; i++ {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf(name, i), Method: method, CRC32: crc,
				CompressedSize64: uint64(len(data)), UncompressedSize64: usize})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(data)
		}
		zw.Close()
		inner := buf.Bytes()
		var c bytes.Buffer
		fw, _ := flate.NewWriter(&c, flate.BestCompression)
		fw.Write(inner)
		fw.Close()
		data, usize, crc, name = c.Bytes(), uint64(len(inner)), crc32.ChecksumIEEE(inner), fmt.Sprintf("level%d-%%d.zip", level)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "lib.zip", Method: method, CRC32: crc, CompressedSize64: uint64(len(data)), UncompressedSize64: usize})
	w.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestBomb42Zip(t *testing.T) {
	bomb := build42(t, 64<<20, 5) // 16^5 files of 64 MiB = 64 TiB, in a few KiB, five levels like 42.zip
	t.Logf("42.zip-style bomb: %d bytes", len(bomb))
	t.Setenv("TMPDIR", t.TempDir())
	start := time.Now()
	var res result
	peak := peakHeap(func() { res = walk(t, "42.zip", bomb, Limits{}) })
	elapsed := time.Since(start)
	t.Logf("%v, %d bytes read, heap peak %d MiB, %d errors, first %v", elapsed, res.read, peak>>20, len(res.errs), res.errs[0])
	wantErr(t, res, ErrLimit)
	if res.read > 1<<30 || elapsed > 60*time.Second || peak > 512<<20 {
		t.Errorf("bomb not contained: %d bytes read, %v, heap peak %d MiB", res.read, elapsed, peak>>20)
	}
	// Depth: with MaxDepth 2 the zips two levels down are yielded unopened.
	res = walk(t, "42.zip", bomb, Limits{MaxDepth: 2})
	wantErr(t, res, ErrLimit, "42.zip!lib.zip!level3-0.zip: zip: not opened: its members would be 3 levels deep, over 2")
	for p, d := range res.depths {
		if d > 2 {
			t.Errorf("%s at depth %d", p, d)
		}
	}
}
