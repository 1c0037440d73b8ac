package contentscan

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/target"
)

// A secret that straddles the boundary between two read chunks is found once, at the right line
// and offset; so is one wholly inside the overlap that both chunks read.
func TestSecretsAcrossChunkBoundaries(t *testing.T) {
	for _, at := range []int{chunkSize - overlap - 20, chunkSize - 30, chunkSize - overlap + 100, 3*chunkSize - 2*overlap - 10} {
		dir := t.TempDir()
		var b bytes.Buffer
		line := strings.Repeat("x", 63) + "\n"
		for b.Len()+len(line) <= at {
			b.WriteString(line)
		}
		for b.Len() < at {
			b.WriteByte(' ')
		}
		wantLine := bytes.Count(b.Bytes(), []byte{'\n'}) + 1
		b.WriteString(stripeKey + "\n")
		for b.Len() < 4*chunkSize {
			b.WriteString(line)
		}
		os.WriteFile(filepath.Join(dir, "big.txt"), b.Bytes(), 0o644)

		tg, err := target.Open(context.Background(), dir, target.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s := New(Options{})
		s.Scan(context.Background(), tg)
		fs := s.Findings()
		if len(fs) != 1 {
			t.Fatalf("secret at %d: %d findings", at, len(fs))
		}
		f := fs[0]
		if f.Location.Line != wantLine || f.Location.Offset != int64(at) {
			t.Errorf("secret at %d: found at line %d offset %d, want line %d", at, f.Location.Line, f.Location.Offset, wantLine)
		}
		if _, dup := f.Evidence["occurrences"]; dup {
			t.Errorf("secret at %d reported twice", at)
		}
	}
}

// Limits are honoured and counted.
func TestLimitsAreCounted(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), bytes.Repeat([]byte("a"), 3<<20), 0o644)
	os.WriteFile(filepath.Join(dir, "b.txt"), bytes.Repeat([]byte("b"), 3<<20), 0o644)
	tg, _ := target.Open(context.Background(), dir, target.Options{})
	s := New(Options{MaxFileBytes: 1 << 20, MaxTotalBytes: 1 << 20, Workers: 1})
	s.Scan(context.Background(), tg)
	st := s.Stats()
	if st.Skipped[skipTooLarge] != 2 || st.Skipped[skipTotalLimit] != 1 || st.BytesScanned != 1<<20 {
		t.Fatalf("stats: %+v", st)
	}
}

// A self-extracting installer (a script with a zip appended) is opened; a plain script is scanned
// as itself.
func TestSelfExtractingStub(t *testing.T) {
	dir := t.TempDir()
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("config/settings.ini")
	w.Write([]byte("key = " + stripeKey + "\n"))
	zw.Close()
	os.WriteFile(filepath.Join(dir, "install.sh"), append([]byte("#!/bin/sh\nunzip \"$0\"; exit 0\n"), zb.Bytes()...), 0o755)
	os.WriteFile(filepath.Join(dir, "plain.sh"), []byte("#!/bin/sh\nexport SLACK="+slackToken+"\n"), 0o755)
	tg, _ := target.Open(context.Background(), dir, target.Options{})
	s := New(Options{})
	s.Scan(context.Background(), tg)
	got := map[string]bool{}
	for _, f := range s.Findings() {
		got[f.Location.Path] = true
	}
	if !got["/install.sh!config/settings.ini"] || !got["/plain.sh"] {
		t.Fatalf("found %v", got)
	}
}

// An archive whose own path the allow-lists exclude (a static library of the distribution) is not
// opened: its members' paths ("lib.a!x.o") are beyond the allow-lists' reach.
func TestAllowListedArchiveIsNotOpened(t *testing.T) {
	dir := t.TempDir()
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("selftest.txt")
	w.Write([]byte("key = " + stripeKey + "\n"))
	zw.Close()
	os.MkdirAll(filepath.Join(dir, "usr/lib/x86_64-linux-gnu"), 0o755)
	os.MkdirAll(filepath.Join(dir, "srv"), 0o755)
	os.WriteFile(filepath.Join(dir, "usr/lib/x86_64-linux-gnu/libselftest.a"), zb.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "srv/bundle.zip"), zb.Bytes(), 0o644)
	tg, _ := target.Open(context.Background(), dir, target.Options{})
	s := New(Options{})
	s.Scan(context.Background(), tg)
	var got []string
	for _, f := range s.Findings() {
		got = append(got, f.Location.Path)
	}
	if len(got) != 1 || got[0] != "/srv/bundle.zip!selftest.txt" {
		t.Fatalf("findings at %v", got)
	}
}
