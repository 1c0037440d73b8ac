package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, s string) string {
	p := filepath.Join(t.TempDir(), "snapwatch.toml")
	os.WriteFile(p, []byte(s), 0o600)
	return p
}

func TestLoad(t *testing.T) {
	c, err := Load(write(t, `
[trust]
aws_accounts = ["111111111111", "222222222222"]
aws_organizations = ["o-abc123"]
trusted_accounts = ["999999999999"]

[detect]
sigma_dir = "/opt/sigma/rules/cloud"
copy_window = "6h"
[detect.bursts.aws-ebs-direct-bulk-read]
threshold = 5000
window = "10m"
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Trust.AWSAccounts) != 2 || c.Detect.CopyWindow.Duration != 6*time.Hour ||
		c.Detect.Bursts["aws-ebs-direct-bulk-read"].Window.Duration != 10*time.Minute {
		t.Fatalf("%+v", c)
	}
}

func TestTyposAreErrors(t *testing.T) {
	for _, bad := range []string{"[trust]\naws_acounts = [\"1\"]\n", "[detect]\ncopy_window = \"soon\"\n", "[trust\n"} {
		if _, err := Load(write(t, bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if _, err := Load(write(t, "[trust]\naws_acounts = [\"1\"]\n")); err == nil || !strings.Contains(err.Error(), "aws_acounts") {
		t.Errorf("error does not name the key: %v", err)
	}
	if c, err := Load(""); err != nil || c == nil {
		t.Fatal("empty path")
	}
}

func TestAuditSection(t *testing.T) {
	c, err := Load(write(t, `
[audit]
stale_after = "8760h"
exclude_ids = ["snap-0123"]
exclude_tags = ["snapwatch:accepted"]
exclude_checks = ["aws-ami-stale"]
severity = { "aws-ebs-snapshot-stale" = "info" }
`))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Audit
	if a.StaleAfter.Duration != 8760*time.Hour || a.ExcludeIDs[0] != "snap-0123" || a.ExcludeTags[0] != "snapwatch:accepted" ||
		a.ExcludeChecks[0] != "aws-ami-stale" || a.Severity["aws-ebs-snapshot-stale"] != "info" {
		t.Fatalf("%+v", a)
	}
	if _, err := Load(write(t, "[audit]\nseverity = { \"aws-ami-stale\" = \"urgent\" }\n")); err == nil || !strings.Contains(err.Error(), "urgent") {
		t.Fatalf("a bad severity: %v", err)
	}
}
