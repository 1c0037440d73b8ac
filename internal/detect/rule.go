package detect

import (
	"fmt"
	"strings"
	"time"

	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// Rule kinds: how the engine acts on a match. Every kind is declared in the rule files, so that a
// rule's wording, severity and the actions it watches stay data; only the logic behind a kind is
// code.
const (
	KindEvent      = "event"           // one record is the alert
	KindUsed       = "exposure-used"   // an owner-side SharedSnapshot* record by an outside account
	KindBurst      = "burst"           // many matching records by one actor inside a window
	KindCopyShare  = "copy-then-share" // a copy to a region the account never used, then a share of the copy
	KindRevocation = "revocation"      // never alerts; feeds the exposure state (implied remove grants)
)

// Rule categories, used for grouping and for the baseline (only leaks feed it).
const (
	CategoryLeak        = "leak"
	CategoryGuard       = "guard"
	CategoryExport      = "export"
	CategoryLogging     = "logging"
	CategoryDestruction = "destruction"
)

// ruleFile is one TOML rule file.
type ruleFile struct {
	Rules []ruleSpec `toml:"rules"`
}

// ruleSpec is a rule as written in a file.
type ruleSpec struct {
	ID              string   `toml:"id"`
	Kind            string   `toml:"kind"`
	Category        string   `toml:"category"`
	Title           string   `toml:"title"`
	Severity        string   `toml:"severity"`
	AttemptSeverity string   `toml:"attempt_severity"` // set: failed calls alert as "<id>-attempt" at this severity
	Description     string   `toml:"description"`
	Remediation     string   `toml:"remediation"`
	Compliance      []string `toml:"compliance"`
	Attack          []string `toml:"attack"` // MITRE ATT&CK technique ids
	Tags            []string `toml:"tags"`
	KeyFacts        []string `toml:"key_facts"` // facts that make two alerts different problems
	Disabled        bool     `toml:"disabled"`

	Implies *grantSpec  `toml:"implies"` // a grant the record makes when the parser gave none (Azure SAS)
	Burst   *burstSpec  `toml:"burst"`
	Window  string      `toml:"window"` // copy-then-share
	Match   []matchSpec `toml:"match"`  // the rule matches when any block matches
}

type grantSpec struct {
	Op    string `toml:"op"`
	Kind  string `toml:"kind"`
	Value string `toml:"value"`
}

type burstSpec struct {
	By        string `toml:"by"` // "actor" (default) or "account"
	Threshold int    `toml:"threshold"`
	Window    string `toml:"window"`
}

// matchSpec is one set of conditions, all of which must hold.
type matchSpec struct {
	Cloud         string              `toml:"cloud"`
	Service       string              `toml:"service"`
	Actions       []string            `toml:"actions"`
	ResourceTypes []string            `toml:"resource_types"`
	Grants        []string            `toml:"grants"`        // an added grant of one of these classes
	Facts         map[string][]string `toml:"facts"`         // each fact equals one of the values
	NotFacts      map[string][]string `toml:"not_facts"`     // no fact equals one of the values
	OutsideFacts  []string            `toml:"outside_facts"` // a fact names an account (or ARN) outside the boundary
	ActorTypes    []string            `toml:"actor_types"`
	NotActorTypes []string            `toml:"not_actor_types"`
	NotInvokedBy  []string            `toml:"not_invoked_by"`
}

// Rule is a compiled rule.
type Rule struct {
	ID              string
	Kind            string
	Category        string
	Title           string
	Severity        finding.Severity
	AttemptSeverity finding.Severity
	Attempts        bool
	Description     string
	Remediation     string
	Compliance      []string
	Attack          []string
	Tags            []string
	KeyFacts        []string
	Implies         *event.Grant
	Burst           BurstLimit
	BurstByAccount  bool
	Window          time.Duration
	Source          string // file the rule came from
	match           []matcher
	disabled        bool
	usesBoundary    bool // the rule classifies someone against the trust boundary
}

// matcher is a compiled matchSpec. Strings are lower-cased where the comparison folds case.
type matcher struct {
	cloud, service string
	actions        []string // lower case
	resourceTypes  []string
	grants         []trust.Class
	facts          []factCond
	notFacts       []factCond
	outsideFacts   []string
	actorTypes     []string
	notActorTypes  []string
	notInvokedBy   []string
}

type factCond struct {
	key    string
	values []string
}

// BurstLimit is how many matching records by one actor within Window make a burst.
type BurstLimit struct {
	Threshold int
	Window    time.Duration
}

func (s *ruleSpec) compile(source string) (*Rule, error) {
	if s.ID == "" {
		return nil, fmt.Errorf("%s: a rule without id", source)
	}
	fail := func(format string, a ...any) (*Rule, error) {
		return nil, fmt.Errorf("%s: rule %s: %s", source, s.ID, fmt.Sprintf(format, a...))
	}
	r := &Rule{ID: s.ID, Kind: s.Kind, Category: s.Category, Title: s.Title, Description: strings.TrimSpace(s.Description),
		Remediation: strings.TrimSpace(s.Remediation), Compliance: s.Compliance, Attack: s.Attack, Tags: s.Tags,
		KeyFacts: s.KeyFacts, Source: source}
	if r.Kind == "" {
		r.Kind = KindEvent
	}
	switch r.Kind {
	case KindEvent, KindUsed, KindBurst, KindCopyShare, KindRevocation:
	default:
		return fail("unknown kind %q", r.Kind)
	}
	if r.Title == "" && r.Kind != KindRevocation {
		return fail("no title")
	}
	var err error
	if r.Severity, err = parseSeverity(s.Severity, r.Kind); err != nil {
		return fail("%v", err)
	}
	if s.AttemptSeverity != "" {
		if r.AttemptSeverity, err = finding.ParseSeverity(s.AttemptSeverity); err != nil {
			return fail("%v", err)
		}
		r.Attempts = true
	}
	if s.Implies != nil {
		g := event.Grant{Op: strings.ToLower(s.Implies.Op), Kind: s.Implies.Kind, Value: s.Implies.Value}
		if (g.Op != "add" && g.Op != "remove") || g.Kind == "" || g.Value == "" {
			return fail("implies needs op add|remove, kind and value")
		}
		r.Implies = &g
	}
	if r.Kind == KindBurst {
		if s.Burst == nil || s.Burst.Threshold < 1 {
			return fail("a burst rule needs burst.threshold ≥ 1")
		}
		r.Burst.Threshold = s.Burst.Threshold
		if r.Burst.Window, err = parseWindow(s.Burst.Window); err != nil {
			return fail("burst.window: %v", err)
		}
		switch s.Burst.By {
		case "", "actor":
		case "account":
			r.BurstByAccount = true
		default:
			return fail("burst.by must be actor or account")
		}
	}
	if r.Kind == KindCopyShare {
		if r.Window, err = parseWindow(s.Window); err != nil {
			return fail("window: %v", err)
		}
	}
	if len(s.Match) == 0 {
		return fail("no match block")
	}
	for i, m := range s.Match {
		c, err := m.compile()
		if err != nil {
			return fail("match %d: %v", i+1, err)
		}
		r.match = append(r.match, c)
		r.usesBoundary = r.usesBoundary || len(c.grants) > 0 || len(c.outsideFacts) > 0
	}
	r.usesBoundary = r.usesBoundary || r.Kind == KindUsed || r.Kind == KindCopyShare
	return r, nil
}

func parseSeverity(s, kind string) (finding.Severity, error) {
	if s == "" {
		if kind == KindRevocation {
			return finding.Info, nil
		}
		return finding.Info, fmt.Errorf("no severity")
	}
	return finding.ParseSeverity(s)
}

func parseWindow(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("missing")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 || d > 30*24*time.Hour {
		return 0, fmt.Errorf("%s outside (0, 720h]", s)
	}
	return d, nil
}

func (m *matchSpec) compile() (matcher, error) {
	c := matcher{cloud: strings.ToLower(m.Cloud), service: strings.ToLower(m.Service),
		actions: lowerAll(m.Actions), resourceTypes: m.ResourceTypes, outsideFacts: m.OutsideFacts,
		actorTypes: lowerAll(m.ActorTypes), notActorTypes: lowerAll(m.NotActorTypes), notInvokedBy: lowerAll(m.NotInvokedBy)}
	switch c.cloud {
	case "aws", "azure", "gcp":
	default:
		return c, fmt.Errorf("cloud must be aws, azure or gcp, not %q", m.Cloud)
	}
	// Rules are indexed by action: a block without actions would have to run on every record.
	if len(c.actions) == 0 {
		return c, fmt.Errorf("no actions")
	}
	for _, g := range m.Grants {
		cl, ok := trust.ParseClass(g)
		if !ok || cl == trust.Internal {
			return c, fmt.Errorf("grants: %q is not external, public or authenticated", g)
		}
		c.grants = append(c.grants, cl)
	}
	c.facts = factConds(m.Facts)
	c.notFacts = factConds(m.NotFacts)
	return c, nil
}

func factConds(m map[string][]string) []factCond {
	var out []factCond
	for k, vs := range m {
		out = append(out, factCond{key: k, values: vs})
	}
	return out
}

func lowerAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.ToLower(v)
	}
	return out
}
