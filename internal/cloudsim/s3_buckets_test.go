package cloudsim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ListBuckets lists the caller's buckets; GetBucketPolicyStatus answers their owner only.
func TestBucketOwnershipAndPolicyStatus(t *testing.T) {
	e, err := LoadEstate("testdata/estate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range e.Accounts {
		if a.ID == "222222222222" {
			a.Buckets[0].Public = true
		}
	}
	sim := startEstate(t, e, Options{})
	ctx := context.Background()
	client := func(key string) *s3.Client {
		return s3.NewFromConfig(cfg(sim, key, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
	}
	out, err := client(keyProd).ListBuckets(ctx, &s3.ListBucketsInput{})
	must(t, err)
	if len(out.Buckets) != 1 || aws.ToString(out.Buckets[0].Name) != "prod-exports" {
		t.Fatalf("buckets: %+v", out.Buckets)
	}
	if other, err := client(keyDev).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil || len(other.Buckets) != 0 {
		t.Fatalf("dev sees %+v (%v)", other, err)
	}
	ps, err := client(keyProd).GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String("prod-exports")})
	must(t, err)
	if ps.PolicyStatus == nil || !aws.ToBool(ps.PolicyStatus.IsPublic) {
		t.Errorf("policy status: %+v", ps.PolicyStatus)
	}
	_, err = client(keyDev).GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String("prod-exports")})
	wantCode(t, err, "AccessDenied")
	if c := sim.CallCounts(); c["s3:ListBuckets"] != 2 || c["s3:GetBucketPolicyStatus"] != 2 {
		t.Errorf("call log: %v", c)
	}
}
