// Package finding is the one schema every part of snapwatch emits: content scans, exposure audits,
// guard checks and event detections all produce Findings, which the store, reports and alert sinks
// consume without knowing how they were found.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Kind says which pipeline produced a finding.
type Kind string

const (
	KindContent  Kind = "content"  // something sensitive inside a disk, snapshot or directory
	KindExposure Kind = "exposure" // a snapshot or image reachable by someone it should not be
	KindGuard    Kind = "guard"    // an account-level protection that is off
	KindEvent    Kind = "event"    // an audit-log event that opened or used an exposure
)

// Status is where a finding stands in its history.
type Status string

const (
	StatusOpen       Status = "open"
	StatusResolved   Status = "resolved"
	StatusSuppressed Status = "suppressed"
)

// Finding is one problem, stated once, with a stable ID.
type Finding struct {
	ID          string    `json:"id"` // stable fingerprint: the same problem has the same id across runs
	Kind        Kind      `json:"kind"`
	Rule        string    `json:"rule"` // "secret/aws-access-key", "file/ssh-private-key", "aws-ebs-snapshot-public"
	Title       string    `json:"title"`
	Severity    Severity  `json:"severity"`
	Description string    `json:"description,omitempty"`
	Remediation string    `json:"remediation,omitempty"`
	Resource    Resource  `json:"resource"`
	Location    *Location `json:"location,omitempty"` // content findings only
	Evidence    Evidence  `json:"evidence,omitempty"`
	Compliance  []string  `json:"compliance,omitempty"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Status      Status    `json:"status"`
	Related     []string  `json:"related,omitempty"` // ids of linked findings (an exposure and the content it exposes)
	Tags        []string  `json:"tags,omitempty"`
}

// Resource names what a finding is about.
type Resource struct {
	Provider string `json:"provider"` // "aws", "azure", "gcp", "local"
	Account  string `json:"account,omitempty"`
	Region   string `json:"region,omitempty"`
	Type     string `json:"type"` // "ebs-snapshot", "ami", "disk-image", "directory", ...
	ID       string `json:"id"`
	ARN      string `json:"arn,omitempty"` // ARN, Azure resource id or GCP self link
}

// Location places a content finding inside its resource.
type Location struct {
	Volume     string `json:"volume,omitempty"`     // "p2", "vg0/root"
	FileSystem string `json:"filesystem,omitempty"` // "ext4"
	Path       string `json:"path,omitempty"`       // absolute inside the volume; inside archives "a.tar.gz!dir/file"
	Inode      uint64 `json:"inode,omitempty"`
	Offset     int64  `json:"offset,omitempty"` // byte offset in the file (or the volume, for unallocated space)
	Line       int    `json:"line,omitempty"`
	Deleted    bool   `json:"deleted,omitempty"`
}

// Evidence is rule-specific detail. A secret appears in it only redacted (first 4 characters and
// "…") and as a sha256, never in full.
type Evidence map[string]any

// Fingerprint derives a stable id from the parts that make a problem the same problem: the rule,
// the resource, and what distinguishes one instance from another (a path, a secret's hash).
// Times, severities and wording are left out so that they may change without a new id.
func Fingerprint(rule string, r Resource, parts ...string) string {
	h := sha256.New()
	for _, s := range append([]string{rule, r.Provider, r.Account, r.Region, r.Type, r.ID}, parts...) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	return "sw-" + hex.EncodeToString(h.Sum(nil))[:24]
}

// Key returns the resource as one readable string: "aws:123456789012:us-east-1:ebs-snapshot:snap-1".
func (r Resource) Key() string {
	return strings.Join([]string{r.Provider, r.Account, r.Region, r.Type, r.ID}, ":")
}
