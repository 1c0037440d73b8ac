package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Collector holds the caller's configuration and the resolved credentials of every account it
// reads, so that content readers (EBS direct) reuse the same assumed-role sessions.
type Collector struct {
	opt       Options
	fams      map[string]bool
	base      aws.Config // the caller's, without the meter
	caller    string     // the caller's account id
	callerARN string
	partition string
	meter     *meter

	mu    sync.Mutex
	creds map[string]aws.CredentialsProvider // account → provider (cached, refreshing)
}

const defaultConcurrency = 8

// New loads the AWS configuration (profile, credentials, endpoint) and checks the credentials
// with sts:GetCallerIdentity, so that "no credentials" is one clear error before any audit.
func New(ctx context.Context, opt Options) (*Collector, error) {
	if opt.Concurrency <= 0 {
		opt.Concurrency = defaultConcurrency
	}
	fams, err := families(opt.Include)
	if err != nil {
		return nil, err
	}
	lo := []func(*config.LoadOptions) error{config.WithRetryer(newRetryer)}
	if opt.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(opt.Profile))
	}
	if opt.HTTPClient != nil {
		lo = append(lo, config.WithHTTPClient(opt.HTTPClient))
	}
	if opt.EndpointURL != "" {
		lo = append(lo, config.WithBaseEndpoint(opt.EndpointURL))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("aws: loading configuration: %w", err)
	}
	if cfg.Region == "" {
		// Every call names its region; this one only serves STS, Organizations and
		// DescribeRegions, which answer from any commercial region.
		cfg.Region = "us-east-1"
	}
	if cfg.Credentials == nil {
		return nil, errors.New("aws: no credentials found (set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run in an environment with a role)")
	}
	c := &Collector{opt: opt, fams: fams, base: cfg, meter: newMeter(opt.Concurrency), creds: map[string]aws.CredentialsProvider{}}
	id, err := sts.NewFromConfig(c.metered(cfg, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("aws: credentials do not work (sts:GetCallerIdentity): %w", err)
	}
	c.caller, c.callerARN = aws.ToString(id.Account), aws.ToString(id.Arn)
	c.partition = "aws"
	if a, err := arn.Parse(c.callerARN); err == nil && a.Partition != "" {
		c.partition = a.Partition
	}
	c.creds[c.caller] = cfg.Credentials
	return c, nil
}

// CallerAccount is the account of the credentials New found.
func (c *Collector) CallerAccount() string { return c.caller }

// Config returns an aws.Config for the account (the assumed audit role when it is not the
// caller's) and region, with the same endpoint override and retryer, for EBS direct and EC2
// reads by the content scan. It carries none of the collector's metering.
func (c *Collector) Config(ctx context.Context, account, region string) (aws.Config, error) {
	p, err := c.credentials(ctx, account)
	if err != nil {
		return aws.Config{}, err
	}
	cfg := c.base.Copy()
	cfg.Region = region
	cfg.Credentials = p
	return cfg, nil
}

// credentials returns the account's provider, checking it once: a role that cannot be assumed
// fails here, for the whole account, not once per call.
func (c *Collector) credentials(ctx context.Context, account string) (aws.CredentialsProvider, error) {
	c.mu.Lock()
	p, ok := c.creds[account]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	if c.opt.OrgRole == "" {
		return nil, fmt.Errorf("account %s is not the caller's (%s) and no role to assume was given (OrgRole)", account, c.caller)
	}
	role := c.roleARN(account)
	stsc := sts.NewFromConfig(c.metered(c.base, c.caller))
	prov := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsc, role, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "snapwatch-audit"
	}))
	if _, err := prov.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("assuming %s: %w", role, err)
	}
	c.mu.Lock()
	c.creds[account] = prov
	c.mu.Unlock()
	return prov, nil
}

func (c *Collector) roleARN(account string) string {
	if strings.HasPrefix(c.opt.OrgRole, "arn:") {
		// A full ARN template is accepted too: its account field is replaced.
		if a, err := arn.Parse(c.opt.OrgRole); err == nil {
			a.AccountID = account
			return a.String()
		}
	}
	return "arn:" + c.partition + ":iam::" + account + ":role/" + strings.TrimPrefix(c.opt.OrgRole, "role/")
}

// metered returns cfg with the meter's middleware for account's calls.
func (c *Collector) metered(cfg aws.Config, account string) aws.Config {
	cfg = cfg.Copy()
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), c.meter.apiOptions(account))
	return cfg
}

// scopeConfig is the metered configuration for one account and region.
func (c *Collector) scopeConfig(ctx context.Context, account, region string) (aws.Config, error) {
	cfg, err := c.Config(ctx, account, region)
	if err != nil {
		return cfg, err
	}
	return c.metered(cfg, account), nil
}
