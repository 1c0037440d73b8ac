package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/finding"
)

func cloudResult() *Result {
	awsSnap := finding.Resource{Provider: "aws", Account: "222222222222", Region: "eu-west-1", Type: "ebs-snapshot",
		ID: "snap-1", ARN: "arn:aws:ec2:eu-west-1:222222222222:snapshot/snap-1"}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	return &Result{Tool: ToolInfo{Name: "snapwatch", Version: "1.2.3"}, Command: "audit", Finished: t0,
		Findings: []finding.Finding{
			{ID: "sw-exp", Kind: finding.KindExposure, Rule: "aws-ebs-snapshot-public", Title: "EBS snapshot is public",
				Severity: finding.Critical, Resource: awsSnap, Compliance: []string{"AWS-FSBP-EC2.1"},
				Remediation: "make it private", Related: []string{"sw-key"}, FirstSeen: t0, LastSeen: t0},
			{ID: "sw-key", Kind: finding.KindContent, Rule: "secret/aws-access-key-pair", Title: strings.Repeat("T", 300),
				Severity: finding.High, Resource: awsSnap, Location: &finding.Location{Volume: "p2", Path: "/home/a/.aws/credentials"},
				Evidence: finding.Evidence{"secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
			{ID: "sw-guard", Kind: finding.KindGuard, Rule: "aws-ebs-snapshot-bpa-off", Title: "BPA off", Severity: finding.Medium,
				Status: finding.StatusSuppressed, Resource: finding.Resource{Provider: "aws", Account: "222222222222", Region: "eu-west-1",
					Type: "account-guard", ID: "snapshot-block-public-access"}},
			{ID: "sw-evt", Kind: finding.KindEvent, Rule: "aws-snapshot-shared-external", Title: "shared", Severity: finding.High,
				Resource: awsSnap},
			{ID: "sw-local", Kind: finding.KindContent, Rule: "file/ssh-private-key", Title: "key", Severity: finding.Critical,
				Resource: finding.Resource{Provider: "local", Type: "disk-image", ID: "/images/a.qcow2"},
				Location: &finding.Location{Path: "/root/.ssh/id_rsa"}},
		}}
}

func TestOCSF(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, FormatOCSF, cloudResult(), Options{}); err != nil {
		t.Fatal(err)
	}
	var events []map[string]any
	if err := json.Unmarshal(b.Bytes(), &events); err != nil {
		t.Fatalf("not a JSON array: %v", err)
	}
	if len(events) != 5 {
		t.Fatalf("%d events", len(events))
	}
	byID := map[string]map[string]any{}
	for _, e := range events {
		for _, k := range []string{"activity_id", "category_uid", "class_uid", "type_uid", "time", "severity_id", "metadata", "finding_info"} {
			if _, ok := e[k]; !ok {
				t.Errorf("event without %s: %v", k, e)
			}
		}
		if e["type_uid"].(float64) != e["class_uid"].(float64)*100+1 || e["category_uid"].(float64) != 2 {
			t.Errorf("type/category: %v %v", e["type_uid"], e["category_uid"])
		}
		if v := e["metadata"].(map[string]any)["version"]; v != ocsfVersion {
			t.Errorf("version %v", v)
		}
		byID[e["finding_info"].(map[string]any)["uid"].(string)] = e
	}
	want := map[string]float64{"sw-exp": 2003, "sw-guard": 2003, "sw-key": 2006, "sw-local": 2006, "sw-evt": 2004}
	for id, class := range want {
		if byID[id]["class_uid"].(float64) != class {
			t.Errorf("%s: class %v, want %v", id, byID[id]["class_uid"], class)
		}
	}
	exp := byID["sw-exp"]
	if exp["severity_id"].(float64) != 5 || exp["severity"] != "Critical" {
		t.Errorf("severity %v %v", exp["severity_id"], exp["severity"])
	}
	c := exp["compliance"].(map[string]any)
	if c["status_id"].(float64) != 3 || c["standards"].([]any)[0] != "AWS-FSBP-EC2.1" || c["control"] != "aws-ebs-snapshot-public" {
		t.Errorf("compliance %v", c)
	}
	cloud := exp["cloud"].(map[string]any)
	if cloud["provider"] != "AWS" || cloud["account"].(map[string]any)["uid"] != "222222222222" {
		t.Errorf("cloud %v", cloud)
	}
	res := exp["resources"].([]any)[0].(map[string]any)
	if res["uid"] != "arn:aws:ec2:eu-west-1:222222222222:snapshot/snap-1" || res["cloud_partition"] != "aws" {
		t.Errorf("resource %v", res)
	}
	if rel := exp["finding_info"].(map[string]any)["related_events"].([]any); rel[0].(map[string]any)["uid"] != "sw-key" {
		t.Errorf("related %v", rel)
	}
	if byID["sw-guard"]["status_id"].(float64) != 3 {
		t.Errorf("suppressed status %v", byID["sw-guard"]["status_id"])
	}
	if f := byID["sw-key"]["file"].(map[string]any); f["name"] != "credentials" || f["path"] != "/home/a/.aws/credentials" {
		t.Errorf("file %v", f)
	}
	if strings.Contains(b.String(), "wJalrXUtnFEMI") || !strings.Contains(b.String(), "wJal…") {
		t.Error("secret not redacted")
	}
	if _, ok := byID["sw-local"]["cloud"]; ok {
		t.Error("a local disk image has no cloud")
	}
}

func TestASFF(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, FormatASFF, cloudResult(), Options{}); err != nil {
		t.Fatal(err)
	}
	var fs []map[string]any
	if err := json.Unmarshal(b.Bytes(), &fs); err != nil {
		t.Fatalf("not a JSON array: %v", err)
	}
	if len(fs) != 4 {
		t.Fatalf("%d findings, want the 4 with an AWS account", len(fs))
	}
	for _, f := range fs {
		for _, k := range []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "CreatedAt",
			"UpdatedAt", "Severity", "Title", "Description", "Resources"} {
			if _, ok := f[k]; !ok {
				t.Errorf("%v: no %s", f["Id"], k)
			}
		}
		if f["ProductArn"] != "arn:aws:securityhub:eu-west-1:222222222222:product/222222222222/default" {
			t.Errorf("product arn %v", f["ProductArn"])
		}
		if len(f["Title"].(string)) > asffTitleMax {
			t.Errorf("title of %d bytes", len(f["Title"].(string)))
		}
		if _, err := time.Parse(time.RFC3339Nano, f["CreatedAt"].(string)); err != nil {
			t.Error(err)
		}
		switch f["Id"] {
		case "sw-exp":
			if f["Severity"].(map[string]any)["Label"] != "CRITICAL" || f["Compliance"].(map[string]any)["Status"] != "FAILED" {
				t.Errorf("exposure %v", f)
			}
		case "sw-guard":
			if f["Workflow"].(map[string]any)["Status"] != "SUPPRESSED" || f["Resources"].([]any)[0].(map[string]any)["Type"] != "AwsAccount" {
				t.Errorf("guard %v", f)
			}
		case "sw-key":
			if !strings.HasPrefix(f["Types"].([]any)[0].(string), "Sensitive Data Identifications/") {
				t.Errorf("types %v", f["Types"])
			}
		}
	}
	if strings.Contains(b.String(), "wJalrXUtnFEMI") || strings.Contains(b.String(), "/images/a.qcow2") {
		t.Error("secret in full, or a local finding written")
	}
}
