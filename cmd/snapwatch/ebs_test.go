package main_test

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/image"
)

// TestScanEBSSnapshot: `scan ebs:SNAP` through the EBS direct API (cloudsim) reports what `scan`
// of the same disk's image file reports, and names the snapshot.
func TestScanEBSSnapshot(t *testing.T) {
	img := sampleImage(t)
	raw := filepath.Join(t.TempDir(), "sample.raw")
	toRaw(t, img, raw)
	est, err := cloudsim.ParseEstate([]byte(`
accounts:
  - id: "222222222222"
    access_keys: [{id: AKIAPROD000000000001}]
    enabled_regions: [us-east-1]
    regions:
      us-east-1:
        snapshots:
          - {id: snap-0e000000000000001, volume_id: vol-0e1, content: ` + raw + `}
`))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := cloudsim.NewAWS(est, cloudsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAPROD000000000001")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	type result struct {
		Findings []struct {
			Rule     string `json:"rule"`
			Resource struct {
				Provider, Type, ID, Account, Region string
			} `json:"resource"`
			Location struct {
				Volume, Path string
			} `json:"location"`
		} `json:"findings"`
		Errors []any `json:"errors"`
		raw    string
	}
	scan := func(args ...string) (keys []string, res result) {
		out, stderr, code := run(t, append([]string{"scan", "--residual", "--format", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("scan %v: exit %d: %s", args, code, stderr)
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		res.raw = out
		for _, f := range res.Findings {
			keys = append(keys, f.Rule+" "+f.Location.Volume+":"+f.Location.Path)
		}
		slices.Sort(keys)
		return keys, res
	}
	want, _ := scan(img)
	got, res := scan("--region", "us-east-1", "--endpoint-url", sim.URL(), "ebs:snap-0e000000000000001")
	if !slices.Equal(got, want) || len(want) == 0 || len(res.Errors) != 0 {
		t.Errorf("ebs: findings %v errors %v; image file: %v", got, res.Errors, want)
	}
	if !strings.Contains(res.raw, `"blocks_fetched"`) {
		t.Error("the scan's stats do not say what the EBS direct reads cost")
	}
	if r := res.Findings[0].Resource; r.Provider != "aws" || r.Type != "ebs-snapshot" || r.ID != "snap-0e000000000000001" || r.Account != "222222222222" || r.Region != "us-east-1" {
		t.Errorf("resource %+v", r)
	}
	for _, s := range sampleSecrets {
		if strings.Contains(res.raw, s) {
			t.Errorf("secret %q printed in full", s)
		}
	}
}

// toRaw writes an image's guest disk as a sparse raw file.
func toRaw(t *testing.T, src, dst string) {
	im, err := image.Open(src, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	f, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(im.Size()); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, io.NewSectionReader(im, 0, im.Size())); err != nil {
		t.Fatal(err)
	}
}
