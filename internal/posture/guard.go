package posture

import (
	"strconv"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
)

// guard reports one account or region guard that is off or not enforced.
func (r *run) guard(g *inventory.Guard) {
	res := finding.Resource{Provider: g.Provider, Account: g.Account, Region: g.Region, Type: resourceGuard, ID: string(g.Kind)}
	ev := finding.Evidence{"guard": string(g.Kind), "state": g.State}
	if g.ManagedBy != "" {
		ev["managed_by"] = g.ManagedBy
	}
	where := g.Account + cond(g.Region != "", "/"+g.Region, "")
	declarative := g.ManagedBy == inventory.ManagedByDeclarativePolicy
	switch g.Kind {
	case inventory.GuardSnapshotBPA:
		n := r.publicAttr[regionKey{g.Provider, g.Account, g.Region}]
		ev["public_attribute_snapshots"] = n
		held := ""
		if n > 0 {
			held = " " + strconv.Itoa(n) + " snapshot(s) in the region have a public attribute."
		}
		switch g.State {
		case inventory.BPABlockAllSharing:
			if !declarative {
				r.emit(emission{info: standaloneInfo(ruleSnapshotBPANotOrg), res: res, sev: finding.Low, ev: ev,
					desc: "Snapshot Block Public Access in " + where + " is block-all-sharing, but set by the account: anyone there allowed " +
						"ec2:DisableSnapshotBlockPublicAccess can turn it off." + held,
					rem: declarativeSnapshotSteps})
			}
		case inventory.BPABlockNewSharing, inventory.BPAUnblocked:
			sev, what := finding.High, "unblocked: nothing stops a snapshot being made public."
			if g.State == inventory.BPABlockNewSharing {
				sev, what = finding.Medium, "block-new-sharing: new public sharing is refused, but snapshots that were already public stay public (only block-all-sharing hides them)."
			}
			rem := "aws ec2 enable-snapshot-block-public-access --region " + g.Region + " --state block-all-sharing" +
				"\nConsole: EC2 console → Settings → Data protection and security → Block public access for EBS snapshots → Manage → Block all public access"
			fix := ""
			if declarative {
				rem, fix = "The state is set by an organisation declarative policy; the account cannot change it. "+declarativeSnapshotSteps, fixDeclarativeSnapshot
			}
			r.emit(emission{info: standaloneInfo(ruleSnapshotBPAOff), res: res, sev: sev, ev: ev, fix: fix,
				desc: "Snapshot Block Public Access in " + where + " is " + what + managedText(g.ManagedBy) + held, rem: rem})
		}
	case inventory.GuardImageBPA:
		switch g.State {
		case inventory.BPAUnblocked:
			rem := "aws ec2 enable-image-block-public-access --region " + g.Region + " --image-block-public-access-state block-new-sharing" +
				"\nConsole: EC2 console → Settings → Data protection and security → Block public access for AMIs → Manage"
			fix := ""
			if declarative {
				rem, fix = "The state is set by an organisation declarative policy. "+declarativeImageSteps, fixDeclarativeImage
			}
			r.emit(emission{info: standaloneInfo(ruleImageBPAOff), res: res, sev: finding.Medium, ev: ev, fix: fix, rem: rem,
				desc: "AMI Block Public Access in " + where + " is unblocked" + managedText(g.ManagedBy) +
					": any AMI can be made public. (Turning it on blocks new public sharing only; AMIs already public stay public.)"})
		case inventory.BPABlockNewSharing:
			if !declarative {
				r.emit(emission{info: standaloneInfo(ruleImageBPANotOrg), res: res, sev: finding.Low, ev: ev, rem: declarativeImageSteps,
					desc: "AMI Block Public Access in " + where + " is on, but set by the account: anyone there allowed ec2:DisableImageBlockPublicAccess can turn it off."})
			}
		}
	case inventory.GuardEncryptionByDefault:
		if g.KeyID != "" {
			ev["key_id"] = g.KeyID
		}
		switch {
		case g.State == inventory.StateDisabled:
			r.emit(emission{info: standaloneInfo(ruleEBDOff), res: res, sev: finding.Medium, ev: ev,
				desc: "EBS encryption by default is off in " + where + ": new volumes, and the snapshots taken of them, are unencrypted unless each creator asks, and an unencrypted snapshot is the only kind that can be made public.",
				rem: "aws ec2 enable-ebs-encryption-by-default --region " + g.Region + "\naws ec2 modify-ebs-default-kms-key-id --region " + g.Region + " --kms-key-id " + cmk +
					"\nConsole: EC2 console → Settings → Data protection and security → EBS encryption → Manage → Always encrypt new EBS volumes"})
		case g.State == inventory.StateEnabled && g.KeyKind == inventory.KeyProviderManaged:
			r.emit(emission{info: standaloneInfo(ruleEBDProviderKey), res: res, sev: finding.Low, ev: ev,
				desc: "EBS encryption by default in " + where + " uses the AWS-managed key " + cond(g.KeyID != "", g.KeyID, "alias/aws/ebs") +
					": its policy cannot be narrowed, and snapshots encrypted with it cannot be shared, so DR and forensics copies get re-encrypted or decrypted by hand.",
				rem: "aws ec2 modify-ebs-default-kms-key-id --region " + g.Region + " --kms-key-id " + cmk})
		}
	case inventory.GuardDomainRestrictedSharing:
		if g.State == inventory.StateDisabled {
			r.emit(emission{info: standaloneInfo(ruleGCPDomainSharing), res: res, sev: finding.Low, ev: ev,
				desc: "The organisation policy iam.allowedPolicyMemberDomains is not enforced for " + where +
					": images, snapshots and machine images there can be granted to allUsers, allAuthenticatedUsers or any outside domain.",
				rem: "Enforce the constraint iam.allowedPolicyMemberDomains with your Cloud Identity customer id: " +
					"gcloud resource-manager org-policies allow iam.allowedPolicyMemberDomains <customer id> --organization <org id>"})
		}
	}
}

const declarativeSnapshotSteps = "Enforce it for the organisation: AWS Organizations console → Policies → Declarative policies for EC2 → " +
	"attach a policy with ec2_attributes.snapshot_block_public_access.state = block_all_sharing to the root or OU."

const declarativeImageSteps = "Enforce it for the organisation: AWS Organizations console → Policies → Declarative policies for EC2 → " +
	"attach a policy with ec2_attributes.image_block_public_access.state = block_new_sharing (Control Tower CT.EC2.PV.11)."

func standaloneInfo(id string) CheckInfo { return catalogue()[id] }
