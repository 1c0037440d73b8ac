package trust

import "testing"

// ours is a boundary with something in every list, as a real [trust] section might be.
func ours() *Boundary {
	return New(Config{
		Orgs:            []string{"arn:aws:organizations::111111111111:organization/o-ours", "organizations/4242"},
		Accounts:        []string{"111111111111", "arn:aws:iam::222222222222:root", "proj-ours", "123456789", "/subscriptions/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590"},
		OUs:             []string{"ou-lone-1"},
		Tenants:         []string{"72F988BF-86F1-41AF-91AB-2D7CD011DB47"},
		Domains:         []string{"example.com"},
		TrustedAccounts: []string{"333333333333"},
		TrustedOrgs:     []string{"o-partner"},
		TrustedOUs:      []string{"arn:aws:organizations::999999999999:ou/o-other/ou-ab12-dr"},
		TrustedTenants:  []string{"tenant-partner"},
		TrustedProjects: []string{"vendor-prj"},
		TrustedDomains:  []string{"partner.org"},
		TrustedMembers:  []string{"user:auditor@elsewhere.io", "arn:aws:iam::777777777777:role/Scanner"},
	})
}

type classCase struct {
	kind, value string
	want        Class
}

// TestClassify is the union of the cases the two former implementations (detect.Boundary and
// inventory.Boundary) tested, in both packages' spellings of the kinds.
func TestClassify(t *testing.T) {
	b := ours()
	cases := []classCase{
		{KindAccount, "111111111111", Internal},
		{KindAccount, "333333333333", Internal}, // trusted
		{KindAccount, "999999999999", External},
		{KindAccount, "all", Public},
		{KindAccount, "ALL", Public},
		{KindAccount, "arn:aws:iam::111111111111:role/x", Internal},
		{KindAccount, "arn:aws:iam::999999999999:root", External},
		{KindAccount, "arn:aws:iam::777777777777:role/Scanner", Internal}, // exact trusted principal
		{KindAccount, "arn:aws:iam::777777777777:role/Other", External},
		{KindPublic, "all", Public},
		{KindPublic, "sas", Public},
		{KindPublic, "community", Public},
		{KindAuthenticated, "allAuthenticatedUsers", Authenticated},
		{KindAuthUsers, "allAuthenticatedUsers", Authenticated},
		{KindOrg, "o-ours", Internal},
		{KindOrg, "O-OURS", Internal},
		{KindOrg, "arn:aws:organizations::111111111111:organization/o-ours", Internal},
		{KindOrg, "arn:aws:organizations::999999999999:organization/o-theirs", External},
		{KindOrg, "arn:aws:organizations::888888888888:organization/o-partner", Internal}, // trusted org
		{KindOrg, "organizations/4242", Internal},
		{KindOrg, "4242", Internal},
		{KindOrg, "organizations/5353", External},
		{KindOU, "arn:aws:organizations::111111111111:ou/o-ours/ou-ab-12", Internal},   // OU of our org
		{KindOU, "arn:aws:organizations::999999999999:ou/o-other/ou-lone-1", Internal}, // listed OU
		{KindOU, "arn:aws:organizations::999999999999:ou/o-other/ou-ab12-dr", Internal},
		{KindOU, "arn:aws:organizations::999999999999:ou/o-other/ou-x", External},
		{KindOU, "ou-x", External},
		{KindTenant, "72f988bf-86f1-41af-91ab-2d7cd011db47", Internal},
		{KindTenant, "tenant-partner", Internal},
		{KindTenant, "00000000-0000-0000-0000-000000000001", External},
		{KindSubscription, "sub-x", External},
		{KindMember, "user:a@example.com", Internal},
		{KindMember, "group:ops@eu.example.com", Internal}, // subdomain
		{KindMember, "user:a@example.com.evil.io", External},
		{KindMember, "user:a@notexample.com", External},
		{KindMember, "domain:example.com", Internal},
		{KindMember, "domain:partner.org", Internal},
		{KindMember, "domain:gmail.com", External},
		{KindMember, "user:stratusredteam@gmail.com", External},
		{KindMember, "user:auditor@elsewhere.io", Internal},
		{KindMember, "serviceAccount:ci@proj-ours.iam.gserviceaccount.com", Internal},
		{KindMember, "serviceAccount:scanner@vendor-prj.iam.gserviceaccount.com", Internal},
		{KindMember, "serviceAccount:ci@proj-x.iam.gserviceaccount.com", External},
		{KindMember, "serviceAccount:service-123456789@compute-system.iam.gserviceaccount.com", Internal},
		{KindMember, "serviceAccount:service-123456789@gcp-sa-artifactregistry.iam.gserviceaccount.com", Internal},
		{KindMember, "serviceAccount:service-555@gcp-sa-artifactregistry.iam.gserviceaccount.com", External},
		{KindMember, "serviceAccount:123456789-compute@developer.gserviceaccount.com", Internal},
		{KindMember, "serviceAccount:123456789@cloudservices.gserviceaccount.com", Internal},
		{KindMember, "serviceAccount:proj-ours@appspot.gserviceaccount.com", Internal},
		{KindMember, "serviceAccount:proj-x@appspot.gserviceaccount.com", External},
		{KindMember, "deleted:user:a@example.com?uid=123", Internal},
		{KindMember, "deleted:serviceAccount:x@proj-x.iam.gserviceaccount.com?uid=1", External},
		{KindMember, "projectViewer:proj-ours", Internal},
		{KindMember, "projectOwner:proj-x", External},
		{KindMember, "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/subject/s", External},
		{KindMember, "allUsers", Public},
		{KindMember, "allAuthenticatedUsers", Authenticated},
		{KindPrincipal, "ec2.amazonaws.com", Internal},
		{KindPrincipal, "arn:aws:iam::999999999999:role/x", External},
		{KindAccount, "ec2.us-east-1.amazonaws.com", Internal},
		{KindAccount, "amazon-redshift-support", Internal},
	}
	run(t, b, cases, "111111111111")
	if !b.Known() {
		t.Fatal("configured boundary reported unknown")
	}
}

// TestDisagreements holds one case for each point on which detect.Boundary and
// inventory.Boundary used to disagree (or were both wrong), with the semantics kept. The
// comment says which one failed it.
func TestDisagreements(t *testing.T) {
	b := ours()
	cases := []classCase{
		// A config account written as an ARN is the account (detect kept the ARN and so missed
		// the bare id; inventory reduced it).
		{KindAccount, "222222222222", Internal},
		// "*" in an account list (a key policy principal) is everyone (detect: external).
		{KindAccount, "*", Public},
		// Redshift's support access is AWS, not a customer (detect: external).
		{KindAccount, "amazon-redshift-support", Internal},
		// A role may be named "x.amazonaws.com"; in another account it is that account's role,
		// not a service principal (inventory: internal).
		{KindAccount, "arn:aws:iam::999999999999:role/evil.amazonaws.com", External},
		{KindPrincipal, "arn:aws:iam::999999999999:role/ec2.amazonaws.com", External},
		// Inventory's kinds for a live SAS link and a public network export (detect: external).
		{KindSASLink, "ActiveSAS", Public},
		{KindNetworkPublic, "AllowAll", Public},
		// Anyone with a Google account stays distinguishable (inventory folded it into public;
		// posture grades Everyone() alike, detection rules tell them apart).
		{KindAuthUsers, "allAuthenticatedUsers", Authenticated},
		// Domains of service accounts compare without case (detect: external).
		{KindMember, "serviceAccount:CI@PROJ-OURS.IAM.GSERVICEACCOUNT.COM", Internal},
		// Trusted orgs, OUs, tenants, projects and domains (detect had no such lists).
		{KindOrg, "o-partner", Internal},
		{KindTenant, "TENANT-PARTNER", Internal},
		{KindMember, "group:x@partner.org", Internal},
		// A subscription configured by its resource id ("/subscriptions/GUID", as the portal
		// copies it) is the GUID events and records carry (both: external).
		{KindSubscription, "0b1f6471-1bf0-4dda-aec3-cb9272f09590", Internal},
		{KindSubscription, "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590", Internal},
		// An account in another project named like our project, or like our service agent, is
		// that project's (both: internal). Project ids and numbers are not secrets.
		{KindMember, "serviceAccount:proj-ours@evil-prj.iam.gserviceaccount.com", External},
		{KindMember, "serviceAccount:service-123456789@evil-prj.iam.gserviceaccount.com", External},
		{KindMember, "serviceAccount:proj-ours-compute@developer.gserviceaccount.com", External},
		// An Azure AD object id given a role cannot be placed without a directory lookup: it
		// counts as internal, as the detect note always said (detect's code: external).
		{KindPrincipal, "6f1c1c4e-2a7b-4c55-9d1e-0b4f7c8f2a11", Internal},
	}
	run(t, b, cases, "111111111111")
	// The owner written as an ARN is still the owner (both compared it verbatim).
	if got := New(Config{}).ClassifyAccount("444444444444", "arn:aws:iam::444444444444:root"); got != Internal {
		t.Errorf("owner as ARN: %s", got)
	}
}

func TestUnknownBoundary(t *testing.T) {
	for _, b := range []*Boundary{nil, New(Config{}), New(Config{Accounts: []string{" "}})} {
		if b.Known() {
			t.Fatal("empty config is a known boundary")
		}
		if b.ClassifyAccount("111111111111", "111111111111") != Internal || b.ClassifyAccount("222222222222", "111111111111") != External {
			t.Fatal("only the record's own account is internal")
		}
		if b.Classify(KindOrg, "o-any", "111111111111") != External {
			t.Fatal("an org grant is external when we do not know our org")
		}
		if b.Classify(KindMember, "user:a@example.com", "proj") != External {
			t.Fatal("a member is external when we know no domain")
		}
		if b.Classify(KindPublic, "all") != Public {
			t.Fatal("public not public")
		}
	}
	// Audited accounts are ours but say nothing about the rest.
	b := New(Config{}, "222222222222")
	if b.Known() || b.ClassifyAccount("222222222222", "111111111111") != Internal {
		t.Fatal("audited account")
	}
}

func TestParseClass(t *testing.T) {
	for c := Internal; c <= Authenticated; c++ {
		if got, ok := ParseClass(c.String()); !ok || got != c {
			t.Errorf("%s round trip: %v %v", c, got, ok)
		}
	}
	if _, ok := ParseClass("everyone"); ok {
		t.Error("unknown name parsed")
	}
	if Class(9).String() != "unknown" || !Authenticated.Everyone() || External.Everyone() {
		t.Error("names")
	}
}

func TestNormalizers(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:iam::123456789012:root":       "123456789012",
		"123456789012":                         "123456789012",
		"/subscriptions/ABC/resourceGroups/rg": "abc",
		"projects/My-Proj":                     "my-proj",
		"/tenants/T1":                          "t1",
		"arn:aws:s3:::bucket":                  "arn:aws:s3:::bucket",
		" Proj-X ":                             "proj-x",
		"ARN:aws:iam::123456789012:role/x":     "123456789012",
	} {
		if got := AccountID(in); got != want {
			t.Errorf("AccountID(%q) = %q, want %q", in, got, want)
		}
	}
	if OrgOfOU("arn:aws:organizations::1:ou/O-ABC/ou-x") != "o-abc" || OrgOfOU("ou-x") != "" {
		t.Error("OrgOfOU")
	}
	if OrgID("organizations/123") != "123" || OUID("arn:aws:organizations::1:ou/o-a/OU-X") != "ou-x" {
		t.Error("OrgID / OUID")
	}
}

func run(t *testing.T, b *Boundary, cases []classCase, own string) {
	t.Helper()
	for _, c := range cases {
		if got := b.Classify(c.kind, c.value, own); got != c.want {
			t.Errorf("%s %q: %s, want %s", c.kind, c.value, got, c.want)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	bd := ours()
	b.ReportAllocs()
	for b.Loop() {
		bd.Classify(KindAccount, "999999999999", "111111111111")
		bd.Classify(KindOU, "arn:aws:organizations::111111111111:ou/o-ours/ou-ab-12")
		bd.Classify(KindMember, "serviceAccount:ci@proj-ours.iam.gserviceaccount.com", "proj-ours")
	}
}
