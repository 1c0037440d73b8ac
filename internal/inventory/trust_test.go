package inventory

import (
	"testing"

	"github.com/snapwatch/snapwatch/internal/trust"
)

// TestClassify runs the boundary over records' grants, with the organisation discovered by the
// collector rather than configured (the rules themselves are tested in internal/trust).
func TestClassify(t *testing.T) {
	inv := &Inventory{Orgs: []Org{{
		Provider: AWS, ID: "o-abc123", ARN: "arn:aws:organizations::111111111111:organization/o-abc123",
		Accounts: []string{"111111111111", "222222222222"},
	}}, Accounts: []string{"my-project"}}
	b := inv.Boundary(trust.Config{
		TrustedAccounts: []string{"333333333333"},
		TrustedOUs:      []string{"arn:aws:organizations::999999999999:ou/o-partner/ou-ab12-dr"},
		Domains:         []string{"example.com"},
		TrustedMembers:  []string{"serviceAccount:scanner@vendor-prj.iam.gserviceaccount.com"},
		Tenants:         []string{"72f988bf-86f1-41af-91ab-2d7cd011db47"},
	})
	const owner = "111111111111"
	cases := []struct {
		g    Grant
		want trust.Class
	}{
		{Grant{Kind: GrantPublic, Value: "all"}, trust.Public},
		{Grant{Kind: GrantAuthUsers, Value: "allAuthenticatedUsers"}, trust.Authenticated},
		{Grant{Kind: GrantSASLink, Value: "ActiveSAS"}, trust.Public},
		{Grant{Kind: GrantNetworkPublic, Value: "AllowAll"}, trust.Public},
		// RDS restore values mix "all" with account ids; a naive collector may write it as an account.
		{Grant{Kind: GrantAccount, Value: "all"}, trust.Public},
		{Grant{Kind: GrantAccount, Value: "*"}, trust.Public},
		{Grant{Kind: GrantAccount, Value: "222222222222"}, trust.Internal},                   // org member
		{Grant{Kind: GrantAccount, Value: "arn:aws:iam::222222222222:root"}, trust.Internal}, // ARN form
		{Grant{Kind: GrantAccount, Value: "333333333333"}, trust.Internal},                   // trusted
		{Grant{Kind: GrantAccount, Value: "444444444444"}, trust.External},
		{Grant{Kind: GrantAccount, Value: "amazon-redshift-support"}, trust.Internal},
		{Grant{Kind: GrantAccount, Value: "ec2.us-east-1.amazonaws.com"}, trust.Internal},
		// An org ARN equal to our org is internal; another org is not.
		{Grant{Kind: GrantOrg, Value: "arn:aws:organizations::111111111111:organization/o-abc123"}, trust.Internal},
		{Grant{Kind: GrantOrg, Value: "arn:aws:organizations::555555555555:organization/o-zzz999"}, trust.External},
		{Grant{Kind: GrantOU, Value: "arn:aws:organizations::111111111111:ou/o-abc123/ou-ab12-xxxx"}, trust.Internal},
		{Grant{Kind: GrantOU, Value: "arn:aws:organizations::999999999999:ou/o-partner/ou-ab12-dr"}, trust.Internal},
		{Grant{Kind: GrantOU, Value: "arn:aws:organizations::999999999999:ou/o-partner/ou-ab12-other"}, trust.External},
		{Grant{Kind: GrantMember, Value: "allUsers"}, trust.Public},
		{Grant{Kind: GrantMember, Value: "user:alice@example.com"}, trust.Internal},
		{Grant{Kind: GrantMember, Value: "group:ops@eu.example.com"}, trust.Internal}, // subdomain
		{Grant{Kind: GrantMember, Value: "user:mallory@example.org"}, trust.External},
		{Grant{Kind: GrantMember, Value: "domain:example.com"}, trust.Internal},
		{Grant{Kind: GrantMember, Value: "serviceAccount:ci@my-project.iam.gserviceaccount.com"}, trust.Internal},
		{Grant{Kind: GrantMember, Value: "serviceAccount:x@other-prj.iam.gserviceaccount.com"}, trust.External},
		{Grant{Kind: GrantMember, Value: "serviceAccount:scanner@vendor-prj.iam.gserviceaccount.com"}, trust.Internal},
		{Grant{Kind: GrantMember, Value: "deleted:user:bob@example.com?uid=123"}, trust.Internal},
		{Grant{Kind: GrantMember, Value: "projectViewer:my-project"}, trust.Internal},
		{Grant{Kind: GrantTenant, Value: "72F988BF-86F1-41AF-91AB-2D7CD011DB47"}, trust.Internal},
		{Grant{Kind: GrantTenant, Value: "00000000-0000-0000-0000-000000000001"}, trust.External},
	}
	for _, c := range cases {
		if got := c.g.Classify(b, owner); got != c.want {
			t.Errorf("%s %q: got %v, want %v", c.g.Kind, c.g.Value, got, c.want)
		}
	}
	if !b.Known() {
		t.Error("boundary with an org is not known")
	}
}

func TestUnknownBoundaryTrustsOnlyOwnerAndAudited(t *testing.T) {
	for _, b := range []*trust.Boundary{nil, (&Inventory{Accounts: []string{"222222222222"}}).Boundary(trust.Config{})} {
		if b.Known() {
			t.Error("audited accounts alone made the boundary known")
		}
		if (Grant{Kind: GrantAccount, Value: "111111111111"}).Classify(b, "111111111111") != trust.Internal {
			t.Error("owner not internal")
		}
		if (Grant{Kind: GrantOrg, Value: "o-abc123"}).Classify(b, "111111111111") != trust.External {
			t.Error("unknown org internal")
		}
		if (Grant{Kind: GrantPublic, Value: "all"}).Classify(b, "1") != trust.Public {
			t.Error("public not public")
		}
	}
	b := (&Inventory{Accounts: []string{"222222222222"}}).Boundary(trust.Config{})
	if (Grant{Kind: GrantAccount, Value: "222222222222"}).Classify(b, "111111111111") != trust.Internal {
		t.Error("audited account not internal")
	}
}

// Folding discovered organisations into the config must not write into the caller's lists: the
// CLI builds one Config and an audit may compile several boundaries from it.
func TestBoundaryDoesNotAliasConfig(t *testing.T) {
	accounts := make([]string, 1, 8)
	accounts[0] = "333333333333"
	c := trust.Config{Accounts: accounts}
	inv := &Inventory{Orgs: []Org{{ID: "o-abc", Accounts: []string{"444444444444"}}}}
	_ = inv.Boundary(c)
	if len(c.Accounts) != 1 || accounts[:2][1] != "" {
		t.Fatalf("config changed: %v / %v", c.Accounts, accounts[:2])
	}
	if (&Inventory{}).Boundary(c).ClassifyAccount("444444444444") != trust.External {
		t.Fatal("an earlier inventory's org leaked into a later boundary")
	}
}

func TestCovers(t *testing.T) {
	acct := Grant{Kind: GrantAccount, Value: "444444444444"}
	org := Grant{Kind: GrantOrg, Value: "arn:aws:organizations::4:organization/o-zzz"}
	ou := Grant{Kind: GrantOU, Value: "arn:aws:organizations::4:ou/o-zzz/ou-1"}
	pub := Grant{Kind: GrantPublic, Value: "all"}
	cases := []struct {
		key, recipient Grant
		want           bool
	}{
		{Grant{Kind: GrantAccount, Value: "arn:aws:iam::444444444444:root"}, acct, true},
		{Grant{Kind: GrantAccount, Value: "444444444444"}, acct, true},
		{Grant{Kind: GrantAccount, Value: "*"}, acct, true},
		{Grant{Kind: GrantAccount, Value: "555555555555"}, acct, false},
		{Grant{Kind: GrantAccount, Value: "444444444444"}, pub, false},
		{Grant{Kind: GrantAccount, Value: "*"}, pub, true},
		{Grant{Kind: GrantOrg, Value: "o-zzz"}, org, true},
		{Grant{Kind: GrantOrg, Value: "o-zzz"}, ou, true},
		{Grant{Kind: GrantOrg, Value: "o-zzz"}, acct, false}, // cannot tell the account is in that org
		{Grant{Kind: GrantMember, Value: "user:a@x.org"}, Grant{Kind: GrantMember, Value: "user:A@x.org"}, true},
	}
	for _, c := range cases {
		if got := c.key.Covers(c.recipient); got != c.want {
			t.Errorf("%+v covers %+v: got %v", c.key, c.recipient, got)
		}
	}
}
