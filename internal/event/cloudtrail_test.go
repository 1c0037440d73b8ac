package event

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// ctRec builds a CloudTrail record with the given name, request and response (raw JSON).
func ctRec(id, name, source, req, resp string) string {
	if resp == "" {
		resp = "null"
	}
	return fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAX:sess","arn":"arn:aws:sts::111122223333:assumed-role/Admin/alice","accountId":"111122223333","accessKeyId":"ASIAX","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/Admin","userName":"Admin"},"attributes":{"creationDate":"2024-03-01T10:00:00Z","mfaAuthenticated":"true"}}},"eventTime":"2024-03-01T10:00:00Z","eventSource":"%s","eventName":"%s","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2","requestParameters":%s,"responseElements":%s,"requestID":"r-%s","eventID":"%s","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`,
		source, name, req, resp, id, id)
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// decodeAll runs Decode and splits events from errors.
func decodeAll(t *testing.T, d *Decoder, in []byte) ([]Event, []error) {
	t.Helper()
	var evs []Event
	var errs []error
	for ev, err := range d.Decode(context.Background(), bytes.NewReader(in), "test") {
		if err != nil {
			if !IsRecordError(err) {
				t.Fatalf("fatal error: %v", err)
			}
			errs = append(errs, err)
			continue
		}
		evs = append(evs, ev)
	}
	return evs, errs
}

func one(t *testing.T, in string) Event {
	t.Helper()
	evs, errs := decodeAll(t, NewDecoder(Options{}), []byte(in))
	if len(evs) != 1 || len(errs) != 0 {
		t.Fatalf("%d events, errors %v", len(evs), errs)
	}
	return evs[0]
}

func TestCloudTrailEnvelopes(t *testing.T) {
	share := ctRec("e1", "ModifySnapshotAttribute", "ec2.amazonaws.com",
		`{"snapshotId":"snap-1","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{"add":{"items":[{"group":"all"}]}}}`, "")
	noise := ctRec("e2", "DescribeInstances", "ec2.amazonaws.com", `{"instancesSet":{}}`, "")
	file := `{"Records":[` + share + `,` + noise + `]}`
	eventBridge := func(r string) string {
		return `{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","account":"111122223333","time":"2024-03-01T10:00:00Z","region":"eu-west-1","resources":[],"detail":` + r + `}`
	}
	cwl := `{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"aws-cloudtrail","logStream":"s","subscriptionFilters":["f"],"logEvents":[` +
		`{"id":"1","timestamp":1709287200000,"message":` + quote(share) + `},{"id":"2","timestamp":1709287200000,"message":` + quote(noise) + `}]}`
	cases := map[string][]byte{
		"records file":          []byte(file),
		"records gzip":          gzipBytes([]byte(file)),
		"records gzip multi":    append(gzipBytes([]byte(`{"Records":[`+share+`]}`)), gzipBytes([]byte(`{"Records":[`+noise+`]}`))...),
		"bare array":            []byte("[\n  " + share + ",\n  " + noise + "\n]\n"),
		"json lines":            []byte(share + "\n" + noise + "\n"),
		"json lines crlf bom":   []byte("\xef\xbb\xbf" + share + "\r\n" + noise + "\r\n"),
		"eventbridge lines":     []byte(eventBridge(share) + "\n" + eventBridge(noise)),
		"eventbridge array":     []byte("[" + eventBridge(share) + "," + eventBridge(noise) + "]"),
		"cloudwatch decoded":    []byte(cwl),
		"cloudwatch gzip":       gzipBytes([]byte(cwl)),
		"cloudwatch gzip b64":   []byte(base64.StdEncoding.EncodeToString(gzipBytes([]byte(cwl)))),
		"cloudwatch keys first": []byte(`{"logEvents":[{"id":"1","message":` + quote(share) + `}],"messageType":"DATA_MESSAGE"}` + "\n" + noise),
		"records not first":     []byte(`{"foo":{"Records":1},"Records":[` + share + `,` + noise + `],"bar":[1,2]}`),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			d := NewDecoder(Options{})
			evs, errs := decodeAll(t, d, in)
			if len(errs) != 0 || len(evs) != 2 {
				t.Fatalf("%d events, errors %v", len(evs), errs)
			}
			st := d.Stats()
			if st.Records != 2 || st.Events != 2 || st.Partial != 1 || st.Bad != 0 {
				t.Errorf("stats %+v", st)
			}
			ev := evs[0]
			if ev.ID != "e1" || ev.Partial || ev.Resource.ID != "snap-1" ||
				!reflect.DeepEqual(ev.Grants, []Grant{{Op: "add", Kind: GrantPublic, Value: "all"}}) {
				t.Errorf("share event %+v", ev)
			}
			if p := evs[1]; p.ID != "e2" || !p.Partial || p.Action != "DescribeInstances" || p.Account != "111122223333" ||
				p.Region != "eu-west-1" || p.Service != "ec2.amazonaws.com" || p.Cloud != "aws" || p.Time.IsZero() || p.Category != "management" {
				t.Errorf("partial event %+v", p)
			}
			if evs[0].Origin.Index != 0 || evs[1].Origin.Index != 1 || evs[0].Origin.Source != "test" {
				t.Errorf("origins %+v %+v", evs[0].Origin, evs[1].Origin)
			}
		})
	}
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestCloudTrailSkips(t *testing.T) {
	d := NewDecoder(Options{})
	digest := `{"awsAccountId":"111122223333","digestStartTime":"2024-03-01T00:00:00Z","digestEndTime":"2024-03-01T01:00:00Z","digestS3Bucket":"b","digestS3Object":"k","logFiles":[{"s3Bucket":"b","s3Object":"o","hashValue":"h"}]}`
	if evs, errs := decodeAll(t, d, gzipBytes([]byte(digest))); len(evs)+len(errs) != 0 {
		t.Fatalf("digest gave %d events %v", len(evs), errs)
	}
	// By key alone, without reading.
	for range d.Decode(context.Background(), strings.NewReader("garbage"), "AWSLogs/1/CloudTrail-Digest/us-east-1/2024/03/01/x.json.gz") {
		t.Fatal("digest key read")
	}
	control := `{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`
	if evs, errs := decodeAll(t, d, []byte(control)); len(evs)+len(errs) != 0 {
		t.Fatalf("control message gave %d events %v", len(evs), errs)
	}
	signin := `{"version":"0","detail-type":"EC2 Instance State-change Notification","detail":{"state":"running"}}`
	decodeAll(t, d, []byte(signin))
	if st := d.Stats(); st.Digests != 2 || st.Skipped != 2 || st.Records != 0 || st.Bad != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestBadRecordsAreCountedNotFatal(t *testing.T) {
	good := ctRec("g", "ModifyImageAttribute", "ec2.amazonaws.com", `{"imageId":"ami-1","launchPermission":{"add":{"items":[{"userId":"444455556666"}]}}}`, "")
	noise := ctRec("n", "GetUser", "iam.amazonaws.com", `{}`, "")
	huge := ctRec("h", "GetUser", "iam.amazonaws.com", `{"x":"`+strings.Repeat("a", 3000)+`"}`, "")
	lines := strings.Join([]string{
		good,
		`{"eventName":"ModifySnapshotAttribute","eventSource":"ec2.amazonaws.com","eventTime":12}`, // bad time
		`not json at all`,
		`{"some":"object"}`, // unrecognised
		huge,                // over the cap
		`{"eventName":"ModifyImageAttribute","eventSource":"ec2.amazonaws.com","eventTime":"2024-03-01T10:00:00Z","requestParameters":{"imageId":"ami-2"}`, // broken: never closes
		noise,
	}, "\n")
	d := NewDecoder(Options{MaxRecordBytes: 2048})
	evs, errs := decodeAll(t, d, []byte(lines))
	st := d.Stats()
	// The unclosed record swallows the line after it (it cannot know where it ends), so the
	// last good record is lost with it; everything else is counted.
	if len(evs) != 1 || evs[0].ID != "g" || st.Bad != 5 || len(errs) != 5 || st.Records != 6 {
		t.Fatalf("%d events, %d errors (%v), stats %+v", len(evs), len(errs), errs, st)
	}
	for i, err := range errs {
		var re *RecordError
		if !asRecordError(err, &re) || re.Source != "test" {
			t.Errorf("error %d: %v", i, err)
		}
	}
	if !strings.Contains(errs[3].Error(), "size cap") {
		t.Errorf("too-large error: %v", errs[3])
	}
}

func asRecordError(err error, re **RecordError) bool {
	r, ok := err.(*RecordError)
	*re = r
	return ok
}

func TestOversizedRecordInArrayIsSkipped(t *testing.T) {
	small := ctRec("s", "GetUser", "iam.amazonaws.com", `{}`, "")
	big := ctRec("b", "GetUser", "iam.amazonaws.com", `{"x":"`+strings.Repeat("z", 200000)+`"}`, "")
	in := gzipBytes([]byte(`{"Records":[` + small + "," + big + "," + small + `]}`))
	d := NewDecoder(Options{MaxRecordBytes: 64 << 10})
	evs, errs := decodeAll(t, d, in)
	if len(evs) != 2 || len(errs) != 1 || d.Stats().Records != 3 {
		t.Fatalf("%d events, errors %v", len(evs), errs)
	}
	if evs[1].Origin.Index != 2 {
		t.Errorf("index after the skipped record: %d", evs[1].Origin.Index)
	}
}

func TestCloudTrailGrantForms(t *testing.T) {
	cases := []struct {
		name, event, source, req, resp string
		typ, id                        string
		grants                         []Grant
		facts                          map[string]string
	}{
		{"groups key", "ModifySnapshotAttribute", "ec2.amazonaws.com",
			`{"snapshotId":"snap-2","attributeType":"createVolumePermission","createVolumePermission":{"add":{"items":[{"groups":"all"},{"userId":"444455556666"}]},"remove":{"items":[{"userId":"777788889999"}]}}}`, "",
			"ebs-snapshot", "snap-2", []Grant{{"add", GrantAccount, "444455556666", ""}, {"add", GrantPublic, "all", ""}, {"remove", GrantAccount, "777788889999", ""}},
			map[string]string{"attribute_type": "createVolumePermission"}},
		{"legacy query form", "ModifySnapshotAttribute", "ec2.amazonaws.com",
			`{"snapshotId":"snap-3","attribute":"createVolumePermission","operationType":"add","UserId.1":"444455556666","UserId.2":"555566667777","UserGroup.1":"all"}`, "",
			"ebs-snapshot", "snap-3", []Grant{{"add", GrantAccount, "444455556666", ""}, {"add", GrantAccount, "555566667777", ""}, {"add", GrantPublic, "all", ""}}, nil},
		{"legacy list form", "ModifySnapshotAttribute", "ec2.amazonaws.com",
			`{"snapshotId":"snap-4","operationType":"remove","userIds":{"items":[{"userId":"444455556666"}]}}`, "",
			"ebs-snapshot", "snap-4", []Grant{{"remove", GrantAccount, "444455556666", ""}}, nil},
		{"ami org and ou", "ModifyImageAttribute", "ec2.amazonaws.com",
			`{"imageId":"ami-9","attributeType":"launchPermission","launchPermission":{"add":{"items":[{"organizationArn":"arn:aws:organizations::111122223333:organization/o-abc"},{"organizationalUnitArn":"arn:aws:organizations::111122223333:ou/o-abc/ou-1"}]},"remove":{"items":[{"group":"all"}]}}}`, "",
			"ami", "ami-9", []Grant{{"add", GrantOrg, "arn:aws:organizations::111122223333:organization/o-abc", ""}, {"add", GrantOU, "arn:aws:organizations::111122223333:ou/o-abc/ou-1", ""}, {"remove", GrantPublic, "all", ""}}, nil},
		{"rds cluster public", "ModifyDBClusterSnapshotAttribute", "rds.amazonaws.com",
			`{"dBClusterSnapshotIdentifier":"cs-1","attributeName":"restore","valuesToAdd":["all"]}`,
			`{"dBClusterSnapshotAttributesResult":{"dBClusterSnapshotIdentifier":"cs-1","dBClusterSnapshotAttributes":[{"attributeName":"restore","attributeValues":["all"]}]}}`,
			"rds-cluster-snapshot", "cs-1", []Grant{{"add", GrantPublic, "all", ""}}, map[string]string{"resulting_share": "all"}},
		{"redshift", "AuthorizeSnapshotAccess", "redshift.amazonaws.com",
			`{"snapshotIdentifier":"rs-1","accountWithRestoreAccess":"444455556666"}`, "",
			"redshift-snapshot", "rs-1", []Grant{{"add", GrantAccount, "444455556666", ""}}, nil},
		{"redshift revoke", "RevokeSnapshotAccess", "redshift.amazonaws.com",
			`{"snapshotArn":"arn:aws:redshift:eu-west-1:111122223333:snapshot:c1/rs-2","accountWithRestoreAccess":"444455556666"}`, "",
			"redshift-snapshot", "rs-2", []Grant{{"remove", GrantAccount, "444455556666", ""}}, nil},
		{"kms grant", "CreateGrant", "kms.amazonaws.com",
			`{"keyId":"arn:aws:kms:eu-west-1:111122223333:key/k1","granteePrincipal":"arn:aws:iam::444455556666:root","operations":["Decrypt","CreateGrant"]}`, `{"grantId":"g1"}`,
			"kms-key", "arn:aws:kms:eu-west-1:111122223333:key/k1", []Grant{{"add", GrantAccount, "444455556666", "Decrypt,CreateGrant"}}, map[string]string{"grant_id": "g1"}},
		{"kms key policy", "PutKeyPolicy", "kms.amazonaws.com",
			`{"keyId":"k2","policyName":"default","policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::444455556666:root\",\"111122223333\"]},\"Action\":\"kms:*\"},{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":[\"kms:Decrypt\"]},{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"kms:*\"}]}"}`, "",
			"kms-key", "k2", []Grant{{"add", GrantAccount, "444455556666", "kms:*"}, {"add", GrantAccount, "111122223333", "kms:*"}, {"add", GrantPrincipal, "ec2.amazonaws.com", "kms:Decrypt"}},
			map[string]string{"grants_basis": "resulting-policy"}},
		{"export image", "ExportImage", "ec2.amazonaws.com",
			`{"imageId":"ami-5","diskImageFormat":"VMDK","s3ExportLocation":{"s3Bucket":"exfil","s3Prefix":"x/"},"roleName":"vmimport"}`, `{"exportImageTaskId":"export-ami-1"}`,
			"ami", "ami-5", nil, map[string]string{"export_destination": "s3://exfil/x/", "disk_image_format": "VMDK", "export_task_id": "export-ami-1"}},
		{"store image task", "CreateStoreImageTask", "ec2.amazonaws.com", `{"imageId":"ami-6","bucket":"b2"}`, `{"objectKey":"ami-6.bin"}`,
			"ami", "ami-6", nil, map[string]string{"export_destination": "s3://b2/"}},
		{"instance export", "CreateInstanceExportTask", "ec2.amazonaws.com",
			`{"instanceId":"i-1","targetEnvironment":"vmware","exportToS3":{"diskImageFormat":"VMDK","s3Bucket":"b3","s3Prefix":"p"}}`, "",
			"ec2-instance", "i-1", nil, map[string]string{"export_destination": "s3://b3/p"}},
		{"rds export", "StartExportTask", "rds.amazonaws.com",
			`{"exportTaskIdentifier":"t1","sourceArn":"arn:aws:rds:eu-west-1:111122223333:snapshot:db-snap","s3BucketName":"b4","iamRoleArn":"arn:aws:iam::111122223333:role/x","kmsKeyId":"k"}`, "",
			"rds-snapshot", "db-snap", nil, map[string]string{"export_destination": "s3://b4/", "kms_key_id": "k"}},
		{"copy snapshot", "CopySnapshot", "ec2.amazonaws.com",
			`{"sourceRegion":"us-east-1","sourceSnapshotId":"snap-src","encrypted":true,"kmsKeyId":"k9"}`, `{"snapshotId":"snap-new"}`,
			"ebs-snapshot", "snap-new", nil, map[string]string{"copy_of": "snap-src", "source_region": "us-east-1", "destination_region": "eu-west-1", "kms_key_id": "k9"}},
		{"copy image", "CopyImage", "ec2.amazonaws.com", `{"sourceRegion":"us-west-2","sourceImageId":"ami-src","name":"n"}`, `{"imageId":"ami-new"}`,
			"ami", "ami-new", nil, map[string]string{"copy_of": "ami-src", "source_region": "us-west-2"}},
		{"snapshot bpa off", "DisableSnapshotBlockPublicAccess", "ec2.amazonaws.com", `{}`, `{"state":"unblocked"}`,
			"account-guard", "snapshot-block-public-access", nil, map[string]string{"state": "unblocked"}},
		{"snapshot bpa on", "EnableSnapshotBlockPublicAccess", "ec2.amazonaws.com", `{"state":"block-new-sharing"}`, `{"state":"block-new-sharing"}`,
			"account-guard", "snapshot-block-public-access", nil, map[string]string{"state": "block-new-sharing"}},
		{"image bpa", "EnableImageBlockPublicAccess", "ec2.amazonaws.com", `{"imageBlockPublicAccessState":"block-new-sharing"}`, "",
			"account-guard", "image-block-public-access", nil, map[string]string{"state": "block-new-sharing"}},
		{"ebs encryption off", "DisableEbsEncryptionByDefault", "ec2.amazonaws.com", `{}`, `{"ebsEncryptionByDefault":false}`,
			"account-guard", "ebs-encryption-by-default", nil, map[string]string{"state": "disabled"}},
		{"default key", "ModifyEbsDefaultKmsKeyId", "ec2.amazonaws.com", `{"kmsKeyId":"alias/x"}`, `{"kmsKeyId":"arn:aws:kms:eu-west-1:111122223333:key/x"}`,
			"account-guard", "ebs-default-kms-key", nil, map[string]string{"kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/x"}},
		{"ebs direct", "GetSnapshotBlock", "ebs.amazonaws.com", `{"snapshotId":"snap-d","blockIndex":12}`, "",
			"ebs-snapshot", "snap-d", nil, map[string]string{"block_index": "12"}},
		{"changed blocks", "ListChangedBlocks", "ebs.amazonaws.com", `{"firstSnapshotId":"snap-a","secondSnapshotId":"snap-b"}`, "",
			"ebs-snapshot", "snap-b", nil, map[string]string{"first_snapshot_id": "snap-a"}},
		{"deregister", "DeregisterImage", "ec2.amazonaws.com", `{"imageId":"ami-7","deleteAssociatedSnapshots":true}`, "",
			"ami", "ami-7", nil, map[string]string{"delete_associated_snapshots": "true"}},
		{"delete db snapshot", "DeleteDBSnapshot", "rds.amazonaws.com", `{"dBSnapshotIdentifier":"s9"}`, "", "rds-snapshot", "s9", nil, nil},
		{"stop logging", "StopLogging", "cloudtrail.amazonaws.com", `{"name":"arn:aws:cloudtrail:eu-west-1:111122223333:trail/main"}`, "",
			"cloudtrail-trail", "main", nil, nil},
		{"event selectors", "PutEventSelectors", "cloudtrail.amazonaws.com", `{"trailName":"main","advancedEventSelectors":[]}`, "",
			"cloudtrail-trail", "main", nil, map[string]string{"event_selectors": "advanced"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := one(t, ctRec("id-"+c.name, c.event, c.source, c.req, c.resp))
			if ev.Partial || ev.Resource.Type != c.typ || ev.Resource.ID != c.id {
				t.Errorf("resource %+v (partial %v)", ev.Resource, ev.Partial)
			}
			if !reflect.DeepEqual(ev.Grants, c.grants) {
				t.Errorf("grants %+v, want %+v", ev.Grants, c.grants)
			}
			for k, v := range c.facts {
				if ev.Facts[k] != v {
					t.Errorf("fact %s = %q, want %q (all %v)", k, ev.Facts[k], v, ev.Facts)
				}
			}
			a := ev.Actor
			if a.Type != "AssumedRole" || a.Name != "alice" || !a.MFA || a.SessionIssuer != "arn:aws:iam::111122223333:role/Admin" ||
				a.Account != "111122223333" || a.AccessKeyID != "ASIAX" || ev.SourceIP != "203.0.113.7" || ev.UserAgent != "aws-cli/2" {
				t.Errorf("actor %+v", a)
			}
		})
	}
}

func TestCloudTrailFailureAndOwnerSideShare(t *testing.T) {
	rec := strings.Replace(ctRec("f1", "ModifySnapshotAttribute", "ec2.amazonaws.com",
		`{"snapshotId":"snap-e","createVolumePermission":{"add":{"items":[{"group":"all"}]}}}`, ""),
		`"eventCategory"`, `"errorCode":"Client.OperationNotPermitted","errorMessage":"Encrypted snapshots cannot be shared publicly","eventCategory"`, 1)
	ev := one(t, rec)
	if ev.Success || ev.ErrorCode != "Client.OperationNotPermitted" || len(ev.Grants) != 1 {
		t.Errorf("failed share %+v", ev)
	}
	// Owner side: the log is the owner's (recipient), the caller another account.
	owner := `{"eventVersion":"1.08","userIdentity":{"accountId":"999988887777","invokedBy":"ec2.amazonaws.com"},"eventTime":"2024-03-01T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"SharedSnapshotCopyInitiated","awsRegion":"eu-west-1","sourceIPAddress":"ec2.amazonaws.com","userAgent":"ec2.amazonaws.com","requestParameters":null,"responseElements":null,"eventID":"o1","readOnly":false,"eventType":"AwsServiceEvent","managementEvent":true,"recipientAccountId":"111122223333","sharedEventID":"se-1","serviceEventDetails":{"snapshotId":"snap-own"},"eventCategory":"Management"}`
	ev = one(t, owner)
	if ev.Facts["side"] != "owner" || ev.Facts["consumer_account"] != "999988887777" || ev.Account != "111122223333" ||
		ev.Actor.Account != "999988887777" || ev.Resource.ID != "snap-own" || ev.Resource.Account != "111122223333" || ev.Category != "service" {
		t.Errorf("owner side %+v", ev)
	}
}

func TestPartialEventsCarryOutcome(t *testing.T) {
	ok := ctRec("p1", "GetUser", "iam.amazonaws.com", `{}`, "")
	denied := strings.Replace(ctRec("p2", "GetUser", "iam.amazonaws.com", `{}`, ""), `"eventCategory"`, `"errorCode":"AccessDenied","eventCategory"`, 1)
	gDenied := strings.Replace(gcpLog("g1", "v1.compute.instances.list", "projects/p/zones/z/instances", "2024-03-01T10:00:00Z", "", "", ""),
		`"requestMetadata"`, `"status":{"code":7},"requestMetadata"`, 1)
	evs, errs := decodeAll(t, NewDecoder(Options{}), []byte(ok+"\n"+denied+"\n"+gDenied))
	if len(errs) != 0 || len(evs) != 3 {
		t.Fatalf("%d events %v", len(evs), errs)
	}
	if !evs[0].Partial || !evs[0].Success || evs[1].Success || evs[1].ErrorCode != "AccessDenied" ||
		!evs[2].Partial || evs[2].Success || evs[2].ErrorCode != "7" || !evs[2].ReadOnly {
		t.Fatalf("%+v", evs)
	}
}
