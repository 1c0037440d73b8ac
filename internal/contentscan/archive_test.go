package contentscan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/snapwatch/snapwatch/internal/target"
)

func scanDirWith(t *testing.T, opt Options, files map[string][]byte) *Scanner {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tg, err := target.Open(context.Background(), dir, target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	sc := New(opt)
	if err := sc.Scan(context.Background(), tg); err != nil {
		t.Fatal(err)
	}
	return sc
}

func rulesFound(sc *Scanner) map[string]bool {
	got := map[string]bool{}
	for _, f := range sc.Findings() {
		got[f.Rule] = true
	}
	return got
}

// A gzipped sparse disk image (here 300 MiB of zeros, then a credential) is read whole: its
// ratio is far past any bomb threshold and its size past --max-file-size, but zeros cost a
// quarter.
func TestGzippedSparseImage(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zeros := make([]byte, 1<<20)
	for range 300 {
		zw.Write(zeros)
	}
	zw.Write([]byte(awsPair))
	zw.Close()
	sc := scanDirWith(t, Options{}, map[string][]byte{"disk.img.gz": b.Bytes()})
	if len(sc.Errors()) > 0 {
		t.Fatalf("errors: %+v", sc.Errors())
	}
	if !rulesFound(sc)["secret/aws-access-key-pair"] {
		t.Fatalf("the key after the zeros was not found: %v", rulesFound(sc))
	}
}

// An archive member longer than --max-file-size is what such a file is: its head is scanned,
// the rest skipped and counted as too large, and it is not an error.
func TestLargeMemberIsSkippedNotFailed(t *testing.T) {
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	body := []byte(awsPair)
	rng := rand.New(rand.NewPCG(1, 2))
	for len(body) < 3<<20 { // log lines that compress like logs, not like a bomb
		body = fmt.Appendf(body, "%d GET /item/%d 200 %d\n", rng.IntN(1000), rng.IntN(1000), rng.IntN(9999))
	}
	tw.WriteHeader(&tar.Header{Name: "var/log/app.log", Mode: 0o600, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write(body)
	tw.Close()
	gz.Close()
	if b.Len() >= 1<<20 {
		t.Fatalf("setup: the archive (%d bytes) must itself fit the limit", b.Len())
	}
	sc := scanDirWith(t, Options{MaxFileBytes: 1 << 20}, map[string][]byte{"logs.tar.gz": b.Bytes()})
	if len(sc.Errors()) > 0 {
		t.Fatalf("errors: %+v", sc.Errors())
	}
	if !rulesFound(sc)["secret/aws-access-key-pair"] {
		t.Fatalf("the key in the member's head was not found: %v", rulesFound(sc))
	}
	if sc.Stats().Skipped[skipTooLarge] != 1 {
		t.Fatalf("skipped %v", sc.Stats().Skipped)
	}
}
