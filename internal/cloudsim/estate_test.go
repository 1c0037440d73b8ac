package cloudsim

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

func TestEstateFiles(t *testing.T) {
	e, err := LoadEstate("testdata/estate.yaml")
	must(t, err)
	if len(e.Accounts) != 6 || len(e.Accounts[1].Regions["us-east-1"].Snapshots) != 4 || e.Organization.Units[1].Units[0].Name != "Sandbox" {
		t.Fatalf("%+v", e)
	}
	if v, _ := e.Accounts[1].Regions["us-east-1"].Snapshots[0].Tags.Get("env"); v != "prod" {
		t.Fatal("tags")
	}
	// The same estate as JSON reads back the same.
	b, err := json.Marshal(e)
	must(t, err)
	j, err := ParseEstate(b)
	must(t, err)
	b2, _ := json.Marshal(j)
	if string(b) != string(b2) {
		t.Fatal("JSON round trip differs")
	}
	for _, bad := range []struct{ doc, want string }{
		{"accounts: [{id: \"111111111111\", regoins: {}}]", "field regoins not found"},
		{"accounts: [{id: \"1111\"}]", "not 12 digits"},
		{"accounts: [{id: \"111111111111\"}, {id: \"111111111111\"}]", "twice"},
		{"organization: {id: o-x, management_account: \"111111111111\", accounts: [\"222222222222\"]}\naccounts: [{id: \"111111111111\"}]", "does not hold"},
		{"accounts: [{id: \"111111111111\", regions: {mars-1: {}}}]", "unknown region"},
		{"accounts: [{id: \"111111111111\", regions: {us-east-1: {snapshots: [{id: snap-1}, {id: snap-1}]}}}]", "snapshot snap-1 twice"},
		{`{"accounts": [{"id": "111111111111", "bogus": 1}]}`, "unknown field"},
	} {
		if _, err := ParseEstate([]byte(bad.doc)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: got %v, want %q", bad.doc, err, bad.want)
		}
	}
	e, err = ParseEstate([]byte("accounts: [{id: \"111111111111\", regions: {us-east-1: {snapshots: [{id: snap-1, content: /nonexistent.raw}]}}}]"))
	must(t, err)
	if _, err := NewAWS(e, Options{}); err == nil || !strings.Contains(err.Error(), "snap-1") {
		t.Fatalf("missing content: %v", err)
	}
}

// The bench estate (100k snapshots, 10k AMIs, 5k RDS snapshots over 5 accounts × 17 regions)
// must stay small in memory, indexes included.
func TestGenerateEstateIsLean(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100k-snapshot estate")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e := GenerateEstate(GenSpec{Snapshots: 100000, Images: 10000, DBSnapshots: 3000, ClusterSnapshots: 2000,
		PublicFraction: 0.01, SharedFraction: 0.05, UnencryptedFraction: 0.2})
	sim, err := NewAWS(e, Options{})
	must(t, err)
	defer sim.Close()
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	n, pub := 0, 0
	for _, a := range e.Accounts {
		for _, r := range a.Regions {
			n += len(r.Snapshots)
			for i := range r.Snapshots {
				if snapPublic(&r.Snapshots[i]) {
					pub++
				}
			}
		}
	}
	t.Logf("generated %d snapshots (%d public): %.1f MB heap with indexes", n, pub, float64(heap)/1e6)
	if n != 100000 || pub < 700 || pub > 1300 || len(e.Accounts) != 5 || len(e.Accounts[0].Regions) != 17 {
		t.Fatalf("%d snapshots, %d public", n, pub)
	}
	if heap > 80e6 {
		t.Fatalf("estate takes %d MB", heap/1e6)
	}
}
