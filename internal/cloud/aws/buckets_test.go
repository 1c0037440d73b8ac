package aws

import (
	"slices"
	"testing"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/inventory"
)

func exportTask(inv *inventory.Inventory, id string) *inventory.ExportTask {
	for i := range inv.Exports {
		if inv.Exports[i].ID == id {
			return &inv.Exports[i]
		}
	}
	return nil
}

// TestExportBuckets: the bucket's policy and ACL, less what S3 Block Public Access (account
// through S3 Control, or bucket) neutralises, decide BucketPublic; BucketPublicVia keeps what
// would be public without BPA. The bucket's BPA is read only where it could change the answer.
func TestExportBuckets(t *testing.T) {
	sim, inv, st, _ := audit(t, cloudsim.Options{})
	for id, w := range map[string]struct {
		owner  string
		public inventory.Tri
		via    []string
	}{
		"store-ami-0000000000000a001-20251101T000000": {prod, inventory.No, nil},
		"export-ami-00000000000000001":                {"", inventory.Unknown, nil}, // an outsider's bucket
		"export-ami-00000000000000002":                {prod, inventory.Yes, []string{"acl:AllUsers"}},
		"export-ami-00000000000000003":                {prod, inventory.No, []string{"acl:AuthenticatedUsers"}},
		"export-ami-00000000000000004":                {prod, inventory.No, []string{"policy"}},
		"export-i-00000000000000001":                  {dev, inventory.Yes, []string{"policy"}},
	} {
		x := exportTask(inv, id)
		if x == nil {
			t.Errorf("%s: not collected", id)
			continue
		}
		if x.BucketAccount != w.owner || x.BucketPublic != w.public || !slices.Equal(x.BucketPublicVia, w.via) {
			t.Errorf("%s: owner %q public %s via %v, want %q %s %v", id, x.BucketAccount, x.BucketPublic, x.BucketPublicVia, w.owner, w.public, w.via)
		}
	}
	counts := sim.CallCounts()
	for action, n := range map[string]int{
		"s3control:GetPublicAccessBlock": 2, // 222 and 333 own exported buckets
		"s3:GetBucketPolicyStatus":       5,
		"s3:GetBucketAcl":                5,
		// acl-public, acl-blocked and dev-public; not exports (nothing public) nor
		// policy-blocked (the account's BPA already restricts its policy).
		"s3:GetPublicAccessBlock": 3,
	} {
		if counts[action] != n || st.CallsByAction[action] != n {
			t.Errorf("%s: simulator %d, stats %d calls, want %d", action, counts[action], st.CallsByAction[action], n)
		}
	}
	if len(inv.Errors) != 1 { // 444's role
		t.Errorf("errors: %+v", inv.Errors)
	}
}

// TestExportBucketReadsFail: an ACL that cannot be read leaves a bucket with no other public
// path Unknown, and is reported; an account BPA that cannot be read counts as none, so the
// policy it would have restricted makes the bucket public (a failure never hides one).
func TestExportBucketReadsFail(t *testing.T) {
	_, inv, _, _ := audit(t, cloudsim.Options{Faults: []cloudsim.Fault{
		{Kind: cloudsim.FaultDeny, Service: "s3", Action: "GetBucketAcl", Account: prod},
		{Kind: cloudsim.FaultDeny, Service: "s3control", Action: "GetPublicAccessBlock", Account: prod},
	}})
	for id, want := range map[string]inventory.Tri{
		"store-ami-0000000000000a001-20251101T000000": inventory.Unknown, // exports: ACL unread
		"export-ami-00000000000000004":                inventory.Yes,     // policy-blocked: BPA unread
		"export-i-00000000000000001":                  inventory.Yes,     // dev's, unaffected
	} {
		if x := exportTask(inv, id); x == nil || x.BucketPublic != want {
			t.Errorf("%s: %+v, want public %s", id, x, want)
		}
	}
	for _, what := range []string{"s3:GetBucketAcl", "s3control:GetPublicAccessBlock"} {
		if !slices.ContainsFunc(inv.Errors, func(e inventory.ScopeError) bool { return e.Account == prod && e.What == what }) {
			t.Errorf("no scope error for %s: %+v", what, inv.Errors)
		}
	}
}
