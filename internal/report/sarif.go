package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// SARIF 2.1.0 (OASIS, errata01), shaped for GitHub code scanning. The constraints GitHub
// documents (docs.github.com "SARIF support for code scanning") and enforces at upload:
//   - every result has a location with a physicalLocation and an artifactLocation.uri;
//   - a rule id is at most 255 characters ("sarif identifier exceeds maximum length");
//   - shortDescription.text and fullDescription.text are at most 1024 characters, and required
//     strings are never empty;
//   - at most 20 tags per rule (10 are shown), security-severity a string in (0, 10];
//   - an absolute URI must use the file scheme when a source root is given (the upload-sarif
//     action always gives one), so cloud resources get relative URIs, never arn: or https:;
//   - at most 25,000 results and 25,000 rules per run (not enforced here: see docs/design/report.md).

const (
	sarifSchemaURI    = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	sarifVersion      = "2.1.0"
	toolInfoURI       = "https://github.com/snapwatch/snapwatch"
	fingerprintKey    = "snapwatch/v1"
	maxSARIFID        = 255
	maxSARIFDesc      = 1024
	maxSARIFTags      = 20
	unknownRuleID     = "snapwatch/unknown-rule"
	noRemediationHelp = "No remediation is recorded for this rule; see the finding's description and evidence."
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool              sarifTool         `json:"tool"`
	Invocations       []sarifInvocation `json:"invocations,omitempty"`
	AutomationDetails *sarifAutomation  `json:"automationDetails,omitempty"`
	Results           []sarifResult     `json:"results"`
	Properties        map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name            string      `json:"name"`
	Version         string      `json:"version,omitempty"`
	SemanticVersion string      `json:"semanticVersion,omitempty"`
	InformationURI  string      `json:"informationUri"`
	Rules           []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifLevel     `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifLevel struct {
	Level string `json:"level"`
}

type sarifAutomation struct {
	ID string `json:"id"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	CommandLine                string              `json:"commandLine,omitempty"`
	StartTimeUTC               string              `json:"startTimeUtc,omitempty"`
	EndTimeUTC                 string              `json:"endTimeUtc,omitempty"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level      string         `json:"level"`
	Message    sarifText      `json:"message"`
	Properties map[string]any `json:"properties,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Kind                string             `json:"kind"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical          `json:"physicalLocation"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind   string `json:"kind"`
	Status string `json:"status"`
}

// securitySeverity maps severities to GitHub's security-severity scores: over 9.0 is critical,
// 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low. Info has none (GitHub reads 0.0 as "none").
var securitySeverity = map[finding.Severity]string{
	finding.Critical: "9.5",
	finding.High:     "8.0",
	finding.Medium:   "5.5",
	finding.Low:      "3.0",
}

// sarifLevelOf maps a severity to a SARIF level.
func sarifLevelOf(s finding.Severity) string {
	switch {
	case s >= finding.High:
		return "error"
	case s == finding.Medium:
		return "warning"
	default:
		return "note"
	}
}

func writeSARIF(w io.Writer, p *prepared, _ Options) error {
	r := p.r
	name := r.Tool.Name
	if name == "" {
		name = "snapwatch"
	}
	driver := sarifDriver{Name: name, Version: r.Tool.Version, InformationURI: toolInfoURI, Rules: []sarifRule{}}
	if v := strings.TrimPrefix(r.Tool.Version, "v"); semverRE.MatchString(v) {
		driver.SemanticVersion = v
	}

	// Rules, in order of first appearance in the sorted findings (so the highest severity first).
	ruleIndex := map[string]int{}
	ruleMax := map[string]finding.Severity{}
	var ruleKinds, ruleCompliance [][]string
	results := make([]sarifResult, 0, len(p.findings))
	for i := range p.findings {
		f := &p.findings[i]
		id := sarifRuleID(f.Rule)
		idx, ok := ruleIndex[id]
		if !ok {
			idx = len(driver.Rules)
			ruleIndex[id] = idx
			driver.Rules = append(driver.Rules, newSARIFRule(id, f))
			ruleKinds = append(ruleKinds, nil)
			ruleCompliance = append(ruleCompliance, nil)
		}
		ruleMax[id] = max(ruleMax[id], f.Severity)
		ruleKinds[idx] = append(ruleKinds[idx], string(f.Kind))
		ruleCompliance[idx] = append(ruleCompliance[idx], f.Compliance...)
		results = append(results, newSARIFResult(id, idx, f))
	}
	for id, idx := range ruleIndex {
		rule := &driver.Rules[idx]
		sev := ruleMax[id]
		rule.DefaultConfiguration.Level = sarifLevelOf(sev)
		if s, ok := securitySeverity[sev]; ok {
			rule.Properties["security-severity"] = s
		}
		rule.Properties["tags"] = sarifTags(ruleKinds[idx], ruleCompliance[idx])
	}

	inv := sarifInvocation{
		ExecutionSuccessful: len(r.Errors) == 0,
		CommandLine:         r.Tool.CommandLine,
		StartTimeUTC:        rfc3339(r.Started),
		EndTimeUTC:          rfc3339(r.Finished),
	}
	for _, e := range r.Errors {
		n := sarifNotification{Level: "error", Message: sarifText{Text: escapeMessage(nonEmpty(errorLine(e), "error"))}}
		if e.Target != "" || e.Where != "" {
			n.Properties = map[string]any{"target": e.Target, "where": e.Where}
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
	}

	run := sarifRun{
		Tool:        sarifTool{Driver: driver},
		Invocations: []sarifInvocation{inv},
		Results:     results,
		Properties: map[string]any{
			"command": r.Command,
			"targets": nonNil(r.Targets),
			"stats":   p.stats,
		},
	}
	if r.Command != "" {
		// GitHub reads "category/run-id": one category per command, so the results of scan and
		// audit uploaded for the same commit do not replace each other.
		run.AutomationDetails = &sarifAutomation{ID: name + "/" + r.Command + "/"}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchemaURI, Version: sarifVersion, Runs: []sarifRun{run}})
}

var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$`)

// sarifRuleID keeps a rule id within GitHub's 255 characters: a longer id keeps its first 246
// characters and gains "~" and 8 hex digits of its sha256, so distinct long ids stay distinct.
func sarifRuleID(rule string) string {
	if rule == "" {
		return unknownRuleID
	}
	if len(rule) <= maxSARIFID && utf8.ValidString(rule) {
		return rule
	}
	sum := sha256.Sum256([]byte(rule))
	head := strings.ToValidUTF8(rule, "?")
	head = cutBytes(head, maxSARIFID-9)
	return head + "~" + hex.EncodeToString(sum[:4])
}

// cutBytes cuts s to at most n bytes without splitting a character.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// limitText keeps GitHub's 1024-character limit on descriptions.
func limitText(s string) string {
	if utf8.RuneCountInString(s) <= maxSARIFDesc {
		return s
	}
	return string([]rune(s)[:maxSARIFDesc-1]) + Ellipsis
}

func nonEmpty(s, fallback string) string {
	if strings.TrimSpace(s) == "" {
		return fallback
	}
	return s
}

func newSARIFRule(id string, f *finding.Finding) sarifRule {
	short := nonEmpty(f.Title, id)
	rule := sarifRule{
		ID:               id,
		ShortDescription: sarifText{Text: limitText(short)},
		FullDescription:  sarifText{Text: limitText(nonEmpty(f.Description, short))},
		Help:             sarifText{Text: nonEmpty(f.Remediation, noRemediationHelp)},
		Properties:       map[string]any{},
	}
	if id != f.Rule && f.Rule != "" {
		rule.Properties["snapwatch-rule"] = f.Rule
	}
	return rule
}

// sarifTags: "security" first (GitHub then treats the rule as a security rule), then the kinds
// of finding, then compliance ids; each group deduplicated and sorted; at most 20 in all.
func sarifTags(kinds, compliance []string) []string {
	tags := []string{"security"}
	for _, group := range [][]string{kinds, compliance} {
		var g []string
		for _, t := range group {
			if t = strings.TrimSpace(t); t != "" && !slices.Contains(tags, t) {
				g = append(g, t)
			}
		}
		slices.Sort(g)
		tags = append(tags, slices.Compact(g)...)
	}
	if len(tags) > maxSARIFTags {
		tags = tags[:maxSARIFTags]
	}
	return tags
}

func newSARIFResult(ruleID string, idx int, f *finding.Finding) sarifResult {
	res := sarifResult{
		RuleID:    ruleID,
		RuleIndex: idx,
		Kind:      "fail",
		Level:     sarifLevelOf(f.Severity),
		Message:   sarifText{Text: escapeMessage(sarifMessage(f))},
		Locations: []sarifLocation{sarifLocationOf(f)},
	}
	id := f.ID
	if id == "" {
		l := locOf(*f)
		id = finding.Fingerprint(f.Rule, f.Resource, l.Volume, l.Path, strconv.Itoa(l.Line))
	}
	res.PartialFingerprints = map[string]string{fingerprintKey: id}
	switch f.Status {
	case finding.StatusResolved:
		// A result that no longer fails: SARIF requires level "none" for any kind but "fail".
		res.Kind, res.Level = "pass", "none"
	case finding.StatusSuppressed:
		res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted"}}
	}
	props := map[string]any{
		"id":         id,
		"kind":       f.Kind,
		"severity":   f.Severity.String(),
		"status":     f.Status,
		"resource":   f.Resource,
		"first_seen": rfc3339(f.FirstSeen),
		"last_seen":  rfc3339(f.LastSeen),
	}
	if s, ok := securitySeverity[f.Severity]; ok {
		props["security-severity"] = s
	}
	if f.Location != nil {
		props["location"] = f.Location
	}
	if len(f.Evidence) > 0 {
		props["evidence"] = f.Evidence
	}
	if len(f.Compliance) > 0 {
		props["compliance"] = f.Compliance
	}
	if len(f.Related) > 0 {
		props["related"] = f.Related
	}
	if len(f.Tags) > 0 {
		tags := slices.Clone(f.Tags)
		slices.Sort(tags)
		props["tags"] = slices.Compact(tags) // a SARIF tags array holds distinct strings
	}
	res.Properties = props
	return res
}

// messageEscaper escapes what SARIF message text (§3.11.6) would read as an embedded link,
// "[text](target)": literal backslashes and square brackets get a backslash, so a file named
// "[x](1)" is shown as it is, not turned into a link.
var messageEscaper = strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`)

func escapeMessage(s string) string { return messageEscaper.Replace(s) }

// sarifMessage: the title first (GitHub shows the first sentence), then what and where.
func sarifMessage(f *finding.Finding) string {
	msg := strings.TrimSpace(f.Title)
	if msg == "" {
		msg = nonEmpty(f.Rule, "finding")
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	if res := resourceLabel(f.Resource); res != "" {
		msg += " Resource: " + res + "."
	}
	if loc := locationLabel(f.Location); loc != "" {
		msg += " Location: " + loc + "."
	}
	return msg
}

// sarifLocationOf places a finding for SARIF viewers. Content findings point into their target:
// a directory scan gives a path relative to where snapwatch ran (what GitHub matches against the
// repository), a disk image its own URI with the file inside as fragment
// ("disks/web.qcow2#p2/etc/shadow"). Findings about cloud resources point to a relative
// pseudo-path "provider/account/region/type/id", and carry the resource as a logical location.
func sarifLocationOf(f *finding.Finding) sarifLocation {
	r := f.Resource
	loc := sarifLocation{
		PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: resourceURI(f)}},
		LogicalLocations: []sarifLogicalLocation{{
			Name:               nonEmpty(r.ID, "resource"),
			FullyQualifiedName: nonEmpty(r.ARN, r.Key()),
			Kind:               "resource",
		}},
	}
	if f.Location != nil {
		// GitHub needs a start line to show a result in a file; a file-level finding starts at 1.
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: max(f.Location.Line, 1)}
	}
	return loc
}

// isLocal reports a resource on the machine snapwatch ran on: its id is a file-system path.
func isLocal(r finding.Resource) bool {
	return r.Provider == "" || r.Provider == "local"
}

// resourceURI builds the artifactLocation.uri of a finding: always a valid URI reference,
// relative or file:.
func resourceURI(f *finding.Finding) string {
	r := f.Resource
	l := locOf(*f)
	inner := l.Path
	if l.Volume != "" {
		inner = l.Volume + "/" + strings.TrimPrefix(l.Path, "/")
		inner = strings.TrimSuffix(inner, "/")
	}
	if isLocal(r) {
		base := r.ID
		if base == "" {
			base = "."
		}
		if r.Type == "directory" && l.Volume == "" && l.Path != "" {
			// A file inside a scanned directory: a path, so that GitHub can match it.
			return fileURI(path.Join(filepathToSlash(base), strings.TrimPrefix(l.Path, "/")))
		}
		u := fileURI(filepathToSlash(base))
		if inner != "" {
			u += "#" + escapeURI(strings.TrimPrefix(inner, "/"), fragmentSafe)
		}
		return u
	}
	var segs []string
	for _, s := range []string{r.Provider, r.Account, r.Region, r.Type} {
		if s != "" {
			segs = append(segs, escapeURI(s, segmentSafe))
		}
	}
	id := strings.TrimLeft(r.ID, "/")
	if id == "" {
		id = "resource"
	}
	u := strings.Join(segs, "/") + "/" + escapeURI(id, pathSafe)
	if inner != "" {
		u += "#" + escapeURI(strings.TrimPrefix(inner, "/"), fragmentSafe)
	}
	return relativeRef(u)
}

func filepathToSlash(p string) string {
	return strings.ReplaceAll(p, `\`, "/")
}

// fileURI turns a file path into a URI reference: file:///abs/path for an absolute path, a
// relative reference for a relative one.
func fileURI(p string) string {
	if strings.HasPrefix(p, "/") {
		return "file://" + escapeURI("/"+strings.TrimLeft(p, "/"), pathSafe)
	}
	if p == "" {
		p = "."
	}
	return relativeRef(escapeURI(p, pathSafe))
}

// relativeRef keeps a relative reference from being read as something else: a first segment
// with a colon would be a scheme ("c:" → "./c:").
func relativeRef(u string) string {
	first, _, _ := strings.Cut(u, "/")
	if strings.Contains(first, ":") || strings.HasPrefix(u, "/") {
		return "./" + strings.TrimLeft(u, "/")
	}
	return u
}

type uriPart int

const (
	segmentSafe  uriPart = iota // one path segment: no "/"
	pathSafe                    // a path: "/" kept
	fragmentSafe                // a fragment: "/" and "?" kept
)

// escapeURI percent-encodes everything RFC 3986 does not allow in the given part (and "%"
// itself, so that a path that looks encoded stays what it was).
func escapeURI(s string, part uriPart) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if uriAllowed(c, part) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func uriAllowed(c byte, part uriPart) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', // unreserved
		'!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', // sub-delims
		':', '@':
		return true
	case '/':
		return part != segmentSafe
	case '?':
		return part == fragmentSafe
	}
	return false
}
