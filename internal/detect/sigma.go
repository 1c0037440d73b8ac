package detect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// Sigma support: SigmaHQ-style YAML rules, evaluated by this package's own small engine over the
// raw record JSON. (bradleyjkemp/sigma-go v0.6.6 was evaluated and rejected: it treats "*" in
// values as a literal, so `errorCode|contains: '*'` never matches; it errors on keyword
// searches; and it finds nested CloudTrail fields only through hand-written JSONPath mappings.
// docs/design/detect.md has the comparison.)

// sigmaFile is a rule as written.
type sigmaFile struct {
	Title       string         `yaml:"title"`
	ID          string         `yaml:"id"`
	Status      string         `yaml:"status"`
	Description string         `yaml:"description"`
	Level       string         `yaml:"level"`
	Tags        []string       `yaml:"tags"`
	Logsource   sigmaLogsource `yaml:"logsource"`
	Detection   map[string]any `yaml:"detection"`
	Correlation any            `yaml:"correlation"`
	Filter      any            `yaml:"filter"`
}

type sigmaLogsource struct {
	Product  string `yaml:"product"`
	Service  string `yaml:"service"`
	Category string `yaml:"category"`
}

// sigmaRule is a compiled rule.
type sigmaRule struct {
	ID, Title, Description, Status, Path string
	Tags                                 []string
	Severity                             finding.Severity
	cloud                                string
	searches                             []*sigmaSearch
	cond                                 condNode
	// prefilter: lower-case literals, one of which the raw record must contain (nil: none known).
	prefilter []string
}

// sigmaSet is every loaded rule and why others were skipped.
type sigmaSet struct {
	rules   []*sigmaRule
	skipped []SigmaSkip
}

// SigmaSkip is a Sigma file that was not loaded, and why.
type SigmaSkip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

func (s *sigmaSet) count() int {
	if s == nil {
		return 0
	}
	return len(s.rules)
}

// SigmaRules returns how many Sigma rules run, and the files skipped with the reason.
func (e *Engine) SigmaRules() (loaded int, skipped []SigmaSkip) {
	if e.sigma == nil {
		return 0, nil
	}
	return len(e.sigma.rules), e.sigma.skipped
}

// errNotCloud marks a rule for a log source snapshot does not read (Windows, proxy...): skipped
// quietly, since a SigmaHQ checkout is mostly such rules.
var errNotCloud = errors.New("log source is not AWS CloudTrail, Azure Activity Log or GCP audit")

// maxSigmaFile bounds one rule file: rules are a few KiB.
const maxSigmaFile = 1 << 20

func loadSigmaDir(dir string, fieldMap map[string][]string) (*sigmaSet, error) {
	set := &sigmaSet{}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("sigma directory: %w", err)
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			set.skipped = append(set.skipped, SigmaSkip{path, err.Error()})
			return nil
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Size() > maxSigmaFile {
			set.skipped = append(set.skipped, SigmaSkip{path, "file larger than 1 MiB"})
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			set.skipped = append(set.skipped, SigmaSkip{path, err.Error()})
			return nil
		}
		r, err := parseSigma(data, fieldMap)
		switch {
		case errors.Is(err, errNotCloud):
		case err != nil:
			set.skipped = append(set.skipped, SigmaSkip{path, err.Error()})
		default:
			r.Path = path
			set.rules = append(set.rules, r)
		}
		return nil
	})
	sort.Slice(set.rules, func(i, j int) bool { return set.rules[i].Path < set.rules[j].Path })
	return set, err
}

// parseSigma compiles one Sigma rule. A rule for a log source other than the three clouds is errNotCloud.
func parseSigma(data []byte, fieldMap map[string][]string) (*sigmaRule, error) {
	var f sigmaFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	if f.Correlation != nil {
		return nil, fmt.Errorf("correlation rules are not supported")
	}
	if f.Filter != nil {
		return nil, fmt.Errorf("filter rules are not supported")
	}
	cloud := sigmaCloud(f.Logsource)
	if cloud == "" {
		return nil, errNotCloud
	}
	switch strings.ToLower(f.Status) {
	case "deprecated", "unsupported":
		return nil, fmt.Errorf("status %s", f.Status)
	}
	if f.ID == "" || f.Title == "" {
		return nil, fmt.Errorf("a rule needs id and title")
	}
	r := &sigmaRule{ID: f.ID, Title: f.Title, Description: strings.TrimSpace(f.Description), Status: f.Status,
		Tags: f.Tags, cloud: cloud}
	var err error
	if r.Severity, err = sigmaSeverity(f.Level); err != nil {
		return nil, err
	}
	if len(f.Detection) == 0 {
		return nil, fmt.Errorf("no detection")
	}
	names := map[string]int{}
	var order []string
	for name := range f.Detection {
		if name != "condition" && name != "timeframe" {
			order = append(order, name)
		}
	}
	sort.Strings(order)
	if _, ok := f.Detection["timeframe"]; ok {
		return nil, fmt.Errorf("timeframe (aggregation) is not supported")
	}
	for _, name := range order {
		s, err := compileSearch(name, f.Detection[name], cloud, fieldMap)
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", name, err)
		}
		names[name] = len(r.searches)
		r.searches = append(r.searches, s)
	}
	var conds []string
	switch c := f.Detection["condition"].(type) {
	case string:
		conds = []string{c}
	case []any:
		for _, x := range c {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("condition list holds a %T", x)
			}
			conds = append(conds, s)
		}
	default:
		return nil, fmt.Errorf("no condition")
	}
	var nodes []condNode
	for _, c := range conds {
		n, err := parseCondition(c, names)
		if err != nil {
			return nil, fmt.Errorf("condition %q: %w", c, err)
		}
		nodes = append(nodes, n)
	}
	r.cond = nodes[0]
	if len(nodes) > 1 {
		r.cond = orNode(nodes) // a list of conditions: any may match
	}
	r.prefilter = literalsOf(r.cond, r)
	return r, nil
}

func sigmaCloud(ls sigmaLogsource) string {
	p, s := strings.ToLower(ls.Product), strings.ToLower(ls.Service)
	switch {
	case p == "aws" && (s == "" || s == "cloudtrail"):
		return "aws"
	case p == "azure" && (s == "activitylogs" || s == "azureactivity"):
		return "azure"
	case p == "gcp" && (s == "gcp.audit" || s == "audit"):
		return "gcp"
	}
	return ""
}

func sigmaSeverity(level string) (finding.Severity, error) {
	switch strings.ToLower(level) {
	case "informational", "info", "":
		return finding.Info, nil
	case "low":
		return finding.Low, nil
	case "medium":
		return finding.Medium, nil
	case "high":
		return finding.High, nil
	case "critical":
		return finding.Critical, nil
	}
	return finding.Info, fmt.Errorf("unknown level %q", level)
}
