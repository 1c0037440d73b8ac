package report

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// ASFF, the AWS Security Finding Format, ready for `aws securityhub batch-import-findings
// --findings file://out.json` (in batches of 100). Security Hub files a finding under an AWS
// account, so only findings about a resource with an AWS account id are written: exposures,
// guards and alerts of an AWS audit, and content found in ebs:/ami: snapshots; a local disk
// image's content has no account and is left out (the other formats carry it).
const asffSchema = "2018-10-08"

// Security Hub bounds these fields.
const (
	asffTitleMax = 256
	asffDescMax  = 1024
	asffTextMax  = 512
	asffFieldMax = 2048 // a ProductFields value
)

var awsAccountID = regexp.MustCompile(`^[0-9]{12}$`)

type asffFinding struct {
	SchemaVersion string            `json:"SchemaVersion"`
	ID            string            `json:"Id"`
	ProductArn    string            `json:"ProductArn"`
	ProductName   string            `json:"ProductName"`
	CompanyName   string            `json:"CompanyName"`
	GeneratorID   string            `json:"GeneratorId"`
	AwsAccountID  string            `json:"AwsAccountId"`
	Region        string            `json:"Region,omitempty"`
	Types         []string          `json:"Types"`
	FirstObserved string            `json:"FirstObservedAt,omitempty"`
	LastObserved  string            `json:"LastObservedAt,omitempty"`
	CreatedAt     string            `json:"CreatedAt"`
	UpdatedAt     string            `json:"UpdatedAt"`
	Severity      asffSeverity      `json:"Severity"`
	Title         string            `json:"Title"`
	Description   string            `json:"Description"`
	Remediation   *asffRemediation  `json:"Remediation,omitempty"`
	ProductFields map[string]string `json:"ProductFields,omitempty"`
	Resources     []asffResource    `json:"Resources"`
	Compliance    *asffCompliance   `json:"Compliance,omitempty"`
	Workflow      asffWorkflow      `json:"Workflow"`
	RecordState   string            `json:"RecordState"`
	Related       []asffRelated     `json:"RelatedFindings,omitempty"`
}

type asffSeverity struct {
	Label    string `json:"Label"`
	Original string `json:"Original"`
}

type asffRemediation struct {
	Recommendation struct {
		Text string `json:"Text"`
	} `json:"Recommendation"`
}

type asffResource struct {
	Type      string            `json:"Type"`
	ID        string            `json:"Id"`
	Partition string            `json:"Partition"`
	Region    string            `json:"Region,omitempty"`
	Details   map[string]any    `json:"Details,omitempty"`
	Tags      map[string]string `json:"Tags,omitempty"`
}

type asffCompliance struct {
	Status              string   `json:"Status"`
	RelatedRequirements []string `json:"RelatedRequirements,omitempty"`
}

type asffWorkflow struct {
	Status string `json:"Status"`
}

type asffRelated struct {
	ProductArn string `json:"ProductArn"`
	ID         string `json:"Id"`
}

func writeASFF(w io.Writer, p *prepared, _ Options) error {
	now := p.r.Finished
	if now.IsZero() {
		now = time.Now()
	}
	out := []asffFinding{}
	for i := range p.findings {
		f := &p.findings[i]
		if !awsAccountID.MatchString(f.Resource.Account) {
			continue
		}
		out = append(out, asffOf(f, p.r.Tool, now))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func asffOf(f *finding.Finding, tool ToolInfo, now time.Time) asffFinding {
	r := f.Resource
	region := nonEmpty(r.Region, "us-east-1") // account-wide findings still need a home region
	partition := nonEmpty(arnPartition(r.ARN), "aws")
	// A finding imported by a customer through BatchImportFindings uses the account's default
	// product ARN.
	product := fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", partition, region, r.Account, r.Account)
	ts := now.UTC().Format(time.RFC3339Nano)
	a := asffFinding{
		SchemaVersion: asffSchema, ID: f.ID, ProductArn: product, ProductName: nonEmpty(tool.Name, "snapwatch"),
		CompanyName: "snapwatch", GeneratorID: "snapwatch/" + f.Rule, AwsAccountID: r.Account, Region: region,
		Types: asffTypes(f), CreatedAt: ts, UpdatedAt: ts,
		Severity:    asffSeverity{Label: asffLabel(f.Severity), Original: f.Severity.String()},
		Title:       clip(f.Title, asffTitleMax),
		Description: clip(nonEmpty(f.Description, f.Title), asffDescMax),
		Resources:   []asffResource{asffResourceOf(r, partition, region, f)},
		Workflow:    asffWorkflow{Status: "NEW"}, RecordState: "ACTIVE",
		ProductFields: map[string]string{"snapwatch/kind": string(f.Kind), "snapwatch/rule": f.Rule,
			"ProviderName": "snapwatch", "ProviderVersion": tool.Version},
	}
	if !f.FirstSeen.IsZero() {
		a.FirstObserved = f.FirstSeen.UTC().Format(time.RFC3339Nano)
	}
	if !f.LastSeen.IsZero() {
		a.LastObserved = f.LastSeen.UTC().Format(time.RFC3339Nano)
	}
	switch f.Status {
	case finding.StatusSuppressed:
		a.Workflow.Status = "SUPPRESSED"
	case finding.StatusResolved:
		a.Workflow.Status, a.RecordState = "RESOLVED", "ARCHIVED"
	}
	if f.Remediation != "" {
		a.Remediation = &asffRemediation{}
		a.Remediation.Recommendation.Text = clip(f.Remediation, asffTextMax)
	}
	if f.Kind == finding.KindExposure || f.Kind == finding.KindGuard {
		a.Compliance = &asffCompliance{Status: "FAILED", RelatedRequirements: f.Compliance}
	}
	if len(f.Evidence) > 0 {
		if b, err := json.Marshal(f.Evidence); err == nil { // already redacted by prepare
			a.ProductFields["snapwatch/evidence"] = clip(string(b), asffFieldMax)
		}
	}
	if f.Location != nil && f.Location.Path != "" {
		a.ProductFields["snapwatch/path"] = clip(f.Location.Volume+":"+f.Location.Path, asffTextMax)
	}
	for _, id := range f.Related {
		a.Related = append(a.Related, asffRelated{ProductArn: product, ID: id})
	}
	return a
}

// asffTypes places a finding in Security Hub's type taxonomy (namespace/category/classifier).
func asffTypes(f *finding.Finding) []string {
	switch f.Kind {
	case finding.KindContent:
		return []string{"Sensitive Data Identifications/Security/" + strings.TrimPrefix(strings.TrimPrefix(f.Rule, "secret/"), "file/")}
	case finding.KindEvent:
		return []string{"TTPs/Exfiltration/" + f.Rule}
	case finding.KindGuard:
		return []string{"Software and Configuration Checks/AWS Security Best Practices"}
	}
	return []string{"Software and Configuration Checks/AWS Security Best Practices", "Effects/Data Exposure"}
}

// asffResourceTypes maps snapwatch resource types to ASFF's; the rest are "Other".
var asffResourceTypes = map[string]string{
	"rds-snapshot":         "AwsRdsDbSnapshot",
	"rds-cluster-snapshot": "AwsRdsDbClusterSnapshot",
	"account-guard":        "AwsAccount",
}

func asffResourceOf(r finding.Resource, partition, region string, f *finding.Finding) asffResource {
	typ := asffResourceTypes[r.Type]
	if typ == "" {
		typ = "Other"
	}
	id := r.ARN
	if id == "" {
		id = r.ID
	}
	out := asffResource{Type: typ, ID: id, Partition: partition, Region: region}
	if typ == "Other" {
		out.Details = map[string]any{"Other": map[string]string{"snapwatch/type": r.Type, "snapwatch/id": r.ID}}
	}
	return out
}

func asffLabel(s finding.Severity) string {
	switch s {
	case finding.Info:
		return "INFORMATIONAL"
	case finding.Low:
		return "LOW"
	case finding.Medium:
		return "MEDIUM"
	case finding.High:
		return "HIGH"
	}
	return "CRITICAL"
}

// clip shortens s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
