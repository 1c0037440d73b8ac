package aws

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// maxScopes bounds how many account+region scopes run at once. Each scope is bounded by its
// own limiters, so this only caps goroutines and memory, not the pressure on any one API. It
// is above the 5 × 17 of a typical organisation so that every scope's API budget is used at
// once: a second wave would double the wall time (measured: 7.7 s → see docs/performance.md).
const maxScopes = 128

// Collect is New followed by Collect.
func Collect(ctx context.Context, opt Options) (*inventory.Inventory, Stats, error) {
	c, err := New(ctx, opt)
	if err != nil {
		return nil, Stats{}, err
	}
	return c.Collect(ctx)
}

// target is one account to audit and the regions to read in it.
type target struct {
	account string
	regions []string
}

// Collect audits every account and region the options name. The error is non-nil, a
// *PartialError, whenever some scope failed (inv.Errors lists them); the inventory is returned
// all the same, holding everything that could be read.
func (c *Collector) Collect(ctx context.Context) (*inventory.Inventory, Stats, error) {
	start := time.Now()
	inv := &inventory.Inventory{}
	org := c.discoverOrg(ctx, inv)
	if org.org != nil {
		inv.Orgs = append(inv.Orgs, *org.org)
	}
	accounts := c.accounts(org)
	inv.Accounts = slices.Clone(accounts)

	// Credentials and regions of every account first, so that progress knows its total.
	targets := make([]target, len(accounts))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, acct := range accounts {
		wg.Go(func() {
			regions, err := c.accountRegions(ctx, acct)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				inv.Errors = append(inv.Errors, *err)
				return
			}
			targets[i] = target{acct, regions}
		})
	}
	wg.Wait()

	total := 0
	regionSet := map[string]bool{}
	for _, t := range targets {
		total += len(t.regions)
		for _, r := range t.regions {
			regionSet[r] = true
		}
	}
	done := 0
	sem := make(chan struct{}, maxScopes)
	for _, t := range targets {
		for _, region := range t.regions {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				part := c.collectScope(ctx, t.account, region)
				mu.Lock()
				inv.Merge(part)
				done++
				n := done
				mu.Unlock()
				if c.opt.Progress != nil {
					c.opt.Progress(Progress{Account: t.account, Region: region, Done: n, Total: total})
				}
			})
		}
	}
	wg.Wait()

	if c.fams[FamilyExports] {
		c.resolveBuckets(ctx, inv, accounts)
	}
	if c.opt.PublicSearch {
		owners := accounts
		if org.org != nil && len(org.org.Accounts) > 0 {
			owners = org.org.Accounts
		}
		inv.Merge(c.publicSearch(ctx, owners, targetRegions(targets, c.caller)))
	}
	inv.Normalize()

	st := c.meter.stats()
	st.Accounts, st.Regions, st.Duration = len(accounts), len(regionSet), time.Since(start)
	if len(inv.Errors) > 0 {
		return inv, st, &PartialError{Errors: slices.Clone(inv.Errors)}
	}
	return inv, st, nil
}

// accounts decides whom to audit: the accounts named; else, with a role to assume, every
// active account of the organisation; else the caller's own account.
func (c *Collector) accounts(org orgView) []string {
	switch {
	case len(c.opt.Accounts) > 0:
		return dedupe(c.opt.Accounts)
	case c.opt.OrgRole != "" && org.listed && len(org.active) > 0:
		return dedupe(org.active)
	}
	return []string{c.caller}
}

func dedupe(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// accountRegions resolves the account's credentials and the regions to read in it. A role
// that cannot be assumed fails the whole account (Region ""), which is reported once.
func (c *Collector) accountRegions(ctx context.Context, account string) ([]string, *inventory.ScopeError) {
	fail := func(what string, err error) *inventory.ScopeError {
		return &inventory.ScopeError{Provider: inventory.AWS, Account: account, What: what, Err: err.Error()}
	}
	if _, err := c.credentials(ctx, account); err != nil {
		return nil, fail("sts:AssumeRole", err)
	}
	if len(c.opt.Regions) > 0 {
		return dedupe(c.opt.Regions), nil
	}
	cfg, err := c.scopeConfig(ctx, account, c.base.Region)
	if err != nil {
		return nil, fail("sts:AssumeRole", err)
	}
	// Without AllRegions, DescribeRegions lists the regions enabled for the account: opt-in
	// regions it never enabled cannot hold its resources.
	out, err := ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fail("ec2:DescribeRegions", err)
	}
	var regions []string
	for _, r := range out.Regions {
		regions = append(regions, aws.ToString(r.RegionName))
	}
	slices.Sort(regions)
	return regions, nil
}

// targetRegions returns the caller's regions when the caller is audited, else the union.
func targetRegions(ts []target, caller string) []string {
	set := map[string]bool{}
	for _, t := range ts {
		if t.account == caller {
			return t.regions
		}
		for _, r := range t.regions {
			set[r] = true
		}
	}
	var out []string
	for r := range set {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}
