package aws

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// maxOUs bounds the OU walk: OUs only sharpen the trust boundary (an OU grant inside our org
// is already internal through the org id), so a huge tree is not worth thousands of calls.
const maxOUs = 500

// orgView is what Organizations told us.
type orgView struct {
	org    *inventory.Org // nil: not in an organisation, or not allowed to say
	active []string       // ACTIVE member accounts, when they could be listed
	listed bool           // ListAccounts succeeded
}

// discoverOrg reads the caller's organisation. DescribeOrganization works from any member
// account; ListAccounts and the OU tree only from the management account or a delegated
// administrator. Being outside an organisation, or not allowed to list it, is normal, not a
// failure: the audit falls back to the caller's account. Other errors (throttling beyond the
// retries, 5xx) are reported, because then the boundary is incomplete.
func (c *Collector) discoverOrg(ctx context.Context, inv *inventory.Inventory) orgView {
	cli := organizations.NewFromConfig(c.metered(c.base, c.caller))
	d, err := cli.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		if !orgRefused(err) {
			inv.AddError(inventory.AWS, c.caller, "", "organizations:DescribeOrganization", err)
		}
		return orgView{}
	}
	o := &inventory.Org{Provider: inventory.AWS, ID: aws.ToString(d.Organization.Id), ARN: aws.ToString(d.Organization.Arn),
		ManagementAccount: aws.ToString(d.Organization.MasterAccountId)}
	v := orgView{org: o}
	p := organizations.NewListAccountsPaginator(cli, &organizations.ListAccountsInput{})
	var accounts, active []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if !orgRefused(err) {
				inv.AddError(inventory.AWS, c.caller, "", "organizations:ListAccounts", err)
			}
			return v
		}
		for _, a := range page.Accounts {
			id := aws.ToString(a.Id)
			accounts = append(accounts, id)
			if a.Status == orgtypes.AccountStatusActive || (a.Status == "" && a.State == orgtypes.AccountStateActive) {
				active = append(active, id)
			}
		}
	}
	o.Accounts, v.active, v.listed = accounts, active, true
	o.OUs = c.listOUs(ctx, cli)
	return v
}

// listOUs walks the OU tree breadth first, up to maxOUs. A failure leaves the list partial:
// OUs are a refinement of the boundary, which the org id already draws.
func (c *Collector) listOUs(ctx context.Context, cli *organizations.Client) []string {
	roots, err := cli.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return nil
	}
	var parents, ous []string
	for _, r := range roots.Roots {
		parents = append(parents, aws.ToString(r.Id))
	}
	for len(parents) > 0 && len(ous) < maxOUs {
		parent := parents[0]
		parents = parents[1:]
		p := organizations.NewListOrganizationalUnitsForParentPaginator(cli, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return ous
			}
			for _, u := range page.OrganizationalUnits {
				ous = append(ous, aws.ToString(u.Arn))
				parents = append(parents, aws.ToString(u.Id))
			}
		}
	}
	return ous
}

// orgRefused reports the errors that mean "no organisation to read from here".
func orgRefused(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDeniedException", "AWSOrganizationsNotInUseException", "AccessDenied", "UnauthorizedOperation":
		return true
	}
	return false
}
