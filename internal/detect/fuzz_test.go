package detect

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/event"
)

// FuzzRuleFile feeds arbitrary TOML to the rule loader: an error or rules, never a panic, and
// rules it accepts must run on events without panicking.
func FuzzRuleFile(f *testing.F) {
	// Small seeds: whole rule files make each coverage-guided run slow.
	f.Add(`[[rules]]
id = "aws-x"
category = "leak"
title = "t"
severity = "high"
attempt_severity = "low"
key_facts = ["export_destination"]
implies = { op = "add", kind = "public", value = "sas" }
  [[rules.match]]
  cloud = "aws"
  actions = ["ModifySnapshotAttribute"]
  resource_types = ["ebs-snapshot"]
  grants = ["external", "public"]
  facts = { state = ["unblocked"] }
  not_facts = { reset = ["true"] }
  outside_facts = ["kms_key_id"]
  not_invoked_by = ["assets.marketplace.amazonaws.com"]
  actor_types = ["IAMUser"]
`)
	f.Add("[[rules]]\nid = \"c\"\nkind = \"copy-then-share\"\ntitle = \"t\"\nseverity = \"high\"\nwindow = \"1h\"\n[[rules.match]]\ncloud = \"aws\"\nactions = [\"CopySnapshot\"]\n")
	f.Add("[[rules]]\nid = \"x\"\nkind = \"burst\"\ntitle = \"t\"\nseverity = \"low\"\nburst = { threshold = 1, window = \"1s\" }\n[[rules.match]]\ncloud = \"aws\"\nactions = [\"A\"]\n")
	f.Add("[[rules]]\nid = \"x\"\ndisabled = true\n")
	f.Fuzz(func(t *testing.T, data string) {
		rules, err := parseRuleFile("fuzz", []byte(data))
		if err != nil {
			return
		}
		var live []*Rule
		for _, r := range rules {
			if !r.disabled {
				live = append(live, r)
			}
		}
		e, err := newEngine(Config{}, live)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range sampleEvents(live) {
			e.Process(ev)
		}
		e.Flush()
		e.Exposures()
	})
}

// sampleEvents makes one successful and one failed event per action the rules watch.
func sampleEvents(rules []*Rule) []event.Event {
	var out []event.Event
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, r := range rules {
		for _, m := range r.match {
			for _, a := range m.actions {
				for _, ok := range []bool{true, false} {
					out = append(out, event.Event{ID: fmt.Sprint(i, a, ok), Time: t0.Add(time.Duration(i) * time.Second),
						Cloud: m.cloud, Account: "111111111111", Region: "r", Action: a, Success: ok,
						Resource: event.Resource{Type: "ebs-snapshot", ID: "snap-1"},
						Grants:   []event.Grant{{Op: "add", Kind: "account", Value: "999999999999"}, {Op: "add", Kind: "public", Value: "all"}},
						Facts:    map[string]string{"kms_key_id": "arn:aws:kms:r:999999999999:key/k", "state": "unblocked"}})
				}
			}
		}
	}
	return out
}

// FuzzSigmaRule feeds arbitrary YAML to the Sigma compiler; a rule it accepts is evaluated on a
// real-shaped record.
func FuzzSigmaRule(f *testing.F) {
	for _, body := range mirrorRules {
		f.Add([]byte(body))
	}
	rec := []byte(`{"eventName":"ModifySnapshotAttribute","eventSource":"ec2.amazonaws.com","requestParameters":{"createVolumePermission":{"add":{"items":[{"userId":"1"}]}}},"errorCode":null,"n":3,"a":[1,"x",{"b":null}]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseSigma(data, nil)
		if err != nil {
			return
		}
		e := &Engine{}
		ev := event.Event{Raw: rec, Cloud: r.cloud, ID: "x"}
		e.evalSigma([]*sigmaRule{r}, &ev)
	})
}

// FuzzProcess drives the engine with events built from fuzz bytes: clouds, actions the rules
// watch, grants of every kind, outcomes and times out of order. Nothing may panic, every alert
// must be a complete finding, and exposure states must agree with their grantees.
func FuzzProcess(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"))
	f.Add([]byte(strings.Repeat("\x10\x22\x35\x47\x58\x6a\x7b\x8c", 8)))
	rules, err := LoadRules("")
	if err != nil {
		f.Fatal(err)
	}
	type act struct{ cloud, action string }
	var acts []act
	for _, r := range rules {
		for _, m := range r.match {
			for _, a := range m.actions {
				acts = append(acts, act{m.cloud, a})
			}
		}
	}
	kinds := []string{"account", "org", "ou", "tenant", "subscription", "member", "public", "authenticated", "principal", "*", ""}
	values := []string{"111111111111", "999999999999", "all", "*", "user:a@gmail.com", "allUsers", "arn:aws:organizations::1:ou/o-a/ou-b", "sas", ""}
	types := []string{"ebs-snapshot", "ami", "rds-snapshot", "azure-disk", "gcp-image", "account-guard", ""}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := New(Config{Limits: Limits{Exposures: 4, Records: 8, BurstKeys: 2, PendingCopies: 2, Regions: 4}})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i+8 <= len(data) && i < 8*256; i += 8 {
			b := data[i : i+8]
			a := acts[int(b[0])%len(acts)]
			ev := event.Event{ID: fmt.Sprint(b[1] % 32), Time: t0.Add(time.Duration(int8(b[2])) * time.Minute),
				Cloud: a.cloud, Account: "111111111111", Region: fmt.Sprint("r", b[3]%3), Action: a.action,
				Success: b[4]&1 == 0, ReadOnly: b[4]&2 != 0, Partial: b[4]&4 != 0,
				Actor:    event.Actor{Account: []string{"111111111111", "999999999999", ""}[int(b[5])%3], ARN: fmt.Sprint("arn:aws:iam::1:user/u", b[5]%4)},
				Resource: event.Resource{Type: types[int(b[6])%len(types)], ID: fmt.Sprint("res", b[6]%4)},
				Facts:    map[string]string{"grants_basis": []string{"", "full-policy"}[b[7]&1], "copy_of": "x"}}
			for j := 0; j < int(b[7]>>5); j++ {
				op := "add"
				if b[7]&(2<<j) != 0 {
					op = "remove"
				}
				ev.Grants = append(ev.Grants, event.Grant{Op: op, Kind: kinds[int(b[3]+byte(j))%len(kinds)], Value: values[int(b[5]+byte(j))%len(values)]})
			}
			for _, fnd := range e.Process(ev) {
				checkFinding(t, fnd)
			}
		}
		for _, fnd := range e.Flush() {
			checkFinding(t, fnd)
		}
		for _, x := range e.Exposures() {
			open := false
			for _, g := range x.Grantees {
				open = open || g.Open
			}
			if open != (x.State == "open") {
				t.Fatalf("state %s with grantees %+v", x.State, x.Grantees)
			}
			if len(x.Timeline) > maxTimeline {
				t.Fatalf("timeline of %d entries", len(x.Timeline))
			}
		}
	})
}
