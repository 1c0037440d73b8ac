package posture

import (
	"strings"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// The estate the tests build on: our org o-ours with two accounts; 999… is an outsider.
const (
	acct     = "111111111111"
	sibling  = "222222222222" // another account of our org
	outsider = "999999999999"
	region   = "us-east-1"
	ourOrg   = "arn:aws:organizations::111111111111:organization/o-ours"
	theirOrg = "arn:aws:organizations::999999999999:organization/o-theirs"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{Now: now, Trust: trust.Config{Domains: []string{"example.com"}, Tenants: []string{"our-tenant"}}}
}

func testInventory() *inventory.Inventory {
	return &inventory.Inventory{
		Orgs:     []inventory.Org{{Provider: inventory.AWS, ID: "o-ours", ARN: ourOrg, Accounts: []string{acct, sibling}}},
		Accounts: []string{acct, sibling, "our-sub", "our-project"},
	}
}

func check(t testing.TB, inv *inventory.Inventory, mods ...func(*Config)) []finding.Finding {
	t.Helper()
	cfg := testConfig()
	for _, m := range mods {
		m(&cfg)
	}
	return Check(inv, cfg)
}

func byRule(fs []finding.Finding, rule string) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func rules(fs []finding.Finding) string {
	var b []string
	for _, f := range fs {
		b = append(b, f.Rule+"("+f.Severity.String()+")")
	}
	return strings.Join(b, " ")
}

func one(t *testing.T, fs []finding.Finding, rule string) finding.Finding {
	t.Helper()
	got := byRule(fs, rule)
	if len(got) != 1 {
		t.Fatalf("%s: %d findings, want 1; all: %s", rule, len(got), rules(fs))
	}
	return got[0]
}

func none(t *testing.T, fs []finding.Finding, rule string) {
	t.Helper()
	if got := byRule(fs, rule); len(got) != 0 {
		t.Fatalf("%s: %d findings, want none: %s", rule, len(got), got[0].Description)
	}
}

// Records.

func common(provider string, kind inventory.Kind, id string) inventory.Common {
	c := inventory.Common{Provider: provider, Account: acct, Region: region, Kind: kind, ID: id,
		Created: now.AddDate(0, -1, 0), SizeGiB: 8, Encryption: cmkEnc(nil, true)}
	switch provider {
	case inventory.Azure:
		c.Account, c.Region = "our-sub", "westeurope"
		c.ID = "/subscriptions/our-sub/resourceGroups/rg1/providers/Microsoft.Compute/galleries/gal1/images/" + id
	case inventory.GCP:
		c.Account, c.Region = "our-project", "global"
	}
	return c
}

func cmkEnc(grantees []inventory.Grant, known bool) inventory.Encryption {
	return inventory.Encryption{Encrypted: true, KeyID: "arn:aws:kms:us-east-1:111111111111:key/k1",
		KeyKind: inventory.KeyCustomerManaged, KeyGrantees: grantees, GranteesKnown: known}
}

var plain = inventory.Encryption{Encrypted: false, KeyKind: inventory.KeyNone}

func providerKey() inventory.Encryption {
	return inventory.Encryption{Encrypted: true, KeyID: "alias/aws/ebs", KeyKind: inventory.KeyProviderManaged}
}

func ebs(id string, mods ...func(*inventory.Snapshot)) inventory.Snapshot {
	s := inventory.Snapshot{Common: common(inventory.AWS, inventory.KindEBSSnapshot, id)}
	s.Lineage.SourceVolume = "vol-" + id
	for _, m := range mods {
		m(&s)
	}
	return s
}

func ami(id string, backing []string, mods ...func(*inventory.Image)) inventory.Image {
	img := inventory.Image{Common: common(inventory.AWS, inventory.KindAMI, id)}
	for i, b := range backing {
		img.Backing = append(img.Backing, inventory.Backing{SnapshotID: b, Device: "/dev/xvd" + string(rune('a'+i)), Encrypted: true, Exists: inventory.Yes})
	}
	for _, m := range mods {
		m(&img)
	}
	return img
}

func grants(gs ...inventory.Grant) func(*inventory.Common) {
	return func(c *inventory.Common) { c.Grants = gs }
}

var (
	everyone = inventory.Grant{Kind: inventory.GrantPublic, Value: "all", Via: inventory.ViaAttribute}
	outside  = inventory.Grant{Kind: inventory.GrantAccount, Value: outsider, Via: inventory.ViaAttribute}
	inside   = inventory.Grant{Kind: inventory.GrantAccount, Value: sibling, Via: inventory.ViaAttribute}
)

func snapWith(id string, c func(*inventory.Common)) inventory.Snapshot {
	return ebs(id, func(s *inventory.Snapshot) { c(&s.Common) })
}

func guard(kind inventory.GuardKind, state, managedBy string) inventory.Guard {
	return inventory.Guard{Provider: inventory.AWS, Account: acct, Region: region, Kind: kind, State: state, ManagedBy: managedBy}
}
