package cli

import (
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/config"
	"github.com/snapwatch/snapwatch/internal/finding"
)

// A check id in [audit] that does not exist is a typo that would silently keep a finding (or
// an override) from applying: it is an error naming the id.
func TestPostureConfigRefusesUnknownChecks(t *testing.T) {
	var cfg config.Config
	cfg.Audit.ExcludeChecks = []string{"aws-ebs-snapshot-publik"}
	if _, err := postureConfig(&cfg, auditOptions{}); err == nil || !strings.Contains(err.Error(), "publik") {
		t.Fatalf("exclude_checks typo: %v", err)
	}
	cfg = config.Config{}
	cfg.Audit.Severity = map[string]string{"aws-ami-stale": "info"}
	cfg.Trust.AWSAccounts = []string{"111111111111"}
	pc, err := postureConfig(&cfg, auditOptions{orgAccts: []string{"222222222222"}, trusted: []string{"999999999999"}})
	if err != nil {
		t.Fatal(err)
	}
	if pc.SeverityOverrides["aws-ami-stale"] != finding.Info {
		t.Fatalf("override %v", pc.SeverityOverrides)
	}
	if len(pc.Trust.Accounts) != 2 || len(pc.Trust.TrustedAccounts) != 1 {
		t.Fatalf("trust %+v", pc.Trust)
	}
	cfg.Audit.Severity = map[string]string{"aws-ami-stal": "info"}
	if _, err := postureConfig(&cfg, auditOptions{}); err == nil {
		t.Fatal("severity override of an unknown check accepted")
	}
}
