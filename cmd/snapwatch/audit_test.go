package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/demo"
)

// startDemoEstate serves the demo organisation and points the credential chain of the
// subprocesses at its management account.
func startDemoEstate(t *testing.T) *demo.Env {
	t.Helper()
	env, err := demo.Start(t.TempDir(), cloudsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	for k, v := range env.Credentials() {
		t.Setenv(k, v)
	}
	return env
}

type auditResult struct {
	Findings []demoFinding `json:"findings"`
	Errors   []struct {
		Target, Where, Message string
	} `json:"errors"`
	Stats map[string]any `json:"stats"`
}

func audit(t *testing.T, args ...string) (auditResult, string, int) {
	t.Helper()
	out, stderr, code := run(t, append([]string{"audit", "aws", "--format", "json", "--progress", "never"}, args...)...)
	var res auditResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s\n%s", code, err, out, stderr)
	}
	return res, stderr, code
}

// A region that cannot be reached and an account whose role cannot be assumed make the exit
// code 2, name the scopes in errors, and keep what the other scopes showed.
func TestAuditPartialFailureExits2(t *testing.T) {
	env := startDemoEstate(t)
	env.Sim.AddFault(cloudsim.Fault{Kind: cloudsim.FaultUnreachable, Account: "222222222222", Region: "eu-west-1"})
	env.Sim.AddFault(cloudsim.Fault{Kind: cloudsim.FaultDeny, Service: "sts", Action: "AssumeRole",
		Target: "arn:aws:iam::333333333333:role/" + demo.OrgRole})
	res, stderr, code := audit(t, "--org-role", demo.OrgRole, "--endpoint-url", env.Sim.URL(), "--scan-content", "none")
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, stderr)
	}
	var region, account bool
	for _, e := range res.Errors {
		region = region || strings.Contains(e.Target, "222222222222/eu-west-1")
		account = account || strings.HasSuffix(e.Target, "333333333333")
	}
	if !region || !account {
		t.Fatalf("errors do not name the failed scopes: %+v", res.Errors)
	}
	found := false
	for _, f := range res.Findings {
		found = found || f.Rule == "aws-ami-public"
	}
	if !found {
		t.Fatal("the partial result lost the readable scopes' findings")
	}
	if len(env.Sim.MutatingCalls()) != 0 {
		t.Fatalf("mutating calls: %+v", env.Sim.MutatingCalls())
	}
}

// Configuration: exclusions mark findings suppressed, severity overrides apply, and --fail-on
// counts only open findings.
func TestAuditConfigAndFailOn(t *testing.T) {
	env := startDemoEstate(t)
	cfg := filepath.Join(t.TempDir(), "snapwatch.toml")
	os.WriteFile(cfg, []byte(`
[trust]
trusted_accounts = ["999988887777"]
[audit]
exclude_ids = ["ami-0demo0000000000001"]
severity = { "aws-ebs-snapshot-stale" = "info" }
`), 0o600)
	res, stderr, code := audit(t, "--org-role", demo.OrgRole, "--endpoint-url", env.Sim.URL(), "--scan-content", "none",
		"--config", cfg, "--fail-on", "critical")
	for _, f := range res.Findings {
		switch {
		case strings.HasSuffix(f.Rule, "-shared-external"):
			t.Errorf("a share to a trusted account reported: %s %s", f.Rule, f.Resource.ID)
		case f.Rule == "aws-ebs-snapshot-stale" && f.Severity != "info":
			t.Errorf("override not applied: %s", f.Severity)
		case f.Resource.ID == "ami-0demo0000000000001" && f.Status != "suppressed":
			t.Errorf("excluded AMI's %s is %q", f.Rule, f.Status)
		}
	}
	// The RDS snapshot restorable by "all" is still public and critical: exit 1.
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	if _, stderr, code := run(t, "audit", "aws", "--endpoint-url", env.Sim.URL(), "--config", filepath.Join(t.TempDir(), "missing.toml")); code != 2 || !strings.Contains(stderr, "missing.toml") {
		t.Fatalf("missing config: exit %d %s", code, stderr)
	}
}

func TestAuditListChecks(t *testing.T) {
	out, _, code := run(t, "audit", "aws", "--list-checks", "--format", "json")
	var checks []struct{ ID, Severity string }
	if code != 0 || json.Unmarshal([]byte(out), &checks) != nil || len(checks) < 50 {
		t.Fatalf("exit %d, %d checks", code, len(checks))
	}
}
