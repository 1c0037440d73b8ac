package detect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/event"
)

// Rules of our own that mirror the logic of public SigmaHQ cloud rules (none of theirs is copied:
// DRL licence). Each names the rule it mirrors.
var mirrorRules = map[string]string{
	// mirrors aws_snapshot_backup_exfiltration.yml
	"aws/snapshot_permission.yml": `title: Snapshot permission changed (mirror)
id: t-snapshot-permission
status: test
logsource: {product: aws, service: cloudtrail}
detection:
    selection:
        eventSource: ec2.amazonaws.com
        eventName: ModifySnapshotAttribute
    condition: selection
level: medium
tags: [attack.exfiltration, attack.t1537]
`,
	// mirrors aws_ec2_vm_export_failure.yml: wildcard-only values test presence
	"aws/vm_export.yml": `title: VM export without error (mirror)
id: t-vm-export
logsource: {product: aws, service: cloudtrail}
detection:
    selection:
        eventName: 'CreateInstanceExportTask'
        eventSource: 'ec2.amazonaws.com'
    filter1:
        errorMessage|contains: '*'
    filter2:
        errorCode|contains: '*'
    filter3:
        responseElements|contains: 'Failure'
    condition: selection and not 1 of filter*
level: low
`,
	// mirrors aws_ec2_disable_encryption.yml
	"aws/disable_encryption.yml": `title: EBS default encryption disabled (mirror)
id: t-disable-encryption
logsource: {product: aws, service: cloudtrail}
detection:
    selection:
        eventSource: ec2.amazonaws.com
        eventName: DisableEbsEncryptionByDefault
    condition: selection
level: medium
`,
	// mirrors aws_cloudtrail_disable_logging.yml
	"aws/trail_change.yml": `title: Trail changed (mirror)
id: t-trail-change
logsource: {product: aws, service: cloudtrail}
detection:
    selection_source:
        eventSource: cloudtrail.amazonaws.com
        eventName:
            - StopLogging
            - UpdateTrail
            - DeleteTrail
    condition: selection_source
level: medium
`,
	// mirrors aws_rds_snapshot_shared_with_external_account.yml (a nested field)
	"aws/rds_restore_attr.yml": `title: RDS snapshot restore attribute (mirror)
id: t-rds-restore
logsource: {product: aws, service: cloudtrail}
detection:
    selection:
        eventSource: rds.amazonaws.com
        eventName: ModifyDBSnapshotAttribute
        requestParameters.attributeName: restore
    condition: selection
level: high
`,
	// not indexed by action: a raw-text prefilter, then the fields
	"aws/trail_not_found.yml": `title: Trail not found from a private address (test)
id: t-trail-not-found
logsource: {product: aws, service: cloudtrail}
detection:
    sel:
        errorCode: TrailNotFoundException
        sourceIPAddress|cidr: 192.168.0.0/16
    condition: sel
level: low
`,
	// mirrors azure_rare_operations.yml: keywords
	"azure/rare_ops.yml": `title: Rare operations (mirror)
id: t-azure-rare
logsource: {product: azure, service: activitylogs}
detection:
    keywords:
        - Microsoft.Storage/storageAccounts/listKeys/action
        - Microsoft.Compute/snapshots/write
    condition: keywords
level: medium
`,
	// mirrors gcp_iam_policy_changed.yml: ECS-style field name, endswith
	"gcp/set_iam_policy.yml": `title: IAM policy changed (mirror)
id: t-gcp-setiam
logsource: {product: gcp, service: gcp.audit}
detection:
    selection:
        gcp.audit.method_name|endswith: 'SetIamPolicy'
    condition: selection
level: medium
`,
	"windows/proc.yml": `title: Windows rule
id: t-win
logsource: {product: windows, category: process_creation}
detection:
    sel: {Image|endswith: '\cmd.exe'}
    condition: sel
level: low
`,
	"aws/aggregation.yml": `title: Aggregation
id: t-agg
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {eventName: DescribeImages}
    condition: sel | count() > 5
level: low
`,
	"aws/unknown_modifier.yml": `title: Windash
id: t-windash
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {userAgent|windash: '-x'}
    condition: sel
level: low
`,
}

func writeMirrorRules(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range mirrorRules {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sigmaHits(t *testing.T, e *Engine, evs []event.Event) map[string][]string {
	t.Helper()
	hits := map[string][]string{}
	for _, ev := range evs {
		for _, f := range e.Process(ev) {
			if strings.HasPrefix(f.Rule, "sigma/") {
				checkFinding(t, f)
				hits[f.Rule] = append(hits[f.Rule], f.Evidence["records"].([]string)[0])
			}
		}
	}
	for _, v := range hits {
		sort.Strings(v)
	}
	return hits
}

func TestSigmaMirrorsOnRealLogs(t *testing.T) {
	e, err := New(Config{SigmaDir: writeMirrorRules(t)})
	if err != nil {
		t.Fatal(err)
	}
	n, skipped := e.SigmaRules()
	if n != 8 || len(skipped) != 2 {
		t.Fatalf("loaded %d, skipped %+v", n, skipped)
	}
	// Sigma reads raw records: the parser's pre-filter must be off.
	evs := invictus(t, event.Options{All: true})
	hits := sigmaHits(t, e, evs)
	want := map[string]int{
		"sigma/t-snapshot-permission": 2, // the share and its revocation: Sigma cannot tell them apart
		"sigma/t-trail-change":        6, // 3 StopLogging (failed), 3 DeleteTrail
		"sigma/t-rds-restore":         2,
		"sigma/t-trail-not-found":     7, // StopLogging ×3, StartLogging ×3, DeleteTrail ×1
	}
	for r, c := range want {
		if len(hits[r]) != c {
			t.Errorf("%s: %d hits %v, want %d", r, len(hits[r]), hits[r], c)
		}
	}
	for r := range hits {
		if _, ok := want[r]; !ok {
			t.Errorf("unexpected %s: %v", r, hits[r])
		}
	}
}

// The SigmaHQ export rule's title says "Failure" but its logic matches exports without an error:
// wildcard-only values must test presence, which sigma-go v0.6.6 gets wrong.
func TestSigmaWildcardPresence(t *testing.T) {
	e, err := New(Config{SigmaDir: writeMirrorRules(t)})
	if err != nil {
		t.Fatal(err)
	}
	ok := `{"eventVersion":"1.08","eventTime":"2024-05-01T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"CreateInstanceExportTask","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","accountId":"111111111111","arn":"arn:aws:iam::111111111111:user/a"},"requestParameters":{"instanceId":"i-1","exportToS3":{"s3Bucket":"b","diskImageFormat":"VMDK"}},"responseElements":{"exportTask":{"exportTaskId":"export-i-1","state":"active"}},"eventID":"exp-ok","recipientAccountId":"111111111111","eventType":"AwsApiCall"}`
	failed := `{"eventVersion":"1.08","eventTime":"2024-05-01T10:01:00Z","eventSource":"ec2.amazonaws.com","eventName":"CreateInstanceExportTask","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","accountId":"111111111111","arn":"arn:aws:iam::111111111111:user/a"},"errorCode":"Client.InvalidParameter","errorMessage":"nope","requestParameters":{"instanceId":"i-1"},"responseElements":null,"eventID":"exp-failed","recipientAccountId":"111111111111","eventType":"AwsApiCall"}`
	evs := decodeString(t, `{"Records":[`+ok+`,`+failed+`]}`, "export.json")
	hits := sigmaHits(t, e, evs)
	if got := hits["sigma/t-vm-export"]; len(got) != 1 || got[0] != "exp-ok" {
		t.Fatalf("export rule hits %v, want only the successful export", got)
	}
}

func TestSigmaAzureGCP(t *testing.T) {
	e, err := New(Config{SigmaDir: writeMirrorRules(t)})
	if err != nil {
		t.Fatal(err)
	}
	az := sigmaHits(t, e, decodeString(t, azureDiskExport, "azure.json"))
	if len(az["sigma/t-azure-rare"]) != 1 || len(az) != 1 {
		t.Errorf("azure keyword rule: %v", az)
	}
	gcp := sigmaHits(t, e, decodeString(t, gcpShares, "gcp.json"))
	if len(gcp["sigma/t-gcp-setiam"]) != 3 || len(gcp) != 1 {
		t.Errorf("gcp endswith rule: %v", gcp)
	}
	in := e.Interest()
	// aws (the cidr rule), azure (keywords) and gcp (an endswith action) need every record
	if len(in.AllRecords) != 3 {
		t.Errorf("interest %+v", in.AllRecords)
	}
}

// evalRaw runs one rule text on one raw record.
func evalRaw(t *testing.T, rule, record string) bool {
	t.Helper()
	r, err := parseSigma([]byte(rule), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, rule)
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(record))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	c := sigmaCtx{rule: r, doc: doc, raw: []byte(record), memo: make([]int8, len(r.searches))}
	return r.cond.eval(&c)
}

func TestSigmaSemantics(t *testing.T) {
	rec := `{"eventName":"ModifyImageAttribute","eventSource":"ec2.amazonaws.com","sourceIPAddress":"10.1.2.3",
	  "requestParameters":{"launchPermission":{"add":{"items":[{"userId":"012345678901"},{"group":"all"}]}},"attributeType":"launchPermission"},
	  "responseElements":{"_return":true},"readOnly":false,"errorCode":null,"n":42,
	  "flat.key":"dotted","operationName":{"value":"Microsoft.Compute/disks/write","localizedValue":"Create or update disk"},
	  "userAgent":"aws-cli/2.0 Python"}`
	head := "title: t\nid: x\nlogsource: {product: aws}\ndetection:\n"
	cases := []struct {
		det  string
		want bool
	}{
		{"  s: {eventName: modifyimageattribute}\n  condition: s", true}, // case-insensitive
		{"  s: {eventName|cased: modifyimageattribute}\n  condition: s", false},
		{"  s: {requestParameters.launchPermission.add.items.group: all}\n  condition: s", true}, // arrays walked
		{"  s: {requestParameters.launchPermission.add.items.userId|startswith: '0123'}\n  condition: s", true},
		{"  s: {requestParameters.attributeType|endswith: Permission}\n  condition: s", true},
		{"  s: {eventName: 'Modify*Attribute'}\n  condition: s", true},
		{"  s: {eventName: 'Modify?mageAttribute'}\n  condition: s", true},
		{"  s: {eventName: 'Modify\\*'}\n  condition: s", false}, // escaped star is literal
		{"  s: {errorCode: null}\n  condition: s", true},         // null value
		{"  s: {missing: null}\n  condition: s", true},           // absent
		{"  s: {errorCode|exists: true}\n  condition: s", false},
		{"  s: {eventName|exists: true}\n  condition: s", true},
		{"  s: {readOnly: false}\n  condition: s", true},
		{"  s: {n|gte: 42}\n  condition: s", true},
		{"  s: {n|lt: 42}\n  condition: s", false},
		{"  s: {sourceIPAddress|cidr: 10.0.0.0/8}\n  condition: s", true},
		{"  s: {userAgent|re: '^aws-cli/[0-9]'}\n  condition: s", true},
		{"  s: {userAgent|re: '^AWS-CLI'}\n  condition: s", false}, // re is case-sensitive
		{"  s: {userAgent|re|i: '^AWS-CLI'}\n  condition: s", true},
		{"  s: {userAgent|contains|all: [cli, python]}\n  condition: s", true},
		{"  s: {userAgent|contains|all: [cli, ruby]}\n  condition: s", false},
		{"  s: {userAgent|contains: [ruby, python]}\n  condition: s", true},
		{"  s: {responseElements|contains: '_return'}\n  condition: s", true}, // objects as JSON text
		{"  s: {flat.key: dotted}\n  condition: s", true},                     // a key holding dots
		{"  s: {operationName: microsoft.compute/disks/write}\n  condition: s", true},
		{"  s: {eventSource|fieldref: eventSource}\n  condition: s", true},
		{"  s: {userAgent|base64offset|contains: 'cli'}\n  condition: s", false},
		{"  k: [launchPermission, nothing]\n  condition: k", true},
		{"  k: ['nothing*here']\n  condition: k", false},
		{"  a: {eventName: X}\n  b: {eventSource: ec2.amazonaws.com}\n  condition: a or b", true},
		{"  a: {eventName: X}\n  b: {eventSource: ec2.amazonaws.com}\n  condition: a and b", false},
		{"  a: {eventName: X}\n  b: {eventSource: ec2.amazonaws.com}\n  condition: not a and b", true},
		{"  a: {eventName: X}\n  b: {eventSource: ec2.amazonaws.com}\n  condition: not (a or b)", false},
		{"  sel_1: {eventName: X}\n  sel_2: {eventSource: ec2.amazonaws.com}\n  condition: 1 of sel_*", true},
		{"  sel_1: {eventName: X}\n  sel_2: {eventSource: ec2.amazonaws.com}\n  condition: all of sel_*", false},
		{"  a: {eventSource: ec2.amazonaws.com}\n  _f: {eventName: X}\n  condition: all of them", true}, // _f left out
		{"  a: {eventName: X}\n  b: {eventSource: ec2.amazonaws.com}\n  condition: [a, b]", true},
		{"  a: [{eventName: X}, {eventName: ModifyImageAttribute, readOnly: false}]\n  condition: a", true},
	}
	for _, c := range cases {
		if got := evalRaw(t, head+c.det, rec); got != c.want {
			t.Errorf("%s: got %v, want %v", c.det, got, c.want)
		}
	}
}

func TestSigmaRefusals(t *testing.T) {
	head := "title: t\nid: x\nlogsource: {product: aws}\ndetection:\n"
	for _, det := range []string{
		"  s: {eventName: X}\n  condition: s | count() > 3",
		"  s: {eventName: X}\n  condition: t",
		"  s: {eventName: X}\n  condition: s and",
		"  s: {eventName: X}\n  condition: (s",
		"  s: {eventName|utf16le: X}\n  condition: s",
		"  s: {eventName|re: '(?<=x)'}\n  condition: s",
		"  s: {eventName: X}\n  timeframe: 5m\n  condition: s",
		"  s: {eventName: X}\n  condition: " + strings.Repeat("(", 100) + "s" + strings.Repeat(")", 100),
	} {
		if _, err := parseSigma([]byte(head+det), nil); err == nil {
			t.Errorf("accepted:\n%s", det)
		}
	}
}

func TestSigmaBase64Offset(t *testing.T) {
	// "secret" base64-encoded at each of the three alignments must be found.
	for _, enc := range []string{"c2VjcmV0", "eHNlY3JldA==", "eHhzZWNyZXQ="} {
		rec := `{"cmd":"echo ` + enc + `"}`
		rule := "title: t\nid: x\nlogsource: {product: aws}\ndetection:\n  s: {cmd|base64offset|contains: secret}\n  condition: s"
		if !evalRaw(t, rule, rec) {
			t.Errorf("%s not found", enc)
		}
	}
}

// TestSigmaHQCheckout runs a SigmaHQ checkout's cloud rules on the real logs when SIGMA_DIR
// points at one (its rules/cloud folder), and reports what loaded and what fired.
func TestSigmaHQCheckout(t *testing.T) {
	dir := os.Getenv("SIGMA_DIR")
	if dir == "" {
		t.Skip("SIGMA_DIR not set")
	}
	e, err := New(Config{SigmaDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	n, skipped := e.SigmaRules()
	t.Logf("%d rules loaded, %d skipped", n, len(skipped))
	for _, s := range skipped {
		t.Logf("skipped %s: %s", s.Path, s.Reason)
	}
	hits := sigmaHits(t, e, invictus(t, event.Options{All: true}))
	for r, recs := range hits {
		t.Logf("%s: %d", r, len(recs))
	}
}

func TestContainsFoldBytes(t *testing.T) {
	hay := []byte(`{"eventTime":"t","errorCode":"TrailNotFoundException","x":"ab"}`)
	for needle, want := range map[string]bool{"trailnotfoundexception": true, "errorcode": true, "{\"eventtime": true,
		"ab\"}": true, "notthere": false, "exceptionx": false, "": true, "\"x\":\"abc": false} {
		if got := containsFoldBytes(hay, needle); got != want {
			t.Errorf("%q: %v", needle, got)
		}
	}
}
