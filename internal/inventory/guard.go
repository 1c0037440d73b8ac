package inventory

// GuardKind names an account- or region-level protection.
type GuardKind string

const (
	// GuardSnapshotBPA is EBS snapshot Block Public Access (ec2:GetSnapshotBlockPublicAccessState).
	GuardSnapshotBPA GuardKind = "snapshot-block-public-access"
	// GuardImageBPA is AMI Block Public Access (ec2:GetImageBlockPublicAccessState).
	GuardImageBPA GuardKind = "image-block-public-access"
	// GuardEncryptionByDefault is EBS encryption by default and its default key
	// (ec2:GetEbsEncryptionByDefault, ec2:GetEbsDefaultKmsKeyId).
	GuardEncryptionByDefault GuardKind = "ebs-encryption-by-default"
	// GuardDomainRestrictedSharing is the GCP org policy iam.allowedPolicyMemberDomains, which
	// stops allUsers / allAuthenticatedUsers and foreign-domain bindings on images and snapshots.
	GuardDomainRestrictedSharing GuardKind = "domain-restricted-sharing"
)

// Guard states, in the cloud's own spelling.
const (
	BPABlockAllSharing = "block-all-sharing" // snapshots only: also hides snapshots that are already public
	BPABlockNewSharing = "block-new-sharing" // stops new public sharing; existing public ones stay public
	BPAUnblocked       = "unblocked"

	StateEnabled  = "enabled"  // encryption by default on, org policy enforced
	StateDisabled = "disabled" // encryption by default off, org policy not enforced
)

// Who manages a guard.
const (
	ManagedByAccount           = "account"
	ManagedByDeclarativePolicy = "declarative-policy" // AWS Organizations declarative policy: an account cannot change it
	ManagedByOrgPolicy         = "org-policy"         // GCP organization policy inherited from above the project
)

// Guard is one protection's state in one account and region. Region is "" for account-wide
// guards. A guard the collector could not read is absent, not "off".
type Guard struct {
	Provider  string    `json:"provider"`
	Account   string    `json:"account"`
	Region    string    `json:"region,omitempty"`
	Kind      GuardKind `json:"kind"`
	State     string    `json:"state"`
	ManagedBy string    `json:"managed_by,omitempty"`
	// KeyID and KeyKind describe the default key of GuardEncryptionByDefault.
	KeyID   string  `json:"key_id,omitempty"`
	KeyKind KeyKind `json:"key_kind,omitempty"`
}
