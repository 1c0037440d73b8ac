package inventory

import (
	"strings"
	"time"

	"github.com/snapwatch/snapwatch/internal/trust"
)

// Common is what every snapshot, disk and image record carries.
type Common struct {
	Provider string `json:"provider"` // AWS, Azure, GCP
	// Account is where the collector listed the record: AWS account, Azure subscription, GCP
	// project. Owner is who owns it when that differs (an AMI or RDS snapshot shared *to* us);
	// "" means Account. Records of other owners are never reported: they are not ours to fix.
	Account string    `json:"account"`
	Owner   string    `json:"owner,omitempty"`
	Region  string    `json:"region,omitempty"` // region or zone; "global" for GCP global resources
	Kind    Kind      `json:"kind"`
	ID      string    `json:"id"`             // snap-…, ami-…, RDS identifier, Azure resource id, GCP name
	ARN     string    `json:"arn,omitempty"`  // ARN, Azure resource id, GCP self link
	Name    string    `json:"name,omitempty"` // display name, when it differs from ID
	Created time.Time `json:"created,omitzero"`
	SizeGiB int64     `json:"size_gib,omitempty"`
	State   string    `json:"state,omitempty"` // provider's state: "completed", "available", "Unattached", "READY"
	Tags    []Tag     `json:"tags,omitempty"`

	Encryption Encryption `json:"encryption"`
	// Grants are everyone the record is shared with, as the cloud states it (attributes,
	// IAM policies, gallery sharing, network settings). Our own account need not be listed.
	Grants  []Grant `json:"grants,omitempty"`
	Lineage Lineage `json:"lineage,omitzero"`

	// RecycleBin is true for a deleted snapshot or AMI retained in the AWS Recycle Bin (or an
	// equivalent soft-delete): unusable now, but a restore brings back its sharing.
	RecycleBin bool `json:"recycle_bin,omitempty"`
	Deprecated bool `json:"deprecated,omitempty"` // AMI past its deprecation time, GCP DEPRECATED
	Disabled   bool `json:"disabled,omitempty"`   // AMI disabled, GCP OBSOLETE/DELETED, gallery version excluded
}

// OwnedElsewhere reports whether the record belongs to another account than the one it was
// listed in.
func (c *Common) OwnedElsewhere() bool {
	return c.Owner != "" && !strings.EqualFold(c.Owner, c.Account)
}

// Tag is one resource tag or label. A slice of them is smaller than a map for the few tags a
// snapshot carries, and keeps the cloud's order.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Tag returns the value of a tag and whether it is set.
func (c *Common) Tag(key string) (string, bool) {
	for _, t := range c.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// Encryption is how a record is encrypted and who may use its key.
// (Fields are ordered strings first, flags last, to keep records small.)
type Encryption struct {
	KeyID   string  `json:"key_id,omitempty"`   // key ARN, Key Vault key / disk encryption set id, Cloud KMS key name
	KeyKind KeyKind `json:"key_kind,omitempty"` // "" when the collector could not tell
	// KeyGrantees are who may decrypt with the key besides the owner: principals of the key
	// policy and of its grants (AWS), of the key's IAM policy (GCP). A condition that scopes
	// "*" to an organisation (aws:PrincipalOrgID) is written as an org grant, not as "*".
	// Meaningful only when GranteesKnown: an empty list read from the policy means "nobody else".
	KeyGrantees   []Grant `json:"key_grantees,omitempty"`
	Encrypted     bool    `json:"encrypted"`
	GranteesKnown bool    `json:"grantees_known,omitempty"`
}

// GrantKind is the kind of party a record is shared with.
type GrantKind string

// The values are internal/trust's kinds, so that the boundary reads a grant as it is written.
const (
	GrantPublic       GrantKind = trust.KindPublic       // everyone: AWS group "all", GCP allUsers, Azure community gallery
	GrantAccount      GrantKind = trust.KindAccount      // an AWS account id (RDS writes public as the value "all")
	GrantOrg          GrantKind = trust.KindOrg          // an AWS organization ARN, a GCP organization
	GrantOU           GrantKind = trust.KindOU           // an AWS organizational unit ARN
	GrantTenant       GrantKind = trust.KindTenant       // an Azure AD tenant (gallery sharing)
	GrantSubscription GrantKind = trust.KindSubscription // an Azure subscription (gallery sharing)
	GrantMember       GrantKind = trust.KindMember       // a GCP IAM member: user:, group:, serviceAccount:, domain:
	GrantAuthUsers    GrantKind = trust.KindAuthUsers    // GCP allAuthenticatedUsers: anyone with a Google account
	// GrantSASLink is a live Azure export URL (disk state ActiveSAS): whoever holds the link can
	// download the data until access is revoked.
	GrantSASLink GrantKind = trust.KindSASLink
	// GrantNetworkPublic is an Azure disk or snapshot that may be exported over the public
	// network: networkAccessPolicy AllowAll and publicNetworkAccess not Disabled (both fields;
	// checking one alone is CloudSploit's bug). Anyone later given a SAS can use it from anywhere.
	GrantNetworkPublic GrantKind = trust.KindNetworkPublic
)

// Where a grant comes from, for the description and for the fix (the same account can be
// granted by an attribute and by a policy, and each needs its own removal).
const (
	ViaAttribute      = "attribute"       // createVolumePermission, launchPermission, RDS restore, Redshift AccountsWithRestoreAccess
	ViaPolicy         = "policy"          // resource IAM policy (GCP image/snapshot, Redshift Serverless)
	ViaProjectPolicy  = "project-policy"  // a project/folder-level role that reaches every image in it
	ViaGallerySharing = "gallery-sharing" // Azure Compute Gallery sharingProfile
	ViaDiskState      = "disk-state"      // Azure diskState ActiveSAS
	ViaNetworkPolicy  = "network-policy"  // Azure networkAccessPolicy + publicNetworkAccess
	ViaKeyPolicy      = "key-policy"      // KMS key policy statement
	ViaKeyGrant       = "key-grant"       // KMS grant
)

// Grant is one party a record (or a key) is shared with.
type Grant struct {
	Kind  GrantKind `json:"kind"`
	Value string    `json:"value"`          // account id, ARN, tenant id, IAM member; "all" for public
	Via   string    `json:"via,omitempty"`  // one of the Via* values
	Role  string    `json:"role,omitempty"` // GCP role or Azure access level, needed to remove the binding
}

// Lineage is where a record came from, and whether its sources still exist.
// Whether a source exists is set by the collector that looked it up (DescribeVolumes, a disk
// GET); Unknown is never read as gone.
type Lineage struct {
	SourceVolume   string `json:"source_volume,omitempty"`   // EBS volume, Azure/GCP disk, RDS instance or cluster
	ParentSnapshot string `json:"parent_snapshot,omitempty"` // the copy's source, a disk's source snapshot
	SourceImage    string `json:"source_image,omitempty"`    // AMI copied from, disk created from image
	SourceExists   Tri    `json:"source_exists,omitempty"`
	ParentExists   Tri    `json:"parent_exists,omitempty"`
	ImageExists    Tri    `json:"image_exists,omitempty"`
}

// Snapshot is a disk snapshot, a database snapshot, or a disk.
type Snapshot struct {
	Common
	// Engine names the database engine of RDS records: "postgres", "aurora-mysql", "docdb",
	// "neptune". DocumentDB and Neptune cluster snapshots come back from the RDS API as
	// rds-cluster-snapshot records; the engine is what labels them, so each is one record.
	Engine string `json:"engine,omitempty"`
	// Automated is a snapshot the service creates and expires itself (RDS automated, Redshift
	// automated): it cannot be shared and ages out on its own.
	Automated bool `json:"automated,omitempty"`
}

// Image is a machine image. Its Encryption sums up its storage: Encrypted is false when any
// backing snapshot is unencrypted, and KeyKind is the weakest key among them.
type Image struct {
	Common
	// Backing are the snapshots the image references, so that launching the image reads them
	// (AMI block device mappings). Images that hold their own copy (GCP, Azure) leave it empty.
	Backing []Backing `json:"backing,omitempty"`
}

// Backing is one snapshot behind an image.
type Backing struct {
	SnapshotID string `json:"snapshot_id"`
	Device     string `json:"device,omitempty"` // /dev/xvda
	Encrypted  bool   `json:"encrypted"`
	KeyID      string `json:"key_id,omitempty"`
	// Exists is No when the collector found the snapshot deleted: the image cannot be launched.
	Exists Tri `json:"exists,omitempty"`
}

// Covers reports whether a key grantee g lets the recipient r decrypt: g is public ("*"), names
// the same party (an account by id or ARN, an org by id or ARN, a member exactly), or is the
// organisation an OU recipient belongs to.
func (g Grant) Covers(r Grant) bool {
	gv, rv := strings.TrimSpace(g.Value), strings.TrimSpace(r.Value)
	if g.Kind == GrantPublic || g.Kind == GrantAuthUsers || gv == "*" || strings.EqualFold(gv, "all") {
		return true
	}
	switch r.Kind {
	case GrantPublic, GrantAuthUsers, GrantSASLink, GrantNetworkPublic:
		return false // only a public key grant covers everyone
	case GrantOrg:
		return g.Kind == GrantOrg && trust.OrgID(gv) == trust.OrgID(rv)
	case GrantOU:
		return (g.Kind == GrantOU && trust.OUID(gv) == trust.OUID(rv)) ||
			(g.Kind == GrantOrg && trust.OrgID(gv) == trust.OrgOfOU(rv))
	case GrantMember:
		return g.Kind == GrantMember && strings.EqualFold(gv, rv)
	}
	// Accounts, subscriptions, tenants: a key policy may name an account by id or by any ARN in it.
	return g.Kind != GrantOrg && g.Kind != GrantOU && g.Kind != GrantMember && trust.AccountID(gv) == trust.AccountID(rv)
}
