package posture

import (
	"slices"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
)

// Each test here is a bug or gap of a peer tool named in ../shared/research/posture-checks.md.

// Prowler checks only createVolumePermission group=all: a snapshot shared with one outside
// account passes. We report it, and keep our own org's accounts and org ARN internal.
func TestPeerProwlerGroupAllOnly(t *testing.T) {
	inv := testInventory()
	inv.Snapshots = []inventory.Snapshot{
		snapWith("snap-out", grants(outside)),
		snapWith("snap-in", grants(inside)),
	}
	inv.Images = []inventory.Image{
		ami("ami-their-org", nil, func(i *inventory.Image) {
			i.Grants = []inventory.Grant{{Kind: inventory.GrantOrg, Value: theirOrg, Via: inventory.ViaAttribute}}
		}),
		ami("ami-our-org", nil, func(i *inventory.Image) {
			i.Grants = []inventory.Grant{{Kind: inventory.GrantOrg, Value: ourOrg, Via: inventory.ViaAttribute},
				{Kind: inventory.GrantOU, Value: "arn:aws:organizations::111111111111:ou/o-ours/ou-aaaa-bbbbbbbb"}}
		}),
	}
	fs := check(t, inv)
	ext := byRule(fs, "aws-ebs-snapshot-shared-external")
	if len(ext) != 1 || ext[0].Resource.ID != "snap-out" || ext[0].Evidence["grantee"] != outsider {
		t.Fatalf("EBS shares: %s", rules(ext))
	}
	amis := byRule(fs, "aws-ami-shared-external")
	if len(amis) != 1 || amis[0].Resource.ID != "ami-their-org" || !strings.Contains(amis[0].Remediation, "OrganizationArn="+theirOrg) {
		t.Fatalf("AMI shares: %+v", amis)
	}
	none(t, fs, "aws-ebs-snapshot-public")
}

// AWS Config, Prowler and Cloud Custodian read the attribute alone. Under block-all-sharing a
// snapshot with group=all is not reachable, but it is one setting away: we report it as latent
// (and still map it to EC2.1, which Config fails on the attribute), never as public.
func TestPeerConfigAttributeAlone(t *testing.T) {
	for _, c := range []struct {
		state, managedBy string
		rule             string
		sev              finding.Severity
	}{
		{inventory.BPABlockAllSharing, inventory.ManagedByAccount, "aws-ebs-snapshot-latent-public", finding.High},
		{inventory.BPABlockAllSharing, inventory.ManagedByDeclarativePolicy, "aws-ebs-snapshot-latent-public", finding.Medium},
		{inventory.BPABlockNewSharing, inventory.ManagedByAccount, "aws-ebs-snapshot-public", finding.Critical},
		{inventory.BPAUnblocked, inventory.ManagedByAccount, "aws-ebs-snapshot-public", finding.Critical},
		{"", "", "aws-ebs-snapshot-public", finding.Critical}, // BPA not read: assume the worst
	} {
		inv := testInventory()
		inv.Snapshots = []inventory.Snapshot{snapWith("snap-1", func(c *inventory.Common) { c.Grants = []inventory.Grant{everyone}; c.Encryption = plain })}
		if c.state != "" {
			inv.Guards = []inventory.Guard{guard(inventory.GuardSnapshotBPA, c.state, c.managedBy)}
		}
		fs := check(t, inv)
		f := one(t, fs, c.rule)
		if f.Severity != c.sev || !slices.Contains(f.Compliance, "AWS-FSBP-EC2.1") {
			t.Errorf("%s/%s: %s %v %v", c.state, c.managedBy, f.Rule, f.Severity, f.Compliance)
		}
		if got := len(byRule(fs, "aws-ebs-snapshot-public")) + len(byRule(fs, "aws-ebs-snapshot-latent-public")); got != 1 {
			t.Errorf("%s: %d exposure findings, want exactly one", c.state, got)
		}
	}
}

// Counting block-new-sharing as "on" (a boolean "BPA enabled" view) hides that existing public
// snapshots stay public. The guard is reported off (medium), and the snapshot public (critical).
func TestPeerBlockNewSharingIsNotOn(t *testing.T) {
	inv := testInventory()
	inv.Guards = []inventory.Guard{guard(inventory.GuardSnapshotBPA, inventory.BPABlockNewSharing, inventory.ManagedByAccount)}
	inv.Snapshots = []inventory.Snapshot{snapWith("snap-1", func(c *inventory.Common) { c.Grants = []inventory.Grant{everyone}; c.Encryption = plain })}
	fs := check(t, inv)
	g := one(t, fs, ruleSnapshotBPAOff)
	if g.Severity != finding.Medium || g.Kind != finding.KindGuard || g.Evidence["public_attribute_snapshots"] != 1 ||
		!slices.Contains(g.Compliance, "AWS-FSBP-EC2.182") || !strings.Contains(g.Description, "already public stay public") {
		t.Fatalf("guard: %+v", g)
	}
	if p := one(t, fs, "aws-ebs-snapshot-public"); p.Severity != finding.Critical || p.Evidence["snapshot_bpa"] != inventory.BPABlockNewSharing {
		t.Fatalf("public: %+v", p)
	}
	none(t, fs, "aws-ebs-snapshot-latent-public")

	// Managed by a declarative policy: the account cannot fix it, the remediation says where.
	inv.Guards[0].ManagedBy = inventory.ManagedByDeclarativePolicy
	g = one(t, check(t, inv), ruleSnapshotBPAOff)
	if g.Evidence["fix_action"] != fixDeclarativeSnapshot || !strings.Contains(g.Remediation, "Declarative policies") {
		t.Fatalf("declarative: %+v", g)
	}
}

// Steampipe compares RDS restore values for equality with ["all"], so ["all", id] is missed.
// A collector may also hand "all" over as an account. Either way: public, and the account too.
func TestPeerRDSAllMixedWithAccounts(t *testing.T) {
	for _, all := range []inventory.Grant{everyone, {Kind: inventory.GrantAccount, Value: "all", Via: inventory.ViaAttribute}} {
		inv := testInventory()
		inv.Snapshots = []inventory.Snapshot{{Common: common(inventory.AWS, inventory.KindRDSSnapshot, "db-snap-1"), Engine: "postgres"}}
		inv.Snapshots[0].Grants = []inventory.Grant{outside, all, inside}
		inv.Snapshots[0].Encryption = plain
		fs := check(t, inv)
		p := one(t, fs, "aws-rds-snapshot-public")
		if p.Severity != finding.Critical || !slices.Equal(p.Compliance, []string{"AWS-FSBP-RDS.1"}) ||
			!strings.Contains(p.Remediation, "--values-to-remove all") {
			t.Fatalf("public: %+v", p)
		}
		e := one(t, fs, "aws-rds-snapshot-shared-external")
		if e.Evidence["grantee"] != outsider || e.Severity != finding.High {
			t.Fatalf("external: %+v", e)
		}
	}
}

// Prowler evaluates Neptune cluster snapshots in its RDS check and its Neptune check. One
// record, one finding, Neptune's label and control; the same for DocumentDB; duplicates listed
// through several APIs fold into one.
func TestPeerNeptuneNotDoubled(t *testing.T) {
	for _, c := range []struct{ engine, rule, control, service string }{
		{"neptune", "aws-neptune-cluster-snapshot-public", "AWS-FSBP-Neptune.3", "neptune"},
		{"docdb", "aws-docdb-cluster-snapshot-public", "AWS-FSBP-DocumentDB.3", "documentdb"},
		{"aurora-mysql", "aws-rds-cluster-snapshot-public", "AWS-FSBP-RDS.1", "rds"},
	} {
		rec := inventory.Snapshot{Common: common(inventory.AWS, inventory.KindRDSClusterSnapshot, "cs-1"), Engine: c.engine}
		rec.Grants = []inventory.Grant{everyone}
		rec.Encryption = plain
		dup := rec
		dup.Engine = "" // listed again through another API without the engine
		for _, normalize := range []bool{true, false} {
			inv := testInventory()
			inv.Snapshots = []inventory.Snapshot{rec, dup}
			if normalize {
				inv.Normalize()
			} else {
				inv.Snapshots = inv.Snapshots[:1]
			}
			fs := check(t, inv)
			var public []finding.Finding
			for _, f := range fs {
				if strings.HasSuffix(f.Rule, "-public") {
					public = append(public, f)
				}
			}
			if len(public) != 1 || public[0].Rule != c.rule || !slices.Equal(public[0].Compliance, []string{c.control}) ||
				public[0].Evidence["service"] != c.service || public[0].Resource.Type != "rds-cluster-snapshot" {
				t.Fatalf("%s: %s %v", c.engine, rules(public), public)
			}
		}
	}
}

// Cartography had to filter AMIs on their owner: an AMI (or RDS snapshot) shared *to* us, or a
// public one of another owner, is never ours to report, and neither are its snapshots.
func TestPeerOtherOwnersIgnored(t *testing.T) {
	inv := testInventory()
	inv.Snapshots = []inventory.Snapshot{ebs("snap-theirs", func(s *inventory.Snapshot) { s.Owner = outsider; s.Encryption = plain })}
	inv.Images = []inventory.Image{ami("ami-theirs", []string{"snap-theirs"}, func(i *inventory.Image) {
		i.Owner = outsider
		i.Grants = []inventory.Grant{everyone}
		i.Encryption = plain
		i.Created = now.AddDate(-5, 0, 0)
	})}
	rds := inventory.Snapshot{Common: common(inventory.AWS, inventory.KindRDSSnapshot, "shared-to-us"), Engine: "mysql"}
	rds.Owner, rds.Grants, rds.Encryption = outsider, []inventory.Grant{everyone}, plain
	inv.Snapshots = append(inv.Snapshots, rds)
	if fs := check(t, inv); len(fs) != 0 {
		t.Fatalf("findings on other owners' records: %s", rules(fs))
	}
}

// Prowler's GCP image check ignores allUsers; CloudSploit's Azure checks read one network field.
// Both public spellings are public; Azure's network grant is the collector's join of both fields.
func TestPeerGCPBothPublicSpellings(t *testing.T) {
	for _, member := range []string{"allUsers", "allAuthenticatedUsers"} {
		inv := testInventory()
		img := inventory.Image{Common: common(inventory.GCP, inventory.KindGCPImage, "img-1")}
		img.Encryption = inventory.Encryption{Encrypted: true, KeyKind: inventory.KeyProviderManaged}
		img.Grants = []inventory.Grant{{Kind: inventory.GrantMember, Value: member, Via: inventory.ViaPolicy, Role: "roles/compute.imageUser"}}
		inv.Images = []inventory.Image{img}
		f := one(t, check(t, inv), "gcp-image-public")
		if f.Severity != finding.Critical || !strings.Contains(f.Remediation, "--member="+member) {
			t.Fatalf("%s: %+v", member, f)
		}
	}
}

// Nobody grades a share by the key: an external share the recipient can decrypt is high, one
// it cannot is low (inert), one whose key policy was not read is high and says so.
func TestShareGradedByKey(t *testing.T) {
	theirs := inventory.Grant{Kind: inventory.GrantAccount, Value: "arn:aws:iam::999999999999:root", Via: inventory.ViaKeyPolicy}
	for _, c := range []struct {
		name   string
		enc    inventory.Encryption
		sev    finding.Severity
		access string
	}{
		{"unencrypted", plain, finding.High, "usable"},
		{"key shared by policy", cmkEnc([]inventory.Grant{theirs}, true), finding.High, "usable"},
		{"key shared by grant", cmkEnc([]inventory.Grant{{Kind: inventory.GrantAccount, Value: outsider, Via: inventory.ViaKeyGrant}}, true), finding.High, "usable"},
		{"key open to everyone", cmkEnc([]inventory.Grant{{Kind: inventory.GrantAccount, Value: "*"}}, true), finding.High, "usable"},
		{"key not shared", cmkEnc([]inventory.Grant{{Kind: inventory.GrantAccount, Value: sibling}}, true), finding.Low, "inert"},
		{"key policy not read", cmkEnc(nil, false), finding.High, "unknown"},
		{"aws-managed key", providerKey(), finding.Low, "inert"},
	} {
		inv := testInventory()
		inv.Snapshots = []inventory.Snapshot{snapWith("snap-1", func(co *inventory.Common) { co.Grants = []inventory.Grant{outside}; co.Encryption = c.enc })}
		f := one(t, check(t, inv), "aws-ebs-snapshot-shared-external")
		if f.Severity != c.sev || f.Evidence["key_access"] != c.access {
			t.Errorf("%s: %v %v\n%s", c.name, f.Severity, f.Evidence["key_access"], f.Description)
		}
	}
}
