package contentscan

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/snapwatch/snapwatch/internal/target"
)

// compiledInSecret is a string literal of this test binary: the linker puts it in .rodata.
var compiledInSecret = "aws_access_key_id = AKIAUVM2HVYKNABO4YSL\naws_secret_access_key = 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\n"

// An executable's .text is left out of the secret scan, its data is not: a credential compiled
// into a binary is found, and the machine code is counted as skipped.
func TestELFTextSkippedDataScanned(t *testing.T) {
	_ = len(compiledInSecret)
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tool"), b, 0o600)
	tg, err := target.Open(context.Background(), dir, target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	sc := New(Options{})
	if err := sc.Scan(context.Background(), tg); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range sc.Findings() {
		found = found || f.Rule == "secret/aws-access-key-pair"
	}
	if !found {
		t.Fatal("the credential in the binary's data was not found")
	}
	st := sc.Stats()
	if st.CodeBytesSkipped < minCodeSkip || st.BytesScanned+st.CodeBytesSkipped != int64(len(b)) {
		t.Fatalf("skipped %d of %d bytes, scanned %d", st.CodeBytesSkipped, len(b), st.BytesScanned)
	}
}

// What does not parse as ELF, or has no .text worth leaving out, is scanned whole.
func TestCodeRangeRefusesOddFiles(t *testing.T) {
	for name, data := range map[string][]byte{
		"short":   []byte("\x7fELF"),
		"garbage": append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 200)...),
		"not elf": []byte("#!/bin/sh\necho hi\n"),
	} {
		if _, _, ok := codeRange(bytesReaderAt(data), int64(len(data))); ok {
			t.Errorf("%s: a code range was found", name)
		}
	}
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
