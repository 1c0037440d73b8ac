package aws

import (
	"context"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// resolveBuckets says who owns the buckets that image and instance exports wrote to, and
// whether the owner made them public: an AMI in a public bucket is as public as a public
// snapshot, and one in an outsider's bucket has left the organisation. It runs once per audit,
// after every scope, and only when there are exports:
//
//   - s3:ListBuckets once per audited account maps each of our buckets to its account. A bucket
//     in none of the lists belongs to someone the audit cannot read (an outsider, or an account
//     not audited); its owner stays "" and posture grades the export "owner unknown".
//   - s3:GetBucketPolicyStatus once per exported bucket, by its owner, says whether its policy
//     makes it public.
func (c *Collector) resolveBuckets(ctx context.Context, inv *inventory.Inventory, accounts []string) {
	if len(inv.Exports) == 0 {
		return
	}
	owner := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, acct := range accounts {
		c.mu.Lock()
		_, ok := c.creds[acct]
		c.mu.Unlock()
		if !ok {
			continue // its role failed: already reported
		}
		wg.Go(func() {
			cli, err := c.s3Client(ctx, acct)
			var out *s3.ListBucketsOutput
			if err == nil {
				out, err = cli.ListBuckets(ctx, &s3.ListBucketsInput{})
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				inv.AddError(inventory.AWS, acct, "", "s3:ListBuckets", err)
				return
			}
			for _, b := range out.Buckets {
				owner[aws.ToString(b.Name)] = acct
			}
		})
	}
	wg.Wait()

	public := map[string]inventory.Tri{}
	var ours []string
	for _, t := range inv.Exports {
		if _, seen := public[t.Bucket]; !seen && owner[t.Bucket] != "" {
			public[t.Bucket] = inventory.Unknown
			ours = append(ours, t.Bucket)
		}
	}
	for _, bucket := range ours {
		wg.Go(func() {
			st := inventory.Unknown
			cli, err := c.s3Client(ctx, owner[bucket])
			if err == nil {
				var out *s3.GetBucketPolicyStatusOutput
				out, err = cli.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String(bucket)})
				switch {
				case err == nil && out.PolicyStatus != nil && aws.ToBool(out.PolicyStatus.IsPublic):
					st = inventory.Yes
				case err == nil, noPolicy(err):
					st, err = inventory.No, nil
				}
			}
			mu.Lock()
			defer mu.Unlock()
			public[bucket] = st
			if err != nil {
				inv.AddError(inventory.AWS, owner[bucket], "", "s3:GetBucketPolicyStatus", err)
			}
		})
	}
	wg.Wait()
	for i := range inv.Exports {
		t := &inv.Exports[i]
		t.BucketAccount = owner[t.Bucket]
		if t.BucketAccount != "" {
			t.BucketPublic = public[t.Bucket]
		}
	}
}

// noPolicy is S3's answer for a bucket without a policy: nothing in a policy makes it public.
func noPolicy(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucketPolicy"
}

// s3Client is a metered S3 client of the account. Path-style addressing lets a custom
// endpoint (the simulator) serve every bucket on one host.
func (c *Collector) s3Client(ctx context.Context, account string) (*s3.Client, error) {
	cfg, err := c.scopeConfig(ctx, account, c.base.Region)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = c.opt.EndpointURL != "" }), nil
}
