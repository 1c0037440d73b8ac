package target

import (
	"context"
	"strings"
	"testing"
)

// --base asks for an incremental scan; a local path has nothing to compare with, so it is an
// error, not a silent full scan.
func TestBaseRefusedForLocalPaths(t *testing.T) {
	if _, err := Open(context.Background(), t.TempDir(), Options{Base: "auto"}); err == nil || !strings.Contains(err.Error(), "--base") {
		t.Fatalf("--base on a directory: %v", err)
	}
	if tg, err := Open(context.Background(), t.TempDir(), Options{}); err != nil {
		t.Fatal(err)
	} else {
		tg.Close()
	}
}
