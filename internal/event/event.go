// Package event holds the one normalized audit-log Event that every cloud's parser produces and
// every detection rule reads: CloudTrail, Azure Activity Log and GCP Audit Logs look alike here.
package event

import (
	"encoding/json"
	"time"
)

// Event is one audit-log record, normalized. Fields a cloud does not have stay empty.
type Event struct {
	// ID is the cloud-native record id, used to drop duplicates: CloudTrail eventID, Azure
	// eventDataId, GCP insertId (with the log name).
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Cloud    string    `json:"cloud"`   // "aws", "azure", "gcp"
	Account  string    `json:"account"` // AWS account the record belongs to (recipientAccountId), Azure subscription, GCP project
	Region   string    `json:"region,omitempty"`
	Service  string    `json:"service"`            // "ec2.amazonaws.com", "Microsoft.Compute", "compute.googleapis.com"
	Action   string    `json:"action"`             // as the cloud spells it: "ModifySnapshotAttribute", "Microsoft.Compute/snapshots/beginGetAccess/action", "v1.compute.snapshots.setIamPolicy"
	Category string    `json:"category,omitempty"` // "management", "data", "service" (AWS service events), "administrative", ...
	ReadOnly bool      `json:"read_only,omitempty"`
	// Partial marks an event the parser's pre-filter did not fully decode because its Action
	// cannot matter to leak detection: only ID, Time, Cloud, Account, Region, Service, Action,
	// Category, ReadOnly, Success, ErrorCode and Origin are set. (Added by the event parser;
	// Options.All turns it off.)
	Partial bool `json:"partial,omitempty"`

	Actor     Actor  `json:"actor"`
	SourceIP  string `json:"source_ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`

	Resource Resource `json:"resource"`
	// Grants are the access changes the record makes to Resource: who was added or removed.
	Grants []Grant `json:"grants,omitempty"`

	Success      bool   `json:"success"`
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`

	// Facts are parser-extracted details rules may need: "attribute_type", "state",
	// "shared_event_id", "export_destination", "kms_key_id", "source_region", "copy_of"...
	Facts map[string]string `json:"facts,omitempty"`

	// Raw is the original record, as read (bounded by the parser's record size cap).
	Raw json.RawMessage `json:"-"`
	// Origin says where the record was read: file or object name and the record's index in it.
	Origin Origin `json:"origin"`
}

// Actor is who made the call.
type Actor struct {
	Type        string `json:"type,omitempty"` // "IAMUser", "AssumedRole", "Root", "AWSService", "User", "ServicePrincipal", "serviceAccount", ...
	ID          string `json:"id,omitempty"`   // principal id / object id / email
	ARN         string `json:"arn,omitempty"`
	Name        string `json:"name,omitempty"`    // user name, role session name, UPN, email
	Account     string `json:"account,omitempty"` // the caller's own account / tenant
	AccessKeyID string `json:"access_key_id,omitempty"`
	MFA         bool   `json:"mfa,omitempty"`
	// SessionIssuer is the role (ARN) behind an assumed-role session.
	SessionIssuer string `json:"session_issuer,omitempty"`
	InvokedBy     string `json:"invoked_by,omitempty"` // a service acting for the caller: "ec2.amazonaws.com", "assets.marketplace.amazonaws.com"
}

// Resource is what the record acts on.
type Resource struct {
	Type    string `json:"type"`              // "ebs-snapshot", "ami", "rds-snapshot", "rds-cluster-snapshot", "redshift-snapshot", "azure-snapshot", "azure-disk", "azure-gallery-image", "gcp-snapshot", "gcp-image", "gcp-disk", "gcp-machine-image", "account-guard", ...
	ID      string `json:"id"`                // "snap-0123…", "ami-…", resource id, self link
	ARN     string `json:"arn,omitempty"`     // ARN / Azure resource id / GCP full resource name
	Account string `json:"account,omitempty"` // the owner, when known
	Region  string `json:"region,omitempty"`
}

// Grant kinds.
const (
	GrantAccount      = "account"       // an AWS account id
	GrantOrg          = "org"           // an AWS Organizations org ARN / GCP organization
	GrantOU           = "ou"            // an AWS organizational unit ARN
	GrantTenant       = "tenant"        // an Azure AD tenant
	GrantSubscription = "subscription"  // an Azure subscription
	GrantMember       = "member"        // a GCP IAM member: user:, serviceAccount:, group:, domain:
	GrantPublic       = "public"        // everyone: AWS group "all", GCP allUsers, Azure public network / SAS
	GrantAuthUsers    = "authenticated" // GCP allAuthenticatedUsers: anyone with a Google account
	// GrantPrincipal is a principal that is not an account: an Azure AD object id given a role,
	// an AWS service principal ("ec2.amazonaws.com") in a KMS grant or key policy. (Added by the
	// event parser.)
	GrantPrincipal = "principal"
)

// Grant is one access change.
type Grant struct {
	Op    string `json:"op"`             // "add" or "remove"
	Kind  string `json:"kind"`           // one of the Grant* kinds
	Value string `json:"value"`          // account id, ARN, tenant id, member string; "all" for public
	Role  string `json:"role,omitempty"` // GCP role, Azure access level ("Read"), ...
}

// Origin locates the raw record.
type Origin struct {
	Source string `json:"source"` // file path, "s3://bucket/key", queue name
	Index  int    `json:"index"`  // 0-based record index within the source
}
