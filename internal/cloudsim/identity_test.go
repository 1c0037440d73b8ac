package cloudsim

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestSTSAssumeRoleChain(t *testing.T) {
	sim := start(t, Options{})
	mgmt := cfg(sim, keyMgmt, "us-east-1")
	id, err := sts.NewFromConfig(mgmt).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(t, err)
	if *id.Account != "111111111111" || *id.Arn != "arn:aws:iam::111111111111:user/auditor" || *id.UserId == "" {
		t.Fatalf("%+v", id)
	}
	// The management account assumes the audit role in prod, as an org-wide audit does, through
	// the SDK's own credential provider.
	prodCfg := mgmt.Copy()
	prodCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(mgmt), "arn:aws:iam::222222222222:role/SnapwatchAudit"))
	id, err = sts.NewFromConfig(prodCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(t, err)
	if *id.Account != "222222222222" || !strings.HasPrefix(*id.Arn, "arn:aws:sts::222222222222:assumed-role/SnapwatchAudit/") {
		t.Fatalf("%+v", id)
	}
	snaps, err := ec2.NewFromConfig(prodCfg).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	must(t, err)
	if len(snaps.Snapshots) != 4 {
		t.Fatalf("assumed role sees %d snapshots", len(snaps.Snapshots))
	}
	// Role chaining: the Chained role trusts only the SnapwatchAudit role.
	chained := prodCfg.Copy()
	chained.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(prodCfg), "arn:aws:iam::222222222222:role/Chained"))
	id, err = sts.NewFromConfig(chained).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(t, err)
	if !strings.HasPrefix(*id.Arn, "arn:aws:sts::222222222222:assumed-role/Chained/") {
		t.Fatal(*id.Arn)
	}
	_, err = sts.NewFromConfig(mgmt).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/Chained"), RoleSessionName: aws.String("x")})
	wantCode(t, err, "AccessDenied")
	// Sandbox's role trusts only the outsider: the management account cannot get in.
	_, err = sts.NewFromConfig(mgmt).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444444444444:role/SnapwatchAudit"), RoleSessionName: aws.String("x")})
	wantCode(t, err, "AccessDenied")
	_, err = sts.NewFromConfig(mgmt).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444444444444:role/Missing"), RoleSessionName: aws.String("x")})
	wantCode(t, err, "AccessDenied")
	// A role that could be assumed, made unassumable by a fault.
	sim.AddFault(Fault{Kind: FaultDeny, Service: "sts", Action: "AssumeRole", Target: "arn:aws:iam::333333333333:role/SnapwatchAudit"})
	_, err = sts.NewFromConfig(mgmt).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::333333333333:role/SnapwatchAudit"), RoleSessionName: aws.String("x")})
	wantCode(t, err, "AccessDenied")
	// A session key without its token is refused.
	ar, err := sts.NewFromConfig(mgmt).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/SnapwatchAudit"), RoleSessionName: aws.String("y")})
	must(t, err)
	if ar.Credentials.Expiration.IsZero() || *ar.AssumedRoleUser.Arn != "arn:aws:sts::222222222222:assumed-role/SnapwatchAudit/y" {
		t.Fatalf("%+v", ar.AssumedRoleUser)
	}
	bad := mgmt.Copy()
	bad.Credentials = credentials.NewStaticCredentialsProvider(*ar.Credentials.AccessKeyId, *ar.Credentials.SecretAccessKey, "wrong")
	_, err = ec2.NewFromConfig(bad).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	wantCode(t, err, "AuthFailure")
}

func TestOrganizations(t *testing.T) {
	sim := start(t, Options{})
	c := organizations.NewFromConfig(cfg(sim, keyMgmt, "us-east-1"))
	o, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	must(t, err)
	if *o.Organization.Id != "o-example0001" || *o.Organization.MasterAccountId != "111111111111" ||
		*o.Organization.Arn != "arn:aws:organizations::111111111111:organization/o-example0001" || o.Organization.FeatureSet != orgtypes.OrganizationFeatureSetAll {
		t.Fatalf("%+v", o.Organization)
	}
	var ids []string
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		must(t, err)
		pages++
		for _, a := range page.Accounts {
			ids = append(ids, *a.Id)
			if a.State != orgtypes.AccountStateActive || a.JoinedTimestamp == nil || *a.Arn == "" {
				t.Fatalf("%+v", a)
			}
		}
	}
	if !slices.Equal(ids, []string{"111111111111", "222222222222", "333333333333", "444444444444"}) || pages != 2 {
		t.Fatalf("%v in %d pages", ids, pages)
	}
	roots, err := c.ListRoots(ctx, &organizations.ListRootsInput{})
	must(t, err)
	root := *roots.Roots[0].Id
	ous, err := c.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(root)})
	must(t, err)
	if len(ous.OrganizationalUnits) != 2 || *ous.OrganizationalUnits[1].Name != "Dev" ||
		*ous.OrganizationalUnits[1].Arn != "arn:aws:organizations::111111111111:ou/o-example0001/ou-exam-dev00001" {
		t.Fatalf("%+v", ous.OrganizationalUnits)
	}
	sub, err := c.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String("ou-exam-dev00001")})
	must(t, err)
	if len(sub.OrganizationalUnits) != 1 || *sub.OrganizationalUnits[0].Id != "ou-exam-sand0001" {
		t.Fatalf("%+v", sub.OrganizationalUnits)
	}
	ac, err := c.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-exam-sand0001")})
	must(t, err)
	if len(ac.Accounts) != 1 || *ac.Accounts[0].Id != "444444444444" || *ac.Accounts[0].Name != "sandbox" {
		t.Fatalf("%+v", ac.Accounts)
	}
	par, err := c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("444444444444")})
	must(t, err)
	if *par.Parents[0].Id != "ou-exam-sand0001" || par.Parents[0].Type != orgtypes.ParentTypeOrganizationalUnit {
		t.Fatalf("%+v", par.Parents)
	}
	par, err = c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("ou-exam-prod0001")})
	must(t, err)
	if par.Parents[0].Type != orgtypes.ParentTypeRoot {
		t.Fatalf("%+v", par.Parents)
	}
	_, err = c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("999999999999")})
	var cnf *orgtypes.ChildNotFoundException
	if !errors.As(err, &cnf) {
		t.Fatalf("want ChildNotFoundException, got %T %v", err, err)
	}
	// A member may describe the organisation but not list it; an outsider is in none.
	member := organizations.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	_, err = member.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	must(t, err)
	_, err = member.ListAccounts(ctx, &organizations.ListAccountsInput{})
	var ade *orgtypes.AccessDeniedException
	if !errors.As(err, &ade) {
		t.Fatalf("want AccessDeniedException, got %T %v", err, err)
	}
	_, err = organizations.NewFromConfig(cfg(sim, keyOutside, "us-east-1")).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	var niu *orgtypes.AWSOrganizationsNotInUseException
	if !errors.As(err, &niu) {
		t.Fatalf("want AWSOrganizationsNotInUseException, got %T %v", err, err)
	}
}

func TestKMS(t *testing.T) {
	sim := start(t, Options{})
	c := kms.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/prod-data")})
	must(t, err)
	m := d.KeyMetadata
	if *m.KeyId != "0a000000-0000-4000-8000-000000000001" || *m.AWSAccountId != "222222222222" || m.KeyManager != "CUSTOMER" || !m.Enabled ||
		*m.Arn != "arn:aws:kms:us-east-1:222222222222:key/0a000000-0000-4000-8000-000000000001" || m.CreationDate == nil {
		t.Fatalf("%+v", m)
	}
	d, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/ebs")})
	must(t, err)
	if d.KeyMetadata.KeyManager != "AWS" {
		t.Fatal(d.KeyMetadata.KeyManager)
	}
	pol, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String("0a000000-0000-4000-8000-000000000001")})
	must(t, err)
	var doc map[string]any
	must(t, json.Unmarshal([]byte(*pol.Policy), &doc))
	if *pol.PolicyName != "default" || len(doc["Statement"].([]any)) != 2 {
		t.Fatalf("%v", *pol.Policy)
	}
	ebsPol, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: d.KeyMetadata.KeyId})
	must(t, err)
	if !json.Valid([]byte(*ebsPol.Policy)) {
		t.Fatal(*ebsPol.Policy)
	}
	gr, err := c.ListGrants(ctx, &kms.ListGrantsInput{KeyId: aws.String("arn:aws:kms:us-east-1:222222222222:key/0a000000-0000-4000-8000-000000000001")})
	must(t, err)
	if len(gr.Grants) != 1 || *gr.Grants[0].GranteePrincipal != "arn:aws:iam::333333333333:role/reader" || gr.Grants[0].Operations[0] != "Decrypt" || gr.Truncated {
		t.Fatalf("%+v", gr.Grants)
	}
	al, err := c.ListAliases(ctx, &kms.ListAliasesInput{})
	must(t, err)
	var names []string
	for _, a := range al.Aliases {
		names = append(names, *a.AliasName)
	}
	if !slices.Equal(names, []string{"alias/prod-data", "alias/aws/ebs"}) {
		t.Fatal(names)
	}
	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/none")})
	wantCode(t, err, "NotFoundException")
	// The partner the key policy names may describe the key across accounts, not read its policy.
	outside := kms.NewFromConfig(cfg(sim, keyOutside, "us-east-1"))
	_, err = outside.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: m.Arn})
	must(t, err)
	_, err = kms.NewFromConfig(cfg(sim, keyOutside, "us-east-1")).GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: m.Arn})
	wantCode(t, err, "AccessDeniedException")
}
