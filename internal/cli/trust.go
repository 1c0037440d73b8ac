package cli

import (
	"slices"

	"github.com/snapwatch/snapwatch/internal/config"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// trustConfig maps the [trust] section and the --org-account / --trusted-account flags onto the
// product's one boundary (internal/trust). `audit` and `detect` both build theirs here, so a
// grantee is inside for one exactly when it is inside for the other. The audit adds what its
// collectors discover (organisations, audited accounts) on top.
//
// The file names lists per cloud because that is how people know their ids; the boundary does
// not need the cloud, since an AWS account id, an Azure subscription GUID and a GCP project id
// cannot be mistaken for one another.
func trustConfig(t config.Trust, orgAccounts, trusted []string) trust.Config {
	return trust.Config{
		Orgs:            slices.Concat(t.AWSOrganizations, t.GCPOrganizations),
		Accounts:        slices.Concat(t.AWSAccounts, orgAccounts, t.AzureSubscriptions, t.GCPProjects),
		OUs:             slices.Clone(t.AWSOUs),
		Tenants:         slices.Clone(t.AzureTenants),
		Domains:         slices.Clone(t.GCPDomains),
		TrustedAccounts: slices.Concat(t.TrustedAccounts, trusted),
		TrustedMembers:  slices.Clone(t.TrustedMembers),
	}
}
