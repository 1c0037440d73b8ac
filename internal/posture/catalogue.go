package posture

import (
	"slices"
	"sync"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
)

// CheckInfo describes one check for docs and `snapwatch audit --list-checks`.
type CheckInfo struct {
	ID       string           `json:"id"` // the findings' Rule
	Title    string           `json:"title"`
	Kind     finding.Kind     `json:"kind"`     // exposure or guard
	Severity finding.Severity `json:"severity"` // the highest it emits; the model may grade a finding lower
	Provider string           `json:"provider"`
	Resource string           `json:"resource"` // the findings' Resource.Type
	// Compliance ids the check's findings carry (a finding may carry a subset: Azure disks are
	// CIS 8.3 when attached, 8.4 when not).
	Compliance []string `json:"compliance,omitempty"`
	FixAction  string   `json:"fix_action,omitempty"` // the `snapwatch fix` action id; "" = manual steps only
}

// family is a check applied to several subjects: "public" becomes aws-ebs-snapshot-public,
// aws-ami-public, gcp-image-public...
type family struct {
	suffix  string
	title   string // "%s" is the subject's noun
	sev     finding.Severity
	fix     string // fix action suffix; "" = manual
	applies func(*subject) bool
}

// Family suffixes, which are also the second half of the rule ids.
const (
	famPublic     = "public"
	famExternal   = "shared-external"
	famLatent     = "latent-public"
	famNetwork    = "public-network-export"
	famViaImage   = "exposed-via-ami"
	famRecycleBin = "recycle-bin-shared"
	famUnenc      = "unencrypted"
	famProvKey    = "provider-managed-key"
	famStale      = "stale"
	famOrphan     = "orphaned"
	famMissing    = "backing-snapshot-missing"
)

func is(labels ...string) func(*subject) bool {
	return func(s *subject) bool { return slices.Contains(labels, s.label) }
}

var awsData = is("aws-ebs-snapshot", "aws-rds-snapshot", "aws-rds-cluster-snapshot", "aws-docdb-cluster-snapshot",
	"aws-neptune-cluster-snapshot", "aws-redshift-snapshot", "aws-ami")

var families = []family{
	{famPublic, "%s is public", finding.Critical, "make-private",
		func(s *subject) bool { return s.private != "" }},
	{famExternal, "%s is shared outside the organisation", finding.High, "remove-grantee",
		func(s *subject) bool { return s.remove != "" }},
	{famLatent, "%s is public, held back only by Block Public Access (latent public)", finding.High, "make-private",
		is("aws-ebs-snapshot")},
	{famNetwork, "%s can be exported over the public network", finding.Medium, "deny-network-access",
		func(s *subject) bool { return s.network != "" }},
	{famViaImage, "%s is exposed through a public or shared AMI", finding.Critical, "",
		is("aws-ebs-snapshot")},
	{famRecycleBin, "%s in the Recycle Bin was public or shared: a restore brings the sharing back", finding.High, "",
		is("aws-ebs-snapshot", "aws-ami")},
	{famUnenc, "%s is not encrypted", finding.Medium, "encrypted-copy", awsData},
	{famProvKey, "%s is encrypted with the provider-managed key", finding.Low, "",
		func(s *subject) bool { return s.encrypt != "" && s.kind != inventory.KindAzureGalleryImage }},
	{famStale, "%s is older than the stale limit", finding.Low, "delete",
		func(s *subject) bool { return s.delete != "" }},
	{famOrphan, "%s is orphaned: its source is gone and no image uses it", finding.Low, "delete",
		func(s *subject) bool { return s.snapshot }},
	{famMissing, "%s references a deleted backing snapshot", finding.Low, "delete", is("aws-ami")},
}

// compliance maps rule ids to framework control ids (see docs/design/posture.md).
var compliance = map[string][]string{
	"aws-ebs-snapshot-public":                  {"AWS-FSBP-EC2.1"},
	"aws-ebs-snapshot-latent-public":           {"AWS-FSBP-EC2.1", "AWS-FSBP-EC2.182"}, // the attribute fails EC2.1 even while BPA hides it
	"aws-rds-snapshot-public":                  {"AWS-FSBP-RDS.1"},
	"aws-rds-cluster-snapshot-public":          {"AWS-FSBP-RDS.1"},
	"aws-docdb-cluster-snapshot-public":        {"AWS-FSBP-DocumentDB.3"},
	"aws-neptune-cluster-snapshot-public":      {"AWS-FSBP-Neptune.3"},
	"aws-rds-snapshot-unencrypted":             {"AWS-FSBP-RDS.4"},
	"aws-rds-cluster-snapshot-unencrypted":     {"AWS-FSBP-RDS.4"},
	"aws-neptune-cluster-snapshot-unencrypted": {"AWS-FSBP-Neptune.6"},
	"aws-ebs-snapshot-bpa-off":                 {"AWS-FSBP-EC2.182"},
	"aws-ebs-encryption-by-default-off":        {"AWS-FSBP-EC2.7", "CIS-AWS-7.0-6.1.1"},
	"azure-disk-public-network-export":         {"CIS-Azure-3.0-8.5"},
	"azure-disk-provider-managed-key":          {"CIS-Azure-3.0-8.3", "CIS-Azure-3.0-8.4"},
	"gcp-image-public":                         {"GCP-SHA-PUBLIC_COMPUTE_IMAGE"},
	"gcp-disk-provider-managed-key":            {"GCP-SHA-DISK_CMEK_DISABLED"},
}

// Rule ids of the checks that are not per-subject.
const (
	ruleSnapshotBPAOff       = "aws-ebs-snapshot-bpa-off"
	ruleSnapshotBPANotOrg    = "aws-ebs-snapshot-bpa-not-org-enforced"
	ruleImageBPAOff          = "aws-ami-bpa-off"
	ruleImageBPANotOrg       = "aws-ami-bpa-not-org-enforced"
	ruleEBDOff               = "aws-ebs-encryption-by-default-off"
	ruleEBDProviderKey       = "aws-ebs-default-key-provider-managed"
	ruleGCPDomainSharing     = "gcp-domain-restricted-sharing-off"
	ruleAMIExport            = "aws-ami-exported-to-s3"
	ruleInstanceExport       = "aws-instance-exported-to-s3"
	ruleDLMShare             = "aws-dlm-policy-shares-external"
	ruleBackupCopy           = "aws-backup-plan-copies-external"
	resourceGuard            = "account-guard"
	fixSnapshotBPA           = "aws-ebs-snapshot-bpa-block-all-sharing"
	fixImageBPA              = "aws-ami-bpa-block-new-sharing"
	fixEBD                   = "aws-ebs-encryption-by-default-enable"
	fixEBDKey                = "aws-ebs-default-key-set-cmk"
	fixDeclarativeSnapshot   = "aws-org-declarative-policy-snapshot-bpa"
	fixDeclarativeImage      = "aws-org-declarative-policy-image-bpa"
	fixDLMRemoveShareTargets = "aws-dlm-policy-remove-share-targets"
)

var standalone = []CheckInfo{
	{ID: ruleSnapshotBPAOff, Title: "EBS snapshot Block Public Access is not block-all-sharing", Kind: finding.KindGuard,
		Severity: finding.High, Provider: inventory.AWS, Resource: resourceGuard, FixAction: fixSnapshotBPA},
	{ID: ruleSnapshotBPANotOrg, Title: "EBS snapshot Block Public Access is on but not enforced by the organisation", Kind: finding.KindGuard,
		Severity: finding.Low, Provider: inventory.AWS, Resource: resourceGuard, FixAction: fixDeclarativeSnapshot},
	{ID: ruleImageBPAOff, Title: "AMI Block Public Access is off", Kind: finding.KindGuard,
		Severity: finding.Medium, Provider: inventory.AWS, Resource: resourceGuard, FixAction: fixImageBPA},
	{ID: ruleImageBPANotOrg, Title: "AMI Block Public Access is on but not enforced by the organisation", Kind: finding.KindGuard,
		Severity: finding.Low, Provider: inventory.AWS, Resource: resourceGuard, FixAction: fixDeclarativeImage},
	{ID: ruleEBDOff, Title: "EBS encryption by default is off", Kind: finding.KindGuard,
		Severity: finding.Medium, Provider: inventory.AWS, Resource: resourceGuard, FixAction: fixEBD},
	{ID: ruleEBDProviderKey, Title: "EBS encryption by default uses the AWS-managed key", Kind: finding.KindGuard,
		Severity: finding.Low, Provider: inventory.AWS, Resource: resourceGuard, FixAction: fixEBDKey},
	{ID: ruleGCPDomainSharing, Title: "Domain-restricted sharing is not enforced", Kind: finding.KindGuard,
		Severity: finding.Low, Provider: inventory.GCP, Resource: resourceGuard},
	{ID: ruleAMIExport, Title: "AMI was stored or exported to S3", Kind: finding.KindExposure,
		Severity: finding.Critical, Provider: inventory.AWS, Resource: "export-task"},
	{ID: ruleInstanceExport, Title: "Instance was exported to S3", Kind: finding.KindExposure,
		Severity: finding.Critical, Provider: inventory.AWS, Resource: "export-task"},
	{ID: ruleDLMShare, Title: "DLM policy shares or copies snapshots outside the organisation", Kind: finding.KindExposure,
		Severity: finding.High, Provider: inventory.AWS, Resource: "dlm-policy", FixAction: fixDLMRemoveShareTargets},
	{ID: ruleBackupCopy, Title: "AWS Backup plan copies recovery points outside the organisation", Kind: finding.KindExposure,
		Severity: finding.High, Provider: inventory.AWS, Resource: "backup-plan"},
}

var catalogue = sync.OnceValue(func() map[string]CheckInfo {
	m := map[string]CheckInfo{}
	for _, f := range families {
		for _, s := range subjects {
			if f.applies(s) {
				info := infoFor(f, s)
				m[info.ID] = info
			}
		}
	}
	for _, c := range standalone {
		c.Compliance = compliance[c.ID]
		m[c.ID] = c
	}
	return m
})

func infoFor(f family, s *subject) CheckInfo {
	id := s.label + "-" + f.suffix
	info := CheckInfo{ID: id, Title: sprintf(f.title, s.noun), Kind: finding.KindExposure, Severity: f.sev,
		Provider: s.provider, Resource: string(s.kind), Compliance: compliance[id]}
	if f.fix != "" {
		info.FixAction = s.label + "-" + f.fix
	}
	if f.suffix == famViaImage {
		info.FixAction = "aws-ami-make-private" // the fix is on the AMI (remove-grantee for a shared one)
	}
	if f.suffix == famUnenc && (s.kind == inventory.KindRDSClusterSnapshot || s.kind == inventory.KindRedshiftSnapshot) {
		info.FixAction = "" // re-encrypting takes a restore into a new encrypted database: manual
	}
	return info
}

// Checks lists every check, sorted by id.
func Checks() []CheckInfo {
	m := catalogue()
	out := make([]CheckInfo, 0, len(m))
	for _, c := range m {
		c.Compliance = slices.Clone(c.Compliance)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b CheckInfo) int { return compareStrings(a.ID, b.ID) })
	return out
}

// checkInfo returns the catalogue entry of a rule, or one built from the family for subjects
// the catalogue does not list (a kind a newer collector fills).
func checkInfo(f *family, s *subject) CheckInfo {
	if c, ok := catalogue()[s.label+"-"+f.suffix]; ok {
		return c
	}
	return infoFor(*f, s)
}

func familyOf(suffix string) *family {
	for i := range families {
		if families[i].suffix == suffix {
			return &families[i]
		}
	}
	panic("posture: unknown family " + suffix)
}
