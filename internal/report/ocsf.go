package report

import (
	"encoding/json"
	"io"
	"path"
	"strings"
	"time"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// OCSF (Open Cybersecurity Schema Framework) 1.4, the shape Amazon Security Lake, Splunk and
// most SIEMs ingest. Each finding becomes one event of the Findings category, in a JSON array
// (as Prowler's json-ocsf output): exposures and guards are Compliance Findings (2003: a check
// a resource failed, with its framework controls), content findings are Data Security Findings
// (2006: sensitive data in a file of a disk), audit-log alerts are Detection Findings (2004).
const ocsfVersion = "1.4.0"

const (
	ocsfCompliance   = 2003
	ocsfDetection    = 2004
	ocsfDataSecurity = 2006
)

var ocsfClassNames = map[int]string{
	ocsfCompliance: "Compliance Finding", ocsfDetection: "Detection Finding", ocsfDataSecurity: "Data Security Finding",
}

type ocsfEvent struct {
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	Time         int64  `json:"time"`
	SeverityID   int    `json:"severity_id"`
	Severity     string `json:"severity"`
	StatusID     int    `json:"status_id"`
	Status       string `json:"status"`
	Message      string `json:"message"`

	Metadata    ocsfMetadata     `json:"metadata"`
	FindingInfo ocsfFindingInfo  `json:"finding_info"`
	Resources   []ocsfResource   `json:"resources,omitempty"`
	Cloud       *ocsfCloud       `json:"cloud,omitempty"`
	Compliance  *ocsfControl     `json:"compliance,omitempty"`
	File        *ocsfFile        `json:"file,omitempty"`
	Remediation *ocsfRemediation `json:"remediation,omitempty"`
	Unmapped    map[string]any   `json:"unmapped,omitempty"`
}

type ocsfMetadata struct {
	Version   string      `json:"version"`
	Product   ocsfProduct `json:"product"`
	EventCode string      `json:"event_code"` // the rule id
	UID       string      `json:"uid"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

type ocsfFindingInfo struct {
	UID           string        `json:"uid"`
	Title         string        `json:"title"`
	Desc          string        `json:"desc,omitempty"`
	Types         []string      `json:"types"`
	Analytic      *ocsfAnalytic `json:"analytic,omitempty"`
	CreatedTime   int64         `json:"created_time,omitempty"`
	FirstSeenTime int64         `json:"first_seen_time,omitempty"`
	LastSeenTime  int64         `json:"last_seen_time,omitempty"`
	RelatedEvents []ocsfRelated `json:"related_events,omitempty"`
	DataSources   []string      `json:"data_sources,omitempty"`
}

type ocsfAnalytic struct {
	UID    string `json:"uid"`
	Name   string `json:"name"`
	TypeID int    `json:"type_id"` // 1 Rule
	Type   string `json:"type"`
}

type ocsfRelated struct {
	UID string `json:"uid"`
}

type ocsfResource struct {
	UID            string         `json:"uid"`
	Name           string         `json:"name,omitempty"`
	Type           string         `json:"type"`
	Region         string         `json:"region,omitempty"`
	CloudPartition string         `json:"cloud_partition,omitempty"`
	Data           map[string]any `json:"data,omitempty"`
}

type ocsfCloud struct {
	Provider string       `json:"provider"`
	Region   string       `json:"region,omitempty"`
	Account  *ocsfAccount `json:"account,omitempty"`
}

type ocsfAccount struct {
	UID string `json:"uid"`
}

// ocsfControl is OCSF's compliance object: the control a resource failed and its standards.
type ocsfControl struct {
	Control   string   `json:"control"`
	Standards []string `json:"standards"`
	StatusID  int      `json:"status_id"` // 3 Fail
	Status    string   `json:"status"`
}

type ocsfFile struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	TypeID int    `json:"type_id"` // 1 Regular File
	Type   string `json:"type"`
}

type ocsfRemediation struct {
	Desc string `json:"desc"`
}

func writeOCSF(w io.Writer, p *prepared, _ Options) error {
	events := make([]ocsfEvent, 0, len(p.findings))
	now := p.r.Finished
	if now.IsZero() {
		now = time.Now()
	}
	for i := range p.findings {
		events = append(events, ocsfOf(&p.findings[i], p.r.Tool, now))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(events)
}

func ocsfOf(f *finding.Finding, tool ToolInfo, now time.Time) ocsfEvent {
	class := ocsfDetection
	switch f.Kind {
	case finding.KindExposure, finding.KindGuard:
		class = ocsfCompliance
	case finding.KindContent:
		class = ocsfDataSecurity
	}
	statusID, status := 1, "New"
	switch f.Status {
	case finding.StatusSuppressed:
		statusID, status = 3, "Suppressed"
	case finding.StatusResolved:
		statusID, status = 4, "Resolved"
	}
	ev := ocsfEvent{
		ActivityID: 1, ActivityName: "Create", CategoryUID: 2, CategoryName: "Findings",
		ClassUID: class, ClassName: ocsfClassNames[class], TypeUID: class*100 + 1, TypeName: ocsfClassNames[class] + ": Create",
		Time: millis(now), SeverityID: int(f.Severity) + 1, Severity: ocsfSeverity(f.Severity),
		StatusID: statusID, Status: status, Message: f.Title,
		Metadata: ocsfMetadata{Version: ocsfVersion, EventCode: f.Rule, UID: f.ID,
			Product: ocsfProduct{Name: nonEmpty(tool.Name, "snapwatch"), VendorName: "snapwatch", Version: tool.Version}},
		FindingInfo: ocsfFindingInfo{UID: f.ID, Title: f.Title, Desc: f.Description, Types: []string{string(f.Kind)},
			Analytic:    &ocsfAnalytic{UID: f.Rule, Name: f.Rule, TypeID: 1, Type: "Rule"},
			CreatedTime: millis(now), FirstSeenTime: millis(f.FirstSeen), LastSeenTime: millis(f.LastSeen)},
		Resources: []ocsfResource{ocsfResourceOf(f.Resource)},
	}
	for _, id := range f.Related {
		ev.FindingInfo.RelatedEvents = append(ev.FindingInfo.RelatedEvents, ocsfRelated{UID: id})
	}
	if r := f.Resource; r.Provider != "" && r.Provider != "local" {
		ev.Cloud = &ocsfCloud{Provider: strings.ToUpper(r.Provider), Region: r.Region}
		if r.Account != "" {
			ev.Cloud.Account = &ocsfAccount{UID: r.Account}
		}
	}
	if class == ocsfCompliance {
		ev.Compliance = &ocsfControl{Control: f.Rule, Standards: nonNil(f.Compliance), StatusID: 3, Status: "Fail"}
	}
	if l := f.Location; l != nil && l.Path != "" {
		ev.File = &ocsfFile{Name: path.Base(l.Path), Path: l.Path, TypeID: 1, Type: "Regular File"}
	}
	if f.Remediation != "" {
		ev.Remediation = &ocsfRemediation{Desc: f.Remediation}
	}
	unmapped := map[string]any{}
	if len(f.Evidence) > 0 {
		unmapped["evidence"] = f.Evidence // already redacted by prepare
	}
	if f.Location != nil {
		unmapped["location"] = f.Location
	}
	if len(f.Tags) > 0 {
		unmapped["tags"] = f.Tags
	}
	if len(unmapped) > 0 {
		ev.Unmapped = unmapped
	}
	return ev
}

func ocsfResourceOf(r finding.Resource) ocsfResource {
	out := ocsfResource{UID: nonEmpty(r.ARN, r.ID), Name: r.ID, Type: r.Type, Region: r.Region,
		CloudPartition: arnPartition(r.ARN)}
	if r.Account != "" {
		out.Data = map[string]any{"account": r.Account, "provider": r.Provider}
	}
	return out
}

// arnPartition returns the partition of an AWS ARN ("aws", "aws-cn", "aws-us-gov"), or "".
func arnPartition(arn string) string {
	if !strings.HasPrefix(arn, "arn:") {
		return ""
	}
	if parts := strings.SplitN(arn, ":", 3); len(parts) == 3 {
		return parts[1]
	}
	return ""
}

func ocsfSeverity(s finding.Severity) string {
	switch s {
	case finding.Info:
		return "Informational"
	case finding.Low:
		return "Low"
	case finding.Medium:
		return "Medium"
	case finding.High:
		return "High"
	}
	return "Critical"
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
