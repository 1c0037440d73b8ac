package inventory

import "testing"

func TestClassify(t *testing.T) {
	b := NewBoundary(Trust{
		TrustedAccounts: []string{"333333333333"},
		TrustedOUs:      []string{"arn:aws:organizations::999999999999:ou/o-partner/ou-ab12-dr"},
		Domains:         []string{"example.com"},
		TrustedMembers:  []string{"serviceAccount:scanner@vendor-prj.iam.gserviceaccount.com"},
		Tenants:         []string{"72f988bf-86f1-41af-91ab-2d7cd011db47"},
	}, []Org{{
		Provider: AWS, ID: "o-abc123", ARN: "arn:aws:organizations::111111111111:organization/o-abc123",
		Accounts: []string{"111111111111", "222222222222"},
	}}, []string{"my-project"})
	const owner = "111111111111"
	cases := []struct {
		g    Grant
		want Class
	}{
		{Grant{Kind: GrantPublic, Value: "all"}, Public},
		{Grant{Kind: GrantAuthUsers, Value: "allAuthenticatedUsers"}, Public},
		{Grant{Kind: GrantSASLink, Value: "ActiveSAS"}, Public},
		{Grant{Kind: GrantNetworkPublic, Value: "AllowAll"}, Public},
		// RDS restore values mix "all" with account ids; a naive collector may write it as an account.
		{Grant{Kind: GrantAccount, Value: "all"}, Public},
		{Grant{Kind: GrantAccount, Value: "*"}, Public},
		{Grant{Kind: GrantAccount, Value: "222222222222"}, Internal},                   // org member
		{Grant{Kind: GrantAccount, Value: "arn:aws:iam::222222222222:root"}, Internal}, // ARN form
		{Grant{Kind: GrantAccount, Value: "333333333333"}, Internal},                   // trusted
		{Grant{Kind: GrantAccount, Value: "444444444444"}, External},
		{Grant{Kind: GrantAccount, Value: "amazon-redshift-support"}, Internal},
		{Grant{Kind: GrantAccount, Value: "ec2.us-east-1.amazonaws.com"}, Internal},
		// An org ARN equal to our org is internal; another org is not.
		{Grant{Kind: GrantOrg, Value: "arn:aws:organizations::111111111111:organization/o-abc123"}, Internal},
		{Grant{Kind: GrantOrg, Value: "arn:aws:organizations::555555555555:organization/o-zzz999"}, External},
		{Grant{Kind: GrantOU, Value: "arn:aws:organizations::111111111111:ou/o-abc123/ou-ab12-xxxx"}, Internal},
		{Grant{Kind: GrantOU, Value: "arn:aws:organizations::999999999999:ou/o-partner/ou-ab12-dr"}, Internal},
		{Grant{Kind: GrantOU, Value: "arn:aws:organizations::999999999999:ou/o-partner/ou-ab12-other"}, External},
		{Grant{Kind: GrantMember, Value: "allUsers"}, Public},
		{Grant{Kind: GrantMember, Value: "user:alice@example.com"}, Internal},
		{Grant{Kind: GrantMember, Value: "group:ops@eu.example.com"}, Internal}, // subdomain
		{Grant{Kind: GrantMember, Value: "user:mallory@example.org"}, External},
		{Grant{Kind: GrantMember, Value: "domain:example.com"}, Internal},
		{Grant{Kind: GrantMember, Value: "serviceAccount:ci@my-project.iam.gserviceaccount.com"}, Internal},
		{Grant{Kind: GrantMember, Value: "serviceAccount:x@other-prj.iam.gserviceaccount.com"}, External},
		{Grant{Kind: GrantMember, Value: "serviceAccount:scanner@vendor-prj.iam.gserviceaccount.com"}, Internal},
		{Grant{Kind: GrantMember, Value: "deleted:user:bob@example.com?uid=123"}, Internal},
		{Grant{Kind: GrantMember, Value: "projectViewer:my-project"}, Internal},
		{Grant{Kind: GrantTenant, Value: "72F988BF-86F1-41AF-91AB-2D7CD011DB47"}, Internal},
		{Grant{Kind: GrantTenant, Value: "00000000-0000-0000-0000-000000000001"}, External},
	}
	for _, c := range cases {
		if got := b.Classify(c.g, owner); got != c.want {
			t.Errorf("%s %q: got %v, want %v", c.g.Kind, c.g.Value, got, c.want)
		}
	}
	if !b.Known() {
		t.Error("boundary with an org is not known")
	}
}

func TestUnknownBoundaryTrustsOnlyOwnerAndAudited(t *testing.T) {
	for _, b := range []*Boundary{nil, NewBoundary(Trust{}, nil, []string{"222222222222"})} {
		if b.Known() {
			t.Error("audited accounts alone made the boundary known")
		}
		if b.Classify(Grant{Kind: GrantAccount, Value: "111111111111"}, "111111111111") != Internal {
			t.Error("owner not internal")
		}
		if b.Classify(Grant{Kind: GrantOrg, Value: "o-abc123"}, "111111111111") != External {
			t.Error("unknown org internal")
		}
		if b.Classify(Grant{Kind: GrantPublic, Value: "all"}, "1") != Public {
			t.Error("public not public")
		}
	}
	b := NewBoundary(Trust{}, nil, []string{"222222222222"})
	if b.Classify(Grant{Kind: GrantAccount, Value: "222222222222"}, "111111111111") != Internal {
		t.Error("audited account not internal")
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
