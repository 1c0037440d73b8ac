package inventory

import (
	"fmt"
	"slices"
	"strings"
)

// Inventory is everything the collectors found in one audit.
type Inventory struct {
	Snapshots     []Snapshot    `json:"snapshots,omitempty"`
	Images        []Image       `json:"images,omitempty"`
	Guards        []Guard       `json:"guards,omitempty"`
	Exports       []ExportTask  `json:"exports,omitempty"`
	SharePolicies []SharePolicy `json:"share_policies,omitempty"`

	Orgs []Org `json:"orgs,omitempty"`
	// Accounts are the accounts, subscriptions and projects the collectors audited.
	Accounts []string `json:"accounts,omitempty"`
	// Errors are the scopes that could not be read in full. A check never reads absence in a
	// failed scope as "nothing there"; the CLI reports them and exits 2.
	Errors []ScopeError `json:"errors,omitempty"`
}

// ScopeError is a region, account or service a collector could not read.
type ScopeError struct {
	Provider string `json:"provider"`
	Account  string `json:"account,omitempty"` // "" when the whole provider failed (credentials)
	Region   string `json:"region,omitempty"`  // "" when the whole account failed (role not assumable)
	What     string `json:"what,omitempty"`    // "ec2:DescribeSnapshots", "snapshot-block-public-access"
	Err      string `json:"error"`
}

func (e ScopeError) Error() string {
	scope := e.Provider
	for _, s := range []string{e.Account, e.Region, e.What} {
		if s != "" {
			scope += "/" + s
		}
	}
	return fmt.Sprintf("%s: %s", scope, e.Err)
}

// AddError records a scope that failed.
func (inv *Inventory) AddError(provider, account, region, what string, err error) {
	inv.Errors = append(inv.Errors, ScopeError{Provider: provider, Account: account, Region: region, What: what, Err: err.Error()})
}

// Merge appends another inventory (one region's or account's collection) to inv. Collectors
// collect concurrently into their own Inventory and merge under their own lock.
func (inv *Inventory) Merge(o *Inventory) {
	inv.Snapshots = append(inv.Snapshots, o.Snapshots...)
	inv.Images = append(inv.Images, o.Images...)
	inv.Guards = append(inv.Guards, o.Guards...)
	inv.Exports = append(inv.Exports, o.Exports...)
	inv.SharePolicies = append(inv.SharePolicies, o.SharePolicies...)
	inv.Orgs = append(inv.Orgs, o.Orgs...)
	inv.Accounts = append(inv.Accounts, o.Accounts...)
	inv.Errors = append(inv.Errors, o.Errors...)
}

// Normalize sorts records into a canonical order and folds duplicates into one record: the same
// cluster snapshot listed through the RDS, DocumentDB and Neptune APIs, or the same AMI listed
// by owner and by launch permission. Grants of duplicates are united; the first record's other
// fields win, except that an empty Engine is filled in.
func (inv *Inventory) Normalize() {
	sortRecords(inv.Snapshots, func(s *Snapshot) *Common { return &s.Common })
	inv.Snapshots = fold(inv.Snapshots, func(s *Snapshot) *Common { return &s.Common }, func(dst, src *Snapshot) {
		if dst.Engine == "" {
			dst.Engine = src.Engine
		}
	})
	sortRecords(inv.Images, func(i *Image) *Common { return &i.Common })
	inv.Images = fold(inv.Images, func(i *Image) *Common { return &i.Common }, func(dst, src *Image) {
		if len(dst.Backing) == 0 {
			dst.Backing = src.Backing
		}
	})
	slices.Sort(inv.Accounts)
	inv.Accounts = slices.Compact(inv.Accounts)
}

// compareCommon orders records by provider, account, region, kind and id, stopping at the
// first difference.
func compareCommon(a, b *Common) int {
	for _, p := range [...][2]string{{a.Provider, b.Provider}, {a.Account, b.Account}, {a.Region, b.Region},
		{string(a.Kind), string(b.Kind)}, {a.ID, b.ID}} {
		if c := strings.Compare(p[0], p[1]); c != 0 {
			return c
		}
	}
	return 0
}

// sortRecords sorts records stably by key. It sorts indices and then moves each record once,
// because comparing ~380-byte records by value would copy them at every comparison.
func sortRecords[T any](xs []T, common func(*T) *Common) {
	perm := make([]int32, len(xs))
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortStableFunc(perm, func(a, b int32) int { return compareCommon(common(&xs[a]), common(&xs[b])) })
	// Apply the permutation in place, one cycle at a time: xs[j] takes xs[perm[j]].
	for i := range perm {
		if int(perm[i]) == i {
			continue
		}
		tmp, j := xs[i], i
		for {
			k := int(perm[j])
			perm[j] = int32(j)
			if k == i {
				xs[j] = tmp
				break
			}
			xs[j] = xs[k]
			j = k
		}
	}
}

// fold merges adjacent records with the same key (the slice is sorted).
func fold[T any](xs []T, common func(*T) *Common, extra func(dst, src *T)) []T {
	out := xs[:0]
	for i := range xs {
		if n := len(out); n > 0 && compareCommon(common(&out[n-1]), common(&xs[i])) == 0 {
			dst, src := &out[n-1], &xs[i]
			for _, g := range common(src).Grants {
				if !slices.Contains(common(dst).Grants, g) {
					common(dst).Grants = append(common(dst).Grants, g)
				}
			}
			extra(dst, src)
			continue
		}
		out = append(out, xs[i])
	}
	clear(xs[len(out):]) // drop references held by the folded tail
	return out
}
