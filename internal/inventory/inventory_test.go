package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestNormalizeFoldsDuplicates(t *testing.T) {
	neptune := Snapshot{Common: Common{Provider: AWS, Account: "1", Region: "us-east-1", Kind: KindRDSClusterSnapshot,
		ID: "nep-1", Grants: []Grant{{Kind: GrantPublic, Value: "all"}}}, Engine: "neptune"}
	// The same snapshot listed a second time (through the Neptune API) with no engine and one more grant.
	again := neptune
	again.Engine = ""
	again.Grants = []Grant{{Kind: GrantPublic, Value: "all"}, {Kind: GrantAccount, Value: "2"}}
	other := Snapshot{Common: Common{Provider: AWS, Account: "1", Region: "us-east-1", Kind: KindEBSSnapshot, ID: "snap-1"}}
	inv := &Inventory{Snapshots: []Snapshot{again, other, neptune}, Accounts: []string{"1", "1"}}
	inv.Normalize()
	if len(inv.Snapshots) != 2 {
		t.Fatalf("got %d records, want 2", len(inv.Snapshots))
	}
	var n *Snapshot
	for i := range inv.Snapshots {
		if inv.Snapshots[i].ID == "nep-1" {
			n = &inv.Snapshots[i]
		}
	}
	if n == nil || n.Engine != "neptune" || len(n.Grants) != 2 {
		t.Fatalf("folded record: %+v", n)
	}
	if len(inv.Accounts) != 1 {
		t.Errorf("accounts: %v", inv.Accounts)
	}
}

func TestSortRecordsMatchesStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		xs := make([]Image, n)
		for i := range xs {
			xs[i].Account = fmt.Sprint(r.IntN(3))
			xs[i].ID = fmt.Sprint(r.IntN(10))
			xs[i].Name = fmt.Sprint(i) // original position: tells stability
		}
		want := slices.Clone(xs)
		slices.SortStableFunc(want, func(a, b Image) int { return compareCommon(&a.Common, &b.Common) })
		sortRecords(xs, func(i *Image) *Common { return &i.Common })
		for i := range xs {
			if xs[i].Name != want[i].Name {
				t.Fatalf("n=%d: position %d holds %s, want %s", n, i, xs[i].Name, want[i].Name)
			}
		}
	}
}

func TestMergeAndErrors(t *testing.T) {
	var inv Inventory
	part := &Inventory{Snapshots: make([]Snapshot, 2), Images: make([]Image, 1), Accounts: []string{"1"}}
	part.AddError(AWS, "1", "eu-west-1", "ec2:DescribeSnapshots", errors.New("throttled"))
	inv.Merge(part)
	inv.Merge(part)
	if len(inv.Snapshots) != 4 || len(inv.Images) != 2 || len(inv.Errors) != 2 {
		t.Fatalf("%d %d %d", len(inv.Snapshots), len(inv.Images), len(inv.Errors))
	}
	if got := inv.Errors[0].Error(); got != "aws/1/eu-west-1/ec2:DescribeSnapshots: throttled" {
		t.Error(got)
	}
}

func TestTriText(t *testing.T) {
	b, _ := json.Marshal(Lineage{SourceVolume: "vol-1", SourceExists: No})
	if !strings.Contains(string(b), `"source_exists":"no"`) || strings.Contains(string(b), "image_exists") {
		t.Fatal(string(b))
	}
	var l Lineage
	if err := json.Unmarshal(b, &l); err != nil || l.SourceExists != No {
		t.Fatal(l, err)
	}
}

func TestOwnedElsewhere(t *testing.T) {
	c := Common{Account: "1"}
	if c.OwnedElsewhere() {
		t.Error("empty owner")
	}
	c.Owner = "2"
	if !c.OwnedElsewhere() {
		t.Error("other owner")
	}
}
