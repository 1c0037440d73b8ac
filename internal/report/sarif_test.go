package report

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// testdata/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 schema (errata01, from
// oasis-tcs/sarif-spec Schemata/sarif-schema-2.1.0.json) with every validation keyword; see
// testdata/README.md.
var (
	sarifSchemaOnce sync.Once
	sarifSchema     *jsonschema.Schema
	sarifSchemaErr  error
)

func loadSARIFSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	sarifSchemaOnce.Do(func() {
		f, err := os.Open("testdata/sarif-schema-2.1.0.json")
		if err != nil {
			sarifSchemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			sarifSchemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat() // uri, uri-reference and date-time are checked, not just annotated
		if sarifSchemaErr = c.AddResource("sarif-schema-2.1.0.json", doc); sarifSchemaErr != nil {
			return
		}
		sarifSchema, sarifSchemaErr = c.Compile("sarif-schema-2.1.0.json")
	})
	if sarifSchemaErr != nil {
		t.Fatalf("SARIF schema: %v", sarifSchemaErr)
	}
	return sarifSchema
}

// validateSARIF checks out against the official schema and against what GitHub code scanning
// requires at upload.
func validateSARIF(t testing.TB, out []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if err := loadSARIFSchema(t).Validate(inst); err != nil {
		t.Fatalf("SARIF does not validate against the 2.1.0 schema: %v", err)
	}
	checkGitHubConstraints(t, out)
}

type ghLog struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID               string                 `json:"id"`
					ShortDescription *struct{ Text string } `json:"shortDescription"`
					FullDescription  *struct{ Text string } `json:"fullDescription"`
					Help             *struct{ Text string } `json:"help"`
					Properties       struct {
						Tags             []string `json:"tags"`
						SecuritySeverity *string  `json:"security-severity"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string                `json:"ruleId"`
			RuleIndex *int                  `json:"ruleIndex"`
			Level     string                `json:"level"`
			Message   struct{ Text string } `json:"message"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation *struct{ URI string } `json:"artifactLocation"`
					Region           *struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
		} `json:"results"`
	} `json:"runs"`
}

// rfc3986Ref matches a URI reference made only of characters RFC 3986 allows, with
// percent-encoding well formed.
var rfc3986Ref = regexp.MustCompile(`^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#]|%[0-9A-Fa-f]{2})*$`)

func checkGitHubConstraints(t testing.TB, out []byte) {
	t.Helper()
	var log ghLog
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	if log.Schema == "" || log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("$schema %q, version %q, %d runs", log.Schema, log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name == "" {
		t.Fatal("tool.driver.name is empty")
	}
	if run.Tool.Driver.Rules == nil {
		t.Fatal("tool.driver.rules is missing")
	}
	ids := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		switch {
		case r.ID == "" || len(r.ID) > 255 || !utf8.ValidString(r.ID):
			t.Errorf("rule id %q: empty, invalid or over 255 characters", r.ID)
		case ids[r.ID]:
			t.Errorf("rule %q listed twice", r.ID)
		case r.ShortDescription == nil || strings.TrimSpace(r.ShortDescription.Text) == "" || utf8.RuneCountInString(r.ShortDescription.Text) > 1024:
			t.Errorf("rule %q: shortDescription.text empty or over 1024 characters", r.ID)
		case r.FullDescription == nil || strings.TrimSpace(r.FullDescription.Text) == "" || utf8.RuneCountInString(r.FullDescription.Text) > 1024:
			t.Errorf("rule %q: fullDescription.text empty or over 1024 characters", r.ID)
		case r.Help == nil || strings.TrimSpace(r.Help.Text) == "":
			t.Errorf("rule %q: help.text empty", r.ID)
		case len(r.Properties.Tags) == 0 || len(r.Properties.Tags) > 20 || r.Properties.Tags[0] != "security":
			t.Errorf("rule %q: tags %q", r.ID, r.Properties.Tags)
		}
		ids[r.ID] = true
		if s := r.Properties.SecuritySeverity; s != nil {
			if v, err := strconv.ParseFloat(*s, 64); err != nil || v <= 0 || v > 10 {
				t.Errorf("rule %q: security-severity %q", r.ID, *s)
			}
		}
	}
	if len(run.Results) > 25000 {
		t.Errorf("%d results: GitHub rejects more than 25,000 per run", len(run.Results))
	}
	for i, res := range run.Results {
		if !ids[res.RuleID] {
			t.Errorf("result %d: ruleId %q is not a rule", i, res.RuleID)
		}
		if res.RuleIndex == nil || *res.RuleIndex < 0 || *res.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[*res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: ruleIndex does not point to rule %q", i, res.RuleID)
		}
		switch res.Level {
		case "error", "warning", "note", "none":
		default:
			t.Errorf("result %d: level %q", i, res.Level)
		}
		if strings.TrimSpace(res.Message.Text) == "" {
			t.Errorf("result %d: empty message", i)
		}
		if len(res.Locations) == 0 || len(res.Locations) > 10 {
			t.Fatalf("result %d: %d locations (GitHub needs 1 to 10)", i, len(res.Locations))
		}
		pl := res.Locations[0].PhysicalLocation
		if pl == nil || pl.ArtifactLocation == nil || pl.ArtifactLocation.URI == "" {
			t.Fatalf("result %d: no physicalLocation.artifactLocation.uri", i)
		}
		uri := pl.ArtifactLocation.URI
		if !rfc3986Ref.MatchString(uri) {
			t.Errorf("result %d: uri %q has characters RFC 3986 does not allow", i, uri)
		}
		if scheme, _, ok := strings.Cut(uri, ":"); ok && !strings.ContainsAny(scheme, "/?#") && scheme != "file" {
			t.Errorf("result %d: uri %q has scheme %q; GitHub rejects absolute URIs not in the file scheme", i, uri, scheme)
		}
		if pl.Region != nil && pl.Region.StartLine < 1 {
			t.Errorf("result %d: startLine %d", i, pl.Region.StartLine)
		}
		if len(res.PartialFingerprints) == 0 {
			t.Errorf("result %d: no partialFingerprints", i)
		}
		for k, v := range res.PartialFingerprints {
			if k == "" || v == "" {
				t.Errorf("result %d: empty partial fingerprint %q=%q", i, k, v)
			}
		}
	}
}

func TestSARIFValid(t *testing.T) {
	validateSARIF(t, render(t, FormatSARIF, fixtureResult(), Options{}))
	validateSARIF(t, render(t, FormatSARIF, &Result{}, Options{}))
	validateSARIF(t, render(t, FormatSARIF, &Result{Command: "audit", Errors: []ErrorRecord{{Message: "denied"}}}, Options{}))
}

// The schema really does reject what it should: a SARIF log with a bad level, or a relative URI
// with a space, fails validation.
func TestSARIFSchemaRejects(t *testing.T) {
	s := loadSARIFSchema(t)
	good := render(t, FormatSARIF, fixtureResult(), Options{})
	for _, bad := range []struct{ from, to string }{
		{`"level": "error"`, `"level": "fatal"`},
		{`"version": "2.1.0"`, `"version": "2.0.0"`},
		{`"startLine": 3`, `"startLine": 0`},
		{`"executionSuccessful": false`, `"executionSuccessful": "no"`},
		{`"startTimeUtc": "2025-03-14T09:26:53Z"`, `"startTimeUtc": "yesterday"`},
	} {
		doc := bytes.Replace(good, []byte(bad.from), []byte(bad.to), 1)
		if bytes.Equal(doc, good) {
			t.Fatalf("%s not in the output", bad.from)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if s.Validate(inst) == nil {
			t.Errorf("schema accepted %s", bad.to)
		}
	}
}

func sarifOf(t *testing.T, fs ...finding.Finding) map[string]any {
	t.Helper()
	out := render(t, FormatSARIF, &Result{Command: "scan", Findings: fs}, Options{})
	validateSARIF(t, out)
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v
}

func TestSARIFMapping(t *testing.T) {
	doc := sarifOf(t, fixtureFindings()...)
	run := dig(doc, "runs", 0)
	if got := dig(run, "automationDetails", "id"); got != "snapwatch/scan/" {
		t.Errorf("automationDetails.id %v", got)
	}
	rules := dig(run, "tool", "driver", "rules").([]any)
	byID := map[string]map[string]any{}
	for _, r := range rules {
		byID[r.(map[string]any)["id"].(string)] = r.(map[string]any)
	}
	pub := byID["aws-ebs-snapshot-public"]
	if dig(pub, "properties", "security-severity") != "9.5" || dig(pub, "defaultConfiguration", "level") != "error" {
		t.Errorf("public snapshot rule: %v", pub)
	}
	if !strings.Contains(dig(pub, "help", "text").(string), "modify-snapshot-attribute") {
		t.Error("help is not the remediation")
	}
	wantTags := []any{"security", "exposure", "AWS-FSBP-EC2.1", "CIS-AWS-2.2.2"}
	if got := dig(pub, "properties", "tags"); !equalJSON(got, wantTags) {
		t.Errorf("tags %v, want %v", got, wantTags)
	}
	for sev, want := range map[string]string{"file/ssh-private-key": "8.0", "aws-ebs-block-public-access-off": "5.5", "secret/generic-password": "3.0"} {
		if got := dig(byID[sev], "properties", "security-severity"); got != want {
			t.Errorf("%s: security-severity %v, want %s", sev, got, want)
		}
	}
	if _, ok := byID["azure-gallery-image-shared"]["properties"].(map[string]any)["security-severity"]; ok {
		t.Error("an info rule has a security-severity")
	}

	results := dig(run, "results").([]any)
	want := map[string]struct {
		uri, level string
		line       float64
	}{
		"secret/aws-access-key-pair":      {"aws/123456789012/us-east-1/ebs-snapshot/snap-0123456789abcdef0#p2/home/deploy/.aws/credentials", "error", 3},
		"file/ssh-private-key":            {"images/web-01.qcow2#vg0/root/root/.ssh/id_ed25519", "error", 1},
		"secret/github-pat":               {"deploy/config/.env", "none", 12},
		"aws-ebs-snapshot-public":         {"aws/123456789012/us-east-1/ebs-snapshot/snap-0123456789abcdef0", "error", 0},
		"aws-ebs-block-public-access-off": {"aws/123456789012/eu-west-1/account/123456789012", "warning", 0},
		"azure-gallery-image-shared":      {"azure/0b1f6471-1bf0-4dda-aec3-cb9272f09590/westeurope/gallery-image/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/g1/images/base", "note", 0},
		"secret/generic-password":         {"images/web-01.qcow2#p2/srv/%E6%97%A5%E6%9C%AC%E8%AA%9E/%D1%81%D0%B5%D0%BA%D1%80%D0%B5%D1%82/%F0%9F%98%80/%3C/script%3E%3Cscript%3Ealert(%22xss%22)%3C/script%3E", "note", 42},
	}
	for _, res := range results {
		id := dig(res, "ruleId").(string)
		w, ok := want[id]
		if !ok {
			continue
		}
		pl := dig(res, "locations", 0, "physicalLocation").(map[string]any)
		if got := dig(pl, "artifactLocation", "uri"); got != w.uri {
			t.Errorf("%s: uri %v, want %s", id, got, w.uri)
		}
		var line float64
		if reg, ok := pl["region"]; ok {
			line = dig(reg, "startLine").(float64)
		}
		if line != w.line {
			t.Errorf("%s: startLine %v, want %v", id, line, w.line)
		}
		if got := dig(res, "level"); got != w.level {
			t.Errorf("%s: level %v, want %s", id, got, w.level)
		}
		props := dig(res, "properties").(map[string]any)
		if _, ok := props["resource"]; !ok {
			t.Errorf("%s: no resource in properties", id)
		}
		if dig(res, "partialFingerprints", fingerprintKey) != props["id"] {
			t.Errorf("%s: partialFingerprints is not the finding id", id)
		}
	}
	// Status: resolved results pass, suppressed ones carry a suppression.
	for _, res := range results {
		switch dig(res, "ruleId") {
		case "secret/github-pat":
			if dig(res, "kind") != "pass" {
				t.Error("resolved finding is not kind pass")
			}
		case "azure-gallery-image-shared":
			if dig(res, "suppressions", 0, "status") != "accepted" {
				t.Error("suppressed finding has no suppression")
			}
		}
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestSARIFLongAndOddRuleIDs(t *testing.T) {
	long := "secret/" + strings.Repeat("x", 300)
	long2 := long[:len(long)-1] + "y"
	fs := []finding.Finding{
		{ID: "a", Rule: long, Title: "long", Severity: finding.High, Resource: finding.Resource{Type: "file", ID: "a"}},
		{ID: "b", Rule: long2, Title: "long too", Severity: finding.High, Resource: finding.Resource{Type: "file", ID: "b"}},
		{ID: "c", Rule: "", Title: "", Description: strings.Repeat("d", 5000), Severity: finding.Low},
		{ID: "", Rule: "secret/\xff\xfe", Title: strings.Repeat("t", 2000), Severity: finding.Medium,
			Resource: finding.Resource{Provider: "local", Type: "directory", ID: "/abs/dir"}, Location: &finding.Location{Path: "/C:/x y#z?.env"}},
		{ID: "e", Rule: "r", Severity: finding.Critical, Tags: []string{"b", "a", "b"},
			Compliance: []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13", "c14", "c15", "c16", "c17", "c18", "c19", "c20", "c21"},
			Resource:   finding.Resource{Provider: "local", Type: "disk-image", ID: "c:disk.img"}},
	}
	doc := sarifOf(t, fs...)
	rules := dig(doc, "runs", 0, "tool", "driver", "rules").([]any)
	seen := map[string]bool{}
	for _, r := range rules {
		id := dig(r, "id").(string)
		if seen[id] {
			t.Errorf("two rules share id %q", id)
		}
		seen[id] = true
	}
	if len(rules) != len(fs) {
		t.Errorf("%d rules for %d distinct rule ids", len(rules), len(fs))
	}
	uris := map[string]bool{}
	for _, res := range dig(doc, "runs", 0, "results").([]any) {
		uris[dig(res, "locations", 0, "physicalLocation", "artifactLocation", "uri").(string)] = true
	}
	for _, u := range []string{"file:///abs/dir/C:/x%20y%23z%3F.env", "./c:disk.img"} {
		if !uris[u] {
			t.Errorf("uri %q missing from %v", u, uris)
		}
	}
}

func TestSARIFMessageEscapesLinks(t *testing.T) {
	doc := sarifOf(t, finding.Finding{ID: "x", Rule: "r", Title: `see [here](1) or C:\x`, Severity: finding.Low})
	if got := dig(doc, "runs", 0, "results", 0, "message", "text"); !strings.HasPrefix(got.(string), `see \[here\](1) or C:\\x.`) {
		t.Fatalf("message %q", got)
	}
}
