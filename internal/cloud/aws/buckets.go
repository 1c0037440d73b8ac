package aws

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3ctltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	"github.com/aws/smithy-go"
	smithyendpoints "github.com/aws/smithy-go/endpoints"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// resolveBuckets says who owns the buckets that image and instance exports wrote to, and
// whether they are public: an AMI in a public bucket is as public as a public snapshot, and
// one in an outsider's bucket has left the organisation. It runs once per audit, after every
// scope, and only when there are exports:
//
//   - s3:ListBuckets once per audited account maps each of our buckets to its account. A bucket
//     in none of the lists belongs to someone the audit cannot read (an outsider, or an account
//     not audited); its owner stays "" and posture grades the export "owner unknown".
//   - s3control:GetPublicAccessBlock once per account owning an exported bucket: the account's
//     S3 Block Public Access.
//   - s3:GetBucketPolicyStatus and s3:GetBucketAcl once per exported bucket, by its owner: a
//     public policy, and ACL grants to AllUsers or AuthenticatedUsers.
//   - s3:GetPublicAccessBlock (the bucket's BPA) only for a bucket with a public policy or ACL
//     (or one that could not be read) that the account's BPA does not already neutralise.
//
// Public = a public policy not neutralised by RestrictPublicBuckets, or a public ACL not
// neutralised by IgnorePublicAcls (account or bucket setting). A BPA read that fails counts as
// no BPA, so a failure can raise a grade but never hide a public bucket; it is reported.
func (c *Collector) resolveBuckets(ctx context.Context, inv *inventory.Inventory, accounts []string) {
	if len(inv.Exports) == 0 {
		return
	}
	owner := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	fail := func(acct, what string, err error) {
		mu.Lock()
		inv.AddError(inventory.AWS, acct, "", what, err)
		mu.Unlock()
	}
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
			if err != nil {
				fail(acct, "s3:ListBuckets", err)
				return
			}
			mu.Lock()
			for _, b := range out.Buckets {
				owner[aws.ToString(b.Name)] = acct
			}
			mu.Unlock()
		})
	}
	wg.Wait()

	views := map[string]*bucketView{}
	var ours []string
	owners := map[string]*bpa{} // account → its S3 Block Public Access
	for _, t := range inv.Exports {
		o := owner[t.Bucket]
		if _, seen := views[t.Bucket]; seen || o == "" {
			continue
		}
		views[t.Bucket] = &bucketView{}
		ours = append(ours, t.Bucket)
		if owners[o] == nil {
			owners[o] = &bpa{}
		}
	}
	// The account settings and each bucket's policy and ACL, all at once.
	for acct, b := range owners {
		wg.Go(func() {
			cfg, err := c.readAccountBPA(ctx, acct)
			if err != nil {
				fail(acct, "s3control:GetPublicAccessBlock", err)
				return
			}
			*b = cfg
		})
	}
	for _, bucket := range ours {
		v := views[bucket]
		cli, err := c.s3Client(ctx, owner[bucket])
		if err != nil {
			v.policy, v.acl = inventory.Unknown, inventory.Unknown
			fail(owner[bucket], "s3:GetBucketPolicyStatus", err)
			continue
		}
		v.cli = cli
		wg.Go(func() {
			out, err := cli.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String(bucket)})
			switch {
			case err == nil && out.PolicyStatus != nil && aws.ToBool(out.PolicyStatus.IsPublic):
				v.policy = inventory.Yes
			case err == nil, s3Code(err, "NoSuchBucketPolicy"):
				v.policy = inventory.No
			default:
				v.policy = inventory.Unknown
				fail(owner[bucket], "s3:GetBucketPolicyStatus", err)
			}
		})
		wg.Go(func() {
			out, err := cli.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(bucket)})
			if err != nil {
				v.acl = inventory.Unknown
				fail(owner[bucket], "s3:GetBucketAcl", err)
				return
			}
			v.acl, v.aclVia = publicACL(out.Grants)
		})
	}
	wg.Wait()

	// The bucket's own BPA, only where it could change the answer.
	for _, bucket := range ours {
		v := views[bucket]
		v.bpa = *owners[owner[bucket]]
		if v.cli == nil || v.grade() == inventory.No {
			continue
		}
		wg.Go(func() {
			out, err := v.cli.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
			switch {
			case err == nil && out.PublicAccessBlockConfiguration != nil:
				p := out.PublicAccessBlockConfiguration
				v.bpa.ignoreACLs = v.bpa.ignoreACLs || aws.ToBool(p.IgnorePublicAcls)
				v.bpa.restrictPolicy = v.bpa.restrictPolicy || aws.ToBool(p.RestrictPublicBuckets)
			case err == nil, s3Code(err, "NoSuchPublicAccessBlockConfiguration"):
			default:
				fail(owner[bucket], "s3:GetPublicAccessBlock", err)
			}
		})
	}
	wg.Wait()

	for i := range inv.Exports {
		t := &inv.Exports[i]
		t.BucketAccount = owner[t.Bucket]
		if v := views[t.Bucket]; v != nil {
			t.BucketPublic = v.grade()
			t.BucketPublicVia = v.via()
		}
	}
}

// bpa is what S3 Block Public Access neutralises: public ACLs (IgnorePublicAcls) and public
// policies (RestrictPublicBuckets). BlockPublicAcls and BlockPublicPolicy only refuse new ones.
type bpa struct{ ignoreACLs, restrictPolicy bool }

// bucketView is what the audit read of one exported bucket.
type bucketView struct {
	cli         *s3.Client
	policy, acl inventory.Tri // public by policy / by ACL, before BPA
	aclVia      []string
	bpa         bpa // account's, then the bucket's added
}

func (v *bucketView) grade() inventory.Tri {
	p, a := v.policy, v.acl
	if v.bpa.restrictPolicy {
		p = inventory.No
	}
	if v.bpa.ignoreACLs {
		a = inventory.No
	}
	switch {
	case p == inventory.Yes || a == inventory.Yes:
		return inventory.Yes
	case p == inventory.Unknown || a == inventory.Unknown:
		return inventory.Unknown
	}
	return inventory.No
}

func (v *bucketView) via() []string {
	var out []string
	if v.policy == inventory.Yes {
		out = append(out, "policy")
	}
	return append(out, v.aclVia...)
}

// publicACL reads ACL grants to S3's AllUsers and AuthenticatedUsers groups (any AWS
// account): whatever the permission, S3 calls such an ACL public.
func publicACL(grants []s3types.Grant) (inventory.Tri, []string) {
	var via []string
	for _, g := range grants {
		if g.Grantee == nil || g.Grantee.Type != s3types.TypeGroup {
			continue
		}
		uri := aws.ToString(g.Grantee.URI)
		for _, group := range []string{"AllUsers", "AuthenticatedUsers"} {
			if strings.HasSuffix(uri, "/global/"+group) && !containsString(via, "acl:"+group) {
				via = append(via, "acl:"+group)
			}
		}
	}
	if len(via) > 0 {
		return inventory.Yes, via
	}
	return inventory.No, nil
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// readAccountBPA reads the account's S3 Block Public Access; none configured is all off.
func (c *Collector) readAccountBPA(ctx context.Context, account string) (bpa, error) {
	cfg, err := c.scopeConfig(ctx, account, c.base.Region)
	if err != nil {
		return bpa{}, err
	}
	cli := s3control.NewFromConfig(cfg, func(o *s3control.Options) {
		if c.opt.EndpointURL != "" {
			o.EndpointResolverV2 = accountlessEndpoint{s3control.NewDefaultEndpointResolverV2()}
		}
	})
	out, err := cli.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(account)})
	var none *s3ctltypes.NoSuchPublicAccessBlockConfiguration
	switch {
	case errors.As(err, &none):
		return bpa{}, nil
	case err != nil:
		return bpa{}, err
	case out.PublicAccessBlockConfiguration == nil:
		return bpa{}, nil
	}
	p := out.PublicAccessBlockConfiguration
	return bpa{ignoreACLs: aws.ToBool(p.IgnorePublicAcls), restrictPolicy: aws.ToBool(p.RestrictPublicBuckets)}, nil
}

// accountlessEndpoint drops the "ACCOUNT." label S3 Control puts in front of a custom
// endpoint's host (the account also travels in x-amz-account-id): the S3 Control counterpart
// of path-style addressing, so that one endpoint (the simulator, 127.0.0.1) serves every account.
type accountlessEndpoint struct{ next s3control.EndpointResolverV2 }

func (r accountlessEndpoint) ResolveEndpoint(ctx context.Context, p s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	e, err := r.next.ResolveEndpoint(ctx, p)
	if err == nil && p.AccountId != nil {
		e.URI.Host = strings.TrimPrefix(e.URI.Host, *p.AccountId+".")
	}
	return e, err
}

// s3Code reports an S3 error of the given code.
func s3Code(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
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
