package aws

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/inventory"
)

// errorsOf returns the scope errors of an account and region.
func errorsOf(inv *inventory.Inventory, account, region string) []inventory.ScopeError {
	var out []inventory.ScopeError
	for _, e := range inv.Errors {
		if e.Account == account && e.Region == region {
			out = append(out, e)
		}
	}
	return out
}

// TestThrottlingIsRetried: a tight token bucket and a burst of injected throttles still give a
// complete inventory; the retries and throttles show in the stats.
func TestThrottlingIsRetried(t *testing.T) {
	_, inv, st, err := audit(t, cloudsim.Options{
		Throttle: cloudsim.Rate{PerSecond: 40, Burst: 3},
		Faults:   []cloudsim.Fault{{Kind: cloudsim.FaultThrottle, Service: "ec2", Action: "DescribeSnapshotAttribute", Count: 6}},
	}, func(o *Options) { o.Accounts = []string{prod} })
	if err != nil {
		t.Fatalf("err: %v", err)
	}
	if st.Throttled < 6 || st.Retries < st.Throttled {
		t.Errorf("stats: %+v", st)
	}
	if s := snapshot(inv, "snap-0000000000000a002"); s == nil || len(s.Grants) != 1 {
		t.Errorf("shares lost to throttling: %+v", s)
	}
}

// TestServerErrorsAreRetried: two 5xx answers, then success.
func TestServerErrorsAreRetried(t *testing.T) {
	_, inv, st, err := audit(t, cloudsim.Options{
		Faults: []cloudsim.Fault{{Kind: cloudsim.FaultServerError, Service: "ec2", Action: "DescribeImages", Count: 2}},
	}, func(o *Options) { o.Accounts = []string{prod}; o.Regions = []string{"us-east-1"} })
	if err != nil {
		t.Fatalf("err: %v", err)
	}
	if st.Retries < 2 || image(inv, "ami-0000000000000a001") == nil {
		t.Errorf("stats %+v, images %d", st, len(inv.Images))
	}
}

// TestPersistentFailureIsReported: an action that keeps failing becomes one scope error that
// names it and how much it missed; the rest of the scope is still collected.
func TestPersistentFailureIsReported(t *testing.T) {
	_, inv, _, err := audit(t, cloudsim.Options{
		Faults: []cloudsim.Fault{{Kind: cloudsim.FaultServerError, Service: "ec2", Action: "DescribeSnapshotAttribute", Region: "us-east-1"},
			{Kind: cloudsim.FaultDeny, Service: "rds", Action: "DescribeDBSnapshots"}},
	}, func(o *Options) { o.Accounts = []string{prod}; o.Regions = []string{"us-east-1"} })
	var pe *PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("err: %v", err)
	}
	got := map[string]string{}
	for _, e := range errorsOf(inv, prod, "us-east-1") {
		got[e.What] = e.Err
	}
	if e := got["ec2:DescribeSnapshotAttribute"]; !strings.Contains(e, "failed for 7 of 7") {
		t.Errorf("attribute failure: %q (all: %v)", e, got)
	}
	if _, ok := got["rds:DescribeDBSnapshots"]; !ok {
		t.Errorf("RDS denial not reported: %v", got)
	}
	// The public filter still found the public snapshot; the AMIs are all there.
	if s := snapshot(inv, "snap-0000000000000a001"); s == nil || len(s.Grants) != 1 || image(inv, "ami-0000000000000a002") == nil {
		t.Errorf("partial inventory lost what did answer")
	}
}

// TestUnreachableRegion: a region whose endpoint drops every connection is one scope error
// for that region; the account's other regions are collected.
func TestUnreachableRegion(t *testing.T) {
	start := time.Now()
	_, inv, _, err := audit(t, cloudsim.Options{
		Faults: []cloudsim.Fault{{Kind: cloudsim.FaultUnreachable, Region: "eu-west-1"}},
	}, func(o *Options) { o.Accounts = []string{prod} })
	var pe *PartialError
	if !errors.As(err, &pe) || len(pe.Errors) != 1 {
		t.Fatalf("err: %v", err)
	}
	if e := pe.Errors[0]; e.Account != prod || e.Region != "eu-west-1" || e.What != "region" {
		t.Errorf("scope error: %+v", e)
	}
	if snapshot(inv, "snap-0000000000000a001") == nil || snapshot(inv, "snap-0000000000000c001") != nil {
		t.Error("wrong regions collected")
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("unreachable region took %s", d)
	}
}

// TestRoleCannotBeAssumed: the account is one error with Region ""; the others are audited.
func TestRoleCannotBeAssumed(t *testing.T) {
	_, inv, _, err := audit(t, cloudsim.Options{
		Faults: []cloudsim.Fault{{Kind: cloudsim.FaultDeny, Service: "sts", Action: "AssumeRole", Target: "arn:aws:iam::" + dev + ":role/Audit"}},
	})
	var pe *PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("err: %v", err)
	}
	for _, acct := range []string{dev, side} {
		es := errorsOf(inv, acct, "")
		if len(es) != 1 || es[0].What != "sts:AssumeRole" {
			t.Errorf("%s: %+v", acct, es)
		}
	}
	if snapshot(inv, "snap-0000000000000d001") != nil || snapshot(inv, "snap-0000000000000a001") == nil {
		t.Error("wrong accounts collected")
	}
	if !strings.Contains(err.Error(), "2 scope(s)") {
		t.Errorf("summary: %v", err)
	}
}
