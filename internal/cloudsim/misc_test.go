package cloudsim

import (
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dlm"
	"github.com/aws/aws-sdk-go-v2/service/rbin"
	rbintypes "github.com/aws/aws-sdk-go-v2/service/rbin/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestDLM(t *testing.T) {
	sim := start(t, Options{})
	c := dlm.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	ps, err := c.GetLifecyclePolicies(ctx, &dlm.GetLifecyclePoliciesInput{})
	must(t, err)
	if len(ps.Policies) != 1 || *ps.Policies[0].PolicyId != "policy-0a0000000000000001" || ps.Policies[0].State != "ENABLED" {
		t.Fatalf("%+v", ps.Policies)
	}
	p, err := c.GetLifecyclePolicy(ctx, &dlm.GetLifecyclePolicyInput{PolicyId: aws.String("policy-0a0000000000000001")})
	must(t, err)
	sr := p.Policy.PolicyDetails.Schedules[0].ShareRules
	if len(sr) != 1 || sr[0].TargetAccounts[0] != "999999999999" || *sr[0].UnshareInterval != 7 || sr[0].UnshareIntervalUnit != "DAYS" ||
		p.Policy.DateCreated == nil || *p.Policy.PolicyDetails.TargetTags[0].Key != "backup" {
		t.Fatalf("%+v", p.Policy)
	}
	_, err = c.GetLifecyclePolicy(ctx, &dlm.GetLifecyclePolicyInput{PolicyId: aws.String("policy-none")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestRecycleBinRules(t *testing.T) {
	sim := start(t, Options{})
	c := rbin.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	r, err := c.ListRules(ctx, &rbin.ListRulesInput{ResourceType: rbintypes.ResourceTypeEbsSnapshot})
	must(t, err)
	if len(r.Rules) != 1 || *r.Rules[0].RetentionPeriod.RetentionPeriodValue != 7 || r.Rules[0].RetentionPeriod.RetentionPeriodUnit != rbintypes.RetentionPeriodUnitDays {
		t.Fatalf("%+v", r.Rules)
	}
	g, err := c.GetRule(ctx, &rbin.GetRuleInput{Identifier: aws.String("rule-snap-7d")})
	must(t, err)
	if g.ResourceType != rbintypes.ResourceTypeEbsSnapshot {
		t.Fatal(g.ResourceType)
	}
	r, err = c.ListRules(ctx, &rbin.ListRulesInput{ResourceType: rbintypes.ResourceTypeEc2Image})
	must(t, err)
	if len(r.Rules) != 0 {
		t.Fatal(r.Rules)
	}
}

func TestS3Exports(t *testing.T) {
	sim := start(t, Options{})
	c := s3.NewFromConfig(cfg(sim, keyProd, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("prod-exports")})
	must(t, err)
	if len(l.Contents) != 2 || *l.Contents[1].Size != 1024 {
		t.Fatalf("%+v", l.Contents)
	}
	o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("prod-exports"), Key: aws.String("ami-0a000000000000001.bin")})
	must(t, err)
	b, _ := io.ReadAll(o.Body)
	o.Body.Close()
	if string(b) != "not really an AMI" {
		t.Fatalf("%q", b)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nope")})
	wantCode(t, err, "NoSuchBucket")
	if sim.CallCounts()["s3:GetObject"] != 1 || sim.CallCounts()["s3:ListObjectsV2"] != 2 {
		t.Fatal(sim.CallCounts())
	}
}
