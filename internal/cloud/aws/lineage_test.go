package aws

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/inventory"
)

// TestDatabaseSourcesEndToEnd: collect → posture.Check reports a manual snapshot whose
// instance, cluster or Redshift cluster is gone as orphaned, and not one whose source exists;
// automated snapshots and copies (whose source is in another region) are not looked up.
func TestDatabaseSourcesEndToEnd(t *testing.T) {
	sim, inv, st, _ := audit(t, cloudsim.Options{})
	fs := checkAll(inv)
	for id, want := range map[string]inventory.Tri{
		"db-public-mixed": inventory.Yes, // db1 exists
		"db-orphan":       inventory.No,  // gone-db does not
		"rds-old-gone":    inventory.Unknown,
		"db-copy":         inventory.Unknown,
		"docs-public":     inventory.Yes, // DocumentDB cluster docs1
		"graph-shared":    inventory.Yes, // Neptune cluster graph1
		"aurora-private":  inventory.No,
		"rs-shared":       inventory.Yes, // Redshift cluster warehouse
		"rs-final":        inventory.No,
		"rs-copied":       inventory.Unknown,
	} {
		r := snapshot(inv, id)
		if r == nil {
			t.Errorf("%s: not collected", id)
			continue
		}
		if r.Lineage.SourceExists != want {
			t.Errorf("%s: SourceExists %s, want %s", id, r.Lineage.SourceExists, want)
		}
		orphaned := false
		for _, f := range fs {
			orphaned = orphaned || (f.Resource.ID == id && strings.HasSuffix(f.Rule, "-orphaned"))
		}
		if orphaned != (want == inventory.No) {
			t.Errorf("%s: orphaned finding %v, want %v", id, orphaned, want == inventory.No)
		}
	}
	if r := snapshot(inv, "db-copy"); r == nil || r.Lineage.ParentSnapshot != "arn:aws:rds:eu-west-1:222222222222:snapshot:db9-1" {
		t.Errorf("db-copy lineage: %+v", r)
	}
	// One listing of each kind per scope that holds a manual snapshot to join (222/us-east-1),
	// none elsewhere; the meter agrees with the simulator.
	counts := sim.CallCounts()
	for _, a := range []string{"rds:DescribeDBInstances", "rds:DescribeDBClusters", "redshift:DescribeClusters"} {
		if counts[a] != 1 || st.CallsByAction[a] != 1 {
			t.Errorf("%s: simulator %d, stats %d calls, want 1", a, counts[a], st.CallsByAction[a])
		}
	}
}

// TestDatabaseSourceListingFails: a DescribeDBInstances that fails leaves every DB snapshot's
// SourceExists Unknown (never "gone") and is reported; the clusters' join is unaffected.
func TestDatabaseSourceListingFails(t *testing.T) {
	_, inv, _, _ := audit(t, cloudsim.Options{Faults: []cloudsim.Fault{{Kind: cloudsim.FaultDeny, Service: "rds", Action: "DescribeDBInstances"}}})
	for _, id := range []string{"db-public-mixed", "db-orphan", "db-internal"} {
		if r := snapshot(inv, id); r == nil || r.Lineage.SourceExists != inventory.Unknown {
			t.Errorf("%s: %+v, want SourceExists unknown", id, r)
		}
	}
	if got := findingsOf(checkAll(inv), "aws-rds-snapshot-orphaned", ""); len(got) != 0 {
		t.Errorf("orphaned findings from a failed listing: %s", ruleList(got))
	}
	if r := snapshot(inv, "aurora-private"); r == nil || r.Lineage.SourceExists != inventory.No {
		t.Errorf("aurora-private: %+v", r)
	}
	if !slices.ContainsFunc(inv.Errors, func(e inventory.ScopeError) bool {
		return e.Account == prod && e.Region == "us-east-1" && e.What == "rds:DescribeDBInstances"
	}) {
		t.Errorf("no scope error for the failed listing: %+v", inv.Errors)
	}
}

// TestDatabaseSourcesPaginate: 250 instances answer in three pages of 100; a snapshot of the
// last one is joined as existing, one of an instance not listed as gone.
func TestDatabaseSourcesPaginate(t *testing.T) {
	e := testEstate(t)
	for _, a := range e.Accounts {
		if a.ID != prod {
			continue
		}
		r := a.Regions["us-east-1"]
		r.DBInstances = nil
		for i := range 250 {
			r.DBInstances = append(r.DBInstances, cloudsim.DBInstance{ID: fmt.Sprintf("inst-%03d", i)})
		}
		r.DBSnapshots = append(r.DBSnapshots, cloudsim.DBSnapshot{ID: "db-last", SourceID: r.DBInstances[249].ID})
	}
	sim := startSim(t, e, cloudsim.Options{}, testKey, "mgmt-secret")
	inv, _, _ := collect(t, sim, Options{OrgRole: "Audit", Accounts: []string{prod}, Regions: []string{"us-east-1"}, Include: []string{"rds"}})
	if r := snapshot(inv, "db-last"); r == nil || r.Lineage.SourceExists != inventory.Yes {
		t.Errorf("db-last: %+v", r)
	}
	if r := snapshot(inv, "db-public-mixed"); r == nil || r.Lineage.SourceExists != inventory.No {
		t.Errorf("db-public-mixed (db1 no longer listed): %+v", r)
	}
	if n := sim.CallCounts()["rds:DescribeDBInstances"]; n != 3 {
		t.Errorf("DescribeDBInstances: %d pages, want 3", n)
	}
}
