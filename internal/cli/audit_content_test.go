package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/cloud/aws/ebs"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
	"github.com/snapwatch/snapwatch/internal/posture"
	"github.com/snapwatch/snapwatch/internal/report"
	"github.com/snapwatch/snapwatch/internal/sample"
	"github.com/snapwatch/snapwatch/internal/target"
)

// contentEstate: a public AMI backed by snap-web (the sample disk, with fake keys; also shared
// with an outside account), a snapshot
// shared with an outside account holding a clean directory, a private snapshot, and an
// encrypted snapshot shared outside whose key the audit may not use.
func contentEstate() *inventory.Inventory {
	common := func(kind inventory.Kind, id string) inventory.Common {
		return inventory.Common{Provider: inventory.AWS, Account: "222222222222", Region: "us-east-1", Kind: kind, ID: id,
			Created: time.Now().Add(-24 * time.Hour), State: "completed", Encryption: inventory.Encryption{Encrypted: true, KeyKind: "customer"}}
	}
	ext := []inventory.Grant{{Kind: inventory.GrantAccount, Value: "999988887777", Via: inventory.ViaAttribute}}
	web, clean, quiet, locked := common(inventory.KindEBSSnapshot, "snap-web"), common(inventory.KindEBSSnapshot, "snap-clean"),
		common(inventory.KindEBSSnapshot, "snap-quiet"), common(inventory.KindEBSSnapshot, "snap-locked")
	web.Grants, clean.Grants, locked.Grants = ext, ext, ext
	ami := common(inventory.KindAMI, "ami-web")
	ami.Grants = []inventory.Grant{{Kind: inventory.GrantPublic, Value: "all", Via: inventory.ViaAttribute}}
	return &inventory.Inventory{
		Accounts:  []string{"222222222222"},
		Snapshots: []inventory.Snapshot{{Common: web}, {Common: clean}, {Common: quiet}, {Common: locked}},
		Images:    []inventory.Image{{Common: ami, Backing: []inventory.Backing{{SnapshotID: "snap-web", Encrypted: true, Exists: inventory.Yes}}}},
	}
}

// opener serves the sample disk as snap-web, an empty directory as snap-clean, and refuses
// snap-locked as AWS does without kms:Decrypt. It counts opens.
type opener struct {
	disk, dir string
	mu        sync.Mutex
	opened    []string
}

func (o *opener) open(ctx context.Context, s snapshotRef) (*target.Target, error) {
	o.mu.Lock()
	o.opened = append(o.opened, s.ID)
	o.mu.Unlock()
	switch s.ID {
	case "snap-web":
		return target.Open(ctx, o.disk, target.Options{})
	case "snap-clean":
		return target.Open(ctx, o.dir, target.Options{})
	case "snap-locked":
		return nil, &ebs.KeyAccessError{Snapshot: s.ID}
	}
	return nil, fmt.Errorf("no such snapshot %s", s.ID)
}

func auditWithContent(t *testing.T, op *opener, cacheDir string, mode string) (*report.Result, contentStats) {
	t.Helper()
	inv := contentEstate()
	res := &report.Result{Findings: posture.Check(inv, posture.Config{})}
	co := contentOptions{mode: mode, maxFile: "64MiB", cacheDir: cacheDir, noCache: cacheDir == "", parallel: 3}
	p, err := co.prepare()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	st := scanExposed(context.Background(), &stderr, res, inv, p, op.open)
	return res, st
}

func find(res *report.Result, rule, id string) *finding.Finding {
	for i := range res.Findings {
		if res.Findings[i].Rule == rule && res.Findings[i].Resource.ID == id {
			return &res.Findings[i]
		}
	}
	return nil
}

func TestAuditContentRaisesAndLinks(t *testing.T) {
	dir := t.TempDir()
	op := &opener{disk: filepath.Join(dir, "sample.qcow2"), dir: filepath.Join(dir, "empty")}
	if err := sample.Write(op.disk); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(op.dir, 0o700)
	res, st := auditWithContent(t, op, filepath.Join(dir, "cache"), scanExposedOnly)
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %+v", res.Errors)
	}
	slices.Sort(op.opened)
	if !slices.Equal(op.opened, []string{"snap-clean", "snap-locked", "snap-web"}) {
		t.Fatalf("opened %v: want only the exposed snapshots, each once", op.opened)
	}
	viaAMI := find(res, "aws-ebs-snapshot-exposed-via-ami", "snap-web")
	pub := find(res, "aws-ami-public", "ami-web")
	if viaAMI == nil || pub == nil {
		t.Fatalf("posture findings missing: %v", rules(res))
	}
	if viaAMI.Severity != finding.Critical || pub.Severity != finding.Critical {
		t.Errorf("severities: via-ami %v, ami-public %v", viaAMI.Severity, pub.Severity)
	}
	webExt := find(res, "aws-ebs-snapshot-shared-external", "snap-web")
	if webExt == nil || webExt.Severity != finding.Critical || !slices.Contains(webExt.Tags, "content-raised") {
		t.Errorf("external share of a disk holding an AWS key not raised to critical: %+v", webExt)
	}
	var keys []*finding.Finding
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Kind == finding.KindContent {
			if f.Resource.ID != "snap-web" || f.Resource.Account != "222222222222" || f.Resource.Type != "ebs-snapshot" {
				t.Errorf("content finding on %+v", f.Resource)
			}
			if !slices.Contains(f.Related, pub.ID) || !slices.Contains(f.Related, viaAMI.ID) {
				t.Errorf("content %s not linked to both exposures: %v", f.Rule, f.Related)
			}
			if f.Rule == "secret/aws-access-key-pair" {
				keys = append(keys, f)
			}
		}
	}
	if len(keys) == 0 {
		t.Fatalf("the sample's AWS key was not found: %v", rules(res))
	}
	if !slices.Contains(pub.Related, keys[0].ID) {
		t.Errorf("exposure does not link the key: %v", pub.Related)
	}
	ext := find(res, "aws-ebs-snapshot-shared-external", "snap-clean")
	if ext == nil || ext.Severity != finding.High || ext.Evidence["content"] != nil {
		t.Errorf("clean external share: %+v", ext)
	}
	locked := find(res, "aws-ebs-snapshot-shared-external", "snap-locked")
	if locked == nil || locked.Evidence["content_not_scanned"] == nil {
		t.Errorf("undecryptable snapshot not explained: %+v", locked)
	}
	if st.Scanned != 2 || st.NotReadable != 1 || st.Raised < 1 {
		t.Errorf("stats %+v", st)
	}

	// Second audit: both readable snapshots come from the cache; the locked one is tried again.
	op.opened = nil
	res2, st2 := auditWithContent(t, op, filepath.Join(dir, "cache"), scanExposedOnly)
	if !slices.Equal(op.opened, []string{"snap-locked"}) || st2.FromCache != 2 {
		t.Fatalf("cache: opened %v, stats %+v", op.opened, st2)
	}
	if p := find(res2, "aws-ami-public", "ami-web"); p == nil || p.Severity != finding.Critical {
		t.Fatalf("cached content did not grade: %+v", p)
	}
}

func TestAuditContentAllReadsEverySnapshot(t *testing.T) {
	dir := t.TempDir()
	op := &opener{disk: filepath.Join(dir, "sample.qcow2"), dir: filepath.Join(dir, "empty")}
	sample.Write(op.disk)
	os.Mkdir(op.dir, 0o700)
	res, _ := auditWithContent(t, op, "", scanAll)
	if !slices.Contains(op.opened, "snap-quiet") {
		t.Fatalf("--scan-content all skipped a private snapshot: %v", op.opened)
	}
	// snap-quiet has no opener here: that is a content error of the run, not a silent zero.
	if len(res.Errors) != 1 || res.Errors[0].Target != "ebs:snap-quiet" {
		t.Fatalf("errors %+v", res.Errors)
	}
}

func rules(res *report.Result) []string {
	var out []string
	for _, f := range res.Findings {
		out = append(out, f.Rule+"@"+f.Resource.ID)
	}
	return out
}
