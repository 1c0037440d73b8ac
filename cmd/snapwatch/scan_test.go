package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The secrets planted in the embedded sample (scripts/make-sample.sh): none may ever be printed.
var sampleSecrets = []string{
	"faoiSAsTck62gwhR71o32FiD7mdFSsaP7xSFa6IV", // AWS secret access key
	"sk_live_OhbVrpoiVgRV5IfLBcbfnoGM",         // Stripe key inside a tar.gz
	"Wq8vN2rT5kLm",                             // PostgreSQL password inside a tar.gz
	"s4mple-Passw0rd!",                         // WordPress DB password
	"S3cretHist0ry",                            // MySQL password in a deleted shell history
}

func sampleImage(t *testing.T) string {
	img := filepath.Join(t.TempDir(), "sample.qcow2")
	if _, stderr, code := run(t, "sample", img); code != 0 {
		t.Fatalf("sample: %s", stderr)
	}
	return img
}

func TestScanFindsWhatTheSampleHolds(t *testing.T) {
	img := sampleImage(t)
	out, stderr, code := run(t, "scan", "--residual", "--format", "json", img)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Findings []struct {
			Rule     string `json:"rule"`
			Severity string `json:"severity"`
			Kind     string `json:"kind"`
			Location struct {
				Volume  string `json:"volume"`
				Path    string `json:"path"`
				Deleted bool   `json:"deleted"`
			} `json:"location"`
			Evidence map[string]any `json:"evidence"`
		} `json:"findings"`
		Errors []any          `json:"errors"`
		Stats  map[string]any `json:"stats"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	got := map[string]bool{}
	for _, f := range res.Findings {
		got[f.Rule+" "+f.Location.Path] = true
		if f.Kind != "content" || f.Location.Volume != "p2" {
			t.Errorf("finding %s: kind %s volume %s", f.Rule, f.Kind, f.Location.Volume)
		}
	}
	for _, want := range []string{
		"secret/aws-access-key-pair /home/alice/.aws/credentials",
		"file/aws-credentials /home/alice/.aws/credentials",
		"secret/private-key /home/alice/.ssh/id_ed25519",
		"file/ssh-private-key /home/alice/.ssh/id_ed25519",
		"file/unix-shadow /etc/shadow",
		"secret/wordpress-db-password /var/www/html/wp-config.php",
		"secret/stripe-secret-key /var/backups/app-config.tar.gz!app/.env",
		"secret/postgres-uri-password /var/backups/app-config.tar.gz!app/.env",
		"file/shell-history /root/.bash_history",
	} {
		if !got[want] {
			t.Errorf("missing finding %q; got %v", want, keys(got))
		}
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors: %v", res.Errors)
	}
	if res.Stats["deleted_files_scanned"].(float64) < 1 || res.Stats["archive_members"].(float64) < 1 {
		t.Errorf("stats: %v", res.Stats)
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestScanNeverPrintsASecret runs every output format and looks for the planted secrets.
func TestScanNeverPrintsASecret(t *testing.T) {
	img := sampleImage(t)
	dir := t.TempDir()
	for _, format := range []string{"table", "json", "jsonl", "sarif", "csv", "html"} {
		out, stderr, code := run(t, "scan", "--residual", "--format", format, img)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", format, code, stderr)
		}
		file := filepath.Join(dir, "scan."+format)
		if _, _, code := run(t, "scan", "--residual", "--format", format, "-o", file, img); code != 0 {
			t.Fatalf("%s -o: exit %d", format, code)
		}
		st, err := os.Stat(file)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: output file mode %v %v", format, st.Mode(), err)
		}
		written, _ := os.ReadFile(file)
		for _, s := range sampleSecrets {
			if strings.Contains(out+stderr, s) || strings.Contains(string(written), s) {
				t.Errorf("format %s prints the secret %q", format, s)
			}
		}
		if len(out) < 200 {
			t.Errorf("format %s: output too short: %q", format, out)
		}
	}
}

func TestScanExitCodes(t *testing.T) {
	img := sampleImage(t)
	if _, _, code := run(t, "scan", "--format", "json", "--fail-on", "high", img); code != 1 {
		t.Errorf("--fail-on high with critical findings: exit %d, want 1", code)
	}
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "readme.txt"), []byte("nothing to see\n"), 0o644)
	if _, _, code := run(t, "scan", "--format", "json", "--fail-on", "info", empty); code != 0 {
		t.Errorf("clean directory: exit %d, want 0", code)
	}
	if _, stderr, code := run(t, "scan", "--format", "json", filepath.Join(empty, "missing.img")); code != 2 {
		t.Errorf("missing target: exit %d, want 2 (%s)", code, stderr)
	}
	if _, stderr, code := run(t, "scan", "--fail-on", "urgent", img); code != 2 || !strings.Contains(stderr, "severity") {
		t.Errorf("bad --fail-on: exit %d %s", code, stderr)
	}
}

// TestScanDirectory: a directory is a target too, with paths relative to it.
func TestScanDirectory(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "app"), 0o755)
	os.WriteFile(filepath.Join(dir, "app", "settings.py"), []byte("SLACK_BOT_TOKEN = 'xoxb-2817364519-4416282719283-Kq3ZrT8vLm2XpW9sNb4Yc7Hd'\n"), 0o644)
	out, _, code := run(t, "scan", "--format", "jsonl", "--fail-on", "medium", dir)
	if code != 1 || !strings.Contains(out, `"path":"/app/settings.py"`) || !strings.Contains(out, `"type":"directory"`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
