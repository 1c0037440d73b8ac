package posture

import (
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
)

// TestExportBucketPublicVia: a public bucket's finding names what makes it public; a public
// ACL or policy that S3 Block Public Access neutralises is latent, at least medium even in
// our own bucket, and says so.
func TestExportBucketPublicVia(t *testing.T) {
	base := inventory.ExportTask{Provider: inventory.AWS, Account: "222222222222", Region: "us-east-1", Kind: inventory.ExportImage,
		Source: "ami-1", Bucket: "b", Key: "images/", State: "completed", BucketAccount: "222222222222"}
	for _, c := range []struct {
		name   string
		public inventory.Tri
		via    []string
		sev    finding.Severity
		text   string
		latent bool
	}{
		{"acl public", inventory.Yes, []string{"acl:AllUsers"}, finding.Critical, "public by acl:AllUsers", false},
		{"policy and acl", inventory.Yes, []string{"policy", "acl:AuthenticatedUsers"}, finding.Critical, "public by policy, acl:AuthenticatedUsers", false},
		{"latent", inventory.No, []string{"acl:AllUsers"}, finding.Medium, "only S3 Block Public Access holds back", true},
		{"private", inventory.No, nil, finding.Low, "inside the organisation", false},
	} {
		x := base
		x.ID, x.BucketPublic, x.BucketPublicVia = "export-"+strings.ReplaceAll(c.name, " ", "-"), c.public, c.via
		fs := Check(&inventory.Inventory{Exports: []inventory.ExportTask{x}, Accounts: []string{"222222222222"}}, Config{})
		if len(fs) != 1 {
			t.Fatalf("%s: %d findings", c.name, len(fs))
		}
		f := fs[0]
		if f.Severity != c.sev || !strings.Contains(f.Description, c.text) {
			t.Errorf("%s: %s %q", c.name, f.Severity, f.Description)
		}
		if _, ok := f.Evidence["bucket_latent_public"]; ok != c.latent {
			t.Errorf("%s: evidence %v", c.name, f.Evidence)
		}
		if got, _ := f.Evidence["bucket_public_via"].(string); got != strings.Join(c.via, ", ") {
			t.Errorf("%s: bucket_public_via %q", c.name, got)
		}
	}
}
