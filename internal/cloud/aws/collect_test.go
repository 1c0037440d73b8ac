package aws

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
)

// The collector's own estate (testdata/estate.yaml): org o-test00000001 of 111 (management),
// 222 (prod), 333 (dev) and 444 (whose role only an outsider may assume); 999 is outside.
const (
	mgmt     = "111111111111"
	prod     = "222222222222"
	dev      = "333333333333"
	side     = "444444444444"
	outsider = "999999999999"
	testKey  = "AKIATESTMGMT00000001"
)

func testEstate(t testing.TB) *cloudsim.Estate {
	t.Helper()
	e, err := cloudsim.LoadEstate("testdata/estate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// audit collects the test estate from the management account with the Audit role.
func audit(t testing.TB, simOpt cloudsim.Options, mods ...func(*Options)) (*cloudsim.AWS, *inventory.Inventory, Stats, error) {
	t.Helper()
	sim := startSim(t, testEstate(t), simOpt, testKey, "mgmt-secret")
	opt := Options{OrgRole: "Audit"}
	for _, m := range mods {
		m(&opt)
	}
	inv, st, err := collect(t, sim, opt)
	if inv == nil {
		t.Fatalf("no inventory: %v", err)
	}
	return sim, inv, st, err
}

// onlyAssumeRoleError checks that the one expected failure, account 444's role, is all that failed.
func onlyAssumeRoleError(t *testing.T, inv *inventory.Inventory, err error) {
	t.Helper()
	var pe *PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("want a *PartialError, got %v", err)
	}
	if len(inv.Errors) != 1 || inv.Errors[0].Account != side || inv.Errors[0].Region != "" || inv.Errors[0].What != "sts:AssumeRole" {
		t.Fatalf("errors: %+v", inv.Errors)
	}
}

type want struct {
	rule, id string
	sev      finding.Severity
	n        int // findings expected; 0 means 1
}

// TestEveryCheckFamilyEndToEnd collects the estate through the SDK and the simulator and runs
// posture over it: every family of check fires where the estate says, at the severity the
// collected keys, BPA states and boundary imply.
func TestEveryCheckFamilyEndToEnd(t *testing.T) {
	_, inv, _, err := audit(t, cloudsim.Options{})
	onlyAssumeRoleError(t, inv, err)
	fs := checkAll(inv)
	for _, w := range []want{
		{"aws-ebs-snapshot-public", "snap-0000000000000a001", finding.Critical, 0},
		{"aws-ami-public", "ami-0000000000000a001", finding.Critical, 0},
		{"aws-ami-public", "ami-0000000000000a004", finding.Critical, 0}, // deprecated, still public
		{"aws-rds-snapshot-public", "db-public-mixed", finding.Critical, 0},
		{"aws-docdb-cluster-snapshot-public", "docs-public", finding.Critical, 0},
		{"aws-ebs-snapshot-exposed-via-ami", "snap-0000000000000a001", finding.Critical, 2},
		// Shares graded by the key: 999 may decrypt alias/partner (high); alias/private admits
		// nobody (low); alias/orgwide admits our org only (low for 999).
		{"aws-ebs-snapshot-shared-external", "snap-0000000000000a002", finding.High, 0},
		{"aws-ebs-snapshot-shared-external", "snap-0000000000000a003", finding.Low, 0},
		{"aws-ebs-snapshot-shared-external", "snap-0000000000000a004", finding.Low, 0},
		{"aws-rds-snapshot-shared-external", "db-public-mixed", finding.High, 0},
		{"aws-neptune-cluster-snapshot-shared-external", "graph-shared", finding.High, 0},
		{"aws-redshift-snapshot-shared-external", "rs-shared", finding.High, 0},
		// The AMI's own org ARN is internal: account, foreign org and foreign OU remain.
		{"aws-ami-shared-external", "ami-0000000000000a002", finding.Low, 3},
		{"aws-ebs-snapshot-exposed-via-ami", "snap-0000000000000a008", finding.Low, 3},
		{"aws-ebs-snapshot-latent-public", "snap-0000000000000c001", finding.Medium, 0}, // BPA by declarative policy
		{"aws-ebs-snapshot-recycle-bin-shared", "snap-0000000000000b001", finding.High, 0},
		{"aws-ami-recycle-bin-shared", "ami-0000000000000b001", finding.Medium, 0},
		{"aws-ebs-snapshot-unencrypted", "snap-0000000000000a001", finding.Medium, 0},
		{"aws-neptune-cluster-snapshot-unencrypted", "graph-shared", finding.Medium, 0},
		{"aws-ebs-snapshot-provider-managed-key", "snap-0000000000000a005", finding.Low, 0},
		{"aws-rds-snapshot-provider-managed-key", "db-awsrds", finding.Low, 0},
		{"aws-ebs-snapshot-stale", "snap-0000000000000a007", finding.Low, 0},
		{"aws-ebs-snapshot-orphaned", "snap-0000000000000a006", finding.Low, 0},
		{"aws-ami-backing-snapshot-missing", "ami-0000000000000a003", finding.Low, 0},
		{"aws-ebs-snapshot-bpa-off", "", finding.High, 3},             // 222/us-east-1, 111 and 333 (unblocked by default)
		{"aws-ebs-snapshot-bpa-not-org-enforced", "", finding.Low, 0}, // 222/af-south-1
		{"aws-ami-bpa-off", "", finding.Medium, 3},
		{"aws-ami-bpa-not-org-enforced", "", finding.Low, 0}, // 222/eu-west-1 (af-south-1 is declarative)
		{"aws-ebs-encryption-by-default-off", "", finding.Medium, 3},
		{"aws-ebs-default-key-provider-managed", "", finding.Low, 0}, // eu-west-1; af-south-1 uses a CMK
		// Exports graded by the bucket: ours and private, an outsider's, our public one.
		{"aws-ami-exported-to-s3", "store-ami-0000000000000a001-20251101T000000", finding.Low, 0},
		{"aws-ami-exported-to-s3", "export-ami-00000000000000001", finding.Medium, 0},
		{"aws-instance-exported-to-s3", "export-i-00000000000000001", finding.Critical, 0},
		{"aws-ami-exported-to-s3", "export-ami-00000000000000002", finding.Critical, 0}, // ACL grants AllUsers
		{"aws-ami-exported-to-s3", "export-ami-00000000000000003", finding.Medium, 0},   // ACL held back by the bucket's BPA
		{"aws-ami-exported-to-s3", "export-ami-00000000000000004", finding.Medium, 0},   // policy held back by the account's BPA
		{"aws-rds-snapshot-orphaned", "db-orphan", finding.Low, 0},
		{"aws-rds-cluster-snapshot-orphaned", "aurora-private", finding.Low, 0},
		{"aws-redshift-snapshot-orphaned", "rs-final", finding.Low, 0},
		{"aws-dlm-policy-shares-external", "policy-00000000000000001", finding.High, 0},
	} {
		got := findingsOf(fs, w.rule, w.id)
		n := max(w.n, 1)
		if len(got) != n {
			t.Errorf("%s %s: %d findings, want %d", w.rule, w.id, len(got), n)
			continue
		}
		for _, f := range got {
			if f.Severity != w.sev {
				t.Errorf("%s %s: severity %s, want %s: %s", w.rule, w.id, f.Severity, w.sev, f.Description)
			}
		}
	}
	// Absent: shares AWS refuses (aws/ebs), internal shares, and anything of other owners.
	for _, rule := range []string{"aws-ebs-snapshot-shared-external", "aws-rds-snapshot-shared-external", "aws-dlm-policy-shares-external"} {
		for _, id := range []string{"snap-0000000000000a005", "db-internal", "policy-00000000000000002"} {
			if got := findingsOf(fs, rule, id); len(got) != 0 {
				t.Errorf("%s %s: unexpected finding: %s", rule, id, got[0].Description)
			}
		}
	}
	if t.Failed() {
		t.Logf("all findings:\n%s", ruleList(fs))
	}
}

// TestPeerBugs: the mistakes the research note found in peers.
func TestPeerBugs(t *testing.T) {
	_, inv, _, _ := audit(t, cloudsim.Options{})
	fs := checkAll(inv)

	// "all" mixed with account ids in RDS restore values is public (Steampipe's equality test
	// misses it), and the account beside it is still an external share.
	db := snapshot(inv, "db-public-mixed")
	if db == nil || !slices.Contains(db.Grants, publicGrant) ||
		!slices.Contains(db.Grants, inventory.Grant{Kind: inventory.GrantAccount, Value: outsider, Via: inventory.ViaAttribute}) {
		t.Fatalf("db-public-mixed grants: %+v", db)
	}

	// Neptune and DocumentDB come from the RDS API once each: one record, one finding, labelled by engine.
	n := 0
	for _, s := range inv.Snapshots {
		if s.ID == "graph-shared" {
			n++
			if s.Engine != "neptune" || s.Kind != inventory.KindRDSClusterSnapshot {
				t.Errorf("graph-shared: %+v", s)
			}
		}
	}
	if n != 1 {
		t.Errorf("graph-shared: %d records", n)
	}
	if got := findingsOf(fs, "aws-rds-cluster-snapshot-shared-external", "graph-shared"); len(got) != 0 {
		t.Error("Neptune snapshot reported as RDS too")
	}
	if got := findingsOf(fs, "aws-rds-cluster-snapshot-public", "docs-public"); len(got) != 0 {
		t.Error("DocumentDB snapshot reported as RDS too")
	}

	// AMIs, snapshots and RDS snapshots of other owners (public, or shared with us) are never
	// collected, let alone reported (cartography's owner filter).
	for _, id := range []string{"ami-0000000000000f001", "ami-0000000000000e0a1"} {
		if image(inv, id) != nil {
			t.Errorf("foreign AMI %s collected", id)
		}
	}
	for _, id := range []string{"snap-0000000000000f001", "snap-0000000000000f002", "theirs-shared"} {
		if snapshot(inv, id) != nil {
			t.Errorf("foreign snapshot %s collected", id)
		}
	}
	for _, f := range fs {
		if f.Resource.Account == outsider || f.Resource.Account == "137112412989" {
			t.Errorf("finding on a foreign resource: %s %s", f.Rule, f.Resource.ID)
		}
	}
}

// TestReadOnly proves on the simulator's call log that a full audit (public search included)
// makes no mutating call, and only Describe/Get/List calls plus the STS calls of the session.
func TestReadOnly(t *testing.T) {
	sim, _, st, _ := audit(t, cloudsim.Options{}, func(o *Options) { o.PublicSearch = true })
	if m := sim.MutatingCalls(); len(m) != 0 {
		t.Fatalf("mutating calls: %+v", m)
	}
	for _, c := range sim.Calls() {
		ok := strings.HasPrefix(c.Action, "Describe") || strings.HasPrefix(c.Action, "Get") || strings.HasPrefix(c.Action, "List") ||
			strings.HasPrefix(c.Action, "Head") || (c.Service == "sts" && (c.Action == "AssumeRole" || c.Action == "GetCallerIdentity"))
		if !ok {
			t.Errorf("non-read call %s:%s", c.Service, c.Action)
		}
	}
	// The meter sees what the simulator logged.
	if got := len(sim.Calls()); got != st.Calls {
		t.Errorf("stats count %d calls, the simulator logged %d", st.Calls, got)
	}
}

// TestAttributeCallsOnlyForShareable counts the per-resource calls: one per snapshot, AMI and
// manual RDS snapshot that AWS would let be shared, none for what it would not.
func TestAttributeCallsOnlyForShareable(t *testing.T) {
	sim, _, st, _ := audit(t, cloudsim.Options{})
	counts := sim.CallCounts()
	for action, n := range map[string]int{
		// 222/us-east-1: a001–a004 and a006–a008 (a005 is aws/ebs), plus the binned one;
		// 222/eu-west-1 one; 333 one.
		"ec2:DescribeSnapshotAttribute": 7 + 1 + 1 + 1,
		// a001, a002, a003 (its backing is gone, so its key is unknown), a004; not a005
		// (disabled); plus the binned one.
		"ec2:DescribeImageAttribute":              4 + 1,
		"rds:DescribeDBSnapshotAttributes":        4, // not aws/rds-encrypted, not automated
		"rds:DescribeDBClusterSnapshotAttributes": 2,
		// Keys of shared things only: partner, private, orgwide — and never aws/ebs.
		"kms:GetKeyPolicy":      3,
		"kms:ListAliases":       5, // one per audited account+region
		"ec2:DescribeSnapshots": 5 * 2,
	} {
		if counts[action] != n {
			t.Errorf("%s: %d calls, want %d", action, counts[action], n)
		}
		if st.CallsByAction[action] != counts[action] {
			t.Errorf("%s: stats say %d, simulator %d", action, st.CallsByAction[action], counts[action])
		}
	}
}

func TestOrganisation(t *testing.T) {
	_, inv, st, _ := audit(t, cloudsim.Options{})
	if len(inv.Orgs) != 1 {
		t.Fatalf("orgs: %+v", inv.Orgs)
	}
	o := inv.Orgs[0]
	if o.ID != "o-test00000001" || o.ManagementAccount != mgmt || !strings.HasSuffix(o.ARN, "/o-test00000001") ||
		!slices.Equal(o.Accounts, []string{mgmt, prod, dev, side}) || len(o.OUs) != 2 {
		t.Errorf("org: %+v", o)
	}
	if !slices.Equal(inv.Accounts, []string{mgmt, prod, dev, side}) {
		t.Errorf("accounts: %v", inv.Accounts)
	}
	if st.Accounts != 4 || st.Regions != 3 {
		t.Errorf("stats: %+v", st)
	}
}

// TestOrganizationsDenied: a caller outside the management account falls back to itself.
func TestOrganizationsDenied(t *testing.T) {
	_, inv, _, err := audit(t, cloudsim.Options{Faults: []cloudsim.Fault{{Kind: cloudsim.FaultDeny, Service: "organizations"}}})
	if err != nil {
		t.Fatalf("err: %v (%+v)", err, inv.Errors)
	}
	if len(inv.Orgs) != 0 || !slices.Equal(inv.Accounts, []string{mgmt}) {
		t.Errorf("orgs %+v accounts %v", inv.Orgs, inv.Accounts)
	}
}

// TestPublicSearch finds the public snapshot of the account whose role cannot be assumed.
func TestPublicSearch(t *testing.T) {
	_, inv, _, _ := audit(t, cloudsim.Options{})
	if snapshot(inv, "snap-0000000000000e001") != nil {
		t.Fatal("found without public search")
	}
	_, inv, _, _ = audit(t, cloudsim.Options{}, func(o *Options) { o.PublicSearch = true })
	s := snapshot(inv, "snap-0000000000000e001")
	if s == nil || s.Account != side || !slices.Contains(s.Grants, publicGrant) {
		t.Fatalf("public search: %+v", s)
	}
	// In-account records and public-search records of the same snapshot fold into one.
	n := 0
	for _, x := range inv.Snapshots {
		if x.ID == "snap-0000000000000a001" {
			n++
			if x.Lineage.SourceVolume == "" || len(x.Grants) != 1 {
				t.Errorf("folded record lost its fields: %+v", x)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d records of snap-…a001", n)
	}
}

func TestInclude(t *testing.T) {
	_, inv, _, _ := audit(t, cloudsim.Options{}, func(o *Options) { o.Include = []string{"rds"}; o.Accounts = []string{prod} })
	if len(inv.Images) != 0 || len(inv.Guards) != 0 || len(inv.Exports) != 0 {
		t.Errorf("families not asked for: %d images, %d guards, %d exports", len(inv.Images), len(inv.Guards), len(inv.Exports))
	}
	for _, s := range inv.Snapshots {
		if s.Kind != inventory.KindRDSSnapshot && s.Kind != inventory.KindRDSClusterSnapshot {
			t.Errorf("record of kind %s", s.Kind)
		}
	}
	if len(inv.Snapshots) != 10 {
		t.Errorf("%d RDS records, want 10", len(inv.Snapshots))
	}
	if _, err := New(context.Background(), Options{Include: []string{"ebs", "amis"}}); err == nil || !strings.Contains(err.Error(), "amis") {
		t.Errorf("unknown family: %v", err)
	}
}

func TestProgress(t *testing.T) {
	var mu sync.Mutex
	var seen []Progress
	_, _, _, _ = audit(t, cloudsim.Options{}, func(o *Options) {
		o.Progress = func(p Progress) { mu.Lock(); seen = append(seen, p); mu.Unlock() }
	})
	// 111: 1 region, 222: 3, 333: 1; 444 never gets to its regions.
	if len(seen) != 5 || seen[len(seen)-1].Done != 5 || seen[0].Total != 5 {
		t.Errorf("progress: %+v", seen)
	}
}

// TestConfigReusesRole: the content scan reads EBS with the collector's sessions.
func TestConfigReusesRole(t *testing.T) {
	sim := startSim(t, testEstate(t), cloudsim.Options{}, testKey, "mgmt-secret")
	ctx := context.Background()
	c, err := New(ctx, Options{OrgRole: "Audit", EndpointURL: sim.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if c.CallerAccount() != mgmt {
		t.Errorf("caller %s", c.CallerAccount())
	}
	cfg, err := c.Config(ctx, prod, "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	out, err := ec2.NewFromConfig(cfg).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if err != nil || len(out.Snapshots) != 1 || aws.ToString(out.Snapshots[0].OwnerId) != prod {
		t.Fatalf("%v %+v", err, out)
	}
	if _, err := c.Config(ctx, side, "us-east-1"); err == nil {
		t.Error("role of 444 assumed")
	}
}

func TestNoCredentials(t *testing.T) {
	sim := startSim(t, testEstate(t), cloudsim.Options{}, "", "")
	_, err := New(context.Background(), Options{EndpointURL: sim.URL()})
	if err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("err: %v", err)
	}
}
