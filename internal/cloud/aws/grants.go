package aws

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

var publicGrant = inventory.Grant{Kind: inventory.GrantPublic, Value: "all", Via: inventory.ViaAttribute}

// volumeGrants turns a snapshot's createVolumePermission into grants.
func volumeGrants(perms []ec2types.CreateVolumePermission) []inventory.Grant {
	var out []inventory.Grant
	for _, p := range perms {
		switch {
		case p.Group == ec2types.PermissionGroupAll:
			out = append(out, publicGrant)
		case p.UserId != nil:
			out = append(out, inventory.Grant{Kind: inventory.GrantAccount, Value: aws.ToString(p.UserId), Via: inventory.ViaAttribute})
		}
	}
	return out
}

// launchGrants turns an AMI's launchPermission into grants: accounts, organisations, OUs, all.
func launchGrants(perms []ec2types.LaunchPermission) []inventory.Grant {
	var out []inventory.Grant
	for _, p := range perms {
		var g inventory.Grant
		switch {
		case p.Group == ec2types.PermissionGroupAll:
			g = publicGrant
		case p.UserId != nil:
			g = inventory.Grant{Kind: inventory.GrantAccount, Value: aws.ToString(p.UserId)}
		case p.OrganizationArn != nil:
			g = inventory.Grant{Kind: inventory.GrantOrg, Value: aws.ToString(p.OrganizationArn)}
		case p.OrganizationalUnitArn != nil:
			g = inventory.Grant{Kind: inventory.GrantOU, Value: aws.ToString(p.OrganizationalUnitArn)}
		default:
			continue
		}
		g.Via = inventory.ViaAttribute
		out = append(out, g)
	}
	return out
}

// addGrants appends the grants not already held.
func addGrants(have []inventory.Grant, more []inventory.Grant) []inventory.Grant {
	for _, g := range more {
		if !containsGrant(have, g) {
			have = append(have, g)
		}
	}
	return have
}
