package inventory

import (
	"slices"

	"github.com/snapwatch/snapwatch/internal/trust"
)

// Org is an organisation a collector discovered (AWS Organizations DescribeOrganization and
// ListAccounts, GCP organization and its projects). Everything in it is internal.
type Org struct {
	Provider          string   `json:"provider"`
	ID                string   `json:"id"` // "o-abc123", "organizations/123"
	ARN               string   `json:"arn,omitempty"`
	ManagementAccount string   `json:"management_account,omitempty"`
	Accounts          []string `json:"accounts,omitempty"`
	OUs               []string `json:"ous,omitempty"`
}

// Boundary compiles the trust boundary for this inventory: c from the config plus what the
// collectors found. Discovered organisations (their ids, accounts and OUs) count as configured,
// so the boundary comes from AWS Organizations and no allow-list has to be kept by hand; the
// audited accounts are ours (we hold credentials to them) but alone leave the boundary unknown.
// The rules themselves are internal/trust's, the same ones `snapwatch detect` applies.
func (inv *Inventory) Boundary(c trust.Config) *trust.Boundary {
	// Clip so that appending never writes into the caller's backing arrays.
	c.Orgs, c.Accounts, c.OUs = slices.Clip(c.Orgs), slices.Clip(c.Accounts), slices.Clip(c.OUs)
	for _, o := range inv.Orgs {
		c.Orgs = append(c.Orgs, o.ID, o.ARN)
		c.Accounts = append(append(c.Accounts, o.Accounts...), o.ManagementAccount)
		c.OUs = append(c.OUs, o.OUs...)
	}
	return trust.New(c, inv.Accounts...)
}

// Classify places the grantee g of a record owned by owner against b.
func (g Grant) Classify(b *trust.Boundary, owner string) trust.Class {
	return b.Classify(string(g.Kind), g.Value, owner)
}
