package secret

import (
	"fmt"
	"io"
	"strings"

	"github.com/BurntSushi/toml"
)

// fileConfig is one rule file as written: gitleaks' schema (so a gitleaks config loads unchanged)
// plus the snapwatch fields marked below. Field names match case-insensitively, as viper does
// for gitleaks.
type fileConfig struct {
	Title       string            `toml:"title"`
	Description string            `toml:"description"`
	Extend      extendConfig      `toml:"extend"`
	Rules       []ruleConfig      `toml:"rules"`
	Allowlist   *allowlistConfig  `toml:"allowlist"` // gitleaks' deprecated single global allow-list
	Allowlists  []allowlistConfig `toml:"allowlists"`
}

type extendConfig struct {
	Path          string   `toml:"path"`
	URL           string   `toml:"url"`
	UseDefault    bool     `toml:"useDefault"`
	DisabledRules []string `toml:"disabledRules"`
}

type ruleConfig struct {
	ID          string            `toml:"id"`
	Description string            `toml:"description"`
	Regex       string            `toml:"regex"`
	Path        string            `toml:"path"`
	SecretGroup int               `toml:"secretGroup"`
	Entropy     float64           `toml:"entropy"`
	Keywords    []string          `toml:"keywords"`
	Tags        []string          `toml:"tags"`
	Allowlist   *allowlistConfig  `toml:"allowlist"` // gitleaks' deprecated per-rule form
	Allowlists  []allowlistConfig `toml:"allowlists"`
	Required    []requiredConfig  `toml:"required"`
	SkipReport  bool              `toml:"skipReport"`

	// snapwatch fields.
	Title    string       `toml:"title"`
	Severity string       `toml:"severity"` // critical|high|medium|low|info
	Category string       `toml:"category"` // cloud-credential, private-key, token, password, ...
	Priority *int         `toml:"priority"` // wins overlaps; default 0, -10 for generic rules
	Window   int          `toml:"window"`   // bytes after a keyword hit a match can reach
	Lead     int          `toml:"lead"`     // bytes before a keyword hit a match can start
	Check    string       `toml:"check"`    // structural validator run on each candidate, see checks.go
	TextOnly bool         `toml:"textOnly"` // skip matches in binary data (NUL bytes near by)
	Tests    []testConfig `toml:"tests"`
}

type allowlistConfig struct {
	Description string   `toml:"description"`
	Condition   string   `toml:"condition"`
	Commits     []string `toml:"commits"`
	Paths       []string `toml:"paths"`
	RegexTarget string   `toml:"regexTarget"`
	Regexes     []string `toml:"regexes"`
	StopWords   []string `toml:"stopwords"`
	TargetRules []string `toml:"targetRules"` // global allow-lists only
}

type requiredConfig struct {
	ID            string `toml:"id"`
	WithinLines   *int   `toml:"withinLines"`
	WithinColumns *int   `toml:"withinColumns"`

	// snapwatch fields.
	WithinBytes *int   `toml:"withinBytes"` // gap between the two secrets, for text without lines
	Context     string `toml:"context"`     // Match.Context key for the companion (redacted); default its rule id
	Optional    bool   `toml:"optional"`    // report the rule alone too, with the context when found
}

type testConfig struct {
	Path     string   `toml:"path"`
	Positive []string `toml:"positive"`
	Negative []string `toml:"negative"`
}

// snapwatchKeys are the rule keys gitleaks does not know; a file using any of them is in the
// native format and is checked strictly (unknown keys are errors), while a plain gitleaks file
// keeps gitleaks' leniency.
var snapwatchKeys = []string{"title", "severity", "category", "priority", "window", "lead", "check", "textOnly", "tests"}

// parseConfig decodes one file; name labels errors.
func parseConfig(name string, r io.Reader) (*fileConfig, error) {
	var fc fileConfig
	md, err := toml.NewDecoder(r).Decode(&fc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	native := false
	for _, k := range md.Keys() {
		if len(k) == 2 && k[0] == "rules" && containsFold(snapwatchKeys, k[1]) {
			native = true
			break
		}
	}
	if undecoded := md.Undecoded(); native && len(undecoded) > 0 {
		keys := make([]string, 0, len(undecoded))
		for _, k := range undecoded {
			keys = append(keys, k.String())
		}
		return nil, fmt.Errorf("%s: unknown keys %s", name, strings.Join(keys, ", "))
	}
	return &fc, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if equalFold(x, s) {
			return true
		}
	}
	return false
}
