package event

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
)

// GCP records below follow Google's documented LogEntry and AuditLog shapes (Cloud Logging
// "LogEntry" reference; Cloud Audit Logs "AuditLog" type: serviceName, methodName,
// resourceName, authenticationInfo.principalEmail, requestMetadata.callerIp /
// callerSuppliedUserAgent, status, request, response, serviceData.policyDelta.bindingDeltas),
// the Pub/Sub push body ({"message":{"data":base64,"messageId",...},"subscription"}), and the
// test events of panther-labs/panther-analysis rules/gcp_audit_rules/
// gcp_compute_set_iam_policy.yml (v1.compute.{disks,images}.setIamPolicy with a whole
// replacement policy granting roles/owner to a user, which is also what Stratus Red Team's
// gcp.exfiltration.share-compute-* techniques do; note its "callerIP" spelling).

func gcpLog(insert, method, resource, ts, req, resp, extra string) string {
	if req == "" {
		req = "{}"
	}
	if resp == "" {
		resp = "{}"
	}
	return `{"insertId":"` + insert + `","logName":"projects/victim-project/logs/cloudaudit.googleapis.com%2Factivity",` +
		`"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","authenticationInfo":{"principalEmail":"attacker@example.com","principalSubject":"user:attacker@example.com"},` +
		`"requestMetadata":{"callerIP":"192.0.2.1","callerSuppliedUserAgent":"google-cloud-sdk gcloud/460.0.0"},` +
		`"serviceName":"compute.googleapis.com","methodName":"` + method + `","resourceName":"` + resource + `",` +
		`"request":` + req + `,"response":` + resp + extra + `},` +
		`"resource":{"type":"gce_snapshot","labels":{"project_id":"victim-project","snapshot_id":"123"}},"severity":"NOTICE","timestamp":"` + ts + `","receiveTimestamp":"` + ts + `"}`
}

func TestGCPSetIamPolicyWithDelta(t *testing.T) {
	in := gcpLog("i-1", "v1.compute.snapshots.setIamPolicy", "projects/victim-project/global/snapshots/snap-1", "2024-03-01T10:00:00.123456Z",
		`{"@type":"type.googleapis.com/compute.snapshots.setIamPolicy","policy":{"bindings":[{"role":"roles/owner","members":["user:stratusredteam@gmail.com"]}]}}`, "",
		`,"serviceData":{"@type":"type.googleapis.com/google.iam.v1.logging.AuditData","policyDelta":{"bindingDeltas":[{"action":"ADD","role":"roles/owner","member":"user:stratusredteam@gmail.com"},{"action":"ADD","role":"roles/compute.storageAdmin","member":"allUsers"},{"action":"REMOVE","role":"roles/viewer","member":"group:ops@corp.example"}]}}`)
	ev := one(t, in)
	want := []Grant{
		{Op: "add", Kind: GrantMember, Value: "user:stratusredteam@gmail.com", Role: "roles/owner"},
		{Op: "add", Kind: GrantPublic, Value: "all", Role: "roles/compute.storageAdmin"},
		{Op: "remove", Kind: GrantMember, Value: "group:ops@corp.example", Role: "roles/viewer"},
	}
	if !reflect.DeepEqual(ev.Grants, want) {
		t.Errorf("grants %+v", ev.Grants)
	}
	if ev.ID != "projects/victim-project/logs/cloudaudit.googleapis.com%2Factivity/i-1" || ev.Cloud != "gcp" || ev.Account != "victim-project" ||
		ev.Service != "compute.googleapis.com" || ev.Action != "v1.compute.snapshots.setIamPolicy" || ev.Category != "activity" || !ev.Success ||
		ev.SourceIP != "192.0.2.1" || ev.UserAgent != "google-cloud-sdk gcloud/460.0.0" || ev.ReadOnly {
		t.Errorf("event %+v", ev)
	}
	if r := ev.Resource; r.Type != "gcp-snapshot" || r.ID != "projects/victim-project/global/snapshots/snap-1" || r.Account != "victim-project" ||
		r.ARN != "//compute.googleapis.com/projects/victim-project/global/snapshots/snap-1" {
		t.Errorf("resource %+v", r)
	}
	if a := ev.Actor; a.Name != "attacker@example.com" || a.Type != "user" || a.Account != "example.com" || a.ID != "user:attacker@example.com" {
		t.Errorf("actor %+v", a)
	}
	if ev.Facts["grants_basis"] != "policy-delta" || ev.Facts["member_domains"] != "corp.example,gmail.com" {
		t.Errorf("facts %v", ev.Facts)
	}
}

func TestGCPSetIamPolicyDiff(t *testing.T) {
	disk := "projects/victim-project/zones/us-central1-a/disks/disk-1"
	grant := gcpLog("d-1", "v1.compute.disks.setIamPolicy", disk, "2024-03-01T10:00:00Z",
		`{"policy":{"bindings":[{"members":["user:stratusredteam@gmail.com"],"role":"roles/owner"}]}}`, "", "")
	revert := gcpLog("d-2", "v1.compute.disks.setIamPolicy", disk, "2024-03-01T10:05:00Z", `{"policy":{"etag":"BwX"}}`, "", "")
	img := "projects/victim-project/global/images/img-1"
	seed := strings.Replace(gcpLog("g-1", "v1.compute.images.getIamPolicy", img, "2024-03-01T10:06:00Z", "",
		`{"bindings":[{"role":"roles/compute.imageUser","members":["group:builders@corp.example"]}],"etag":"BwA"}`, ""),
		"cloudaudit.googleapis.com%2Factivity", "cloudaudit.googleapis.com%2Fdata_access", 1)
	open := gcpLog("g-2", "v1.compute.images.setIamPolicy", img, "2024-03-01T10:07:00Z",
		`{"policy":{"bindings":[{"role":"roles/compute.imageUser","members":["group:builders@corp.example","allAuthenticatedUsers"]}]}}`, "", "")
	d := NewDecoder(Options{})
	// A JSON array, as gcloud logging read --format=json writes.
	evs, errs := decodeAll(t, d, []byte("["+grant+","+revert+","+seed+","+open+"]"))
	if len(errs) != 0 || len(evs) != 4 {
		t.Fatalf("%d events, errors %v", len(evs), errs)
	}
	if g := evs[0]; !reflect.DeepEqual(g.Grants, []Grant{{Op: "add", Kind: GrantMember, Value: "user:stratusredteam@gmail.com", Role: "roles/owner"}}) ||
		g.Facts["grants_basis"] != "full-policy" || g.Resource.Type != "gcp-disk" || g.Resource.Region != "us-central1-a" || g.Region != "us-central1-a" {
		t.Errorf("first setIamPolicy %+v", g)
	}
	if r := evs[1]; !reflect.DeepEqual(r.Grants, []Grant{{Op: "remove", Kind: GrantMember, Value: "user:stratusredteam@gmail.com", Role: "roles/owner"}}) ||
		r.Facts["grants_basis"] != "diff" {
		t.Errorf("revert %+v", r)
	}
	if s := evs[2]; !s.ReadOnly || s.Category != "data_access" || len(s.Grants) != 0 {
		t.Errorf("getIamPolicy %+v", s)
	}
	if o := evs[3]; !reflect.DeepEqual(o.Grants, []Grant{{Op: "add", Kind: GrantAuthUsers, Value: "allAuthenticatedUsers", Role: "roles/compute.imageUser"}}) ||
		o.Facts["grants_basis"] != "diff" || o.Resource.Type != "gcp-image" {
		t.Errorf("image share %+v", o)
	}
}

func TestGCPPubSubAndInserts(t *testing.T) {
	ins := gcpLog("n-1", "v1.compute.images.insert", "projects/victim-project/global/images/copy", "2024-03-01T11:00:00Z",
		`{"name":"copy","sourceDisk":"https://www.googleapis.com/compute/v1/projects/other-project/zones/us-central1-a/disks/d","storageLocations":["us","eu"]}`, "", "")
	snap := gcpLog("n-2", "v1.compute.snapshots.insert", "projects/victim-project/global/snapshots/s2", "2024-03-01T11:01:00Z",
		`{"sourceDisk":"projects/victim-project/zones/us-central1-a/disks/disk-1"}`, "",
		`,"metadata":{"@type":"type.googleapis.com/google.cloud.audit.CrossEntityControlAuditMetadata"}`)
	build := strings.Replace(gcpLog("n-3", "google.devtools.cloudbuild.v1.CloudBuild.CreateBuild", "projects/victim-project/builds", "2024-03-01T11:02:00Z",
		`{"build":{"steps":[{"name":"gcr.io/compute-image-tools/gce_vm_image_export:release","args":["-timeout=7000s","-source_image=projects/victim-project/global/images/img-1","-destination_uri=gs://outside-bucket/img.vmdk","-format=vmdk"]}]}}`, "", ""),
		"compute.googleapis.com", "cloudbuild.googleapis.com", 1)
	failed := strings.Replace(gcpLog("n-4", "v1.compute.machineImages.setIamPolicy", "projects/victim-project/global/machineImages/mi", "2024-03-01T11:03:00Z",
		`{"policy":{"bindings":[{"role":"roles/owner","members":["user:x@gmail.com"]}]}}`, "", ""),
		`"requestMetadata"`, `"status":{"code":7,"message":"PERMISSION_DENIED"},"requestMetadata"`, 1)
	noise := gcpLog("n-5", "v1.compute.instances.insert", "projects/victim-project/zones/us-central1-a/instances/vm", "2024-03-01T11:04:00Z", "", "", "")
	push := func(entry string) string {
		return `{"message":{"attributes":{"logging.googleapis.com/timestamp":"2024-03-01T11:00:00Z"},"data":"` +
			base64.StdEncoding.EncodeToString([]byte(entry)) + `","messageId":"m1","publishTime":"2024-03-01T11:00:01Z"},"subscription":"projects/p/subscriptions/s"}`
	}
	in := strings.Join([]string{push(ins), push(snap), build, failed, noise}, "\n")
	d := NewDecoder(Options{})
	evs, errs := decodeAll(t, d, []byte(in))
	if len(errs) != 0 || len(evs) != 5 {
		t.Fatalf("%d events, errors %v", len(evs), errs)
	}
	i := evs[0]
	if i.Facts["storage_locations"] != "us,eu" || i.Facts["source_project"] != "other-project" || i.Facts["cross_project"] != "true" ||
		i.Resource.Type != "gcp-image" || i.Origin.Index != 0 {
		t.Errorf("images.insert %+v", i)
	}
	if s := evs[1]; s.Facts["cross_entity"] != "true" || s.Facts["cross_project"] != "" || s.Facts["source_disk"] == "" {
		t.Errorf("snapshots.insert %+v", s)
	}
	if b := evs[2]; b.Facts["export"] != "image" || b.Facts["export_destination"] != "gs://outside-bucket/img.vmdk" ||
		b.Resource.ID != "projects/victim-project/global/images/img-1" || b.Resource.Type != "gcp-image" || b.Facts["disk_image_format"] != "vmdk" {
		t.Errorf("image export build %+v", b)
	}
	if f := evs[3]; f.Success || f.ErrorCode != "7" || f.ErrorMessage != "PERMISSION_DENIED" || f.Resource.Type != "gcp-machine-image" || len(f.Grants) != 1 {
		t.Errorf("failed setIamPolicy %+v", f)
	}
	if n := evs[4]; !n.Partial || n.Action != "v1.compute.instances.insert" || n.Account != "victim-project" || n.Service != "compute.googleapis.com" {
		t.Errorf("partial %+v", n)
	}
	// The failed call must not have changed the remembered policy.
	if _, ok := d.gcp.get("projects/victim-project/global/machineImages/mi"); ok {
		t.Error("failed setIamPolicy remembered")
	}
}

func TestGCPPolicyMemoryBound(t *testing.T) {
	pm := newPolicyMemory(2)
	for _, k := range []string{"a", "b", "a", "a", "c"} {
		pm.put(k, policy{})
	}
	if _, ok := pm.get("b"); ok {
		t.Error("b should be forgotten (oldest)")
	}
	if _, ok := pm.get("a"); !ok {
		t.Error("a should be kept (rewritten)")
	}
	if len(pm.m) != 2 {
		t.Errorf("%d kept", len(pm.m))
	}
}
