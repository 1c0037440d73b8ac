package detect

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/finding"
)

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func share(id, res string, at time.Duration, op, kind, value string) event.Event {
	return event.Event{ID: id, Time: t0.Add(at), Cloud: "aws", Account: "111111111111", Region: "us-east-1",
		Action: "ModifySnapshotAttribute", Success: true, Resource: event.Resource{Type: "ebs-snapshot", ID: res},
		Actor:  event.Actor{ARN: "arn:aws:iam::111111111111:user/alice", Account: "111111111111"},
		Grants: []event.Grant{{Op: op, Kind: kind, Value: value}}}
}

// An exposure with two grantees closes only when both are gone; a re-share reopens it.
func TestExposureSeveralGrantees(t *testing.T) {
	e, _ := New(Config{})
	e.Process(share("1", "snap-1", 0, "add", "account", "999999999999"))
	e.Process(share("2", "snap-1", time.Minute, "add", "public", "all"))
	e.Process(share("3", "snap-1", 2*time.Minute, "remove", "account", "999999999999"))
	if x := e.Exposures()[0]; x.State != "open" {
		t.Fatalf("closed with one grantee left: %+v", x)
	}
	e.Process(share("4", "snap-1", 3*time.Minute, "remove", "public", "all"))
	e.Process(share("5", "snap-1", 4*time.Minute, "add", "account", "999999999999"))
	x := e.Exposures()[0]
	var what []string
	for _, en := range x.Timeline {
		what = append(what, en.What)
	}
	if want := []string{"opened", "shared", "revoked", "closed", "opened"}; !slices.Equal(what, want) || x.State != "open" {
		t.Fatalf("timeline %v state %s, want %v open", what, x.State, want)
	}
	up := e.Flush()
	status := map[string]finding.Status{}
	for _, f := range up {
		status[f.Rule] = f.Status
	}
	if status["aws-ebs-snapshot-shared-external"] != finding.StatusOpen || status["aws-ebs-snapshot-public"] != finding.StatusResolved {
		t.Fatalf("flush statuses %v", status)
	}
}

// An outside account copying the snapshot marks it used, with a critical alert; the record the
// same account writes for itself stays silent.
func TestExposureUsed(t *testing.T) {
	e, _ := New(Config{})
	e.Process(share("1", "snap-1", 0, "add", "account", "999999999999"))
	used := event.Event{ID: "u", Time: t0.Add(time.Hour), Cloud: "aws", Account: "111111111111", Region: "us-east-1",
		Action: "SharedSnapshotCopyInitiated", Success: true, Resource: event.Resource{Type: "ebs-snapshot", ID: "snap-1", Account: "111111111111"},
		Actor: event.Actor{Account: "999999999999", InvokedBy: "ec2.amazonaws.com"}, Facts: map[string]string{"shared_event_id": "s"}}
	out := e.Process(used)
	if len(out) != 1 || out[0].Rule != "aws-ebs-snapshot-used-externally" || out[0].Severity != finding.Critical {
		t.Fatalf("%+v", out)
	}
	x := e.Exposures()[0]
	if !x.Used || x.Timeline[len(x.Timeline)-1].What != "used" {
		t.Fatalf("%+v", x)
	}
	// Used without a share in the stream: still an alert, with a note.
	e2, _ := New(Config{})
	out = e2.Process(used)
	if len(out) != 1 || out[0].Evidence["note"] == nil {
		t.Fatalf("%+v", out)
	}
}

func copyEv(id string, at time.Duration, region string) event.Event {
	return event.Event{ID: id, Time: t0.Add(at), Cloud: "aws", Account: "111111111111", Region: region, Action: "CopySnapshot",
		Success: true, Resource: event.Resource{Type: "ebs-snapshot", ID: "snap-copy"}, Facts: map[string]string{"copy_of": "snap-1", "source_region": "us-east-1"}}
}

// The share of a copy may be read before the copy (log files are not ordered).
func TestCopyThenShareOutOfOrder(t *testing.T) {
	e, _ := New(Config{})
	s := share("s", "snap-copy", time.Hour, "add", "account", "999999999999")
	s.Region = "ap-east-1"
	if out := e.Process(s); slices.Contains(rulesOf(out), "aws-snapshot-copied-to-new-region-then-shared") {
		t.Fatal("fired before the copy was seen")
	}
	out := e.Process(copyEv("c", 0, "ap-east-1"))
	if len(out) != 1 || out[0].Rule != "aws-snapshot-copied-to-new-region-then-shared" || !slices.Equal(out[0].Evidence["records"].([]string), []string{"c", "s"}) {
		t.Fatalf("%+v", out)
	}
	// A baseline that knows the region silences it.
	e2, _ := New(Config{Baseline: Baseline{Regions: map[string][]string{"111111111111": {"ap-east-1"}}}})
	e2.Process(copyEv("c", 0, "ap-east-1"))
	if out := e2.Process(s); slices.Contains(rulesOf(out), "aws-snapshot-copied-to-new-region-then-shared") {
		t.Fatal("fired for a region in the baseline")
	}
}

func TestBaselineTagsAndSeverity(t *testing.T) {
	e, _ := New(Config{Baseline: Baseline{Recipients: []string{"account:888888888888"}}})
	a := e.Process(share("1", "snap-1", 0, "add", "account", "999999999999"))[0]
	if a.Severity != finding.Critical || !slices.Contains(a.Tags, "new-recipient") || !slices.Contains(a.Tags, "first-share-by-actor") {
		t.Fatalf("first share: %s %v", a.Severity, a.Tags)
	}
	b := e.Process(share("2", "snap-2", time.Minute, "add", "account", "999999999999"))[0]
	if b.Severity != finding.High || len(b.Tags) != len(ruleTags(b2r(t, e, b.Rule)))+1 { // + boundary-unknown
		t.Fatalf("second share to the same account: %s %v", b.Severity, b.Tags)
	}
	c := e.Process(share("3", "snap-3", 2*time.Minute, "add", "account", "888888888888"))[0]
	if c.Severity != finding.High {
		t.Fatalf("recipient from the baseline: %s", c.Severity)
	}
}

func b2r(t *testing.T, e *Engine, id string) *Rule {
	for _, r := range e.Rules() {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no rule %s", id)
	return nil
}

func TestBurstOnceAndOverride(t *testing.T) {
	e, _ := New(Config{Bursts: map[string]BurstLimit{"snapshot-mass-deletion": {Threshold: 3, Window: time.Minute}}})
	fired := 0
	for i := range 10 {
		ev := event.Event{ID: string(rune('a' + i)), Time: t0.Add(time.Duration(i) * time.Second), Cloud: "aws", Account: "1", Action: "DeleteSnapshot",
			Success: true, Resource: event.Resource{Type: "ebs-snapshot", ID: "snap"}, Actor: event.Actor{ARN: "arn:aws:iam::1:user/x"}}
		fired += len(e.Process(ev))
	}
	if fired != 1 {
		t.Fatalf("burst alerts %d, want 1 within the window", fired)
	}
}

func TestRulesDirOverrides(t *testing.T) {
	dir := t.TempDir()
	user := `[[rules]]
id = "aws-cloudtrail-stopped"
disabled = true

[[rules]]
id = "aws-ebs-encryption-by-default-disabled"
category = "guard"
title = "Ours"
severity = "critical"
  [[rules.match]]
  cloud = "aws"
  actions = ["DisableEbsEncryptionByDefault"]

[[rules]]
id = "acme-snapshot-created"
title = "Snapshot created"
severity = "info"
  [[rules.match]]
  cloud = "aws"
  actions = ["CreateSnapshot"]
`
	if err := os.WriteFile(filepath.Join(dir, "acme.toml"), []byte(user), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{RulesDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ev := func(a string) event.Event {
		return event.Event{ID: a, Time: t0, Cloud: "aws", Account: "1", Action: a, Success: true}
	}
	if out := e.Process(ev("StopLogging")); len(out) != 0 {
		t.Errorf("disabled rule fired")
	}
	if out := e.Process(ev("DisableEbsEncryptionByDefault")); len(out) != 1 || out[0].Severity != finding.Critical || out[0].Title != "Ours" {
		t.Errorf("override: %+v", out)
	}
	if out := e.Process(ev("CreateSnapshot")); len(out) != 1 || out[0].Rule != "acme-snapshot-created" {
		t.Errorf("added rule: %+v", out)
	}
	// A misspelt key is an error, not a silently wider rule.
	if err := os.WriteFile(filepath.Join(dir, "bad.toml"), []byte("[[rules]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\n[[rules.match]]\ncloud = \"aws\"\nactions = [\"A\"]\nresource_type = [\"ami\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{RulesDir: dir}); err == nil || !strings.Contains(err.Error(), "resource_type") {
		t.Fatalf("unknown key accepted: %v", err)
	}
}

// The same share, read twice in one run or in two runs, has one id; a different grantee another.
func TestFingerprints(t *testing.T) {
	e1, _ := New(Config{})
	e2, _ := New(Config{})
	a := e1.Process(share("1", "snap-1", 0, "add", "account", "999999999999"))[0]
	b := e2.Process(share("2", "snap-1", time.Hour, "add", "account", "999999999999"))[0]
	c := e2.Process(share("3", "snap-1", 2*time.Hour, "add", "account", "888888888888"))[0]
	if a.ID != b.ID || a.ID == c.ID {
		t.Fatalf("ids %s %s %s", a.ID, b.ID, c.ID)
	}
	if out := e2.Process(share("3", "snap-1", 2*time.Hour, "add", "account", "888888888888")); len(out) != 0 {
		t.Fatal("a duplicate record alerted again")
	}
}
