package report

import (
	"cmp"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// The HTML report: one self-contained file (inline CSS, no external resource of any kind) that
// works without JavaScript — severity filters are CSS checkboxes, details are <details> — and
// uses a small inline script, when allowed, for sorting, text filtering and printing with every
// detail open. Every value goes through html/template's contextual escaping; no finding text is
// placed in an attribute, a URL, a style or the script. A Content-Security-Policy allows no
// network access at all and no script but the one whose hash it names, so even an escaping
// mistake could not run injected code.

//go:embed html.tmpl
var htmlSource string

//go:embed html.js
var htmlScript string

var (
	htmlTemplate = template.Must(template.New("report").Parse(htmlSource))
	htmlCSP      = "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-" + scriptHash() +
		"'; base-uri 'none'; form-action 'none'"
)

func scriptHash() string {
	sum := sha256.Sum256([]byte(htmlScript))
	return base64.StdEncoding.EncodeToString(sum[:])
}

type htmlKV struct{ Key, Value string }

type htmlCount struct {
	Sev, Label string
	N, Shown   int
	Pct        string
}

type htmlResource struct {
	Label, Where, Sev, SevLabel string
	N                           int
	worst                       finding.Severity
}

type htmlKind struct {
	Label string
	N     int
}

type htmlFinding struct {
	N                              int
	Sev, SevLabel                  string
	SevRank                        int
	Title, Rule, KindLabel         string
	Status, StatusClass            string
	Resource, Location             string
	ResourceName, ResourceWhere    string
	Description, Remediation       string
	ResourceDetail, LocationDetail []htmlKV
	Evidence                       []htmlKV
	Compliance, Tags, Related      []string
	ID, FirstSeen, LastSeen        string
}

type htmlView struct {
	CSP, Generator, Title, Heading, ToolName string
	Targets                                  []string
	Started, Finished, Duration, Version     string
	CommandLine                              string
	Headline, BarLabel, ErrorsText           string
	Counts                                   []htmlCount
	Total, Hidden                            int
	MinSeverity                              string
	Resources                                []htmlResource
	MoreResources                            int
	Kinds                                    []htmlKind
	Findings                                 []htmlFinding
	Errors                                   []ErrorRecord
	Stats                                    []statEntry
	Script                                   template.JS
}

var headings = map[string]string{
	"scan":    "Content scan report",
	"audit":   "Exposure audit report",
	"detect":  "Audit-log detection report",
	"monitor": "Monitoring report",
	"report":  "Findings report",
	"demo":    "Demo report",
}

var kindLabels = map[finding.Kind]string{
	finding.KindContent:  "Sensitive content",
	finding.KindExposure: "Exposure",
	finding.KindGuard:    "Account guard",
	finding.KindEvent:    "Audit-log event",
}

// escapeAll applies termEscape to each string: HTML escaping keeps markup out, this keeps
// control and bidirectional characters from hiding or reordering what the reader sees.
func escapeAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = termEscape(s)
	}
	return out
}

// distinct returns ss sorted without duplicates.
func distinct(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// shortResourceID names a resource in little space: a local path as it is, a cloud resource
// id that is a path (Azure resource ids, GCP resource names) by its last two segments.
func shortResourceID(r finding.Resource) string {
	id := nonEmpty(r.ID, r.ARN)
	if isLocal(r) || !strings.Contains(strings.Trim(id, "/"), "/") {
		return id
	}
	segs := strings.Split(strings.Trim(id, "/"), "/")
	return Ellipsis + "/" + strings.Join(segs[max(len(segs)-2, 0):], "/")
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func writeHTML(w io.Writer, p *prepared, _ Options) error {
	r := p.r
	tool := nonEmpty(r.Tool.Name, "snapwatch")
	heading := headings[r.Command]
	if heading == "" {
		heading = strings.TrimSpace(titleCase(r.Command) + " report")
	}
	v := htmlView{
		CSP:         htmlCSP,
		Generator:   termEscape(strings.TrimSpace(tool + " " + r.Tool.Version)),
		Heading:     heading,
		ToolName:    termEscape(tool),
		Targets:     escapeAll(r.Targets),
		Started:     formatTime(r.Started),
		Finished:    formatTime(r.Finished),
		Duration:    duration(r),
		Version:     termEscape(r.Tool.Version),
		CommandLine: termEscape(r.Tool.CommandLine),
		Total:       p.total,
		Hidden:      p.hidden,
		MinSeverity: p.min.String(),
		Stats:       flattenStats(p.stats),
		Script:      template.JS(htmlScript),
	}
	v.Title = v.ToolName + " · " + heading
	if len(v.Targets) > 0 {
		v.Title += " · " + v.Targets[0]
	}
	for _, e := range r.Errors {
		v.Errors = append(v.Errors, ErrorRecord{Target: termEscape(e.Target), Where: termEscape(e.Where), Message: textEscape(e.Message)})
	}
	for i := range v.Stats {
		v.Stats[i] = statEntry{termEscape(v.Stats[i].Key), termEscape(v.Stats[i].Value)}
	}
	heading = termEscape(heading)
	v.Heading = heading
	if n := len(r.Errors); n > 0 {
		v.ErrorsText = plural(n, "target or check", "targets or checks")
	}

	// Counts by severity over every finding; Shown counts what the table holds.
	shown := map[finding.Severity]int{}
	for _, f := range p.findings {
		shown[f.Severity]++
	}
	var bar []string
	for _, s := range severities {
		c := htmlCount{Sev: s.String(), Label: titleCase(s.String()), N: p.counts[s], Shown: shown[s]}
		if p.total > 0 {
			c.Pct = strconv.FormatFloat(100*float64(c.N)/float64(p.total), 'f', 2, 64)
		}
		if c.N > 0 {
			bar = append(bar, fmt.Sprintf("%d %s", c.N, s))
		}
		v.Counts = append(v.Counts, c)
	}
	v.BarLabel = strings.Join(bar, ", ")

	// Resources and kinds.
	byRes := map[string]*htmlResource{}
	byKind := map[string]int{}
	for _, f := range p.findings {
		k := f.Resource.Key()
		res := byRes[k]
		if res == nil {
			res = &htmlResource{
				Label: termEscape(shortResourceID(f.Resource)),
				Where: termEscape(joinNonEmpty(" · ", f.Resource.Type, f.Resource.Account, f.Resource.Region)),
				worst: f.Severity,
			}
			byRes[k] = res
		}
		res.N++
		res.worst = max(res.worst, f.Severity)
		label := kindLabels[f.Kind]
		if label == "" {
			label = termEscape(nonEmpty(titleCase(string(f.Kind)), "Other"))
		}
		byKind[label]++
	}
	for _, res := range byRes {
		res.Sev, res.SevLabel = res.worst.String(), titleCase(res.worst.String())
		v.Resources = append(v.Resources, *res)
	}
	slices.SortFunc(v.Resources, func(a, b htmlResource) int {
		return cmp.Or(cmp.Compare(b.worst, a.worst), cmp.Compare(b.N, a.N), cmp.Compare(a.Label, b.Label))
	})
	const topResources = 8
	if len(v.Resources) > topResources {
		v.MoreResources = len(v.Resources) - topResources
		v.Resources = v.Resources[:topResources]
	}
	for label, n := range byKind {
		v.Kinds = append(v.Kinds, htmlKind{label, n})
	}
	slices.SortFunc(v.Kinds, func(a, b htmlKind) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Label, b.Label)) })

	v.Headline = htmlHeadline(p, len(byRes))
	for i := range p.findings {
		v.Findings = append(v.Findings, newHTMLFinding(i, &p.findings[i]))
	}
	return htmlTemplate.Execute(w, v)
}

// htmlHeadline says in one sentence what the reader must know first.
func htmlHeadline(p *prepared, resources int) string {
	if p.total == 0 {
		if len(p.r.Errors) > 0 {
			return "No findings in what could be read."
		}
		return "No findings."
	}
	var worst []string
	for _, s := range severities[:3] {
		if n := p.counts[s]; n > 0 {
			worst = append(worst, fmt.Sprintf("%d %s", n, s))
		}
	}
	h := plural(p.total, "finding", "findings")
	if p.hidden == 0 {
		h += " on " + plural(resources, "resource", "resources")
	}
	if len(worst) > 0 {
		return h + ", of which " + strings.Join(worst, ", ") + "."
	}
	return h + ", none of medium severity or above."
}

var statusClasses = map[finding.Status]string{
	finding.StatusOpen: "open", finding.StatusResolved: "resolved", finding.StatusSuppressed: "suppressed",
}

func newHTMLFinding(i int, f *finding.Finding) htmlFinding {
	h := htmlFinding{
		N:             i,
		Sev:           f.Severity.String(),
		SevLabel:      titleCase(f.Severity.String()),
		SevRank:       int(f.Severity),
		Title:         termEscape(nonEmpty(f.Title, f.Rule)),
		Rule:          termEscape(f.Rule),
		KindLabel:     termEscape(nonEmpty(kindLabels[f.Kind], string(f.Kind))),
		Status:        termEscape(nonEmpty(string(f.Status), "open")),
		Resource:      termEscape(resourceLabel(f.Resource)),
		Location:      termEscape(locationLabel(f.Location)),
		Description:   textEscape(f.Description),
		Remediation:   textEscape(f.Remediation),
		Compliance:    escapeAll(distinct(f.Compliance)),
		Tags:          escapeAll(distinct(f.Tags)),
		ResourceName:  termEscape(shortResourceID(f.Resource)),
		ResourceWhere: termEscape(joinNonEmpty(" · ", f.Resource.Type, f.Resource.Account, f.Resource.Region)),
		Related:       escapeAll(f.Related),
		ID:            termEscape(f.ID),
		FirstSeen:     formatTime(f.FirstSeen),
		LastSeen:      formatTime(f.LastSeen),
	}
	h.StatusClass = statusClasses[finding.Status(nonEmpty(string(f.Status), "open"))]
	if h.StatusClass == "" {
		h.StatusClass = "other"
	}
	add := func(kv *[]htmlKV, k, v string) {
		if v != "" {
			*kv = append(*kv, htmlKV{k, termEscape(v)})
		}
	}
	res := f.Resource
	add(&h.ResourceDetail, "provider", res.Provider)
	add(&h.ResourceDetail, "account", res.Account)
	add(&h.ResourceDetail, "region", res.Region)
	add(&h.ResourceDetail, "type", res.Type)
	add(&h.ResourceDetail, "id", res.ID)
	add(&h.ResourceDetail, "arn/uri", res.ARN)
	if l := f.Location; l != nil {
		add(&h.LocationDetail, "volume", l.Volume)
		add(&h.LocationDetail, "file system", l.FileSystem)
		add(&h.LocationDetail, "path", l.Path)
		if l.Inode != 0 {
			add(&h.LocationDetail, "inode", strconv.FormatUint(l.Inode, 10))
		}
		if l.Offset != 0 {
			add(&h.LocationDetail, "offset", strconv.FormatInt(l.Offset, 10))
		}
		if l.Line > 0 {
			add(&h.LocationDetail, "line", strconv.Itoa(l.Line))
		}
		if l.Deleted {
			add(&h.LocationDetail, "deleted", "yes: recovered from a deleted entry")
		}
	}
	keys := make([]string, 0, len(f.Evidence))
	for k := range f.Evidence {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h.Evidence = append(h.Evidence, htmlKV{termEscape(k), termEscape(valueString(f.Evidence[k]))})
	}
	return h
}
