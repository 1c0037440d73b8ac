package cli

import (
	"github.com/snapwatch/snapwatch/internal/config"
	"github.com/snapwatch/snapwatch/internal/inventory"
)

// inventoryTrust maps the [trust] section onto the audit's boundary.
func inventoryTrust(t config.Trust, orgAccounts, trusted []string) inventory.Trust {
	cat := func(lists ...[]string) []string {
		var out []string
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}
	return inventory.Trust{
		Orgs:            cat(t.AWSOrganizations, t.GCPOrganizations),
		Accounts:        cat(t.AWSAccounts, orgAccounts, t.AzureSubscriptions, t.GCPProjects),
		OUs:             t.AWSOUs,
		Tenants:         t.AzureTenants,
		Domains:         t.GCPDomains,
		TrustedAccounts: cat(t.TrustedAccounts, trusted),
		TrustedMembers:  t.TrustedMembers,
	}
}
