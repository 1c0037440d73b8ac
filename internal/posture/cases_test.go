package posture

import (
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// A checkCase is one constructed inventory and whether check should fire on it.
type checkCase struct {
	check    string
	positive bool
	name     string
	inv      *inventory.Inventory
}

// subjectCases builds a positive and a negative case for every (family, subject) check in the
// catalogue, from one minimal record of the subject's kind.
func subjectCases(t *testing.T) []checkCase {
	var out []checkCase
	for _, f := range families {
		for _, s := range subjects {
			if !f.applies(s) {
				continue
			}
			id := s.label + "-" + f.suffix
			pos, neg := familyCase(t, f.suffix, s)
			out = append(out, checkCase{id, true, "generated", pos}, checkCase{id, false, "generated", neg})
		}
	}
	return out
}

// record adds one record of subject s, changed by mod, to a fresh inventory.
func record(s *subject, mod func(*inventory.Common)) *inventory.Inventory {
	inv := testInventory()
	c := common(s.provider, s.kind, "r-"+strings.ReplaceAll(s.label, "-", ""))
	if mod != nil {
		mod(&c)
	}
	switch s.kind {
	case inventory.KindAMI, inventory.KindAzureGalleryImage, inventory.KindAzureGalleryImageVersion,
		inventory.KindAzureManagedImage, inventory.KindGCPImage, inventory.KindGCPMachineImage:
		inv.Images = append(inv.Images, inventory.Image{Common: c})
	default:
		engine := map[string]string{"docdb": "docdb", "neptune": "neptune"}[s.engine]
		if s.kind == inventory.KindRDSClusterSnapshot && engine == "" {
			engine = "aurora-postgresql"
		}
		inv.Snapshots = append(inv.Snapshots, inventory.Snapshot{Common: c, Engine: engine})
	}
	return inv
}

func publicGrant(s *subject) []inventory.Grant {
	switch {
	case s.provider == inventory.AWS:
		return []inventory.Grant{everyone}
	case s.provider == inventory.GCP:
		return []inventory.Grant{{Kind: inventory.GrantMember, Value: "allUsers", Via: inventory.ViaPolicy, Role: "roles/compute.imageUser"}}
	case strings.Contains(s.label, "gallery"):
		return []inventory.Grant{{Kind: inventory.GrantPublic, Value: "Community", Via: inventory.ViaGallerySharing}}
	}
	return []inventory.Grant{{Kind: inventory.GrantSASLink, Value: "ActiveSAS", Via: inventory.ViaDiskState},
		{Kind: inventory.GrantNetworkPublic, Value: "AllowAll", Via: inventory.ViaNetworkPolicy}}
}

// shareGrant returns a grant to an outsider, or to an insider, of the kind s is shared with.
func shareGrant(s *subject, external bool) inventory.Grant {
	switch {
	case s.provider == inventory.AWS:
		return map[bool]inventory.Grant{true: outside, false: inside}[external]
	case s.provider == inventory.GCP:
		return inventory.Grant{Kind: inventory.GrantMember, Value: cond(external, "user:eve@evil.org", "user:bob@example.com"),
			Via: inventory.ViaPolicy, Role: "roles/compute.imageUser"}
	case strings.Contains(s.label, "gallery"):
		return inventory.Grant{Kind: inventory.GrantSubscription, Value: cond(external, "their-sub", "our-sub"), Via: inventory.ViaGallerySharing}
	}
	return inventory.Grant{Kind: inventory.GrantTenant, Value: cond(external, "their-tenant", "our-tenant")}
}

func familyCase(t *testing.T, suffix string, s *subject) (pos, neg *inventory.Inventory) {
	set := func(f func(*inventory.Common)) *inventory.Inventory { return record(s, f) }
	switch suffix {
	case famPublic:
		pos = set(func(c *inventory.Common) { c.Grants = publicGrant(s); c.Encryption = plain })
		neg = set(func(c *inventory.Common) { c.Grants = []inventory.Grant{shareGrant(s, false)}; c.Encryption = plain })
	case famExternal:
		pos = set(func(c *inventory.Common) { c.Grants = []inventory.Grant{shareGrant(s, true)} })
		neg = set(func(c *inventory.Common) { c.Grants = []inventory.Grant{shareGrant(s, false)} })
	case famLatent:
		pos = set(func(c *inventory.Common) { c.Grants = publicGrant(s); c.Encryption = plain })
		pos.Guards = []inventory.Guard{guard(inventory.GuardSnapshotBPA, inventory.BPABlockAllSharing, inventory.ManagedByAccount)}
		neg = set(func(c *inventory.Common) { c.Grants = publicGrant(s); c.Encryption = plain })
		neg.Guards = []inventory.Guard{guard(inventory.GuardSnapshotBPA, inventory.BPABlockNewSharing, inventory.ManagedByAccount)}
	case famNetwork:
		pos = set(func(c *inventory.Common) {
			c.Grants = []inventory.Grant{{Kind: inventory.GrantNetworkPublic, Value: "AllowAll", Via: inventory.ViaNetworkPolicy}}
		})
		neg = set(nil)
	case famViaImage:
		pos, neg = testInventory(), testInventory()
		pos.Snapshots = []inventory.Snapshot{ebs("snap-b")}
		pos.Images = []inventory.Image{ami("ami-1", []string{"snap-b"}, func(i *inventory.Image) { i.Grants = []inventory.Grant{everyone} })}
		neg.Snapshots = []inventory.Snapshot{ebs("snap-b")}
		neg.Images = []inventory.Image{ami("ami-1", []string{"snap-b"}, func(i *inventory.Image) { i.Grants = []inventory.Grant{inside} })}
	case famRecycleBin:
		pos = set(func(c *inventory.Common) {
			c.RecycleBin = true
			c.Grants = []inventory.Grant{everyone}
			c.Encryption = plain
		})
		neg = set(func(c *inventory.Common) { c.RecycleBin = true })
	case famUnenc:
		pos = set(func(c *inventory.Common) { c.Encryption = plain })
		neg = set(nil)
	case famProvKey:
		pos = set(func(c *inventory.Common) { c.Encryption = providerKey() })
		neg = set(nil)
	case famStale:
		pos = set(func(c *inventory.Common) { c.Created = now.AddDate(-2, 0, 0) })
		neg = set(func(c *inventory.Common) { c.Created = now.AddDate(0, 0, -10) })
	case famOrphan:
		pos = set(func(c *inventory.Common) { c.Lineage.SourceVolume = "vol-gone"; c.Lineage.SourceExists = inventory.No })
		neg = set(func(c *inventory.Common) { c.Lineage.SourceVolume = "vol-here"; c.Lineage.SourceExists = inventory.Yes })
	case famMissing:
		pos, neg = testInventory(), testInventory()
		pos.Images = []inventory.Image{ami("ami-1", []string{"snap-gone"}, func(i *inventory.Image) { i.Backing[0].Exists = inventory.No })}
		neg.Images = []inventory.Image{ami("ami-1", []string{"snap-here"})}
	default:
		t.Fatalf("no generated case for family %s", suffix)
	}
	return pos, neg
}

// standaloneCases covers the checks that are not per-subject.
func standaloneCases() []checkCase {
	withGuards := func(gs ...inventory.Guard) *inventory.Inventory {
		inv := testInventory()
		inv.Guards = gs
		return inv
	}
	ebd := func(state string, kk inventory.KeyKind) inventory.Guard {
		g := guard(inventory.GuardEncryptionByDefault, state, "")
		g.KeyKind = kk
		return g
	}
	gcpGuard := func(state string) inventory.Guard {
		return inventory.Guard{Provider: inventory.GCP, Account: "our-project", Kind: inventory.GuardDomainRestrictedSharing, State: state}
	}
	export := func(t inventory.ExportTask) *inventory.Inventory {
		inv := testInventory()
		t.Provider, t.Account, t.Region = inventory.AWS, acct, region
		inv.Exports = []inventory.ExportTask{t}
		return inv
	}
	policy := func(kind string, target inventory.Grant) *inventory.Inventory {
		inv := testInventory()
		inv.SharePolicies = []inventory.SharePolicy{{Provider: inventory.AWS, Account: acct, Region: region, ID: "policy-1",
			Kind: kind, Enabled: true, Targets: []inventory.Grant{target}}}
		return inv
	}
	sbpa := inventory.GuardSnapshotBPA
	ibpa := inventory.GuardImageBPA
	return []checkCase{
		{ruleSnapshotBPAOff, true, "unblocked", withGuards(guard(sbpa, inventory.BPAUnblocked, inventory.ManagedByAccount))},
		{ruleSnapshotBPAOff, true, "block-new-sharing", withGuards(guard(sbpa, inventory.BPABlockNewSharing, inventory.ManagedByAccount))},
		{ruleSnapshotBPAOff, false, "block-all-sharing", withGuards(guard(sbpa, inventory.BPABlockAllSharing, inventory.ManagedByAccount))},
		{ruleSnapshotBPAOff, false, "not read", withGuards()},
		{ruleSnapshotBPANotOrg, true, "account-managed", withGuards(guard(sbpa, inventory.BPABlockAllSharing, inventory.ManagedByAccount))},
		{ruleSnapshotBPANotOrg, false, "declarative", withGuards(guard(sbpa, inventory.BPABlockAllSharing, inventory.ManagedByDeclarativePolicy))},
		{ruleImageBPAOff, true, "unblocked", withGuards(guard(ibpa, inventory.BPAUnblocked, inventory.ManagedByAccount))},
		{ruleImageBPAOff, false, "on", withGuards(guard(ibpa, inventory.BPABlockNewSharing, inventory.ManagedByDeclarativePolicy))},
		{ruleImageBPANotOrg, true, "account-managed", withGuards(guard(ibpa, inventory.BPABlockNewSharing, inventory.ManagedByAccount))},
		{ruleImageBPANotOrg, false, "declarative", withGuards(guard(ibpa, inventory.BPABlockNewSharing, inventory.ManagedByDeclarativePolicy))},
		{ruleEBDOff, true, "disabled", withGuards(ebd(inventory.StateDisabled, ""))},
		{ruleEBDOff, false, "enabled", withGuards(ebd(inventory.StateEnabled, inventory.KeyCustomerManaged))},
		{ruleEBDProviderKey, true, "aws/ebs", withGuards(ebd(inventory.StateEnabled, inventory.KeyProviderManaged))},
		{ruleEBDProviderKey, false, "cmk", withGuards(ebd(inventory.StateEnabled, inventory.KeyCustomerManaged))},
		{ruleGCPDomainSharing, true, "not enforced", withGuards(gcpGuard(inventory.StateDisabled))},
		{ruleGCPDomainSharing, false, "enforced", withGuards(gcpGuard(inventory.StateEnabled))},
		{ruleAMIExport, true, "store task", export(inventory.ExportTask{ID: "st-1", Kind: inventory.ExportStoreImage, Source: "ami-1", Bucket: "b", State: "Completed"})},
		{ruleAMIExport, false, "failed task", export(inventory.ExportTask{ID: "st-1", Kind: inventory.ExportStoreImage, Source: "ami-1", Bucket: "b", State: "Failed"})},
		{ruleInstanceExport, true, "instance export", export(inventory.ExportTask{ID: "ex-1", Kind: inventory.ExportInstance, Source: "i-1", Bucket: "b", State: "active"})},
		{ruleInstanceExport, false, "cancelled", export(inventory.ExportTask{ID: "ex-1", Kind: inventory.ExportInstance, Source: "i-1", Bucket: "b", State: "cancelled"})},
		{ruleDLMShare, true, "outsider", policy("dlm-policy", outside)},
		{ruleDLMShare, false, "org account", policy("dlm-policy", inside)},
		{ruleBackupCopy, true, "outsider", policy("backup-plan", outside)},
		{ruleBackupCopy, false, "org account", policy("backup-plan", inside)},
	}
}

func allCases(t *testing.T) []checkCase { return append(subjectCases(t), standaloneCases()...) }

func TestChecksOnConstructedInventories(t *testing.T) {
	for _, c := range allCases(t) {
		name := c.check + "/" + map[bool]string{true: "positive", false: "negative"}[c.positive] + "/" + c.name
		t.Run(name, func(t *testing.T) {
			fs := check(t, c.inv)
			got := byRule(fs, c.check)
			if c.positive && len(got) == 0 {
				t.Fatalf("no finding; got %s", rules(fs))
			}
			if !c.positive && len(got) > 0 {
				t.Fatalf("unexpected finding: %s", got[0].Description)
			}
			for _, f := range fs {
				if _, ok := catalogue()[f.Rule]; !ok {
					t.Errorf("finding rule %s is not in Checks()", f.Rule)
				}
				if f.Description == "" || f.Remediation == "" || f.Title == "" || f.ID == "" || f.Resource.ID == "" {
					t.Errorf("%s: incomplete finding %+v", f.Rule, f)
				}
			}
		})
	}
}

func TestEveryCheckHasPositiveAndNegativeCase(t *testing.T) {
	pos, neg := map[string]bool{}, map[string]bool{}
	for _, c := range allCases(t) {
		if c.positive {
			pos[c.check] = true
		} else {
			neg[c.check] = true
		}
	}
	for _, info := range Checks() {
		if !pos[info.ID] || !neg[info.ID] {
			t.Errorf("%s: positive case %v, negative case %v", info.ID, pos[info.ID], neg[info.ID])
		}
	}
}
