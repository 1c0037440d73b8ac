package detect

import (
	"testing"

	"github.com/snapwatch/snapwatch/internal/event"
)

func TestBoundaryClassify(t *testing.T) {
	b := NewBoundary(BoundaryConfig{
		AWSAccounts:      []string{"111111111111"},
		AWSOrganizations: []string{"arn:aws:organizations::111111111111:organization/o-ours"},
		AWSOUs:           []string{"ou-lone-1"},
		AzureTenants:     []string{"TENANT-OURS"},
		GCPProjects:      []string{"proj-ours", "123456789"},
		GCPDomains:       []string{"example.com"},
		TrustedAccounts:  []string{"333333333333"},
		TrustedMembers:   []string{"user:auditor@partner.org"},
	})
	g := func(kind, v string) event.Grant { return event.Grant{Op: "add", Kind: kind, Value: v} }
	cases := []struct {
		g    event.Grant
		want Class
	}{
		{g("account", "111111111111"), Internal},
		{g("account", "333333333333"), Internal},
		{g("account", "999999999999"), External},
		{g("account", "all"), Public},
		{g("account", "arn:aws:iam::111111111111:role/x"), Internal},
		{g("account", "arn:aws:iam::999999999999:root"), External},
		{g("public", "all"), Public},
		{g("authenticated", "allAuthenticatedUsers"), Authenticated},
		{g("org", "o-ours"), Internal},
		{g("org", "arn:aws:organizations::111111111111:organization/o-ours"), Internal},
		{g("org", "arn:aws:organizations::999999999999:organization/o-theirs"), External},
		{g("ou", "arn:aws:organizations::111111111111:ou/o-ours/ou-ab-12"), Internal},   // OU of our org
		{g("ou", "arn:aws:organizations::999999999999:ou/o-other/ou-lone-1"), Internal}, // listed OU
		{g("ou", "arn:aws:organizations::999999999999:ou/o-other/ou-x"), External},
		{g("tenant", "tenant-ours"), Internal},
		{g("tenant", "tenant-theirs"), External},
		{g("subscription", "sub-x"), External},
		{g("member", "user:a@example.com"), Internal},
		{g("member", "group:ops@eu.example.com"), Internal}, // subdomain
		{g("member", "user:a@example.com.evil.io"), External},
		{g("member", "domain:example.com"), Internal},
		{g("member", "user:stratusredteam@gmail.com"), External},
		{g("member", "user:auditor@partner.org"), Internal},
		{g("member", "serviceAccount:ci@proj-ours.iam.gserviceaccount.com"), Internal},
		{g("member", "serviceAccount:ci@proj-x.iam.gserviceaccount.com"), External},
		{g("member", "serviceAccount:service-123456789@compute-system.iam.gserviceaccount.com"), Internal},
		{g("member", "serviceAccount:123456789-compute@developer.gserviceaccount.com"), Internal},
		{g("member", "deleted:user:a@example.com?uid=123"), Internal},
		{g("member", "projectViewer:proj-ours"), Internal},
		{g("member", "allUsers"), Public},
		{g("member", "allAuthenticatedUsers"), Authenticated},
		{g("principal", "ec2.amazonaws.com"), Internal},
	}
	for _, c := range cases {
		if got := b.Classify(c.g, "111111111111"); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.g.Kind, c.g.Value, got, c.want)
		}
	}
	if !b.Known() {
		t.Fatal("configured boundary reported unknown")
	}
}

func TestUnknownBoundary(t *testing.T) {
	b := NewBoundary(BoundaryConfig{})
	if b.Known() {
		t.Fatal("empty config is a known boundary")
	}
	own := event.Grant{Kind: "account", Value: "111111111111"}
	if b.Classify(own, "111111111111") != Internal || b.Classify(own, "222222222222") != External {
		t.Fatal("only the record's own account is internal")
	}
	if b.Classify(event.Grant{Kind: "org", Value: "o-any"}, "111111111111") != External {
		t.Fatal("an org grant is external when we do not know our org")
	}
}
