package posture

import (
	"reflect"
	"testing"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// The same inventory in any record order (and any grant order inside records) gives the same
// findings, in the same order, with the same ids, evidence and links.
func TestRecordOrderDoesNotMatter(t *testing.T) {
	for seed := range uint64(4) {
		inv := estate(3000, 300, seed)
		want := check(t, inv)
		if len(want) == 0 {
			t.Fatal("estate produced no findings")
		}
		for s := range uint64(5) {
			got := check(t, shuffled(inv, seed*100+s))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d/%d: findings differ: %s", seed, s, firstDiff(got, want))
			}
		}
	}
}

func firstDiff(a, b []finding.Finding) string {
	if len(a) != len(b) {
		return "counts differ"
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			return a[i].Rule + " " + a[i].Resource.ID + " vs " + b[i].Rule + " " + b[i].Resource.ID
		}
	}
	return ""
}

// Every rule a realistic estate produces is a listed check, and ids are unique.
func TestEstateRulesAreCatalogued(t *testing.T) {
	fs := check(t, estate(5000, 500, 9))
	ids := map[string]bool{}
	for _, f := range fs {
		if _, ok := catalogue()[f.Rule]; !ok {
			t.Errorf("rule %s not in Checks()", f.Rule)
		}
		if ids[f.ID] {
			t.Errorf("duplicate id %s (%s)", f.ID, f.Rule)
		}
		ids[f.ID] = true
	}
}
