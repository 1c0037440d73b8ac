package unpack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"
)

// A tar whose headers claim far more than the file holds ends at the file's end.
func TestBombTarHugeSizes(t *testing.T) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "small", Size: 5, Mode: 0o644})
	tw.Write([]byte("small"))
	tw.Flush()
	tw.WriteHeader(&tar.Header{Name: "huge", Size: 1 << 50, Mode: 0o644, Format: tar.FormatGNU})
	tw.Write(bytes.Repeat([]byte("x"), 1000))
	data := b.Bytes() // truncated: no end blocks, the huge member's data missing
	for name, in := range map[string][]byte{"h.tar": data, "h.tar.gz": gz(t, data)} {
		start := time.Now()
		var sizes []int64
		var errs []error
		for m, err := range Walk(t.Context(), name, bytes.NewReader(in), int64(len(in)), Limits{}) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			sizes = append(sizes, m.Size)
			rc, _ := m.Open()
			if _, err := io.Copy(io.Discard, rc); err != nil {
				errs = append(errs, err)
			}
		}
		if len(sizes) != 2 || sizes[1] != 1<<50 || len(errs) == 0 || time.Since(start) > 10*time.Second {
			t.Errorf("%s: sizes %v, errors %v, %v", name, sizes, errs, time.Since(start))
		}
	}
}

// A sparse member declaring a terabyte of holes reads as zeros up to the member limit.
func TestBombSparseTar(t *testing.T) {
	dir := t.TempDir()
	sh(t, dir, "truncate -s 1T hole && tar --format=gnu -cSf s.tar hole", "tar", "truncate")
	res := walkFile(t, filepath.Join(dir, "s.tar"), Limits{MaxEntryBytes: 8 << 20})
	wantErr(t, res, ErrLimit, "s.tar!hole: member larger than 8.0 MiB")
	res = walkFile(t, filepath.Join(dir, "s.tar"), Limits{MaxEntryBytes: -1, MaxTotalBytes: 8 << 20})
	wantErr(t, res, ErrLimit, "sparse tar: more than 8.0 MiB decompressed")
}

func TestTraversalNames(t *testing.T) {
	names := map[string]string{
		"../../etc/passwd":       "etc/passwd",
		"/etc/shadow":            "etc/shadow",
		"a/../../../b":           "b",
		"./c":                    "c",
		"dir/./../d":             "d",
		"x!y":                    "x%21y",
		"100%.txt":               "100%25.txt",
		"new\nline":              "new%0Aline",
		"evil\u202etxt.exe":      "evil%E2%80%AEtxt.exe",
		"bad\xffutf8":            "bad%FFutf8",
		`..\..\windows\win.ini`:  "windows/win.ini",
		`C:\boot.ini`:            "boot.ini",
		"..":                     "_",
		"ok/normal name (1).txt": "ok/normal name (1).txt",
	}
	files := map[string][]byte{}
	want := map[string][]byte{}
	for raw, clean := range names {
		files[raw] = []byte(raw)
		want[clean] = []byte(raw)
	}
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for raw := range files {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: raw, Method: zip.Store})
		w.Write([]byte(raw))
	}
	zw.Close()
	wantMembers(t, walk(t, "n.zip", zb.Bytes(), Limits{}), prefixed("n.zip!", want))
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, raw := range sortedPaths(files) {
		tw.WriteHeader(&tar.Header{Name: raw, Size: int64(len(raw)), Mode: 0o644, Format: tar.FormatPAX})
		tw.Write([]byte(raw))
	}
	tw.Close()
	wantMembers(t, walk(t, "n.tar", tb.Bytes(), Limits{}), prefixed("n.tar!", want))
}

func TestStackedCompression(t *testing.T) {
	b := []byte("deep")
	for i := 0; i < 3; i++ {
		b = gz(t, b)
	}
	wantMembers(t, walk(t, "x.gz", b, Limits{}), map[string][]byte{"x.gz!x": []byte("deep")})
	for i := 0; i < 3; i++ {
		b = gz(t, b)
	}
	wantErr(t, walk(t, "x.gz", b, Limits{}), nil, "too many stacked compression layers")
}

func TestContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data := makeTar(t, tree, tar.FormatPAX)
	var members int
	var errs []error
	for m, err := range Walk(ctx, "t.tar", bytes.NewReader(data), int64(len(data)), Limits{}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		members++
		_ = m
		cancel()
	}
	if members != 1 || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("%d members, errors %v", members, errs)
	}
}

// The file's total budget spans members: once spent, the walk ends with one error.
func TestTotalBudget(t *testing.T) {
	files := map[string][]byte{"a": pseudoRandom(1<<20, 1), "b": pseudoRandom(1<<20, 2), "c": pseudoRandom(1<<20, 3)}
	res := walk(t, "r.tar.gz", gz(t, makeTar(t, files, tar.FormatPAX)), Limits{MaxTotalBytes: 3 << 20})
	wantErr(t, res, ErrLimit, "r.tar.gz: gzip: more than 3.0 MiB decompressed from one file")
	if res.read > 3<<20 {
		t.Errorf("read %d", res.read)
	}
}
