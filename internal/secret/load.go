package secret

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

//go:embed rules/*.toml
var embeddedRules embed.FS

// maxExtendDepth bounds [extend] path chains, as gitleaks does, so a cycle cannot recurse forever.
const maxExtendDepth = 2

// ruleSet gathers rule files before compiling: later files merge into rules of the same id.
type ruleSet struct {
	order      []string
	rules      map[string]*ruleConfig
	native     map[string]bool // rule id → defined or touched by a snapwatch-format file
	allowlists []allowlistConfig
	defaults   bool            // embedded rules already added
	disabled   map[string]bool // ids removed by [extend] disabledRules
}

func newRuleSet() *ruleSet {
	return &ruleSet{rules: map[string]*ruleConfig{}, native: map[string]bool{}, disabled: map[string]bool{}}
}

// Load compiles the embedded rules (when defaults is true) and then each file in order; a rule
// in a file replaces the fields it sets of an earlier rule with the same id and adds to its
// keywords, tags and allow-lists. Files are snapwatch rule files or gitleaks configs, told apart
// by content; a gitleaks [extend] useDefault pulls in the embedded rules.
func Load(defaults bool, files ...string) (*Scanner, error) {
	set := newRuleSet()
	if defaults {
		if err := set.addEmbedded(); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		if err := set.addFile(f, 0); err != nil {
			return nil, err
		}
	}
	return set.compile()
}

// LoadGitleaks compiles a gitleaks config read from r, exactly as gitleaks would use it: alone,
// unless it says [extend] useDefault = true (the embedded snapwatch rules stand in for
// gitleaks' defaults) or extends a path (relative to the working directory).
func LoadGitleaks(r io.Reader) (*Scanner, error) {
	set := newRuleSet()
	if err := set.addReader("gitleaks config", r, ".", 0); err != nil {
		return nil, err
	}
	return set.compile()
}

var defaultScanner = sync.OnceValue(func() *Scanner {
	s, err := Load(true)
	if err != nil {
		panic("secret: embedded rules do not compile: " + err.Error())
	}
	return s
})

// Default returns the scanner of the embedded rules, compiled on first use and shared.
func Default() *Scanner { return defaultScanner() }

func (set *ruleSet) addEmbedded() error {
	if set.defaults {
		return nil
	}
	set.defaults = true
	names, err := fs.Glob(embeddedRules, "rules/*.toml")
	if err != nil {
		return err
	}
	sort.Strings(names)
	seen := map[string]string{}
	for _, name := range names {
		f, err := embeddedRules.Open(name)
		if err != nil {
			return err
		}
		fc, err := parseConfig(name, f)
		f.Close()
		if err != nil {
			return err
		}
		for _, rc := range fc.Rules {
			if prev, dup := seen[rc.ID]; dup {
				return fmt.Errorf("%s: rule %s already defined in %s", name, rc.ID, prev)
			}
			seen[rc.ID] = name
		}
		if err := set.merge(name, fc, true); err != nil {
			return err
		}
	}
	return nil
}

func (set *ruleSet) addFile(path string, depth int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	defer f.Close()
	return set.addReader(path, f, filepath.Dir(path), depth)
}

func (set *ruleSet) addReader(name string, r io.Reader, dir string, depth int) error {
	fc, err := parseConfig(name, r)
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	// The extended config is the base this file refines, so it goes in first.
	switch {
	case fc.Extend.URL != "":
		return fmt.Errorf("secret: %s: [extend] url is not supported; download the file and use path", name)
	case fc.Extend.UseDefault && fc.Extend.Path != "":
		return fmt.Errorf("secret: %s: [extend] sets both useDefault and path", name)
	case fc.Extend.UseDefault:
		if err := set.addEmbedded(); err != nil {
			return err
		}
	case fc.Extend.Path != "":
		if depth >= maxExtendDepth {
			return fmt.Errorf("secret: %s: [extend] chain deeper than %d", name, maxExtendDepth)
		}
		p := fc.Extend.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if err := set.addFile(p, depth+1); err != nil {
			return err
		}
	}
	if err := set.merge(name, fc, isNative(fc)); err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	for _, id := range fc.Extend.DisabledRules {
		set.disabled[id] = true
		if _, ok := set.rules[id]; ok {
			delete(set.rules, id)
			set.order = removeString(set.order, id)
		}
	}
	return nil
}

// isNative reports whether a file uses snapwatch's own rule fields.
func isNative(fc *fileConfig) bool {
	for _, rc := range fc.Rules {
		if rc.Title != "" || rc.Severity != "" || rc.Category != "" || rc.Priority != nil ||
			rc.Window != 0 || rc.Lead != 0 || rc.Check != "" || rc.TextOnly || len(rc.Tests) > 0 {
			return true
		}
	}
	return false
}

// merge adds a file's rules and allow-lists, following gitleaks' extend semantics for ids that
// already exist: set scalars replace, lists append.
func (set *ruleSet) merge(name string, fc *fileConfig, native bool) error {
	if fc.Allowlist != nil {
		if len(fc.Allowlists) > 0 {
			return fmt.Errorf("%s: [allowlist] is the deprecated form of [[allowlists]]; use one", name)
		}
		set.allowlists = append(set.allowlists, *fc.Allowlist)
	}
	set.allowlists = append(set.allowlists, fc.Allowlists...)
	for i := range fc.Rules {
		rc := fc.Rules[i]
		if native {
			set.native[rc.ID] = true
		}
		base, ok := set.rules[rc.ID]
		if !ok {
			set.rules[rc.ID] = &rc
			set.order = append(set.order, rc.ID)
			continue
		}
		mergeRule(base, &rc)
	}
	return nil
}

func mergeRule(base, over *ruleConfig) {
	setString := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setString(&base.Description, over.Description)
	setString(&base.Regex, over.Regex)
	setString(&base.Path, over.Path)
	setString(&base.Title, over.Title)
	setString(&base.Severity, over.Severity)
	setString(&base.Category, over.Category)
	setString(&base.Check, over.Check)
	if over.Entropy != 0 {
		base.Entropy = over.Entropy
	}
	if over.SecretGroup != 0 {
		base.SecretGroup = over.SecretGroup
	}
	if over.Window != 0 {
		base.Window = over.Window
	}
	if over.Lead != 0 {
		base.Lead = over.Lead
	}
	if over.Priority != nil {
		base.Priority = over.Priority
	}
	if len(over.Required) > 0 {
		base.Required = over.Required
	}
	base.SkipReport = base.SkipReport || over.SkipReport
	base.TextOnly = base.TextOnly || over.TextOnly
	base.Tags = append(base.Tags, over.Tags...)
	base.Keywords = append(base.Keywords, over.Keywords...)
	if over.Allowlist != nil {
		base.Allowlists = append(base.Allowlists, *over.Allowlist)
	}
	base.Allowlists = append(base.Allowlists, over.Allowlists...)
	base.Tests = append(base.Tests, over.Tests...)
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// compile validates and compiles everything gathered into a Scanner.
func (set *ruleSet) compile() (*Scanner, error) {
	if len(set.order) == 0 {
		return nil, errNoRules
	}
	var rules []*rule
	byID := map[string]*rule{}
	for _, id := range set.order {
		r, err := compileRule(set.rules[id], set.native[id])
		if err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		r.index = len(rules)
		rules = append(rules, r)
		byID[id] = r
	}
	for _, id := range set.order {
		r := byID[id]
		for _, rq := range set.rules[id].Required {
			comp, ok := byID[rq.ID]
			switch {
			case rq.ID == "":
				return nil, fmt.Errorf("secret: rule %s: [[rules.required]] without id", id)
			case !ok:
				return nil, fmt.Errorf("secret: rule %s: required rule %q does not exist", id, rq.ID)
			case comp == r:
				return nil, fmt.Errorf("secret: rule %s: requires itself", id)
			}
			ctx := rq.Context
			if ctx == "" {
				ctx = rq.ID
			}
			r.required = append(r.required, required{
				rule: comp.index, id: rq.ID, withinLines: rq.WithinLines, withinColumns: rq.WithinColumns,
				withinBytes: rq.WithinBytes, context: ctx, optional: rq.Optional,
			})
		}
	}
	var global []*allowlist
	for i, ac := range set.allowlists {
		al, err := compileAllowlist(ac)
		if err != nil {
			return nil, fmt.Errorf("secret: global allow-list %d: %w", i+1, err)
		}
		if len(ac.TargetRules) == 0 {
			global = append(global, al)
			continue
		}
		for _, id := range ac.TargetRules {
			r, ok := byID[id]
			if !ok && set.disabled[id] {
				continue // the list's own rule was switched off
			}
			if !ok {
				return nil, fmt.Errorf("secret: global allow-list %d: target rule %q does not exist", i+1, id)
			}
			r.allowlists = append(r.allowlists, al)
		}
	}
	for _, r := range rules {
		for _, al := range r.allowlists {
			r.hasPathAls = r.hasPathAls || al.pathOnly()
		}
	}
	return newScanner(rules, global)
}

// embeddedTests returns the test cases of the embedded rules by rule id, and the ids in order.
func embeddedTests() (map[string][]testConfig, []string, error) {
	set := newRuleSet()
	if err := set.addEmbedded(); err != nil {
		return nil, nil, err
	}
	out := map[string][]testConfig{}
	for _, id := range set.order {
		out[id] = set.rules[id].Tests
	}
	return out, set.order, nil
}
