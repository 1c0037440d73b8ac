package risk

import (
	"testing"

	"github.com/snapwatch/snapwatch/internal/finding"
)

func exposure(rule string, sev finding.Severity) *finding.Finding {
	return &finding.Finding{ID: "exp-" + rule, Kind: finding.KindExposure, Rule: rule, Severity: sev}
}

func content(id, rule string, sev finding.Severity, tags ...string) *finding.Finding {
	return &finding.Finding{ID: id, Kind: finding.KindContent, Rule: rule, Severity: sev, Tags: tags}
}

func TestGrade(t *testing.T) {
	awsKey := func() *finding.Finding {
		return content("c1", "secret/aws-access-key-pair", finding.Critical, "cloud-credential")
	}
	shadow := func() *finding.Finding { return content("c2", "file/unix-shadow", finding.High, "os-credentials") }
	sshKey := func() *finding.Finding { return content("c3", "file/ssh-private-key", finding.Critical, "ssh") }
	lowNoise := func() *finding.Finding { return content("c4", "secret/generic-api-key", finding.Low, "generic") }
	cases := []struct {
		name    string
		rule    string
		sev     finding.Severity
		content []*finding.Finding
		want    finding.Severity
	}{
		{"external share with a cloud key is critical", "aws-ebs-snapshot-shared-external", finding.High, []*finding.Finding{awsKey()}, finding.Critical},
		{"external share with an ssh key is critical", "aws-ami-shared-external", finding.High, []*finding.Finding{sshKey()}, finding.Critical},
		{"snapshot behind a public AMI with a key is critical", "aws-ebs-snapshot-exposed-via-ami", finding.High, []*finding.Finding{awsKey()}, finding.Critical},
		{"latent public with a key stops at high", "aws-ebs-snapshot-latent-public", finding.Medium, []*finding.Finding{awsKey()}, finding.High},
		{"external share with a shadow file stays high", "aws-ebs-snapshot-shared-external", finding.High, []*finding.Finding{shadow()}, finding.High},
		{"recycle-bin share with a shadow file rises to high", "aws-ebs-snapshot-recycle-bin-shared", finding.Medium, []*finding.Finding{shadow()}, finding.High},
		{"low content never lowers a critical", "aws-ami-public", finding.Critical, []*finding.Finding{lowNoise()}, finding.Critical},
		{"low content raises a low exposure no further than low", "aws-ebs-snapshot-shared-external", finding.Low, []*finding.Finding{lowNoise()}, finding.Low},
		{"no content leaves it", "aws-ebs-snapshot-shared-external", finding.High, nil, finding.High},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exp := exposure(c.rule, c.sev)
			Grade(exp, c.content)
			if exp.Severity != c.want {
				t.Fatalf("severity %v, want %v", exp.Severity, c.want)
			}
			if len(c.content) == 0 {
				if exp.Evidence != nil || exp.Related != nil {
					t.Fatalf("graded without content: %+v", exp)
				}
				return
			}
			for _, cf := range c.content {
				if len(cf.Related) != 1 || cf.Related[0] != exp.ID {
					t.Errorf("content %s not linked to the exposure: %v", cf.ID, cf.Related)
				}
			}
			if len(exp.Related) != len(c.content) {
				t.Errorf("exposure related %v", exp.Related)
			}
			ev := exp.Evidence["content"].(map[string]any)
			if ev["findings"] != len(c.content) || ev["severity_from"] != c.sev.String() {
				t.Errorf("evidence %v", ev)
			}
		})
	}
}

func TestGradeTwiceLinksOnce(t *testing.T) {
	exp := exposure("aws-ami-public", finding.Critical)
	c := content("c1", "secret/private-key", finding.Critical, "private-key")
	Grade(exp, []*finding.Finding{c})
	Grade(exp, []*finding.Finding{c})
	if len(exp.Related) != 1 || len(c.Related) != 1 {
		t.Fatalf("links doubled: %v %v", exp.Related, c.Related)
	}
}

func TestExposing(t *testing.T) {
	for rule, want := range map[string]bool{
		"aws-ebs-snapshot-public":          true,
		"aws-ebs-snapshot-latent-public":   true,
		"aws-ami-shared-external":          true,
		"aws-ebs-snapshot-exposed-via-ami": true,
		"aws-ebs-snapshot-unencrypted":     false,
		"aws-ebs-snapshot-stale":           false,
		"aws-ami-exported-to-s3":           false,
	} {
		f := exposure(rule, finding.High)
		if got := Exposing(f); got != want {
			t.Errorf("Exposing(%s) = %v, want %v", rule, got, want)
		}
	}
	f := exposure("aws-ami-public", finding.Critical)
	f.Status = finding.StatusSuppressed
	if Exposing(f) {
		t.Error("a suppressed exposure is an accepted one: its content is not scanned")
	}
	g := exposure("aws-ebs-snapshot-bpa-off", finding.High)
	g.Kind = finding.KindGuard
	if Exposing(g) {
		t.Error("a guard finding exposes nothing by itself")
	}
}

// A share the recipient cannot decrypt (its key is not shared) exposes ciphertext: content is
// linked and told, not used to raise it.
func TestGradeInertShareIsNotRaised(t *testing.T) {
	exp := exposure("aws-ebs-snapshot-shared-external", finding.Low)
	exp.Evidence = finding.Evidence{"key_access": "inert"}
	c := content("c1", "secret/aws-access-key-pair", finding.Critical, "cloud-credential")
	Grade(exp, []*finding.Finding{c})
	if exp.Severity != finding.Low || len(exp.Related) != 1 || len(c.Related) != 1 {
		t.Fatalf("inert share: %+v", exp)
	}
	ev := exp.Evidence["content"].(map[string]any)
	if ev["not_raised"] == nil || ev["raised"] != false {
		t.Fatalf("evidence %v", ev)
	}
	for _, tag := range exp.Tags {
		if tag == "content-raised" {
			t.Fatal("tagged as raised")
		}
	}
}
