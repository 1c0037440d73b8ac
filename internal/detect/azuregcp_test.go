package detect

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// No public Azure or GCP leak logs exist (research note §3), so these records are written here
// from the documented formats: the Activity Log resource-log schema (diagnostic settings → Event
// Hub, {"records": [...]}) and the Cloud Audit Logs LogEntry. They go through the real parsers.

// azureDiskExport is Stratus Red Team's azure.exfiltration.disk-export: BeginGrantAccess (Read,
// 3600 s) logged as Start then Success with one correlationId, later revoked.
const azureDiskExport = `{"records": [
{"time": "2024-05-01T10:00:00.1000000Z", "resourceId": "/SUBSCRIPTIONS/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/RESOURCEGROUPS/RG-STRATUS/PROVIDERS/MICROSOFT.COMPUTE/DISKS/STRATUS-DISK",
 "operationName": "MICROSOFT.COMPUTE/DISKS/BEGINGETACCESS/ACTION", "category": "Administrative", "resultType": "Start", "resultSignature": "Started.",
 "durationMs": "0", "callerIpAddress": "203.0.113.7", "correlationId": "9d2b4f0e-0c55-4d0b-9d0e-6a1f3b2c1d00", "level": "Information", "location": "westeurope",
 "identity": {"authorization": {"scope": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-stratus/providers/Microsoft.Compute/disks/stratus-disk", "action": "Microsoft.Compute/disks/beginGetAccess/action",
   "evidence": {"role": "Owner", "principalId": "6f1c0b7e-1111-4f2a-9c3d-0a1b2c3d4e5f", "principalType": "User"}},
  "claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "mallory@contoso.com", "http://schemas.microsoft.com/identity/claims/objectidentifier": "6f1c0b7e-1111-4f2a-9c3d-0a1b2c3d4e5f", "http://schemas.microsoft.com/identity/claims/tenantid": "72f988bf-86f1-41af-91ab-2d7cd011db47"}},
 "properties": {"requestbody": "{\"access\":\"Read\",\"durationInSeconds\":3600}", "eventCategory": "Administrative", "entity": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-stratus/providers/Microsoft.Compute/disks/stratus-disk", "message": "Microsoft.Compute/disks/beginGetAccess/action", "hierarchy": "72f988bf-86f1-41af-91ab-2d7cd011db47/0b1f6471-1bf0-4dda-aec3-cb9272f09590"}},
{"time": "2024-05-01T10:00:02.5000000Z", "resourceId": "/SUBSCRIPTIONS/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/RESOURCEGROUPS/RG-STRATUS/PROVIDERS/MICROSOFT.COMPUTE/DISKS/STRATUS-DISK",
 "operationName": "MICROSOFT.COMPUTE/DISKS/BEGINGETACCESS/ACTION", "category": "Administrative", "resultType": "Success", "resultSignature": "Succeeded.OK",
 "durationMs": "2400", "callerIpAddress": "203.0.113.7", "correlationId": "9d2b4f0e-0c55-4d0b-9d0e-6a1f3b2c1d00", "level": "Information", "location": "westeurope",
 "identity": {"authorization": {"scope": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-stratus/providers/Microsoft.Compute/disks/stratus-disk", "action": "Microsoft.Compute/disks/beginGetAccess/action",
   "evidence": {"role": "Owner", "principalId": "6f1c0b7e-1111-4f2a-9c3d-0a1b2c3d4e5f", "principalType": "User"}},
  "claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "mallory@contoso.com", "http://schemas.microsoft.com/identity/claims/tenantid": "72f988bf-86f1-41af-91ab-2d7cd011db47"}},
 "properties": {"statusCode": "OK", "eventCategory": "Administrative", "entity": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-stratus/providers/Microsoft.Compute/disks/stratus-disk", "message": "Microsoft.Compute/disks/beginGetAccess/action"}},
{"time": "2024-05-01T11:00:00.0000000Z", "resourceId": "/SUBSCRIPTIONS/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/RESOURCEGROUPS/RG-STRATUS/PROVIDERS/MICROSOFT.COMPUTE/DISKS/STRATUS-DISK",
 "operationName": "MICROSOFT.COMPUTE/DISKS/ENDGETACCESS/ACTION", "category": "Administrative", "resultType": "Success", "resultSignature": "Succeeded.OK",
 "durationMs": "900", "callerIpAddress": "203.0.113.7", "correlationId": "1c7e2d11-aaaa-4bbb-8ccc-0d1e2f3a4b5c", "level": "Information", "location": "westeurope",
 "identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "mallory@contoso.com"}},
 "properties": {"statusCode": "OK", "eventCategory": "Administrative", "message": "Microsoft.Compute/disks/endGetAccess/action"}},
{"time": "2024-05-01T11:05:00.0000000Z", "resourceId": "/SUBSCRIPTIONS/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/RESOURCEGROUPS/RG-STRATUS/PROVIDERS/MICROSOFT.COMPUTE/SNAPSHOTS/SNAP-1",
 "operationName": "MICROSOFT.COMPUTE/SNAPSHOTS/WRITE", "category": "Administrative", "resultType": "Success", "resultSignature": "Succeeded.Created",
 "durationMs": "900", "callerIpAddress": "203.0.113.7", "correlationId": "2d8e3f22-aaaa-4bbb-8ccc-0d1e2f3a4b5c", "level": "Information", "location": "westeurope",
 "identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "mallory@contoso.com"}},
 "properties": {"statusCode": "Created", "requestbody": "{\"location\":\"westeurope\",\"properties\":{\"creationData\":{\"createOption\":\"Copy\",\"sourceResourceId\":\"/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-stratus/providers/Microsoft.Compute/disks/stratus-disk\"},\"networkAccessPolicy\":\"AllowAll\",\"publicNetworkAccess\":\"Enabled\"}}", "message": "Microsoft.Compute/snapshots/write"}}
]}`

// gcpShares: Stratus gcp.exfiltration.share-compute-image (roles/owner to a gmail user, policy
// delta logged), then a snapshot made public, then the image share removed.
const gcpShares = `[
{"insertId": "1x2y3z4a", "logName": "projects/proj-victim/logs/cloudaudit.googleapis.com%2Factivity", "timestamp": "2024-05-01T10:00:00.123456Z", "severity": "NOTICE",
 "resource": {"type": "gce_image", "labels": {"project_id": "proj-victim", "image_id": "8812345"}},
 "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "status": {},
  "authenticationInfo": {"principalEmail": "alice@example.com"},
  "requestMetadata": {"callerIp": "203.0.113.5", "callerSuppliedUserAgent": "stratus-red-team"},
  "serviceName": "compute.googleapis.com", "methodName": "v1.compute.images.setIamPolicy",
  "resourceName": "projects/proj-victim/global/images/stratus-image",
  "request": {"@type": "type.googleapis.com/compute.images.setIamPolicy", "policy": {"bindings": [{"role": "roles/owner", "members": ["user:stratusredteam@gmail.com"]}]}},
  "serviceData": {"@type": "type.googleapis.com/google.iam.v1.logging.AuditData", "policyDelta": {"bindingDeltas": [{"action": "ADD", "role": "roles/owner", "member": "user:stratusredteam@gmail.com"}]}}}},
{"insertId": "1x2y3z4b", "logName": "projects/proj-victim/logs/cloudaudit.googleapis.com%2Factivity", "timestamp": "2024-05-01T10:01:00Z", "severity": "NOTICE",
 "resource": {"type": "gce_snapshot", "labels": {"project_id": "proj-victim", "snapshot_id": "99"}},
 "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "status": {},
  "authenticationInfo": {"principalEmail": "alice@example.com"},
  "serviceName": "compute.googleapis.com", "methodName": "v1.compute.snapshots.setIamPolicy",
  "resourceName": "projects/proj-victim/global/snapshots/db-snap",
  "request": {"policy": {"bindings": [{"role": "roles/compute.storageAdmin", "members": ["allAuthenticatedUsers", "user:bob@example.com"]}]}},
  "serviceData": {"policyDelta": {"bindingDeltas": [{"action": "ADD", "role": "roles/compute.storageAdmin", "member": "allAuthenticatedUsers"}, {"action": "ADD", "role": "roles/compute.storageAdmin", "member": "user:bob@example.com"}]}}}},
{"insertId": "1x2y3z4c", "logName": "projects/proj-victim/logs/cloudaudit.googleapis.com%2Factivity", "timestamp": "2024-05-01T10:30:00Z", "severity": "NOTICE",
 "resource": {"type": "gce_image", "labels": {"project_id": "proj-victim", "image_id": "8812345"}},
 "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "status": {},
  "authenticationInfo": {"principalEmail": "alice@example.com"},
  "serviceName": "compute.googleapis.com", "methodName": "v1.compute.images.setIamPolicy",
  "resourceName": "projects/proj-victim/global/images/stratus-image",
  "request": {"policy": {}},
  "serviceData": {"policyDelta": {"bindingDeltas": [{"action": "REMOVE", "role": "roles/owner", "member": "user:stratusredteam@gmail.com"}]}}}}
]`

func decodeString(t *testing.T, s, source string) []event.Event {
	t.Helper()
	var out []event.Event
	for ev, err := range event.Decode(context.Background(), strings.NewReader(s), source) {
		if err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		out = append(out, ev)
	}
	return out
}

func processAll(t *testing.T, e *Engine, evs []event.Event) []finding.Finding {
	t.Helper()
	var out []finding.Finding
	for _, ev := range evs {
		for _, f := range e.Process(ev) {
			checkFinding(t, f)
			out = append(out, f)
		}
	}
	return out
}

func TestAzureDocumentedRecords(t *testing.T) {
	e, err := New(Config{Trust: trust.Config{Accounts: []string{"0b1f6471-1bf0-4dda-aec3-cb9272f09590"}}})
	if err != nil {
		t.Fatal(err)
	}
	alerts := processAll(t, e, decodeString(t, azureDiskExport, "azure.json"))
	got := rulesOf(alerts)
	want := []string{"azure-disk-sas-export", "azure-disk-network-public"}
	if !slices.Equal(got, want) {
		t.Fatalf("alerts %v, want %v (one SAS alert for Start+Success)", got, want)
	}
	var disk *Exposure
	xs := e.Exposures()
	for i := range xs {
		if strings.HasSuffix(strings.ToLower(xs[i].Resource.ID), "/disks/stratus-disk") {
			disk = &xs[i]
		}
	}
	if disk == nil || disk.State != "closed" || len(disk.Timeline) != 2 || disk.Timeline[0].What != "opened" ||
		disk.Timeline[1].What != "closed" || disk.Grantees[0].Grantee != "public:sas" {
		t.Fatalf("SAS exposure: %+v", xs)
	}
	up := e.Flush()
	if len(up) != 1 || up[0].Rule != "azure-disk-sas-export" || up[0].Status != finding.StatusResolved {
		t.Fatalf("flush %+v", up)
	}
}

func TestGCPDocumentedRecords(t *testing.T) {
	e, err := New(Config{Trust: trust.Config{Accounts: []string{"proj-victim"}, Domains: []string{"example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	alerts := processAll(t, e, decodeString(t, gcpShares, "gcp.json"))
	got := rulesOf(alerts)
	want := []string{"gcp-image-shared-external", "gcp-snapshot-public"}
	if !slices.Equal(got, want) {
		t.Fatalf("alerts %v, want %v (bob@example.com is internal)", got, want)
	}
	if g := alerts[1].Evidence["matched_grantees"].([]string); !slices.Equal(g, []string{"authenticated:allAuthenticatedUsers"}) {
		t.Fatalf("matched %v", g)
	}
	states := map[string]string{}
	for _, x := range e.Exposures() {
		states[x.Resource.Type] = x.State
	}
	if states["gcp-image"] != "closed" || states["gcp-snapshot"] != "open" {
		t.Fatalf("exposures %+v", e.Exposures())
	}
}
