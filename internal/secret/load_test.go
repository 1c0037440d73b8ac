package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gitleaksConfig uses the gitleaks v8 schema only, including its deprecated forms, composite
// rules and a path-only rule, the way users' .gitleaks.toml files are written.
const gitleaksConfig = `
title = "team config"

[allowlist]
description = "global"
paths = ['''(^|/)fixtures/''']
regexes = ['''^NOTREAL''']

[[rules]]
id = "acme-token"
description = "Acme API token. Used by the billing jobs."
regex = '''\b(acme_[a-z0-9]{24})\b'''
secretGroup = 1
entropy = 3.0
keywords = ["ACME_"]
tags = ["acme"]
[rules.allowlist]
stopwords = ["acme_000"]

[[rules]]
id = "acme-secret"
description = "Acme secret, only with its id"
regex = '''acmesecret=([A-Za-z0-9]{16})'''
keywords = ["acmesecret"]
[[rules.required]]
id = "acme-id"
withinLines = 2

[[rules]]
id = "acme-id"
description = "Acme id"
regex = '''acmeid=([0-9]{6})'''
keywords = ["acmeid"]
skipReport = true

[[rules]]
id = "acme-line-allowed"
regex = '''acmekey:([a-z0-9]{12})'''
keywords = ["acmekey"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''# sample''']
[[rules.allowlists]]
condition = "AND"
paths = ['''\.md$''']
stopwords = ["demo"]

[[rules]]
id = "pkcs12-file"
description = "PKCS #12 file"
path = '''(?i)\.p(?:12|fx)$'''
`

func TestLoadGitleaksConfig(t *testing.T) {
	s, err := LoadGitleaks(strings.NewReader(gitleaksConfig))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Rules()); n != 5 {
		t.Fatalf("%d rules, want 5 (no defaults without [extend])", n)
	}
	ri := s.Rules()[0]
	if ri.Title != "Acme API token" || ri.Severity != Medium || ri.Category != "token" || ri.Keywords[0] != "acme_" {
		t.Errorf("derived info %+v", ri)
	}
	cases := []struct {
		name, path, data, want string
	}{
		{"plain", "a.env", "X=acme_k3j4h5g6f7d8s9a0q1w2e3r4", "acme-token"},
		{"low entropy", "a.env", "X=acme_aaaaaaaaaaaaaaaaaaaaaaaa", ""},
		{"stopword", "a.env", "X=acme_000j4h5g6f7d8s9a0q1w2e3r", ""},
		{"global path", "x/fixtures/a.env", "X=acme_k3j4h5g6f7d8s9a0q1w2e3r4", ""},
		{"composite", "a", "acmeid=123456\nacmesecret=Ab3De5Gh7Jk9Mn1P", "acme-secret"},
		{"composite too far", "a", "acmeid=123456\n\n\n\nacmesecret=Ab3De5Gh7Jk9Mn1P", ""},
		{"companion alone", "a", "acmeid=123456", ""},
		{"line allow-list", "a", "acmekey:x1y2z3w4v5u6 # sample", ""},
		{"AND: path only", "README.md", "acmekey:x1y2z3w4v5u6", "acme-line-allowed"},
		{"AND: both", "README.md", "acmekey:demox1y2z3w4", ""},
		{"path-only rule", "home/bob/cert.PFX", "binary", "pkcs12-file"},
	}
	for _, c := range cases {
		got := ""
		if ms := s.Scan(c.path, []byte(c.data)); len(ms) > 0 {
			got = ms[0].RuleID
			if len(ms) > 1 {
				t.Errorf("%s: %s", c.name, describe(ms))
			}
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	ms := s.Scan("a", []byte("acmeid=123456\nacmesecret=Ab3De5Gh7Jk9Mn1P"))
	if len(ms) == 1 && ms[0].Context["acme-id"] != "1…" {
		t.Errorf("companion context %v", ms[0].Context)
	}
}

func TestLoadGitleaksExtendsDefaults(t *testing.T) {
	cfg := `
[extend]
useDefault = true
disabledRules = ["generic-password"]

[[rules]]
id = "github-pat"
entropy = 4.5
tags = ["team"]
`
	s, err := LoadGitleaks(strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, ri := range s.Rules() {
		if ri.ID == "generic-password" {
			t.Error("disabled rule still loaded")
		}
		if ri.ID == "github-pat" {
			found = true
			if ri.Tags[len(ri.Tags)-1] != "team" || ri.Severity != Critical {
				t.Errorf("merged rule %+v", ri)
			}
		}
	}
	if !found || len(s.Rules()) < 150 {
		t.Errorf("defaults not extended: %d rules", len(s.Rules()))
	}
}

func TestLoadUserFiles(t *testing.T) {
	dir := t.TempDir()
	native := filepath.Join(dir, "team.toml")
	writeFile(t, native, `
[[rules]]
id = "acme-token"
title = "Acme token"
severity = "high"
category = "token"
regex = '''\b(acme_[a-z0-9]{24})\b'''
keywords = ["acme_"]
[[rules.tests]]
positive = ["acme_k3j4h5g6f7d8s9a0q1w2e3r4"]
negative = ["acme_short"]

[[rules]]
id = "stripe-secret-key"
severity = "medium"

[[allowlists]]
description = "our CI's throw-away keys"
stopwords = ["k3j4h5g6f7d8"]
targetRules = ["acme-token"]
`)
	s, err := Load(true, native)
	if err != nil {
		t.Fatal(err)
	}
	for _, ri := range s.Rules() {
		if ri.ID == "stripe-secret-key" && ri.Severity != Medium {
			t.Errorf("override ignored: %v", ri.Severity)
		}
	}
	if ms := s.Scan("", []byte("acme_x3j4h5g6f7d8s9a0q1w2e3r4")); !hasRule(ms, "acme-token") {
		t.Errorf("user rule: %s", describe(ms))
	}
	if ms := s.Scan("", []byte("acme_k3j4h5g6f7d8s9a0q1w2e3r4")); len(ms) != 0 {
		t.Errorf("targeted allow-list: %s", describe(ms))
	}
	// A gitleaks file extending another by path, relative to itself.
	writeFile(t, filepath.Join(dir, "base.toml"), "[[rules]]\nid = \"acme-token\"\nregex = 'acme_[a-z0-9]{24}'\n")
	child := filepath.Join(dir, "child.toml")
	writeFile(t, child, "[extend]\npath = \"base.toml\"\n[[rules]]\nid = \"acme-id\"\nregex = 'acmeid=[0-9]{6}'\n")
	if s, err = Load(false, child); err != nil || len(s.Rules()) != 2 {
		t.Errorf("extend by path: %v", err)
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestLoadErrors checks that each mistake is reported with the rule it is in.
func TestLoadErrors(t *testing.T) {
	native := "title = \"t\"\nseverity = \"high\"\ncategory = \"token\"\n"
	for name, c := range map[string]struct{ cfg, want string }{
		"bad regex":         {"[[rules]]\nid = \"r1\"\nregex = '''(unclosed'''\nkeywords = [\"abc\"]\n", "rule r1: regex"},
		"secretGroup":       {"[[rules]]\nid = \"r2\"\nregex = '''a(b)c'''\nsecretGroup = 2\n", "rule r2: secretGroup 2 out of range"},
		"no keywords":       {"[[rules]]\nid = \"r3\"\n" + native + "regex = '''abc'''\n", "rule r3: no keywords"},
		"short keyword":     {"[[rules]]\nid = \"r4\"\n" + native + "regex = '''abc'''\nkeywords = [\"ab\"]\n", "rule r4: keyword \"ab\""},
		"unknown check":     {"[[rules]]\nid = \"r5\"\n" + native + "regex = '''abc'''\nkeywords = [\"abc\"]\ncheck = \"magic\"\n", "rule r5: unknown check"},
		"bad severity":      {"[[rules]]\nid = \"r6\"\nseverity = \"severe\"\nregex = '''abc'''\nkeywords = [\"abc\"]\n", "rule r6: unknown severity"},
		"unknown key":       {"[[rules]]\nid = \"r7\"\n" + native + "regex = '''abc'''\nkeywords = [\"abc\"]\nsecretgroupp = 1\n", "unknown keys rules.secretgroupp"},
		"no id":             {"[[rules]]\nregex = '''abc'''\n", "rule without id"},
		"nothing to match":  {"[[rules]]\nid = \"r9\"\n", "rule r9: neither regex nor path"},
		"missing companion": {"[[rules]]\nid = \"r10\"\nregex = '''abc'''\n[[rules.required]]\nid = \"ghost\"\n", "rule r10: required rule \"ghost\" does not exist"},
		"empty allow-list":  {"[[rules]]\nid = \"r11\"\nregex = '''abc'''\n[[rules.allowlists]]\ndescription = \"x\"\n", "rule r11: allow-list has none"},
		"bad condition":     {"[[rules]]\nid = \"r12\"\nregex = '''abc'''\n[[rules.allowlists]]\ncondition = \"XOR\"\nstopwords = [\"a\"]\n", "rule r12: allow-list condition"},
		"unknown target":    {"[[rules]]\nid = \"r13\"\nregex = '''abc'''\n[[allowlists]]\ntargetRules = [\"nope\"]\nstopwords = [\"a\"]\n", "target rule \"nope\""},
		"bad toml":          {"[[rules]\n", "gitleaks config"},
		"url extend":        {"[extend]\nurl = \"https://example.invalid/x.toml\"\n", "url is not supported"},
	} {
		_, err := LoadGitleaks(strings.NewReader(c.cfg))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, c.want)
		}
	}
	if _, err := Load(false); err == nil {
		t.Error("no rules at all: want an error")
	}
	if _, err := Load(true, "/nonexistent/rules.toml"); err == nil {
		t.Error("missing file: want an error")
	}
}
