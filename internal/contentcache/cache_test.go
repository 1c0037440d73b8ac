package contentcache

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/finding"
)

func TestRoundTripAndMisses(t *testing.T) {
	dir := t.TempDir()
	c := &Cache{Dir: dir, Profile: Profile("v1", "residual=false")}
	if _, ok, err := c.Get("snap-1"); ok || err != nil {
		t.Fatalf("empty cache: ok=%v err=%v", ok, err)
	}
	e := &Entry{Snapshot: "snap-1", Scanned: time.Unix(1, 0).UTC(),
		Findings: []finding.Finding{{ID: "sw-1", Rule: "secret/private-key", Severity: finding.Critical}}}
	if err := c.Put(e); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get("snap-1")
	if !ok || err != nil || len(got.Findings) != 1 || got.Findings[0].Severity != finding.Critical {
		t.Fatalf("get: %+v ok=%v err=%v", got, ok, err)
	}
	p, _ := c.path("snap-1")
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("entry mode %v, %v", st.Mode(), err)
	}
	if st, _ := os.Stat(filepath.Dir(p)); st.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", st.Mode())
	}

	other := &Cache{Dir: dir, Profile: Profile("v1", "residual=true")}
	if _, ok, _ := other.Get("snap-1"); ok {
		t.Fatal("an entry made with other rules or flags was reused")
	}
	if err := c.Put(&Entry{Snapshot: "snap-2", Errors: []string{"throttled"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.Get("snap-2"); ok {
		t.Fatal("an incomplete scan was reused")
	}
	os.WriteFile(filepath.Join(dir, c.Profile, "snap-3.json"), []byte("{not json"), 0o600)
	if _, ok, err := c.Get("snap-3"); ok || err != nil {
		t.Fatalf("a damaged entry: ok=%v err=%v", ok, err)
	}
}

func TestRefusesPathLikeIDs(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Profile: "p"}
	for _, id := range []string{"../etc/passwd", "a/b", "", ".hidden"} {
		if err := c.Put(&Entry{Snapshot: id}); err == nil {
			t.Errorf("Put(%q) accepted", id)
		}
	}
}

func TestZeroCacheIsOff(t *testing.T) {
	var c *Cache
	if err := c.Put(&Entry{Snapshot: "snap-1"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := (&Cache{}).Get("snap-1"); ok {
		t.Fatal("zero cache returned an entry")
	}
}
