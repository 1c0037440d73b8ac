package detect

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

//go:embed rules/*.toml
var embeddedRules embed.FS

// LoadRules compiles the embedded rules, then every *.toml file of dir (if dir is not empty) in
// name order. A rule whose id already exists replaces it whole, and `disabled = true` removes it,
// so users tune a shipped rule by copying it into their directory.
func LoadRules(dir string) ([]*Rule, error) {
	var order []string
	byID := map[string]*Rule{}
	add := func(source string, data []byte) error {
		rs, err := parseRuleFile(source, data)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if _, ok := byID[r.ID]; !ok {
				order = append(order, r.ID)
			}
			byID[r.ID] = r
		}
		return nil
	}
	names, err := fs.Glob(embeddedRules, "rules/*.toml")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		data, err := embeddedRules.ReadFile(n)
		if err != nil {
			return nil, err
		}
		if err := add("embedded:"+n, data); err != nil {
			return nil, err
		}
	}
	if dir != "" {
		files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
		if err != nil {
			return nil, err
		}
		if files == nil {
			if _, err := os.Stat(dir); err != nil {
				return nil, fmt.Errorf("rules directory: %w", err)
			}
		}
		sort.Strings(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			if err := add(f, data); err != nil {
				return nil, err
			}
		}
	}
	var out []*Rule
	for _, id := range order {
		if r := byID[id]; !r.disabled {
			out = append(out, r)
		}
	}
	return out, nil
}

// parseRuleFile decodes one rule file. Unknown keys are errors: a misspelt condition would
// otherwise widen a rule silently. A disabled rule comes back as a nil entry under its id.
func parseRuleFile(source string, data []byte) ([]*Rule, error) {
	var f ruleFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%s: unknown keys: %s", source, strings.Join(keys, ", "))
	}
	seen := map[string]bool{}
	var out []*Rule
	for i := range f.Rules {
		s := &f.Rules[i]
		if seen[s.ID] {
			return nil, fmt.Errorf("%s: rule %s defined twice", source, s.ID)
		}
		seen[s.ID] = true
		if s.Disabled && s.ID != "" {
			out = append(out, &Rule{ID: s.ID, disabled: true})
			continue
		}
		r, err := s.compile(source)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
