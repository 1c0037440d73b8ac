package posture

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// A public AMI exposes its backing snapshots even when they are private: each is reported on
// the snapshot, graded by the snapshot's own key, and linked both ways with the AMI's finding.
func TestAMIExposesBackingSnapshots(t *testing.T) {
	inv := testInventory()
	inv.Snapshots = []inventory.Snapshot{
		ebs("snap-root", func(s *inventory.Snapshot) {
			s.Encryption = plain
			s.Tags = []inventory.Tag{{Key: "team", Value: "db"}}
		}),
		ebs("snap-data"), // customer-managed key nobody else may use
	}
	inv.Images = []inventory.Image{ami("ami-1", []string{"snap-root", "snap-data", "snap-unlisted"}, func(i *inventory.Image) {
		i.Grants = []inventory.Grant{everyone}
		i.Encryption = plain
		i.Backing[0].Encrypted = false
		i.Backing[2].Encrypted = false
	})}
	fs := check(t, inv)
	img := one(t, fs, "aws-ami-public")
	via := byRule(fs, "aws-ebs-snapshot-exposed-via-ami")
	if len(via) != 3 {
		t.Fatalf("via-AMI findings: %s", rules(via))
	}
	sev := map[string]finding.Severity{}
	for _, f := range via {
		sev[f.Resource.ID] = f.Severity
		if !slices.Equal(f.Related, []string{img.ID}) || !slices.Contains(img.Related, f.ID) || f.Evidence["image_id"] != "ami-1" ||
			f.Evidence["fix_action"] != "aws-ami-make-private" {
			t.Errorf("%s: not linked: %+v", f.Resource.ID, f)
		}
	}
	// snap-root unencrypted: critical; snap-data's key is not public: medium; snap-unlisted is
	// not in the inventory, so the image's backing mapping grades it (unencrypted: critical).
	if sev["snap-root"] != finding.Critical || sev["snap-data"] != finding.Medium || sev["snap-unlisted"] != finding.Critical {
		t.Fatalf("severities: %v", sev)
	}
	if len(img.Related) != 3 {
		t.Fatalf("image related: %v", img.Related)
	}
	// The snapshots themselves are not public.
	none(t, fs, "aws-ebs-snapshot-public")

	// An accepted public AMI (a published product) suppresses its snapshots' findings too.
	fs = check(t, inv, func(c *Config) { c.Exclude.IDs = []string{"ami-1"} })
	for _, f := range append(byRule(fs, "aws-ami-public"), byRule(fs, "aws-ebs-snapshot-exposed-via-ami")...) {
		if f.Status != finding.StatusSuppressed {
			t.Errorf("%s %s not suppressed", f.Rule, f.Resource.ID)
		}
	}
}

// A shared AMI's snapshots are exposed to the same grantee, once per grantee.
func TestSharedAMIExposesSnapshotsPerGrantee(t *testing.T) {
	inv := testInventory()
	second := inventory.Grant{Kind: inventory.GrantAccount, Value: "888888888888", Via: inventory.ViaAttribute}
	inv.Images = []inventory.Image{ami("ami-1", []string{"snap-a"}, func(i *inventory.Image) {
		i.Grants = []inventory.Grant{outside, second, inside}
		i.Encryption = plain
		i.Backing[0].Encrypted = false
	})}
	fs := check(t, inv)
	if n := len(byRule(fs, "aws-ami-shared-external")); n != 2 {
		t.Fatalf("AMI shares: %d", n)
	}
	via := byRule(fs, "aws-ebs-snapshot-exposed-via-ami")
	if len(via) != 2 || via[0].ID == via[1].ID || via[0].Severity != finding.High {
		t.Fatalf("via: %s", rules(via))
	}
}

func TestOrphanNeedsBothSourceGoneAndNoImage(t *testing.T) {
	gone := func(s *inventory.Snapshot) { s.Lineage.SourceExists = inventory.No }
	inv := testInventory()
	inv.Snapshots = []inventory.Snapshot{ebs("snap-orphan", gone), ebs("snap-ami", gone), ebs("snap-unknown")}
	inv.Images = []inventory.Image{ami("ami-1", []string{"snap-ami"})}
	fs := byRule(check(t, inv), "aws-ebs-snapshot-orphaned")
	if len(fs) != 1 || fs[0].Resource.ID != "snap-orphan" {
		t.Fatalf("orphans: %v", fs)
	}
}

// Recycle Bin entries report only the restore risk: never public, stale or unencrypted.
func TestRecycleBinOnlyRestoreRisk(t *testing.T) {
	inv := testInventory()
	inv.Snapshots = []inventory.Snapshot{snapWith("snap-bin", func(c *inventory.Common) {
		c.RecycleBin, c.Grants, c.Encryption, c.Created = true, []inventory.Grant{outside}, plain, now.AddDate(-3, 0, 0)
	})}
	fs := check(t, inv)
	f := one(t, fs, "aws-ebs-snapshot-recycle-bin-shared")
	if f.Severity != finding.Medium || len(fs) != 1 {
		t.Fatalf("%s", rules(fs))
	}
}

func TestStaleSkipsAutomatedAndHonoursConfig(t *testing.T) {
	old := func(s *inventory.Snapshot) { s.Created = now.AddDate(0, 0, -100) }
	inv := testInventory()
	rds := inventory.Snapshot{Common: common(inventory.AWS, inventory.KindRDSSnapshot, "rds:auto"), Automated: true}
	rds.Created = now.AddDate(-2, 0, 0)
	inv.Snapshots = []inventory.Snapshot{ebs("snap-100d", old), rds}
	if fs := check(t, inv); len(byRule(fs, "aws-ebs-snapshot-stale"))+len(byRule(fs, "aws-rds-snapshot-stale")) != 0 {
		t.Fatalf("default limit: %s", rules(fs))
	}
	fs := check(t, inv, func(c *Config) { c.StaleAfter = 90 * 24 * time.Hour })
	if f := one(t, fs, "aws-ebs-snapshot-stale"); f.Evidence["age_days"] != 100 {
		t.Fatalf("%+v", f.Evidence)
	}
	none(t, fs, "aws-rds-snapshot-stale")
	none(t, check(t, inv, func(c *Config) { c.StaleAfter = -1 }), "aws-ebs-snapshot-stale")
}

func TestExcludeOverrideAndDisable(t *testing.T) {
	inv := testInventory()
	inv.Snapshots = []inventory.Snapshot{
		snapWith("snap-tagged", func(c *inventory.Common) {
			c.Grants, c.Tags = []inventory.Grant{outside}, []inventory.Tag{{Key: "snapwatch", Value: "accepted"}}
		}),
		snapWith("snap-other", grants(outside)),
	}
	fs := check(t, inv, func(c *Config) {
		c.Exclude.Tags = []string{"snapwatch=accepted"}
		c.SeverityOverrides = map[string]finding.Severity{"aws-ebs-snapshot-shared-external": finding.Critical}
	})
	for _, f := range byRule(fs, "aws-ebs-snapshot-shared-external") {
		wantStatus := map[string]finding.Status{"snap-tagged": finding.StatusSuppressed, "snap-other": finding.StatusOpen}[f.Resource.ID]
		if f.Status != wantStatus || f.Severity != finding.Critical {
			t.Errorf("%s: %v %v", f.Resource.ID, f.Status, f.Severity)
		}
	}
	// A finding id excludes that finding only.
	target := byRule(fs, "aws-ebs-snapshot-shared-external")[0].ID
	for _, f := range check(t, inv, func(c *Config) { c.Exclude.IDs = []string{target} }) {
		if (f.ID == target) != (f.Status == finding.StatusSuppressed) {
			t.Errorf("%s: %v", f.Resource.ID, f.Status)
		}
	}
	none(t, check(t, inv, func(c *Config) { c.Exclude.Checks = []string{"aws-ebs-snapshot-shared-external"} }), "aws-ebs-snapshot-shared-external")
}

// The severity model of docs/design/posture.md.
func TestSeverityModel(t *testing.T) {
	cases := []struct {
		public bool
		a      access
		want   finding.Severity
	}{
		{true, usable, finding.Critical}, {true, unknown, finding.Critical}, {true, inert, finding.Medium},
		{false, usable, finding.High}, {false, unknown, finding.High}, {false, inert, finding.Low},
	}
	for _, c := range cases {
		if got := exposureSeverity(c.public, c.a); got != c.want {
			t.Errorf("exposure public=%v %v: %v", c.public, c.a, got)
		}
	}
	if latentSeverity(usable, inventory.ManagedByAccount) != finding.High || latentSeverity(usable, inventory.ManagedByDeclarativePolicy) != finding.Medium ||
		latentSeverity(inert, "") != finding.Low {
		t.Error("latent")
	}
	if recycleSeverity(true, usable) != finding.High || recycleSeverity(false, usable) != finding.Medium || recycleSeverity(false, inert) != finding.Low {
		t.Error("recycle bin")
	}
}

// Azure: a live SAS is public (critical with public network, high through a private endpoint);
// public network access alone is a medium export risk; a customer key does not gate either.
func TestAzureExport(t *testing.T) {
	sas := inventory.Grant{Kind: inventory.GrantSASLink, Value: "ActiveSAS", Via: inventory.ViaDiskState}
	net := inventory.Grant{Kind: inventory.GrantNetworkPublic, Value: "AllowAll", Via: inventory.ViaNetworkPolicy}
	for _, c := range []struct {
		grants []inventory.Grant
		rule   string
		sev    finding.Severity
	}{
		{[]inventory.Grant{sas, net}, "azure-disk-public", finding.Critical},
		{[]inventory.Grant{sas}, "azure-disk-public", finding.High},
		{[]inventory.Grant{net}, "azure-disk-public-network-export", finding.Medium},
	} {
		inv := testInventory()
		d := inventory.Snapshot{Common: common(inventory.Azure, inventory.KindAzureDisk, "disk-1")}
		d.Grants = c.grants
		d.Encryption = inventory.Encryption{Encrypted: true, KeyKind: inventory.KeyCustomerManaged, KeyID: "des-1"}
		inv.Snapshots = []inventory.Snapshot{d}
		fs := check(t, inv)
		if f := one(t, fs, c.rule); f.Severity != c.sev {
			t.Errorf("%v: %v", c.grants, f.Severity)
		}
		if len(c.grants) == 2 {
			none(t, fs, "azure-disk-public-network-export") // one exposure, one finding
		}
	}
}

func TestExportAndPolicyGrading(t *testing.T) {
	for _, c := range []struct {
		task inventory.ExportTask
		sev  finding.Severity
	}{
		{inventory.ExportTask{BucketPublic: inventory.Yes, BucketAccount: acct}, finding.Critical},
		{inventory.ExportTask{BucketAccount: outsider}, finding.High},
		{inventory.ExportTask{}, finding.Medium},
		{inventory.ExportTask{BucketAccount: sibling}, finding.Low},
	} {
		inv := testInventory()
		c.task.Provider, c.task.Account, c.task.Region, c.task.ID, c.task.Kind, c.task.Source, c.task.Bucket, c.task.Key =
			inventory.AWS, acct, region, "st-1", inventory.ExportStoreImage, "ami-1", "bkt", "ami-1.bin"
		inv.Exports = []inventory.ExportTask{c.task}
		if f := one(t, check(t, inv), ruleAMIExport); f.Severity != c.sev || !strings.Contains(f.Description, "s3://bkt/ami-1.bin") {
			t.Errorf("%+v: %v %s", c.task, f.Severity, f.Description)
		}
	}
	inv := testInventory()
	inv.SharePolicies = []inventory.SharePolicy{{Provider: inventory.AWS, Account: acct, Region: region, ID: "policy-1", Kind: "dlm-policy",
		Enabled: false, Targets: []inventory.Grant{outside, inside}, Rule: "Schedules[0].ShareRules[0]"}}
	if f := one(t, check(t, inv), ruleDLMShare); f.Severity != finding.Low || f.Evidence["target"] != outsider {
		t.Errorf("%+v", f)
	}
}

// With no org and no trust configured, only audited accounts are internal, and findings say so.
func TestUnknownBoundary(t *testing.T) {
	inv := &inventory.Inventory{Accounts: []string{acct}}
	inv.Snapshots = []inventory.Snapshot{snapWith("snap-1", grants(inside))}
	f := one(t, Check(inv, Config{Now: now}), "aws-ebs-snapshot-shared-external")
	if f.Evidence["trust_boundary"] != "owner-only" || !strings.Contains(f.Description, "no trust boundary is configured") {
		t.Fatalf("%+v", f)
	}
	none(t, Check(inv, Config{Now: now, Trust: trust.Config{Accounts: []string{sibling}}}), "aws-ebs-snapshot-shared-external")
}

// The same problem keeps its id when facts that do not make it a different problem change.
func TestFingerprintsStable(t *testing.T) {
	inv := testInventory()
	inv.Snapshots = []inventory.Snapshot{snapWith("snap-1", grants(outside, everyone))}
	a := check(t, inv)
	inv.Snapshots[0].SizeGiB, inv.Snapshots[0].Name = 500, "renamed"
	b := check(t, inv, func(c *Config) { c.Now = now.Add(48 * time.Hour) })
	if len(a) != len(b) {
		t.Fatal(rules(a), rules(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Errorf("%s: id changed", a[i].Rule)
		}
	}
}

func TestChecksCatalogue(t *testing.T) {
	cs := Checks()
	seen := map[string]bool{}
	var controls []string
	for _, c := range cs {
		if seen[c.ID] || c.Title == "" || c.Provider == "" || c.Resource == "" || (c.Kind != finding.KindExposure && c.Kind != finding.KindGuard) {
			t.Errorf("bad entry %+v", c)
		}
		seen[c.ID] = true
		controls = append(controls, c.Compliance...)
	}
	for _, want := range []string{"AWS-FSBP-EC2.1", "AWS-FSBP-EC2.7", "AWS-FSBP-EC2.182", "AWS-FSBP-RDS.1", "AWS-FSBP-RDS.4",
		"AWS-FSBP-DocumentDB.3", "AWS-FSBP-Neptune.3", "CIS-AWS-7.0-6.1.1"} {
		if !slices.Contains(controls, want) {
			t.Errorf("no check maps to %s", want)
		}
	}
	if !slices.IsSortedFunc(cs, func(a, b CheckInfo) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("not sorted")
	}
	if _, err := json.Marshal(cs); err != nil {
		t.Error(err)
	}
}

func TestExpand(t *testing.T) {
	amiRec := inventory.Common{Provider: inventory.AWS, Account: acct, Region: region, Kind: inventory.KindAMI, ID: "ami-1"}
	gal := inventory.Common{Provider: inventory.Azure, Account: "s", Kind: inventory.KindAzureGalleryImageVersion,
		ID: "/subscriptions/s/resourceGroups/RG-1/providers/Microsoft.Compute/galleries/gal_1/images/img/versions/1.0.0"}
	for _, c := range []struct {
		tmpl string
		rec  inventory.Common
		g    inventory.Grant
		want string
	}{
		{subjectOf(&amiRec, "").remove, amiRec, inventory.Grant{Kind: inventory.GrantOU, Value: "arn:ou"},
			`aws ec2 modify-image-attribute --region us-east-1 --image-id ami-1 --launch-permission "Remove=[{OrganizationalUnitArn=arn:ou}]"`},
		{subjectOf(&amiRec, "").private, amiRec, inventory.Grant{},
			`aws ec2 modify-image-attribute --region us-east-1 --image-id ami-1 --launch-permission "Remove=[{Group=all}]"`},
		{subjectOf(&gal, "").remove, gal, inventory.Grant{Kind: inventory.GrantTenant, Value: "t1"},
			"az sig share remove --resource-group RG-1 --gallery-name gal_1 --tenant-ids t1"},
		{"{name} {unknown} {", gal, inventory.Grant{}, "1.0.0 {unknown} {"},
	} {
		if got := expand(c.tmpl, &c.rec, c.g); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
	if got := describe(&amiRec, subjectOf(&amiRec, "")); got != "AMI ami-1 in 111111111111/us-east-1" {
		t.Error(got)
	}
}
