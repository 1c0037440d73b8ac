package aws

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
	"github.com/snapwatch/snapwatch/internal/posture"
)

// startSim serves the estate and points the default credential chain at its management user.
func startSim(t testing.TB, e *cloudsim.Estate, opt cloudsim.Options, accessKey, secret string) *cloudsim.AWS {
	t.Helper()
	sim, err := cloudsim.NewAWS(e, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	setCredentials(t, accessKey, secret)
	return sim
}

// setCredentials isolates the SDK from the machine's AWS configuration.
func setCredentials(t testing.TB, accessKey, secret string) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL": "", "AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": "",
	} {
		t.Setenv(k, v)
	}
}

func collect(t testing.TB, sim *cloudsim.AWS, opt Options) (*inventory.Inventory, Stats, error) {
	t.Helper()
	opt.EndpointURL = sim.URL()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return Collect(ctx, opt)
}

func checkAll(inv *inventory.Inventory) []finding.Finding {
	return posture.Check(inv, posture.Config{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
}

func findingsOf(fs []finding.Finding, rule, id string) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Rule == rule && (id == "" || f.Resource.ID == id) {
			out = append(out, f)
		}
	}
	return out
}

func ruleList(fs []finding.Finding) string {
	var b []string
	for _, f := range fs {
		b = append(b, f.Rule+"["+f.Resource.ID+"]("+f.Severity.String()+")")
	}
	return strings.Join(b, "\n")
}

func snapshot(inv *inventory.Inventory, id string) *inventory.Snapshot {
	for i := range inv.Snapshots {
		if inv.Snapshots[i].ID == id {
			return &inv.Snapshots[i]
		}
	}
	return nil
}

func image(inv *inventory.Inventory, id string) *inventory.Image {
	for i := range inv.Images {
		if inv.Images[i].ID == id {
			return &inv.Images[i]
		}
	}
	return nil
}
