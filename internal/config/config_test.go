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
