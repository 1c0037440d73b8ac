package secret

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// rule is one compiled rule.
type rule struct {
	index                  int
	id, title, description string
	category               string
	severity               Severity
	tags                   []string
	re                     *regexp.Regexp // nil for a rule that matches paths only
	path                   *regexp.Regexp
	secretGroup            int
	entropy                float64
	keywords               []string // lower-cased
	allowlists             []*allowlist
	required               []required
	skipReport             bool
	priority               int
	window                 int            // bytes after a keyword hit that a match can reach
	lead                   int            // bytes before a keyword hit where a match can start
	anchored               *regexp.Regexp // re pinned to the text start: set when every match starts at a keyword
	leading                assertion      // what re asserts before its first byte, checked by hand when anchored
	gated                  bool           // has a mandatory companion: searched only near the companion's candidates
	textOnly               bool           // matches in binary data are dropped
	check                  checkFunc
	hasPathAls             bool // has an allow-list that decides by path alone
}

type required struct {
	rule          int // index of the companion rule
	id            string
	withinLines   *int
	withinColumns *int
	withinBytes   *int
	context       string
	optional      bool
}

// RuleInfo describes a rule for documentation and `snapwatch rules`.
type RuleInfo struct {
	ID, Title, Description, Category string
	Severity                         Severity
	Tags                             []string
	Keywords                         []string
}

const (
	// unboundedWindow is searched around a keyword when a rule's regex has no length bound.
	unboundedWindow = 2048
	// maxWindow caps a computed window, so a pathological rule cannot make every hit scan far.
	maxWindow = 8192
	// minNativeKeyword is the shortest keyword a snapwatch rule may route on: shorter ones hit
	// everywhere in binaries and buy nothing.
	minNativeKeyword = 3
)

func compileRule(rc *ruleConfig, native bool) (*rule, error) {
	if strings.TrimSpace(rc.ID) == "" {
		ctx := rc.Regex
		if ctx == "" {
			ctx = rc.Path
		}
		return nil, fmt.Errorf("rule without id (regex or path %q)", ctx)
	}
	r := &rule{
		id:          rc.ID,
		title:       rc.Title,
		description: rc.Description,
		category:    rc.Category,
		tags:        slices.Clone(rc.Tags),
		secretGroup: rc.SecretGroup,
		entropy:     rc.Entropy,
		skipReport:  rc.SkipReport,
		window:      rc.Window,
		lead:        rc.Lead,
		textOnly:    rc.TextOnly,
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("rule %s: %s", rc.ID, fmt.Sprintf(format, a...))
	}
	if rc.Regex == "" && rc.Path == "" {
		return nil, fail("neither regex nor path is set; the rule would never match")
	}
	var err error
	if rc.Regex != "" {
		if r.re, err = regexp.Compile(rc.Regex); err != nil {
			return nil, fail("regex: %v", err)
		}
		if rc.SecretGroup < 0 || rc.SecretGroup > r.re.NumSubexp() {
			return nil, fail("secretGroup %d out of range: the regex has %d groups", rc.SecretGroup, r.re.NumSubexp())
		}
	}
	if rc.Path != "" {
		if r.path, err = regexp.Compile(rc.Path); err != nil {
			return nil, fail("path: %v", err)
		}
	}
	if rc.Entropy < 0 || rc.Entropy > 8 {
		return nil, fail("entropy %v out of range 0..8 (bits per byte)", rc.Entropy)
	}
	if rc.Window < 0 || rc.Window > maxWindow {
		return nil, fail("window %d out of range 0..%d", rc.Window, maxWindow)
	}
	if rc.Lead < 0 || rc.Lead > maxWindow {
		return nil, fail("lead %d out of range 0..%d", rc.Lead, maxWindow)
	}
	for _, k := range rc.Keywords {
		if k == "" {
			return nil, fail("empty keyword")
		}
		if native && len(k) < minNativeKeyword {
			return nil, fail("keyword %q shorter than %d bytes routes the rule onto almost every chunk", k, minNativeKeyword)
		}
		k = strings.ToLower(k)
		if !slices.Contains(r.keywords, k) {
			r.keywords = append(r.keywords, k)
		}
	}
	if native && r.re != nil && len(r.keywords) == 0 && r.path == nil {
		return nil, fail("no keywords: a snapwatch rule with a regex must route on keywords or be scoped to a path")
	}
	category, severity := guessKind(rc.ID, rc.Tags)
	if r.category == "" {
		r.category = category
	}
	r.severity = severity
	if rc.Severity != "" {
		if r.severity, err = ParseSeverity(rc.Severity); err != nil {
			return nil, fail("%v", err)
		}
	}
	if r.title == "" {
		r.title = strings.TrimSuffix(firstSentence(rc.Description), ".")
		if r.title == "" {
			r.title = rc.ID
		}
	}
	r.priority = 0
	if r.category == "generic" {
		r.priority = -10
	}
	if rc.Priority != nil {
		r.priority = *rc.Priority
	}
	if rc.Check != "" {
		if r.check = checks[rc.Check]; r.check == nil {
			return nil, fail("unknown check %q", rc.Check)
		}
	}
	if rc.Allowlist != nil {
		if len(rc.Allowlists) > 0 {
			return nil, fail("[rules.allowlist] is the deprecated form of [[rules.allowlists]]; use one")
		}
		rc.Allowlists = append(rc.Allowlists, *rc.Allowlist)
	}
	for _, ac := range rc.Allowlists {
		al, err := compileAllowlist(ac)
		if err != nil {
			return nil, fail("%v", err)
		}
		r.allowlists = append(r.allowlists, al)
	}
	if r.re != nil {
		if r.window == 0 {
			r.window = searchWindow(r.re)
		}
		if r.lead == 0 {
			r.lead = r.window
		}
		if rc.Lead == 0 && startsWithKeyword(r.re, r.keywords) {
			// Every match starts at a keyword hit: try the regex pinned there instead of
			// searching a window, which fails within a few bytes on the common non-match.
			r.anchored = regexp.MustCompile(`^(?:` + r.re.String() + `)`)
			r.leading = leadingAssertion(r.re)
		}
	}
	return r, nil
}

// guessKind derives a category and severity for rules that do not say, e.g. from gitleaks.
func guessKind(id string, tags []string) (string, Severity) {
	l := strings.ToLower(id)
	switch {
	case strings.Contains(l, "private-key"), strings.Contains(l, "private_key"):
		return "private-key", High
	case strings.HasPrefix(l, "generic") || slices.Contains(tags, "generic"):
		return "generic", Low
	case strings.Contains(l, "password"):
		return "password", Medium
	case strings.Contains(l, "aws"), strings.Contains(l, "gcp"), strings.Contains(l, "azure"):
		return "cloud-credential", High
	}
	return "token", Medium
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i]
	}
	return s
}

func (r *rule) info() RuleInfo {
	return RuleInfo{
		ID: r.id, Title: r.title, Description: r.description, Category: r.category,
		Severity: r.severity, Tags: slices.Clone(r.tags), Keywords: slices.Clone(r.keywords),
	}
}

var errNoRules = errors.New("secret: no rules")
