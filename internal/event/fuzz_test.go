package event

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Fuzz targets for every parser entry point. Seeds are built here from the test records and
// also committed under testdata/fuzz (regenerate with SNAPWATCH_WRITE_FUZZ_SEEDS=1 go test
// -run TestWriteFuzzSeeds). Invariants checked on any input: no panic, every record accounted
// for (records = events + bad + collapsed), fatal errors only for broken compression, and every
// event has a cloud and a time.

func fuzzSeeds() map[string][][]byte {
	share := ctRec("e1", "ModifySnapshotAttribute", "ec2.amazonaws.com",
		`{"snapshotId":"snap-1","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{"add":{"items":[{"userId":"444455556666"},{"groups":"all"}]}}}`, "")
	rds := ctRec("e2", "ModifyDBSnapshotAttribute", "rds.amazonaws.com", `{"dBSnapshotIdentifier":"s","attributeName":"restore","valuesToAdd":["all"],"valuesToRemove":["1"]}`,
		`{"dBSnapshotAttributes":[{"attributeName":"restore","attributeValues":["all"]}]}`)
	noise := ctRec("e3", "GetUser", "iam.amazonaws.com", `{}`, "")
	kms := ctRec("e4", "PutKeyPolicy", "kms.amazonaws.com", `{"keyId":"k","policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\"}]}"}`, "")
	file := `{"Records":[` + share + `,` + rds + `,` + noise + `,` + kms + `]}`
	cwl := `{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","message":` + quote(share) + `}]}`
	eb := `{"version":"0","detail-type":"AWS API Call via CloudTrail","detail":` + share + `}`
	digest := `{"awsAccountId":"1","digestStartTime":"2024-03-01T00:00:00Z","logFiles":[]}`

	azStart := azDiag("Microsoft.Compute/snapshots/beginGetAccess/action", "Start", "c-1", "2024-03-01T10:00:00.1234567Z",
		`{"requestbody":"{\"access\":\"Read\",\"durationInSeconds\":3600}"}`)
	azOK := azDiag("microsoft.compute/snapshots/begingetaccess/action", "Success", "c-1", "2024-03-01T10:00:03Z", "")
	azWrite := azDiag("Microsoft.Compute/disks/write", "Start", "c-2", "2024-03-01T11:00:00Z",
		`{"requestbody":{"properties":{"networkAccessPolicy":"AllowAll"}}}`)
	azShare := `{"value":[{"eventDataId":"e","correlationId":"c","operationName":{"value":"Microsoft.Compute/galleries/share/action"},"status":{"value":"Succeeded"},"eventTimestamp":"2018-01-29T20:42:31.3810679Z","resourceId":"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g","properties":{"requestbody":"{\"operationType\":\"Add\",\"groups\":[{\"type\":\"AADTenants\",\"ids\":[\"t\"]}]}"}}]}`

	gDelta := gcpLog("i-1", "v1.compute.snapshots.setIamPolicy", "projects/p/global/snapshots/s", "2024-03-01T10:00:00Z",
		`{"policy":{"bindings":[{"role":"roles/owner","members":["user:a@gmail.com"]}]}}`, "",
		`,"serviceData":{"policyDelta":{"bindingDeltas":[{"action":"ADD","role":"roles/owner","member":"allUsers"}]}}`)
	gDiff := gcpLog("i-2", "v1.compute.disks.setIamPolicy", "projects/p/zones/z/disks/d", "2024-03-01T10:00:00Z",
		`{"policy":{"bindings":[{"role":"roles/owner","members":["user:a@gmail.com"]}]}}`, "", "")
	gEmpty := gcpLog("i-3", "v1.compute.disks.setIamPolicy", "projects/p/zones/z/disks/d", "2024-03-01T10:01:00Z", `{"policy":{"etag":"x"}}`, "", "")
	gPush := `{"message":{"data":"` + base64.StdEncoding.EncodeToString([]byte(gDelta)) + `","messageId":"1"}}`

	return map[string][][]byte{
		"FuzzCloudTrail": {[]byte(file), gzipBytes([]byte(file)), []byte(cwl), []byte(eb + "\n" + noise), []byte(digest),
			[]byte(base64.StdEncoding.EncodeToString(gzipBytes([]byte(cwl)))), []byte("[" + share + "," + kms + "]")},
		"FuzzAzure": {[]byte(`{"records":[` + azStart + `,` + azOK + `]}`), []byte(azWrite + "\n" + azOK), []byte(azShare)},
		"FuzzGCP":   {[]byte("[" + gDiff + "," + gEmpty + "]"), []byte(gPush), []byte(gDelta + "\n" + gDiff)},
		"FuzzDecode": {[]byte(file), []byte(azShare), []byte(gPush), []byte(`{"records":[` + azStart + `,` + azOK + `]}` + "\n" + gDiff),
			gzipBytes([]byte(cwl)), []byte(`[1,"x",{},[]]`), []byte(`{"Records":{"x":[`)},
	}
}

func fuzzCheck(t *testing.T, data []byte, f format) {
	d := NewDecoder(Options{MaxRecordBytes: 8192, AzureWindow: 4, GCPPolicies: 4})
	fatal := 0
	for ev, err := range d.decode(context.Background(), bytes.NewReader(data), "fuzz", f) {
		if err != nil {
			if !IsRecordError(err) {
				fatal++
			}
			continue
		}
		if ev.Cloud == "" || ev.Time.IsZero() {
			t.Fatalf("event without cloud or time: %+v", ev)
		}
		for _, g := range ev.Grants {
			if (g.Op != "add" && g.Op != "remove") || g.Kind == "" || g.Value == "" {
				t.Fatalf("bad grant %+v", g)
			}
		}
	}
	st := d.Stats()
	if fatal > 1 {
		t.Fatalf("%d fatal errors", fatal)
	}
	if fatal == 0 && st.Records != st.Events+st.Bad+st.Collapsed {
		t.Fatalf("records not accounted for: %+v", st)
	}
}

func addSeeds(f *testing.F, name string) {
	for _, s := range fuzzSeeds()[name] {
		f.Add(s)
	}
}

func FuzzCloudTrail(f *testing.F) {
	addSeeds(f, "FuzzCloudTrail")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzCheck(t, data, formatCloudTrail) })
}

func FuzzAzure(f *testing.F) {
	addSeeds(f, "FuzzAzure")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzCheck(t, data, formatAzure) })
}

func FuzzGCP(f *testing.F) {
	addSeeds(f, "FuzzGCP")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzCheck(t, data, formatGCP) })
}

func FuzzDecode(f *testing.F) {
	addSeeds(f, "FuzzDecode")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzCheck(t, data, formatAuto) })
}

// TestWriteFuzzSeeds writes the seeds to testdata/fuzz when asked.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SNAPWATCH_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set SNAPWATCH_WRITE_FUZZ_SEEDS=1 to rewrite testdata/fuzz seeds")
	}
	for name, seeds := range fuzzSeeds() {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range seeds {
			if len(s) >= 64<<10 {
				t.Fatalf("%s seed %d is %d bytes", name, i, len(s))
			}
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s)) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
