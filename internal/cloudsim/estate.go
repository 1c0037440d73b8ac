package cloudsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"gopkg.in/yaml.v3"
)

// Estate is the simulated cloud: an organisation and its accounts, each with per-region
// resources. It is plain data, read from YAML or JSON (LoadEstate, ParseEstate) or made by
// GenerateEstate. The schema, with an example, is in docs/design/cloudsim.md.
//
// NewAWS takes the estate over: mutating calls (ModifySnapshotAttribute, ...) change it in place,
// so a test can read the effect back, and nothing else may change it while the simulator runs.
// The types keep to what answers need: a generated estate holds 100k snapshots.
type Estate struct {
	Organization *Organization `yaml:"organization,omitempty" json:"organization,omitempty"`
	Accounts     []*Account    `yaml:"accounts" json:"accounts"`

	// baseDir resolves relative Snapshot.Content paths (the estate file's directory).
	baseDir string
}

// Organization is an AWS Organizations organisation. An account is a member when it is placed
// in the tree: in Accounts (directly under the root) or in a unit. The management account is a
// member even when not placed.
type Organization struct {
	ID                string   `yaml:"id" json:"id"`                                 // o-xxxxxxxxxx
	RootID            string   `yaml:"root_id,omitempty" json:"root_id,omitempty"`   // r-xxxx; derived from ID when empty
	ManagementAccount string   `yaml:"management_account" json:"management_account"` // may call the listing APIs
	DelegatedAdmins   []string `yaml:"delegated_admins,omitempty" json:"delegated_admins,omitempty"`
	Accounts          []string `yaml:"accounts,omitempty" json:"accounts,omitempty"` // directly under the root
	Units             []*Unit  `yaml:"units,omitempty" json:"units,omitempty"`
}

// Unit is an organisational unit with its accounts and child units.
type Unit struct {
	ID       string   `yaml:"id,omitempty" json:"id,omitempty"` // ou-xxxx-xxxxxxxx; derived from the name when empty
	Name     string   `yaml:"name" json:"name"`
	Accounts []string `yaml:"accounts,omitempty" json:"accounts,omitempty"`
	Units    []*Unit  `yaml:"units,omitempty" json:"units,omitempty"`
}

// Account is one AWS account.
type Account struct {
	ID         string      `yaml:"id" json:"id"`
	Name       string      `yaml:"name,omitempty" json:"name,omitempty"`
	Email      string      `yaml:"email,omitempty" json:"email,omitempty"`
	AccessKeys []AccessKey `yaml:"access_keys,omitempty" json:"access_keys,omitempty"`
	Roles      []Role      `yaml:"roles,omitempty" json:"roles,omitempty"`
	// EnabledRegions is the exact set of regions the account may call (DescribeRegions lists the
	// others as not-opted-in). Empty means the 17 regions AWS enables by default plus every
	// region named in Regions.
	EnabledRegions []string           `yaml:"enabled_regions,omitempty" json:"enabled_regions,omitempty"`
	Regions        map[string]*Region `yaml:"regions,omitempty" json:"regions,omitempty"`
	Buckets        []Bucket           `yaml:"s3_buckets,omitempty" json:"s3_buckets,omitempty"`
	// S3PublicAccessBlock is the account's S3 Block Public Access (s3control); nil: none.
	S3PublicAccessBlock *PublicAccessBlock `yaml:"s3_public_access_block,omitempty" json:"s3_public_access_block,omitempty"`
}

// AccessKey is a long-term credential of an IAM user of the account.
type AccessKey struct {
	ID     string `yaml:"id" json:"id"`
	Secret string `yaml:"secret,omitempty" json:"secret,omitempty"` // not checked: signatures are not verified
	User   string `yaml:"user,omitempty" json:"user,omitempty"`     // IAM user name; default "snapwatch"
}

// Role is an IAM role that other principals may assume.
type Role struct {
	Name string `yaml:"name" json:"name"`
	// Trust lists who may assume the role: an account id or "arn:aws:iam::ID:root" (any principal
	// of that account), a user or role ARN, or "*".
	Trust      []string `yaml:"trust" json:"trust"`
	ExternalID string   `yaml:"external_id,omitempty" json:"external_id,omitempty"`
}

// Region holds an account's resources and settings in one region.
type Region struct {
	Guards            Guards             `yaml:"guards,omitempty" json:"guards,omitempty"`
	Snapshots         []Snapshot         `yaml:"snapshots,omitempty" json:"snapshots,omitempty"`
	Images            []Image            `yaml:"images,omitempty" json:"images,omitempty"`
	Volumes           []Volume           `yaml:"volumes,omitempty" json:"volumes,omitempty"`
	Instances         []Instance         `yaml:"instances,omitempty" json:"instances,omitempty"`
	LaunchTemplates   []LaunchTemplate   `yaml:"launch_templates,omitempty" json:"launch_templates,omitempty"`
	RecycleBin        RecycleBin         `yaml:"recycle_bin,omitempty" json:"recycle_bin,omitempty"`
	StoreImageTasks   []StoreImageTask   `yaml:"store_image_tasks,omitempty" json:"store_image_tasks,omitempty"`
	ExportImageTasks  []ExportImageTask  `yaml:"export_image_tasks,omitempty" json:"export_image_tasks,omitempty"`
	ExportTasks       []ExportTask       `yaml:"export_tasks,omitempty" json:"export_tasks,omitempty"`
	DLMPolicies       []DLMPolicy        `yaml:"dlm_policies,omitempty" json:"dlm_policies,omitempty"`
	RecycleBinRules   []RecycleBinRule   `yaml:"recycle_bin_rules,omitempty" json:"recycle_bin_rules,omitempty"`
	KMSKeys           []KMSKey           `yaml:"kms_keys,omitempty" json:"kms_keys,omitempty"`
	DBSnapshots       []DBSnapshot       `yaml:"db_snapshots,omitempty" json:"db_snapshots,omitempty"`
	DBClusterSnaps    []DBSnapshot       `yaml:"db_cluster_snapshots,omitempty" json:"db_cluster_snapshots,omitempty"`
	RDSExportTasks    []RDSExportTask    `yaml:"rds_export_tasks,omitempty" json:"rds_export_tasks,omitempty"`
	RedshiftSnapshots []RedshiftSnapshot `yaml:"redshift_snapshots,omitempty" json:"redshift_snapshots,omitempty"`
	// The databases snapshots are taken of: whether a snapshot's source still exists.
	DBInstances      []DBInstance      `yaml:"db_instances,omitempty" json:"db_instances,omitempty"`
	DBClusters       []DBCluster       `yaml:"db_clusters,omitempty" json:"db_clusters,omitempty"`
	RedshiftClusters []RedshiftCluster `yaml:"redshift_clusters,omitempty" json:"redshift_clusters,omitempty"`
}

// DBInstance is an RDS DB instance (also a DocumentDB or Neptune instance, by Engine).
type DBInstance struct {
	ID        string `yaml:"id" json:"id"`                                     // DBInstanceIdentifier
	Engine    string `yaml:"engine,omitempty" json:"engine,omitempty"`         // default mysql
	Status    string `yaml:"status,omitempty" json:"status,omitempty"`         // default available
	Class     string `yaml:"class,omitempty" json:"class,omitempty"`           // default db.t3.micro
	ClusterID string `yaml:"cluster_id,omitempty" json:"cluster_id,omitempty"` // the cluster it belongs to, if any
	Storage   int32  `yaml:"storage_gb,omitempty" json:"storage_gb,omitempty"` // default 20
}

// DBCluster is an Aurora, DocumentDB or Neptune cluster (Engine says which).
type DBCluster struct {
	ID     string `yaml:"id" json:"id"`                             // DBClusterIdentifier
	Engine string `yaml:"engine,omitempty" json:"engine,omitempty"` // default aurora-mysql
	Status string `yaml:"status,omitempty" json:"status,omitempty"` // default available
}

// RedshiftCluster is a provisioned Redshift cluster.
type RedshiftCluster struct {
	ID       string `yaml:"id" json:"id"`                                   // ClusterIdentifier
	Status   string `yaml:"status,omitempty" json:"status,omitempty"`       // default available
	NodeType string `yaml:"node_type,omitempty" json:"node_type,omitempty"` // default ra3.xlplus
	Nodes    int32  `yaml:"nodes,omitempty" json:"nodes,omitempty"`         // default 2
}

// Guards are the region's account-level protections.
type Guards struct {
	// SnapshotBPA is block-all-sharing, block-new-sharing or unblocked (default).
	SnapshotBPA          string `yaml:"snapshot_bpa,omitempty" json:"snapshot_bpa,omitempty"`
	SnapshotBPAManagedBy string `yaml:"snapshot_bpa_managed_by,omitempty" json:"snapshot_bpa_managed_by,omitempty"` // account (default) | declarative-policy
	// ImageBPA is block-new-sharing or unblocked (default).
	ImageBPA            string `yaml:"image_bpa,omitempty" json:"image_bpa,omitempty"`
	ImageBPAManagedBy   string `yaml:"image_bpa_managed_by,omitempty" json:"image_bpa_managed_by,omitempty"`
	EncryptionByDefault bool   `yaml:"ebs_encryption_by_default,omitempty" json:"ebs_encryption_by_default,omitempty"`
	// DefaultKMSKey is GetEbsDefaultKmsKeyId's answer; default alias/aws/ebs.
	DefaultKMSKey string `yaml:"ebs_default_kms_key,omitempty" json:"ebs_default_kms_key,omitempty"`
}

// Permissions are an EBS snapshot's createVolumePermission or an AMI's launchPermission.
type Permissions struct {
	Groups           []string `yaml:"groups,omitempty" json:"groups,omitempty"`     // "all" makes it public
	UserIDs          []string `yaml:"user_ids,omitempty" json:"user_ids,omitempty"` // account ids
	OrganizationARNs []string `yaml:"organization_arns,omitempty" json:"organization_arns,omitempty"`
	OUARNs           []string `yaml:"ou_arns,omitempty" json:"ou_arns,omitempty"`
}

// Snapshot is an EBS snapshot.
type Snapshot struct {
	ID          string    `yaml:"id" json:"id"`
	VolumeID    string    `yaml:"volume_id,omitempty" json:"volume_id,omitempty"`
	VolumeSize  int32     `yaml:"volume_size,omitempty" json:"volume_size,omitempty"` // GiB; default 8, or the content's size
	Encrypted   bool      `yaml:"encrypted,omitempty" json:"encrypted,omitempty"`
	KMSKey      string    `yaml:"kms_key,omitempty" json:"kms_key,omitempty"` // key id, ARN or alias; default the aws/ebs key when encrypted
	StartTime   time.Time `yaml:"start_time,omitempty" json:"start_time,omitempty"`
	Description string    `yaml:"description,omitempty" json:"description,omitempty"`
	State       string    `yaml:"state,omitempty" json:"state,omitempty"` // default completed
	OwnerAlias  string    `yaml:"owner_alias,omitempty" json:"owner_alias,omitempty"`
	Tags        Tags      `yaml:"tags,omitempty" json:"tags,omitempty"`
	// Public is shorthand for the group "all" in Permissions.
	Public      bool         `yaml:"public,omitempty" json:"public,omitempty"`
	Permissions *Permissions `yaml:"create_volume_permissions,omitempty" json:"create_volume_permissions,omitempty"`
	// Content is a raw disk image file whose bytes are the snapshot's blocks (EBS direct API);
	// relative paths are taken from the estate file's directory. Empty: every block is zero.
	Content string `yaml:"content,omitempty" json:"content,omitempty"`
	// Parent is the previous snapshot of the same volume (ListChangedBlocks lineage).
	Parent string `yaml:"parent,omitempty" json:"parent,omitempty"`
}

// Image is an AMI.
type Image struct {
	ID                string        `yaml:"id" json:"id"`
	Name              string        `yaml:"name,omitempty" json:"name,omitempty"`
	Description       string        `yaml:"description,omitempty" json:"description,omitempty"`
	CreationDate      time.Time     `yaml:"creation_date,omitempty" json:"creation_date,omitempty"`
	DeprecationTime   time.Time     `yaml:"deprecation_time,omitempty" json:"deprecation_time,omitempty"`
	Disabled          bool          `yaml:"disabled,omitempty" json:"disabled,omitempty"`
	OwnerAlias        string        `yaml:"owner_alias,omitempty" json:"owner_alias,omitempty"`
	RootDevice        string        `yaml:"root_device,omitempty" json:"root_device,omitempty"` // default /dev/xvda
	BlockDevices      []BlockDevice `yaml:"block_devices,omitempty" json:"block_devices,omitempty"`
	Tags              Tags          `yaml:"tags,omitempty" json:"tags,omitempty"`
	Public            bool          `yaml:"public,omitempty" json:"public,omitempty"`
	LaunchPermissions *Permissions  `yaml:"launch_permissions,omitempty" json:"launch_permissions,omitempty"`
	SourceImageID     string        `yaml:"source_image_id,omitempty" json:"source_image_id,omitempty"`
}

// BlockDevice is one block device mapping of an AMI or launch template.
type BlockDevice struct {
	Device     string `yaml:"device,omitempty" json:"device,omitempty"`
	SnapshotID string `yaml:"snapshot_id,omitempty" json:"snapshot_id,omitempty"`
	VolumeSize int32  `yaml:"volume_size,omitempty" json:"volume_size,omitempty"`
	Encrypted  bool   `yaml:"encrypted,omitempty" json:"encrypted,omitempty"`
	KMSKey     string `yaml:"kms_key,omitempty" json:"kms_key,omitempty"`
}

// Volume is an EBS volume.
type Volume struct {
	ID         string    `yaml:"id" json:"id"`
	Size       int32     `yaml:"size,omitempty" json:"size,omitempty"`
	SnapshotID string    `yaml:"snapshot_id,omitempty" json:"snapshot_id,omitempty"`
	State      string    `yaml:"state,omitempty" json:"state,omitempty"` // default in-use when an instance lists it, else available
	Encrypted  bool      `yaml:"encrypted,omitempty" json:"encrypted,omitempty"`
	KMSKey     string    `yaml:"kms_key,omitempty" json:"kms_key,omitempty"`
	CreateTime time.Time `yaml:"create_time,omitempty" json:"create_time,omitempty"`
	Tags       Tags      `yaml:"tags,omitempty" json:"tags,omitempty"`
}

// Instance is an EC2 instance, with only what orphan checks read.
type Instance struct {
	ID      string   `yaml:"id" json:"id"`
	ImageID string   `yaml:"image_id,omitempty" json:"image_id,omitempty"`
	State   string   `yaml:"state,omitempty" json:"state,omitempty"` // default running
	Volumes []string `yaml:"volumes,omitempty" json:"volumes,omitempty"`
	Tags    Tags     `yaml:"tags,omitempty" json:"tags,omitempty"`
}

// LaunchTemplate is an EC2 launch template and its versions.
type LaunchTemplate struct {
	ID       string                  `yaml:"id" json:"id"`
	Name     string                  `yaml:"name" json:"name"`
	Versions []LaunchTemplateVersion `yaml:"versions" json:"versions"`
}

// LaunchTemplateVersion is one version; Number defaults to its position (1-based).
type LaunchTemplateVersion struct {
	Number       int64         `yaml:"number,omitempty" json:"number,omitempty"`
	Default      bool          `yaml:"default,omitempty" json:"default,omitempty"` // default: version 1
	ImageID      string        `yaml:"image_id,omitempty" json:"image_id,omitempty"`
	BlockDevices []BlockDevice `yaml:"block_devices,omitempty" json:"block_devices,omitempty"`
}

// RecycleBin holds deleted snapshots and deregistered AMIs awaiting their retention end.
type RecycleBin struct {
	Snapshots []RecycledSnapshot `yaml:"snapshots,omitempty" json:"snapshots,omitempty"`
	Images    []RecycledImage    `yaml:"images,omitempty" json:"images,omitempty"`
}

// RecycledSnapshot is a snapshot in the Recycle Bin.
type RecycledSnapshot struct {
	ID          string    `yaml:"id" json:"id"`
	VolumeID    string    `yaml:"volume_id,omitempty" json:"volume_id,omitempty"`
	Description string    `yaml:"description,omitempty" json:"description,omitempty"`
	EnterTime   time.Time `yaml:"enter_time,omitempty" json:"enter_time,omitempty"`
	ExitTime    time.Time `yaml:"exit_time,omitempty" json:"exit_time,omitempty"`
	// Permissions are the createVolumePermission the snapshot had when deleted: kept in the
	// bin and restored with it; the owner reads them with DescribeSnapshotAttribute.
	Permissions *Permissions `yaml:"create_volume_permissions,omitempty" json:"create_volume_permissions,omitempty"`
}

// RecycledImage is an AMI in the Recycle Bin.
type RecycledImage struct {
	ID          string    `yaml:"id" json:"id"`
	Name        string    `yaml:"name,omitempty" json:"name,omitempty"`
	Description string    `yaml:"description,omitempty" json:"description,omitempty"`
	EnterTime   time.Time `yaml:"enter_time,omitempty" json:"enter_time,omitempty"`
	ExitTime    time.Time `yaml:"exit_time,omitempty" json:"exit_time,omitempty"`
	// LaunchPermissions are the AMI's launch permissions when deregistered, as for snapshots.
	LaunchPermissions *Permissions `yaml:"launch_permissions,omitempty" json:"launch_permissions,omitempty"`
}

// StoreImageTask is an AMI stored to S3 (CreateStoreImageTask).
type StoreImageTask struct {
	ImageID   string    `yaml:"image_id" json:"image_id"`
	Bucket    string    `yaml:"bucket" json:"bucket"`
	Key       string    `yaml:"key,omitempty" json:"key,omitempty"`     // default IMAGE_ID.bin
	State     string    `yaml:"state,omitempty" json:"state,omitempty"` // default Completed
	StartTime time.Time `yaml:"start_time,omitempty" json:"start_time,omitempty"`
}

// ExportImageTask is an AMI exported to S3 as a disk image (ExportImage).
type ExportImageTask struct {
	ID      string `yaml:"id" json:"id"`
	ImageID string `yaml:"image_id" json:"image_id"`
	Bucket  string `yaml:"bucket" json:"bucket"`
	Prefix  string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	Status  string `yaml:"status,omitempty" json:"status,omitempty"` // default completed
	Format  string `yaml:"format,omitempty" json:"format,omitempty"` // VMDK (default), RAW, VHD
}

// ExportTask is an instance exported to S3 (CreateInstanceExportTask).
type ExportTask struct {
	ID         string `yaml:"id" json:"id"`
	InstanceID string `yaml:"instance_id" json:"instance_id"`
	Bucket     string `yaml:"bucket" json:"bucket"`
	Key        string `yaml:"key,omitempty" json:"key,omitempty"`
	State      string `yaml:"state,omitempty" json:"state,omitempty"` // default completed
	Format     string `yaml:"format,omitempty" json:"format,omitempty"`
}

// DLMPolicy is a Data Lifecycle Manager policy; ShareWith in a schedule shares every snapshot it
// makes with other accounts.
type DLMPolicy struct {
	ID          string        `yaml:"id" json:"id"`
	Description string        `yaml:"description,omitempty" json:"description,omitempty"`
	State       string        `yaml:"state,omitempty" json:"state,omitempty"`             // default ENABLED
	PolicyType  string        `yaml:"policy_type,omitempty" json:"policy_type,omitempty"` // default EBS_SNAPSHOT_MANAGEMENT
	TargetTags  Tags          `yaml:"target_tags,omitempty" json:"target_tags,omitempty"`
	Schedules   []DLMSchedule `yaml:"schedules,omitempty" json:"schedules,omitempty"`
	Created     time.Time     `yaml:"created,omitempty" json:"created,omitempty"`
}

// DLMSchedule is one schedule of a DLM policy.
type DLMSchedule struct {
	Name                string   `yaml:"name" json:"name"`
	IntervalHours       int32    `yaml:"interval_hours,omitempty" json:"interval_hours,omitempty"` // default 24
	RetainCount         int32    `yaml:"retain_count,omitempty" json:"retain_count,omitempty"`     // default 7
	ShareWith           []string `yaml:"share_with,omitempty" json:"share_with,omitempty"`
	UnshareInterval     int32    `yaml:"unshare_interval,omitempty" json:"unshare_interval,omitempty"`
	UnshareIntervalUnit string   `yaml:"unshare_interval_unit,omitempty" json:"unshare_interval_unit,omitempty"`
}

// RecycleBinRule is a Recycle Bin retention rule (rbin:ListRules).
type RecycleBinRule struct {
	ID            string `yaml:"id" json:"id"`
	ResourceType  string `yaml:"resource_type" json:"resource_type"` // EBS_SNAPSHOT | EC2_IMAGE
	RetentionDays int32  `yaml:"retention_days" json:"retention_days"`
	Description   string `yaml:"description,omitempty" json:"description,omitempty"`
	Locked        bool   `yaml:"locked,omitempty" json:"locked,omitempty"`
}

// KMSKey is a KMS key. Every region also has the AWS managed key alias/aws/ebs, made on load.
type KMSKey struct {
	ID          string     `yaml:"id" json:"id"`                           // a key id (uuid)
	Alias       string     `yaml:"alias,omitempty" json:"alias,omitempty"` // "alias/name"
	Description string     `yaml:"description,omitempty" json:"description,omitempty"`
	AWSManaged  bool       `yaml:"aws_managed,omitempty" json:"aws_managed,omitempty"`
	Disabled    bool       `yaml:"disabled,omitempty" json:"disabled,omitempty"`
	Policy      string     `yaml:"policy,omitempty" json:"policy,omitempty"` // JSON; default: the account's root may do everything
	Grants      []KMSGrant `yaml:"grants,omitempty" json:"grants,omitempty"`
	Created     time.Time  `yaml:"created,omitempty" json:"created,omitempty"`
}

// KMSGrant is a grant on a key.
type KMSGrant struct {
	ID         string   `yaml:"id,omitempty" json:"id,omitempty"`
	Name       string   `yaml:"name,omitempty" json:"name,omitempty"`
	Grantee    string   `yaml:"grantee" json:"grantee"` // principal ARN or account id
	Retiring   string   `yaml:"retiring,omitempty" json:"retiring,omitempty"`
	Operations []string `yaml:"operations" json:"operations"` // Decrypt, CreateGrant, ...
}

// DBSnapshot is an RDS DB snapshot or, in db_cluster_snapshots, a cluster snapshot (Aurora,
// DocumentDB, Neptune: Engine says which).
type DBSnapshot struct {
	ID        string    `yaml:"id" json:"id"`                                     // the snapshot identifier
	SourceID  string    `yaml:"source_id,omitempty" json:"source_id,omitempty"`   // DB instance or cluster identifier
	Engine    string    `yaml:"engine,omitempty" json:"engine,omitempty"`         // default mysql / aurora-mysql
	Type      string    `yaml:"type,omitempty" json:"type,omitempty"`             // manual (default) | automated
	Created   time.Time `yaml:"created,omitempty" json:"created,omitempty"`       //
	Encrypted bool      `yaml:"encrypted,omitempty" json:"encrypted,omitempty"`   // StorageEncrypted for clusters
	KMSKey    string    `yaml:"kms_key,omitempty" json:"kms_key,omitempty"`       //
	Storage   int32     `yaml:"storage_gb,omitempty" json:"storage_gb,omitempty"` // default 20
	Status    string    `yaml:"status,omitempty" json:"status,omitempty"`         // default available
	// Restore is the "restore" attribute: account ids, and "all" for public.
	Restore []string `yaml:"restore,omitempty" json:"restore,omitempty"`
	Tags    Tags     `yaml:"tags,omitempty" json:"tags,omitempty"`
	// CopiedFrom is the ARN of the snapshot this one was copied from, for a cross-region or
	// cross-account copy (SourceDBSnapshotIdentifier and SourceRegion; SourceDBClusterSnapshotArn).
	CopiedFrom string `yaml:"copied_from,omitempty" json:"copied_from,omitempty"`
}

// RDSExportTask is an RDS snapshot export to S3.
type RDSExportTask struct {
	ID         string    `yaml:"id" json:"id"`
	SourceARN  string    `yaml:"source_arn" json:"source_arn"`
	Bucket     string    `yaml:"bucket" json:"bucket"`
	Prefix     string    `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	Status     string    `yaml:"status,omitempty" json:"status,omitempty"` // default COMPLETE
	KMSKey     string    `yaml:"kms_key,omitempty" json:"kms_key,omitempty"`
	StartTime  time.Time `yaml:"start_time,omitempty" json:"start_time,omitempty"`
	SourceType string    `yaml:"source_type,omitempty" json:"source_type,omitempty"` // SNAPSHOT (default) | CLUSTER
}

// RedshiftSnapshot is a Redshift cluster snapshot.
type RedshiftSnapshot struct {
	ID            string    `yaml:"id" json:"id"`
	ClusterID     string    `yaml:"cluster_id" json:"cluster_id"`
	Type          string    `yaml:"type,omitempty" json:"type,omitempty"` // manual (default) | automated
	Created       time.Time `yaml:"created,omitempty" json:"created,omitempty"`
	Encrypted     bool      `yaml:"encrypted,omitempty" json:"encrypted,omitempty"`
	KMSKey        string    `yaml:"kms_key,omitempty" json:"kms_key,omitempty"`
	Status        string    `yaml:"status,omitempty" json:"status,omitempty"` // default available
	NodeType      string    `yaml:"node_type,omitempty" json:"node_type,omitempty"`
	Nodes         int32     `yaml:"nodes,omitempty" json:"nodes,omitempty"`
	DBName        string    `yaml:"db_name,omitempty" json:"db_name,omitempty"`
	RestoreAccess []string  `yaml:"restore_access,omitempty" json:"restore_access,omitempty"` // account ids
	Tags          Tags      `yaml:"tags,omitempty" json:"tags,omitempty"`
	SourceRegion  string    `yaml:"source_region,omitempty" json:"source_region,omitempty"` // a cross-region copy's source region
}

// Bucket is an S3 bucket with objects (export destinations). Objects' data is their Content, or
// Size zero bytes when Content is empty.
type Bucket struct {
	Name   string `yaml:"name" json:"name"`
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
	// Public makes GetBucketPolicyStatus answer IsPublic=true (a policy granting everyone).
	Public bool `yaml:"public,omitempty" json:"public,omitempty"`
	// ACL is the bucket ACL's grants beyond the owner's FULL_CONTROL (GetBucketAcl).
	ACL []ACLGrant `yaml:"acl,omitempty" json:"acl,omitempty"`
	// PublicAccessBlock is the bucket's S3 Block Public Access configuration; nil: none.
	PublicAccessBlock *PublicAccessBlock `yaml:"public_access_block,omitempty" json:"public_access_block,omitempty"`
	Objects           []Object           `yaml:"objects,omitempty" json:"objects,omitempty"`
}

// ACLGrant is one grant of an S3 ACL: to a group (AllUsers, AuthenticatedUsers, LogDelivery)
// or to a canonical user id.
type ACLGrant struct {
	Group      string `yaml:"group,omitempty" json:"group,omitempty"`
	User       string `yaml:"user,omitempty" json:"user,omitempty"` // canonical user id
	Permission string `yaml:"permission" json:"permission"`         // READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL
}

// PublicAccessBlock is an S3 Block Public Access configuration (bucket or account).
type PublicAccessBlock struct {
	BlockPublicAcls       bool `yaml:"block_public_acls,omitempty" json:"block_public_acls,omitempty"`
	IgnorePublicAcls      bool `yaml:"ignore_public_acls,omitempty" json:"ignore_public_acls,omitempty"`
	BlockPublicPolicy     bool `yaml:"block_public_policy,omitempty" json:"block_public_policy,omitempty"`
	RestrictPublicBuckets bool `yaml:"restrict_public_buckets,omitempty" json:"restrict_public_buckets,omitempty"`
}

// Object is one S3 object.
type Object struct {
	Key     string `yaml:"key" json:"key"`
	Content string `yaml:"content,omitempty" json:"content,omitempty"`
	Size    int    `yaml:"size,omitempty" json:"size,omitempty"`
}

// Tag is a key/value tag.
type Tag struct{ Key, Value string }

// Tags are written as a mapping in the estate file and kept as a small sorted slice: most
// resources have none or a few, and a map per resource would cost 100k maps.
type Tags []Tag

// UnmarshalYAML reads a mapping.
func (t *Tags) UnmarshalYAML(n *yaml.Node) error {
	var m map[string]string
	if err := n.Decode(&m); err != nil {
		return err
	}
	*t = tagsFromMap(m)
	return nil
}

// UnmarshalJSON reads an object.
func (t *Tags) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*t = tagsFromMap(m)
	return nil
}

// MarshalYAML writes a mapping.
func (t Tags) MarshalYAML() (any, error) { return t.asMap(), nil }

// MarshalJSON writes an object.
func (t Tags) MarshalJSON() ([]byte, error) { return json.Marshal(t.asMap()) }

func (t Tags) asMap() map[string]string {
	m := make(map[string]string, len(t))
	for _, x := range t {
		m[x.Key] = x.Value
	}
	return m
}

func tagsFromMap(m map[string]string) Tags {
	if len(m) == 0 {
		return nil
	}
	t := make(Tags, 0, len(m))
	for k, v := range m {
		t = append(t, Tag{k, v})
	}
	sort.Slice(t, func(i, j int) bool { return t[i].Key < t[j].Key })
	return t
}

// Get returns a tag's value.
func (t Tags) Get(key string) (string, bool) {
	for _, x := range t {
		if x.Key == key {
			return x.Value, true
		}
	}
	return "", false
}

// LoadEstate reads an estate file (YAML, or JSON when it starts with '{'). Relative snapshot
// content paths are resolved from the file's directory.
func LoadEstate(path string) (*Estate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	e, err := ParseEstate(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	e.baseDir = filepath.Dir(path)
	return e, nil
}

// ParseEstate reads an estate from YAML or JSON. Unknown fields are errors, so a misspelt
// field does not silently leave a resource unshared.
func ParseEstate(b []byte) (*Estate, error) {
	var e Estate
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("estate JSON: %w", err)
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("estate YAML: %w", err)
		}
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}

// Validate checks what would otherwise make answers ambiguous: duplicate accounts, access keys
// or resource ids, and references to accounts the estate does not hold.
func (e *Estate) Validate() error {
	accts := map[string]bool{}
	keys := map[string]bool{}
	for _, a := range e.Accounts {
		if a == nil || !isAccountID(a.ID) {
			return fmt.Errorf("estate: account id %q is not 12 digits", accountIDOf(a))
		}
		if accts[a.ID] {
			return fmt.Errorf("estate: account %s twice", a.ID)
		}
		accts[a.ID] = true
		for _, k := range a.AccessKeys {
			if k.ID == "" || keys[k.ID] {
				return fmt.Errorf("estate: account %s: access key %q empty or used twice", a.ID, k.ID)
			}
			keys[k.ID] = true
		}
		for name, r := range a.Regions {
			if r == nil {
				continue
			}
			if !knownRegion(name) {
				return fmt.Errorf("estate: account %s: unknown region %q", a.ID, name)
			}
			ids := map[string]bool{}
			dup := func(kind, id string) error {
				if id == "" {
					return fmt.Errorf("estate: account %s region %s: %s without id", a.ID, name, kind)
				}
				if ids[kind+id] {
					return fmt.Errorf("estate: account %s region %s: %s %s twice", a.ID, name, kind, id)
				}
				ids[kind+id] = true
				return nil
			}
			for i := range r.Snapshots {
				if err := dup("snapshot", r.Snapshots[i].ID); err != nil {
					return err
				}
			}
			for i := range r.Images {
				if err := dup("image", r.Images[i].ID); err != nil {
					return err
				}
			}
			for i := range r.DBSnapshots {
				if err := dup("db snapshot", r.DBSnapshots[i].ID); err != nil {
					return err
				}
			}
			for i := range r.DBClusterSnaps {
				if err := dup("db cluster snapshot", r.DBClusterSnaps[i].ID); err != nil {
					return err
				}
			}
			for i := range r.RedshiftSnapshots {
				if err := dup("redshift snapshot", r.RedshiftSnapshots[i].ID); err != nil {
					return err
				}
			}
			for i := range r.DBInstances {
				if err := dup("db instance", r.DBInstances[i].ID); err != nil {
					return err
				}
			}
			for i := range r.DBClusters {
				if err := dup("db cluster", r.DBClusters[i].ID); err != nil {
					return err
				}
			}
			for i := range r.RedshiftClusters {
				if err := dup("redshift cluster", r.RedshiftClusters[i].ID); err != nil {
					return err
				}
			}
			for i := range r.KMSKeys {
				if err := dup("kms key", r.KMSKeys[i].ID); err != nil {
					return err
				}
			}
		}
	}
	if o := e.Organization; o != nil {
		if !accts[o.ManagementAccount] {
			return fmt.Errorf("estate: organization management account %q is not among the accounts", o.ManagementAccount)
		}
		var check func(us []*Unit) error
		placed := map[string]bool{}
		place := func(ids []string) error {
			for _, id := range ids {
				if !accts[id] {
					return fmt.Errorf("estate: organization names account %s, which the estate does not hold", id)
				}
				if placed[id] {
					return fmt.Errorf("estate: organization places account %s twice", id)
				}
				placed[id] = true
			}
			return nil
		}
		check = func(us []*Unit) error {
			for _, u := range us {
				if err := place(u.Accounts); err != nil {
					return err
				}
				if err := check(u.Units); err != nil {
					return err
				}
			}
			return nil
		}
		if err := place(o.Accounts); err != nil {
			return err
		}
		if err := check(o.Units); err != nil {
			return err
		}
	}
	return nil
}

func accountIDOf(a *Account) string {
	if a == nil {
		return "<nil>"
	}
	return a.ID
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
