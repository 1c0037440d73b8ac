package cli

import (
	"fmt"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/config"
	"github.com/snapwatch/snapwatch/internal/detect"
	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
	"github.com/snapwatch/snapwatch/internal/posture"
)

// crossConfigs are [trust] sections as users write them, from nothing to everything.
var crossConfigs = map[string]config.Trust{
	"none":     {},
	"accounts": {AWSAccounts: []string{"111111111111", "arn:aws:iam::222222222222:root"}},
	"org": {AWSAccounts: []string{"111111111111"},
		AWSOrganizations: []string{"arn:aws:organizations::111111111111:organization/o-ours"}},
	"full": {
		AWSAccounts:        []string{"111111111111", "222222222222"},
		AWSOrganizations:   []string{"o-ours"},
		AWSOUs:             []string{"arn:aws:organizations::999999999999:ou/o-other/ou-lone-1"},
		AzureTenants:       []string{"72F988BF-86F1-41AF-91AB-2D7CD011DB47"},
		AzureSubscriptions: []string{"/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590"},
		GCPOrganizations:   []string{"organizations/4242"},
		GCPProjects:        []string{"proj-ours", "123456789"},
		GCPDomains:         []string{"example.com"},
		TrustedAccounts:    []string{"333333333333"},
		TrustedMembers:     []string{"user:auditor@partner.org", "arn:aws:iam::777777777777:role/Scanner"},
	},
}

// crossGrantee is one grantee as each pipeline writes it: the event parser (detect) and the
// collector (audit) spell some kinds differently.
type crossGrantee struct {
	eventKind string
	invKind   inventory.GrantKind
	value     string
}

var crossGrantees = []crossGrantee{
	{event.GrantAccount, inventory.GrantAccount, "111111111111"},
	{event.GrantAccount, inventory.GrantAccount, "222222222222"},
	{event.GrantAccount, inventory.GrantAccount, "arn:aws:iam::222222222222:root"},
	{event.GrantAccount, inventory.GrantAccount, "333333333333"},
	{event.GrantAccount, inventory.GrantAccount, "999999999999"},
	{event.GrantAccount, inventory.GrantAccount, "arn:aws:iam::999999999999:role/evil.amazonaws.com"},
	{event.GrantAccount, inventory.GrantAccount, "arn:aws:iam::777777777777:role/Scanner"},
	{event.GrantAccount, inventory.GrantAccount, "all"},
	{event.GrantAccount, inventory.GrantAccount, "*"},
	{event.GrantAccount, inventory.GrantAccount, "amazon-redshift-support"},
	{event.GrantPrincipal, inventory.GrantAccount, "ec2.amazonaws.com"},
	{event.GrantPublic, inventory.GrantPublic, "all"},
	{event.GrantPublic, inventory.GrantSASLink, "sas"},
	{event.GrantAuthUsers, inventory.GrantAuthUsers, "allAuthenticatedUsers"},
	{event.GrantOrg, inventory.GrantOrg, "o-ours"},
	{event.GrantOrg, inventory.GrantOrg, "arn:aws:organizations::111111111111:organization/o-ours"},
	{event.GrantOrg, inventory.GrantOrg, "arn:aws:organizations::999999999999:organization/o-theirs"},
	{event.GrantOrg, inventory.GrantOrg, "organizations/4242"},
	{event.GrantOU, inventory.GrantOU, "arn:aws:organizations::111111111111:ou/o-ours/ou-ab-12"},
	{event.GrantOU, inventory.GrantOU, "arn:aws:organizations::999999999999:ou/o-other/ou-lone-1"},
	{event.GrantOU, inventory.GrantOU, "arn:aws:organizations::999999999999:ou/o-other/ou-x"},
	{event.GrantTenant, inventory.GrantTenant, "72f988bf-86f1-41af-91ab-2d7cd011db47"},
	{event.GrantTenant, inventory.GrantTenant, "00000000-0000-0000-0000-000000000001"},
	{event.GrantSubscription, inventory.GrantSubscription, "0b1f6471-1bf0-4dda-aec3-cb9272f09590"},
	{event.GrantSubscription, inventory.GrantSubscription, "11111111-2222-3333-4444-555555555555"},
	{event.GrantMember, inventory.GrantMember, "allUsers"},
	{event.GrantMember, inventory.GrantMember, "allAuthenticatedUsers"},
	{event.GrantMember, inventory.GrantMember, "user:alice@example.com"},
	{event.GrantMember, inventory.GrantMember, "group:ops@eu.example.com"},
	{event.GrantMember, inventory.GrantMember, "domain:example.com"},
	{event.GrantMember, inventory.GrantMember, "domain:gmail.com"},
	{event.GrantMember, inventory.GrantMember, "user:stratusredteam@gmail.com"},
	{event.GrantMember, inventory.GrantMember, "user:auditor@partner.org"},
	{event.GrantMember, inventory.GrantMember, "serviceAccount:ci@proj-ours.iam.gserviceaccount.com"},
	{event.GrantMember, inventory.GrantMember, "serviceAccount:proj-ours@evil-prj.iam.gserviceaccount.com"},
	{event.GrantMember, inventory.GrantMember, "serviceAccount:service-123456789@compute-system.iam.gserviceaccount.com"},
	{event.GrantMember, inventory.GrantMember, "deleted:user:bob@example.com?uid=1"},
	{event.GrantMember, inventory.GrantMember, "projectViewer:proj-ours"},
}

// TestAuditAndDetectAgreeOnEveryGrantee builds both commands' boundaries the way the commands do
// (postureConfig for audit, detectConfig for detect, from the same [trust] and flags) and
// classifies every grantee, spelled as each pipeline spells it, from each side.
func TestAuditAndDetectAgreeOnEveryGrantee(t *testing.T) {
	const owner = "111111111111"
	for name, tc := range crossConfigs {
		cfg := &config.Config{Trust: tc}
		pc, err := postureConfig(cfg, auditOptions{trusted: []string{"444444444444"}})
		if err != nil {
			t.Fatal(err)
		}
		audit := (&inventory.Inventory{}).Boundary(pc.Trust)
		e, err := detect.New(detectConfig(cfg, detectOptions{trusted: []string{"444444444444"}}))
		if err != nil {
			t.Fatal(err)
		}
		if audit.Known() != e.Boundary().Known() {
			t.Errorf("%s: known audit=%v detect=%v", name, audit.Known(), e.Boundary().Known())
		}
		for _, g := range append(crossGrantees, crossGrantee{event.GrantAccount, inventory.GrantAccount, "444444444444"}) {
			a := inventory.Grant{Kind: g.invKind, Value: g.value}.Classify(audit, owner)
			d := e.Boundary().Classify(g.eventKind, g.value, owner)
			if a != d {
				t.Errorf("%s: %s %q: audit %s, detect %s", name, g.invKind, g.value, a, d)
			}
		}
	}
}

// TestAuditAndDetectAgreeEndToEnd goes one step further for the grants both pipelines report
// on (EBS snapshot shares, GCP snapshot IAM bindings): posture.Check over a record with the
// grant and the detection engine over the event that made it must both call it public, both
// outside, or both say nothing.
func TestAuditAndDetectAgreeEndToEnd(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	type pipe struct {
		cloud, account, kind, rule string
		inv                        inventory.Kind
		action, eventType          string
	}
	pipes := []pipe{
		{inventory.AWS, "111111111111", event.GrantAccount, "aws-ebs-snapshot", inventory.KindEBSSnapshot, "ModifySnapshotAttribute", "ebs-snapshot"},
		{inventory.GCP, "proj-ours", event.GrantMember, "gcp-snapshot", inventory.KindGCPSnapshot, "v1.compute.snapshots.setIamPolicy", "gcp-snapshot"},
	}
	seen := map[string]int{}
	for name, tc := range crossConfigs {
		cfg := &config.Config{Trust: tc}
		pc, err := postureConfig(cfg, auditOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pc.Now = now
		for _, p := range pipes {
			for i, g := range crossGrantees {
				if g.eventKind != p.kind || (p.kind == event.GrantAccount && g.value == "*") {
					continue // "*" is not a value ModifySnapshotAttribute accepts
				}
				inv := &inventory.Inventory{Snapshots: []inventory.Snapshot{{Common: inventory.Common{
					Provider: p.cloud, Account: p.account, Region: "us-east-1", Kind: p.inv, ID: fmt.Sprint("snap-", i),
					Created: now, Encryption: inventory.Encryption{KeyKind: "none"},
					Grants: []inventory.Grant{{Kind: g.invKind, Value: g.value, Via: inventory.ViaAttribute}},
				}}}}
				audit := verdict(p.rule, posture.Check(inv, pc))

				e, err := detect.New(detectConfig(cfg, detectOptions{}))
				if err != nil {
					t.Fatal(err)
				}
				ev := event.Event{ID: fmt.Sprint("r", i), Time: now, Cloud: p.cloud, Account: p.account, Region: "us-east-1",
					Action: p.action, Success: true, Service: "compute.googleapis.com",
					Actor:    event.Actor{Type: "IAMUser", ARN: "arn:aws:iam::" + p.account + ":user/alice", Account: p.account, Name: "alice"},
					Resource: event.Resource{Type: p.eventType, ID: fmt.Sprint("snap-", i)},
					Grants:   []event.Grant{{Op: "add", Kind: g.eventKind, Value: g.value}}}
				if p.cloud == inventory.AWS {
					ev.Service = ""
				}
				det := verdict(p.rule, e.Process(ev))
				if audit != det {
					t.Errorf("%s: %s %s %q: audit %q, detect %q", name, p.rule, g.eventKind, g.value, audit, det)
				}
				seen[name+"/"+p.rule+"/"+audit]++
			}
		}
	}
	// The table must exercise every verdict on both clouds, or agreement proves little.
	for _, k := range []string{"full/aws-ebs-snapshot/", "full/aws-ebs-snapshot/external", "full/aws-ebs-snapshot/public",
		"full/gcp-snapshot/", "full/gcp-snapshot/external", "full/gcp-snapshot/public", "none/gcp-snapshot/external"} {
		if seen[k] == 0 {
			t.Errorf("no case with verdict %s (%v)", k, seen)
		}
	}
}

// verdict sums up findings about one subject: "public", "external" or "" (nothing leaked).
func verdict(subject string, fs []finding.Finding) string {
	out := ""
	for _, f := range fs {
		switch f.Rule {
		case subject + "-public":
			return "public"
		case subject + "-shared-external":
			out = "external"
		}
	}
	return out
}
