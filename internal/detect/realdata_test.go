package detect

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// The real CloudTrail logs and their ground truth are in ../shared/eval/logs (its README):
// third-party files, read in place and never copied into the repository.

func evalLogs(t testing.TB, sub string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "eval", "logs", sub)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real logs not available (%s): %v", dir, err)
	}
	return dir
}

// decodeAll reads files in order with one parser (as `snapwatch detect` does).
func decodeAll(t testing.TB, files []string, opt event.Options) []event.Event {
	t.Helper()
	d := event.NewDecoder(opt)
	var out []event.Event
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		for ev, err := range d.Decode(context.Background(), fh, f) {
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, ev)
		}
		fh.Close()
	}
	return out
}

func invictus(t testing.TB, opt event.Options) []event.Event {
	dir := evalLogs(t, "invictus-aws_dataset/CloudTrail")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	evs := decodeAll(t, files, opt)
	if len(evs) != 2900 {
		t.Fatalf("%d events, want 2900", len(evs))
	}
	return evs
}

// alertKey is what the exact-set assertion compares: rule and triggering record.
func alertKeys(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		recs, _ := f.Evidence["records"].([]string)
		out = append(out, f.Rule+" "+strings.Join(recs, ","))
	}
	sort.Strings(out)
	return out
}

// The whole invictus hour, no boundary configured (only account 123837392027 is ours): the three
// ground-truth leaks alert, the logging tamper fires where StopLogging/DeleteTrail were called
// (all three StopLogging calls failed: low attempts), and nothing else does — not the two
// consumer-side SharedSnapshotVolumeCreated, not the setup and teardown noise.
var invictusWant = []string{
	"aws-ami-shared-external 8fe3095f-909c-41f5-a769-00b9ec6e95df",
	"aws-cloudtrail-deleted c0057a42-1625-4b1d-9db5-352f931f790a", // Terraform teardown of Stratus trails
	"aws-cloudtrail-deleted fcec2e46-3cc3-4ac2-8144-3674f06990e4",
	"aws-cloudtrail-deleted-attempt b7e19efd-92be-4182-bbbc-b6468296710b", // TrailNotFoundException
	"aws-cloudtrail-stopped-attempt 9790ee84-ed2b-4866-83d1-f32af0dd4cd2",
	"aws-cloudtrail-stopped-attempt b4610d54-efe9-40b0-b9f9-71156081d520",
	"aws-cloudtrail-stopped-attempt f6e10706-705c-47f2-94d4-112a9527ab8b",
	"aws-ebs-snapshot-shared-external 741616fd-4713-426d-8861-3ccae4ba994e",
	"aws-rds-snapshot-shared-external 2d19ab1e-82e9-4302-ad10-a405b50c8d49",
}

// invictusExposures: each leak, closed by its revocation (ground truth README).
var invictusExposures = map[string][2]string{ // resource id → {share record, revocation record}
	"snap-083d3b857c13988bc": {"741616fd-4713-426d-8861-3ccae4ba994e", "3ad01b1d-ebc1-4830-994b-9210534ab9f2"},
	"ami-0aa1d83d0b0985c86":  {"8fe3095f-909c-41f5-a769-00b9ec6e95df", "8d96ddae-ab7e-4230-9935-44dde036f058"},
	"exfiltration":           {"2d19ab1e-82e9-4302-ad10-a405b50c8d49", "d1bc9379-2adc-4b94-b38f-07a2bad4856d"},
}

func TestInvictusExactAlerts(t *testing.T) {
	evs := invictus(t, event.Options{})
	// File order (the snapshot's revocation is in an earlier file than its share), time order
	// and reversed order must give the same verdicts.
	byTime := slices.Clone(evs)
	sort.SliceStable(byTime, func(i, j int) bool { return byTime[i].Time.Before(byTime[j].Time) })
	reversed := slices.Clone(evs)
	slices.Reverse(reversed)
	for name, order := range map[string][]event.Event{"file order": evs, "time order": byTime, "reversed": reversed} {
		t.Run(name, func(t *testing.T) {
			e, err := New(Config{})
			if err != nil {
				t.Fatal(err)
			}
			var alerts []finding.Finding
			for _, ev := range order {
				alerts = append(alerts, e.Process(ev)...)
			}
			if got := alertKeys(alerts); !slices.Equal(got, invictusWant) {
				t.Fatalf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(invictusWant, "\n"))
			}
			for _, f := range alerts {
				checkFinding(t, f)
				leak := !strings.HasPrefix(f.Rule, "aws-cloudtrail-")
				if leak && (f.Evidence["boundary"] == nil || !slices.Contains(f.Tags, "boundary-unknown")) {
					t.Errorf("%s: the finding must say the boundary was unknown", f.Rule)
				}
			}
			checkInvictusExposures(t, e)
			updates := e.Flush()
			if len(updates) != 3 {
				t.Fatalf("flush: %d updates, want the 3 share alerts", len(updates))
			}
			for _, f := range updates {
				if f.Status != finding.StatusResolved || f.Evidence["exposure_state"] != "closed" {
					t.Errorf("%s: status %s, state %v after its revocation", f.Rule, f.Status, f.Evidence["exposure_state"])
				}
			}
			if again := e.Flush(); len(again) != 0 {
				t.Errorf("second flush re-issued %d", len(again))
			}
		})
	}
}

func checkInvictusExposures(t *testing.T, e *Engine) {
	t.Helper()
	xs := e.Exposures()
	if len(xs) != len(invictusExposures) {
		t.Fatalf("%d exposures, want %d: %+v", len(xs), len(invictusExposures), xs)
	}
	for _, x := range xs {
		want, ok := invictusExposures[x.Resource.ID]
		if !ok {
			t.Errorf("unexpected exposure %s", x.Resource.Key())
			continue
		}
		if x.State != "closed" || x.Used || len(x.Timeline) != 2 {
			t.Errorf("%s: state %s used %v timeline %+v", x.Resource.ID, x.State, x.Used, x.Timeline)
			continue
		}
		open, closed := x.Timeline[0], x.Timeline[1]
		if open.What != "opened" || open.RecordID != want[0] || closed.What != "closed" || closed.RecordID != want[1] ||
			!closed.Time.After(open.Time) || x.Closed != closed.Time || x.Opened != open.Time {
			t.Errorf("%s: timeline %+v, want opened by %s then closed by %s", x.Resource.ID, x.Timeline, want[0], want[1])
		}
		if len(x.Alerts) != 1 {
			t.Errorf("%s: alerts %v", x.Resource.ID, x.Alerts)
		}
	}
}

// With the recipients trusted, the same hour raises no leak alert and opens no exposure.
func TestInvictusTrustedRecipients(t *testing.T) {
	evs := invictus(t, event.Options{})
	e, err := New(Config{Trust: trust.Config{Accounts: []string{"123837392027"},
		TrustedAccounts: []string{"012345678912", "012345678901", "193672423079"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		for _, f := range e.Process(ev) {
			if !strings.HasPrefix(f.Rule, "aws-cloudtrail-") {
				t.Errorf("unexpected %s on %v", f.Rule, f.Evidence["records"])
			}
			if b := f.Evidence["boundary"]; b != nil && b != "configured" {
				t.Errorf("boundary note %v", f.Evidence["boundary"])
			}
		}
	}
	if xs := e.Exposures(); len(xs) != 0 {
		t.Errorf("exposures to trusted accounts: %+v", xs)
	}
}

// Duplicated delivery (every record twice) changes nothing.
func TestInvictusDuplicatesDropped(t *testing.T) {
	evs := invictus(t, event.Options{})
	e, _ := New(Config{})
	var alerts []finding.Finding
	for _, ev := range evs {
		alerts = append(alerts, e.Process(ev)...)
		alerts = append(alerts, e.Process(ev)...)
	}
	if got := alertKeys(alerts); !slices.Equal(got, invictusWant) {
		t.Fatalf("alerts with duplicates:\n%s", strings.Join(got, "\n"))
	}
}

func TestStratusDetonations(t *testing.T) {
	dir := evalLogs(t, "stratus-red-team")
	want := map[string][]string{
		"aws.exfiltration.ec2-share-ebs-snapshot.json":                  {"aws-ebs-snapshot-shared-external"},
		"aws.exfiltration.ec2-share-ami.json":                           {"aws-ami-shared-external"},
		"aws.exfiltration.rds-share-snapshot.json":                      {"aws-rds-snapshot-shared-external"},
		"aws.exfiltration.ec2-security-group-open-port-22-ingress.json": nil,
		"aws.defense-evasion.cloudtrail-stop.json":                      {"aws-cloudtrail-stopped"}, // logging tamper, not a leak
	}
	for name, rules := range want {
		t.Run(name, func(t *testing.T) {
			e, _ := New(Config{})
			var got []string
			for _, ev := range decodeAll(t, []string{filepath.Join(dir, name)}, event.Options{}) {
				for _, f := range e.Process(ev) {
					checkFinding(t, f)
					got = append(got, f.Rule)
				}
			}
			if !slices.Equal(got, rules) {
				t.Fatalf("alerts %v, want %v", got, rules)
			}
			if rules != nil && strings.Contains(name, "share") {
				xs := e.Exposures()
				if len(xs) != 1 || xs[0].State != "open" || xs[0].Timeline[0].What != "opened" {
					t.Fatalf("exposure %+v", xs)
				}
			}
		})
	}
}
