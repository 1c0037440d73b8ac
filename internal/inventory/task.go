package inventory

import "time"

// ExportKind says how an image left the block store.
type ExportKind string

const (
	ExportStoreImage     ExportKind = "store-image"     // ec2:CreateStoreImageTask (DescribeStoreImageTasks, last 31 days only)
	ExportImage          ExportKind = "export-image"    // ec2:ExportImage (DescribeExportImageTasks)
	ExportInstance       ExportKind = "export-instance" // ec2:CreateInstanceExportTask (DescribeExportTasks)
	ExportSnapshotToBlob ExportKind = "export-to-blob"  // an Azure/GCP copy to object storage, when a collector sees one
)

// ExportTask is an image or instance written to object storage. Once there, snapshot guards no
// longer apply: the copy is governed by the bucket's policy alone.
type ExportTask struct {
	Provider string     `json:"provider"`
	Account  string     `json:"account"`
	Region   string     `json:"region,omitempty"`
	ID       string     `json:"id"`
	Kind     ExportKind `json:"kind"`
	Source   string     `json:"source"` // the AMI or instance exported
	Bucket   string     `json:"bucket"`
	Key      string     `json:"key,omitempty"`   // object key or prefix
	State    string     `json:"state,omitempty"` // "Completed", "InProgress", "Failed", "active", "cancelled"
	Created  time.Time  `json:"created,omitzero"`
	// BucketAccount is the bucket's owner when the collector could read it; "" when not.
	BucketAccount string `json:"bucket_account,omitempty"`
	// BucketPublic is Yes when the bucket's policy or ACL makes it public and S3 Block Public
	// Access (account or bucket) does not neutralise it; No when neither does or BPA
	// neutralises what does; Unknown when it could not be read.
	BucketPublic Tri `json:"bucket_public,omitempty"`
	// BucketPublicVia names what in the bucket grants everyone access, whatever BPA says:
	// "policy", "acl:AllUsers", "acl:AuthenticatedUsers". With BucketPublic No it is a latent
	// exposure: relaxing Block Public Access would make the bucket public.
	BucketPublicVia []string `json:"bucket_public_via,omitempty"`
}

// SharePolicy is a rule that shares or copies future snapshots automatically: a DLM policy's
// ShareRules or cross-account copy, an AWS Backup copy action.
type SharePolicy struct {
	Provider string  `json:"provider"`
	Account  string  `json:"account"`
	Region   string  `json:"region,omitempty"`
	ID       string  `json:"id"` // policy id
	ARN      string  `json:"arn,omitempty"`
	Name     string  `json:"name,omitempty"`
	Kind     string  `json:"kind"` // "dlm-policy", "backup-plan"
	Enabled  bool    `json:"enabled"`
	Targets  []Grant `json:"targets"`        // accounts (or org/OU) the policy shares or copies to
	Rule     string  `json:"rule,omitempty"` // where in the policy: "Schedules[1].ShareRules[0]"
}
