package event

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// The real CloudTrail logs and their ground truth are in ../shared/eval/logs (see its README):
// third-party files, read in place and never copied into the repository.

func evalLogs(t testing.TB, sub string) string {
	t.Helper()
	// From internal/event, the repository root is two levels up; shared/ sits beside it.
	dir := filepath.Join("..", "..", "..", "shared", "eval", "logs", sub)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real logs not available (%s): %v", dir, err)
	}
	return dir
}

// decodeFiles decodes files with one Decoder and returns the events by eventID.
func decodeFiles(t *testing.T, files []string, opt Options) (map[string]Event, Stats) {
	t.Helper()
	d := NewDecoder(opt)
	byID := map[string]Event{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		for ev, err := range d.Decode(context.Background(), fh, f) {
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			if _, dup := byID[ev.ID]; dup {
				t.Errorf("duplicate eventID %s", ev.ID)
			}
			byID[ev.ID] = ev
		}
		fh.Close()
	}
	return byID, d.Stats()
}

func TestInvictusDataset(t *testing.T) {
	dir := evalLogs(t, "invictus-aws_dataset/CloudTrail")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	if len(files) != 55 {
		t.Fatalf("%d files, want 55", len(files))
	}
	for _, opt := range []Options{{}, {All: true}} {
		byID, st := decodeFiles(t, files, opt)
		if st.Records != 2900 || st.Events != 2900 || st.Bad != 0 || st.Digests != 0 {
			t.Fatalf("All=%v: stats %+v, want 2900 records and events, 0 bad", opt.All, st)
		}
		if opt.All && st.Partial != 0 {
			t.Errorf("All: %d partial events", st.Partial)
		}
		checkGroundTruth(t, byID)
	}
}

func checkGroundTruth(t *testing.T, byID map[string]Event) {
	t.Helper()
	want := []struct {
		id, action, typ, rid string
		grants               []Grant
	}{
		{"741616fd-4713-426d-8861-3ccae4ba994e", "ModifySnapshotAttribute", "ebs-snapshot", "snap-083d3b857c13988bc",
			[]Grant{{Op: "add", Kind: GrantAccount, Value: "012345678912"}}},
		{"3ad01b1d-ebc1-4830-994b-9210534ab9f2", "ModifySnapshotAttribute", "ebs-snapshot", "snap-083d3b857c13988bc",
			[]Grant{{Op: "remove", Kind: GrantAccount, Value: "012345678912"}}},
		{"8fe3095f-909c-41f5-a769-00b9ec6e95df", "ModifyImageAttribute", "ami", "ami-0aa1d83d0b0985c86",
			[]Grant{{Op: "add", Kind: GrantAccount, Value: "012345678901"}}},
		{"8d96ddae-ab7e-4230-9935-44dde036f058", "ModifyImageAttribute", "ami", "ami-0aa1d83d0b0985c86",
			[]Grant{{Op: "remove", Kind: GrantAccount, Value: "012345678901"}}},
		{"2d19ab1e-82e9-4302-ad10-a405b50c8d49", "ModifyDBSnapshotAttribute", "rds-snapshot", "exfiltration",
			[]Grant{{Op: "add", Kind: GrantAccount, Value: "193672423079"}}},
		{"d1bc9379-2adc-4b94-b38f-07a2bad4856d", "ModifyDBSnapshotAttribute", "rds-snapshot", "exfiltration",
			[]Grant{{Op: "remove", Kind: GrantAccount, Value: "193672423079"}}},
	}
	for _, w := range want {
		ev, ok := byID[w.id]
		if !ok {
			t.Errorf("%s missing", w.id)
			continue
		}
		if ev.Partial || ev.Action != w.action || ev.Resource.Type != w.typ || ev.Resource.ID != w.rid {
			t.Errorf("%s: partial=%v action=%q resource=%+v", w.id, ev.Partial, ev.Action, ev.Resource)
		}
		if !reflect.DeepEqual(ev.Grants, w.grants) {
			t.Errorf("%s: grants %+v, want %+v", w.id, ev.Grants, w.grants)
		}
		if !ev.Success || ev.Account != "123837392027" || ev.Actor.Name != "bert-jan" || ev.Actor.Type != "IAMUser" ||
			ev.Actor.AccessKeyID != "AKIATFQR7NSC8Q4X20BJ" || ev.Region != "us-east-1" || ev.Resource.Account != "123837392027" {
			t.Errorf("%s: event %+v", w.id, ev)
		}
		if len(ev.Raw) == 0 {
			t.Errorf("%s: no Raw", w.id)
		}
	}
	if got := byID["2d19ab1e-82e9-4302-ad10-a405b50c8d49"].Facts["resulting_share"]; got != "193672423079" {
		t.Errorf("RDS add resulting_share %q", got)
	}
	if f, ok := byID["d1bc9379-2adc-4b94-b38f-07a2bad4856d"].Facts["resulting_share"]; !ok || f != "" {
		t.Errorf("RDS remove resulting_share %q (present %v), want empty list", f, ok)
	}
	if got := byID["741616fd-4713-426d-8861-3ccae4ba994e"].Facts["attribute_type"]; got != "CREATE_VOLUME_PERMISSION" {
		t.Errorf("attribute_type %q", got)
	}
	// The benign consumer-side service events: the caller's account is the log's account.
	for _, id := range []string{"895dc875-cb08-45a5-b8c2-9158838741c0", "6b70c0d5-e0b2-4bc0-b903-556e0346a7ac"} {
		ev := byID[id]
		if ev.Action != "SharedSnapshotVolumeCreated" || ev.Category != "service" || ev.Actor.Account != ev.Account ||
			ev.Account != "123837392027" || ev.Facts["side"] != "consumer" || ev.Actor.InvokedBy != "ec2.amazonaws.com" ||
			ev.Resource.Type != "ebs-snapshot" || ev.Resource.ID == "" || ev.Facts["shared_event_id"] == "" || len(ev.Grants) != 0 {
			t.Errorf("%s: %+v", id, ev)
		}
	}
}

func TestStratusDetonations(t *testing.T) {
	dir := evalLogs(t, "stratus-red-team")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 5 {
		t.Fatalf("%d files, want 5", len(files))
	}
	want := map[string]struct {
		action string
		grants []Grant
		typ    string
	}{
		"aws.exfiltration.ec2-share-ebs-snapshot.json": {"ModifySnapshotAttribute", []Grant{{Op: "add", Kind: GrantAccount, Value: "098797384747"}}, "ebs-snapshot"},
		"aws.exfiltration.ec2-share-ami.json":          {"ModifyImageAttribute", nil, "ami"},
		"aws.exfiltration.rds-share-snapshot.json":     {"ModifyDBSnapshotAttribute", nil, "rds-snapshot"},
		"aws.defense-evasion.cloudtrail-stop.json":     {"StopLogging", nil, "cloudtrail-trail"},
	}
	for _, f := range files {
		byID, st := decodeFiles(t, []string{f}, Options{})
		if st.Bad != 0 || st.Records == 0 || st.Records != st.Events {
			t.Errorf("%s: stats %+v", filepath.Base(f), st)
		}
		w, ok := want[filepath.Base(f)]
		if !ok {
			continue
		}
		found := false
		for _, ev := range byID {
			if ev.Action != w.action {
				continue
			}
			found = true
			if ev.Partial || ev.Resource.Type != w.typ || ev.Resource.ID == "" {
				t.Errorf("%s: %+v", filepath.Base(f), ev)
			}
			if w.grants != nil && !reflect.DeepEqual(ev.Grants, w.grants) {
				t.Errorf("%s: grants %+v", filepath.Base(f), ev.Grants)
			}
			if w.action != "StopLogging" && (len(ev.Grants) != 1 || ev.Grants[0].Op != "add" || ev.Grants[0].Kind != GrantAccount) {
				t.Errorf("%s: grants %+v, want one account add", filepath.Base(f), ev.Grants)
			}
		}
		if !found {
			t.Errorf("%s: no %s event", filepath.Base(f), w.action)
		}
	}
}
