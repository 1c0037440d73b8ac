package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The real CloudTrail logs of ../shared/eval/logs (third-party, not in the repository).
const evalLogs = "../../../shared/eval/logs"

func needEvalLogs(t *testing.T) {
	if _, err := os.Stat(evalLogs); err != nil {
		t.Skipf("real logs not found at %s", evalLogs)
	}
}

type detectResult struct {
	Findings []struct {
		Rule     string              `json:"rule"`
		Status   string              `json:"status"`
		Severity string              `json:"severity"`
		Kind     string              `json:"kind"`
		Resource struct{ ID string } `json:"resource"`
		Evidence map[string]any      `json:"evidence"`
	} `json:"findings"`
	Errors []any          `json:"errors"`
	Stats  map[string]any `json:"stats"`
}

func runDetect(t *testing.T, args ...string) (detectResult, int) {
	out, stderr, code := run(t, append([]string{"detect", "--format", "json"}, args...)...)
	var res detectResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON (exit %d): %v\n%s\n%s", code, err, out, stderr)
	}
	return res, code
}

// TestDetectInvictusHour: the whole hour of a real account under attack. Every ground-truth leak
// alerts, every revocation closes its exposure, the benign SharedSnapshotVolumeCreated and the
// setup noise stay silent; the logging-tamper alerts are the only others.
func TestDetectInvictusHour(t *testing.T) {
	needEvalLogs(t)
	res, code := runDetect(t, "--org-account", "123837392027", filepath.Join(evalLogs, "invictus-aws_dataset/CloudTrail"))
	if code != 0 || len(res.Errors) != 0 {
		t.Fatalf("exit %d, errors %v", code, res.Errors)
	}
	var leaks, others []string
	records := map[string]bool{}
	for _, f := range res.Findings {
		if f.Kind != "event" {
			t.Errorf("kind %s", f.Kind)
		}
		if strings.Contains(f.Rule, "shared") {
			leaks = append(leaks, f.Rule+" "+f.Resource.ID+" "+f.Status)
			for _, r := range f.Evidence["records"].([]any) {
				records[r.(string)] = true
			}
		} else {
			others = append(others, f.Rule)
		}
	}
	sort.Strings(leaks)
	want := []string{
		"aws-ami-shared-external ami-0aa1d83d0b0985c86 resolved",
		"aws-ebs-snapshot-shared-external snap-083d3b857c13988bc resolved",
		"aws-rds-snapshot-shared-external exfiltration resolved",
	}
	if strings.Join(leaks, "\n") != strings.Join(want, "\n") {
		t.Errorf("leak alerts:\n%s\nwant:\n%s", strings.Join(leaks, "\n"), strings.Join(want, "\n"))
	}
	for _, id := range []string{"741616fd-4713-426d-8861-3ccae4ba994e", "8fe3095f-909c-41f5-a769-00b9ec6e95df", "2d19ab1e-82e9-4302-ad10-a405b50c8d49"} {
		if !records[id] {
			t.Errorf("ground-truth leak record %s not cited", id)
		}
	}
	for _, r := range others {
		if !strings.HasPrefix(r, "aws-cloudtrail-") {
			t.Errorf("unexpected alert %s (noise must stay silent)", r)
		}
	}
	if res.Stats["records"].(float64) != 2900 || res.Stats["exposures_open"].(float64) != 0 || res.Stats["exposures_closed"].(float64) != 3 {
		t.Errorf("stats: records %v open %v closed %v", res.Stats["records"], res.Stats["exposures_open"], res.Stats["exposures_closed"])
	}
}

func TestDetectStratusDetonations(t *testing.T) {
	needEvalLogs(t)
	dir := filepath.Join(evalLogs, "stratus-red-team")
	for file, want := range map[string]string{
		"aws.exfiltration.ec2-share-ebs-snapshot.json":                  "aws-ebs-snapshot-shared-external",
		"aws.exfiltration.ec2-share-ami.json":                           "aws-ami-shared-external",
		"aws.exfiltration.rds-share-snapshot.json":                      "aws-rds-snapshot-shared-external",
		"aws.exfiltration.ec2-security-group-open-port-22-ingress.json": "",
		"aws.defense-evasion.cloudtrail-stop.json":                      "aws-cloudtrail-stopped",
	} {
		res, code := runDetect(t, "--fail-on", "high", filepath.Join(dir, file))
		var got []string
		for _, f := range res.Findings {
			got = append(got, f.Rule)
		}
		if want == "" {
			if len(got) != 0 || code != 0 {
				t.Errorf("%s: want silence, got %v (exit %d)", file, got, code)
			}
			continue
		}
		if len(got) != 1 || got[0] != want || code != 1 {
			t.Errorf("%s: got %v (exit %d), want [%s] and exit 1", file, got, code, want)
		}
	}
}

// A trusted recipient is inside the boundary: sharing with it is not a leak.
func TestDetectTrustedAccountIsSilent(t *testing.T) {
	needEvalLogs(t)
	cfg := filepath.Join(t.TempDir(), "snapwatch.toml")
	os.WriteFile(cfg, []byte("[trust]\naws_accounts = [\"123837392027\"]\ntrusted_accounts = [\"012345678912\"]\n"), 0o600)
	res, _ := runDetect(t, "--config", cfg, filepath.Join(evalLogs, "invictus-aws_dataset/CloudTrail"))
	for _, f := range res.Findings {
		if f.Rule == "aws-ebs-snapshot-shared-external" {
			t.Errorf("share to a trusted account alerted")
		}
	}
}

func TestDetectBadInput(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "trail.json")
	os.WriteFile(p, []byte(`{"Records":[{"eventVersion":"1.08","eventName":"ModifySnapshotAttribute","eventSource":"ec2.amazonaws.com",`+
		`"eventTime":"not a time"}, {"eventVersion":"1.08","eventID":"x"}]}`), 0o600)
	res, code := runDetect(t, p)
	if code != 2 || len(res.Errors) == 0 {
		t.Errorf("bad record: exit %d errors %v", code, res.Errors)
	}
	if _, stderr, code := run(t, "detect", "--config", filepath.Join(dir, "missing.toml"), p); code != 2 || !strings.Contains(stderr, "config") {
		t.Errorf("missing config: %d %s", code, stderr)
	}
}
