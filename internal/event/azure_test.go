package event

import (
	"reflect"
	"strings"
	"testing"
)

// Azure records below follow Microsoft's documented shapes:
//   - diagnostic-settings (Event Hub / storage) schema: the "records" sample and the mapping
//     table in Microsoft Learn "Azure activity log event schema", section "Schema from storage
//     account and event hubs" (MicrosoftDocs/azure-monitor-docs,
//     articles/azure-monitor/platform/activity-log-schema.md), and the Event Hubs sample in
//     articles/azure-monitor/essentials/activity-log.md;
//   - REST EventData: the "Administrative category" sample event of the same page
//     (authorization, caller, claims, eventDataId, operationName{value}, status{value},
//     subStatus, httpRequest, properties);
//   - the lower-case operation name and bare Success record of panther-labs/panther-analysis
//     rules/azure_activity_rules/azure_vm_disk_sas_uri_generated.yml;
//   - the request Stratus Red Team's azure.exfiltration.disk-export makes (Access=Read,
//     DurationInSeconds=3600).

const azSnap = "/subscriptions/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e/resourceGroups/RG-1/providers/Microsoft.Compute/snapshots/snap-01"

func azDiag(op, result, corr, time, props string) string {
	if props == "" {
		props = `{"statusCode":"OK","serviceRequestId":"s1","eventCategory":"Administrative"}`
	}
	return `{"time":"` + time + `","resourceId":"` + azSnap + `","operationName":"` + op + `","category":"Administrative","resultType":"` + result +
		`","resultSignature":"Succeeded.OK","durationMs":0,"callerIpAddress":"198.51.100.4","correlationId":"` + corr +
		`","identity":{"authorization":{"scope":"` + azSnap + `","action":"Microsoft.Compute/snapshots/beginGetAccess/action","evidence":{"role":"Owner","principalId":"f409edeb4d2944b59763ee9348ad91bb","principalType":"User"}},` +
		`"claims":{"aud":"https://management.core.windows.net/","http://schemas.microsoft.com/identity/claims/tenantid":"ffffffff-eeee-dddd-cccc-bbbbbbbbbbb0","http://schemas.microsoft.com/claims/authnmethodsreferences":"pwd,mfa","http://schemas.microsoft.com/identity/claims/objectidentifier":"f409edeb-4d29-44b5-9763-ee9348ad91bb","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"admin@contoso.com","name":"John Smith","appid":"04b07795-8ddb-461a-bbee-02f9e1bf7b46"}},` +
		`"level":"Information","location":"westeurope","properties":` + props + `}`
}

func TestAzureEventHubCollapse(t *testing.T) {
	start := azDiag("Microsoft.Compute/snapshots/beginGetAccess/action", "Start", "c-1", "2024-03-01T10:00:00.1234567Z",
		`{"statusCode":"Accepted","eventCategory":"Administrative","requestbody":"{\"access\":\"Read\",\"durationInSeconds\":3600}"}`)
	accept := azDiag("MICROSOFT.COMPUTE/SNAPSHOTS/BEGINGETACCESS/ACTION", "Accept", "c-1", "2024-03-01T10:00:00.5Z", "")
	success := azDiag("microsoft.compute/snapshots/begingetaccess/action", "Success", "c-1", "2024-03-01T10:00:03Z", "")
	noise := strings.Replace(azDiag("Microsoft.Network/networkSecurityGroups/write", "Success", "c-2", "2024-03-01T10:00:04Z", ""),
		"Microsoft.Compute/snapshots/snap-01", "Microsoft.Network/networkSecurityGroups/nsg", 1)
	in := `{"records":[` + start + "," + noise + "," + accept + "," + success + `]}`
	d := NewDecoder(Options{})
	evs, errs := decodeAll(t, d, []byte(in))
	if len(errs) != 0 || len(evs) != 2 {
		t.Fatalf("%d events, errors %v", len(evs), errs)
	}
	st := d.Stats()
	if st.Records != 4 || st.Events != 2 || st.Collapsed != 2 || st.Partial != 1 {
		t.Errorf("stats %+v", st)
	}
	p, ev := evs[0], evs[1]
	if !p.Partial || p.Cloud != "azure" || p.Account != "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e" || p.Service != "Microsoft.Network" ||
		p.ID == "" || p.Category != "administrative" || !p.Success {
		t.Errorf("partial %+v", p)
	}
	if ev.Partial || !ev.Success || ev.Cloud != "azure" || ev.Action != "microsoft.compute/snapshots/begingetaccess/action" ||
		ev.Account != "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e" || ev.Service != "microsoft.compute" {
		t.Errorf("event %+v", ev)
	}
	if !reflect.DeepEqual(ev.Grants, []Grant{{Op: "add", Kind: GrantPublic, Value: "sas", Role: "Read"}}) {
		t.Errorf("grants %+v", ev.Grants)
	}
	want := map[string]string{"sas_duration_seconds": "3600", "access": "Read", "state": "success", "correlation_id": "c-1",
		"phases": "start,accept,success", "export_destination": "sas"}
	for k, v := range want {
		if ev.Facts[k] != v {
			t.Errorf("fact %s = %q, want %q", k, ev.Facts[k], v)
		}
	}
	r := ev.Resource
	if r.Type != "azure-snapshot" || r.ID != strings.ToLower(azSnap) || r.ARN != azSnap || r.Account != "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e" || r.Region != "westeurope" {
		t.Errorf("resource %+v", r)
	}
	a := ev.Actor
	if a.Name != "admin@contoso.com" || a.ID != "f409edeb-4d29-44b5-9763-ee9348ad91bb" || a.Account != "ffffffff-eeee-dddd-cccc-bbbbbbbbbbb0" ||
		!a.MFA || a.Type != "User" || ev.SourceIP != "198.51.100.4" || ev.Facts["app_id"] != "04b07795-8ddb-461a-bbee-02f9e1bf7b46" {
		t.Errorf("actor %+v ip %s", a, ev.SourceIP)
	}
	if ev.Time.Format("15:04:05") != "10:00:03" {
		t.Errorf("time %v (want the final record's)", ev.Time)
	}
}

func TestAzureStorageLinesAndOutOfOrder(t *testing.T) {
	diskID := strings.Replace(azSnap, "snapshots/snap-01", "disks/vm-osdisk", 1)
	write := strings.Replace(azDiag("Microsoft.Compute/disks/write", "Start", "c-3", "2024-03-01T11:00:00Z",
		`{"requestbody":{"location":"westeurope","properties":{"networkAccessPolicy":"AllowAll","publicNetworkAccess":"Enabled","creationData":{"createOption":"Copy","sourceResourceId":"/subscriptions/other/resourceGroups/x/providers/Microsoft.Compute/snapshots/s"}}}}`),
		azSnap, diskID, -1)
	writeOK := strings.Replace(azDiag("Microsoft.Compute/disks/write", "Success", "c-3", "2024-03-01T11:00:02Z", ""), azSnap, diskID, -1)
	end := azDiag("Microsoft.Compute/snapshots/endGetAccess/action", "Succeeded", "c-4", "2024-03-01T11:05:00Z", "")
	fail := strings.Replace(azDiag("Microsoft.Compute/snapshots/beginGetAccess/action", "Failure", "c-5", "2024-03-01T11:06:00Z",
		`{"statusCode":"Forbidden","statusMessage":"{\"error\":{\"code\":\"AuthorizationFailed\"}}"}`), `"resultSignature":"Succeeded.OK"`, `"resultSignature":"Forbidden"`, 1)
	// A Start arriving after its operation's final record is dropped, not yielded again.
	lateStart := azDiag("Microsoft.Compute/snapshots/endGetAccess/action", "Start", "c-4", "2024-03-01T11:04:59Z", "")
	in := strings.Join([]string{writeOK, write, end, lateStart, fail}, "\n")
	d := NewDecoder(Options{})
	evs, errs := decodeAll(t, d, []byte(in))
	if len(errs) != 0 || len(evs) != 3 {
		t.Fatalf("%d events, errors %v", len(evs), errs)
	}
	// writeOK (final) came before its Start, so it was yielded at once; the Start then finds
	// its operation done and is dropped, as is the late Start of endGetAccess.
	w := evs[0]
	if w.Resource.Type != "azure-disk" || w.Facts["state"] != "success" {
		t.Errorf("disk write %+v", w)
	}
	if e := evs[1]; e.Action != "Microsoft.Compute/snapshots/endGetAccess/action" ||
		!reflect.DeepEqual(e.Grants, []Grant{{Op: "remove", Kind: GrantPublic, Value: "sas"}}) {
		t.Errorf("endGetAccess %+v", e)
	}
	if f := evs[2]; f.Success || f.ErrorCode != "Forbidden" || f.Facts["state"] != "failure" {
		t.Errorf("failure %+v", f)
	}
	if st := d.Stats(); st.Collapsed != 2 || st.Records != 5 {
		t.Errorf("stats %+v", st)
	}
	// In order, the Start's request body makes the grant.
	d = NewDecoder(Options{})
	evs, _ = decodeAll(t, d, []byte(write+"\n"+writeOK))
	if len(evs) != 1 || !reflect.DeepEqual(evs[0].Grants, []Grant{{Op: "add", Kind: GrantPublic, Value: "network"}}) ||
		evs[0].Facts["network_access_policy"] != "AllowAll" || !strings.HasPrefix(evs[0].Facts["copy_of"], "/subscriptions/other/") ||
		evs[0].Facts["create_option"] != "Copy" || !evs[0].Success {
		t.Fatalf("disk write in order: %+v", evs)
	}
}

func TestAzureWindowBound(t *testing.T) {
	a := azDiag("Microsoft.Compute/snapshots/beginGetAccess/action", "Start", "w-1", "2024-03-01T10:00:00Z", `{"requestbody":"{\"access\":\"Write\"}"}`)
	b := azDiag("Microsoft.Compute/snapshots/beginGetAccess/action", "Start", "w-2", "2024-03-01T10:00:01Z", "")
	c := azDiag("Microsoft.Compute/snapshots/beginGetAccess/action", "Success", "w-3", "2024-03-01T13:00:00Z", "")
	d := NewDecoder(Options{AzureWindow: 1})
	evs, _ := decodeAll(t, d, []byte(a+"\n"+b+"\n"+c))
	// w-1 is pushed out by count when w-2 arrives, w-2 by age when w-3 (3 h later) arrives.
	if len(evs) != 3 || evs[0].Facts["correlation_id"] != "w-1" || evs[1].Facts["correlation_id"] != "w-2" ||
		evs[0].Facts["state"] != "start" || evs[0].Grants[0].Role != "Write" {
		t.Fatalf("%+v", evs)
	}
}

func TestAzureRESTEventData(t *testing.T) {
	gallery := "/subscriptions/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e/resourceGroups/rg/providers/Microsoft.Compute/galleries/gal1"
	rest := func(op, status, id, rid, body string) string {
		return `{"authorization":{"action":"` + op + `","scope":"` + rid + `"},"caller":"rob@contoso.com","channels":"Operation",` +
			`"claims":{"http://schemas.microsoft.com/identity/claims/tenantid":"aaaabbbb-0000-cccc-1111-dddd2222eeee","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"rob@contoso.com","http://schemas.microsoft.com/identity/claims/objectidentifier":"f409edeb-4d29-44b5-9763-ee9348ad91bb","ipaddr":"111.111.1.111","http://schemas.microsoft.com/claims/authnmethodsreferences":"rsa"},` +
			`"correlationId":"c-` + id + `","eventDataId":"` + id + `","eventName":{"value":"EndRequest","localizedValue":"End request"},"category":{"value":"Administrative","localizedValue":"Administrative"},` +
			`"eventTimestamp":"2018-01-29T20:42:31.3810679Z","httpRequest":{"clientRequestId":"x","clientIpAddress":"111.111.1.111","method":"POST"},` +
			`"level":"Informational","operationId":"op-` + id + `","operationName":{"value":"` + op + `","localizedValue":"x"},"resourceGroupName":"rg",` +
			`"resourceProviderName":{"value":"Microsoft.Compute","localizedValue":"Microsoft.Compute"},"resourceId":"` + rid + `",` +
			`"status":{"value":"` + status + `","localizedValue":"x"},"subStatus":{"value":"OK","localizedValue":"OK (HTTP Status Code: 200)"},` +
			`"submissionTimestamp":"2018-01-29T20:42:50.0724829Z","subscriptionId":"aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e","properties":{"statusCode":"OK","requestbody":` + quote(body) + `},"relatedEvents":[]}`
	}
	share := rest("Microsoft.Compute/galleries/share/action", "Succeeded", "e-1", gallery,
		`{"operationType":"Add","groups":[{"type":"Subscriptions","ids":["11111111-1111-1111-1111-111111111111"]},{"type":"AADTenants","ids":["22222222-2222-2222-2222-222222222222"]}]}`)
	community := rest("Microsoft.Compute/galleries/share/action", "Succeeded", "e-2", gallery, `{"operationType":"EnableCommunity"}`)
	role := rest("Microsoft.Authorization/roleAssignments/write", "Succeeded", "e-3",
		azSnap+"/providers/Microsoft.Authorization/roleAssignments/ra-1",
		`{"properties":{"roleDefinitionId":"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7","principalId":"9F1A0000-0000-0000-0000-000000000001","principalType":"User"}}`)
	in := `{"value":[` + share + "," + community + "," + role + `],"nextLink":null}`
	d := NewDecoder(Options{})
	evs, errs := decodeAll(t, d, []byte(in))
	if len(errs) != 0 || len(evs) != 3 {
		t.Fatalf("%d events, errors %v", len(evs), errs)
	}
	s := evs[0]
	if s.ID != "e-1" || s.Action != "Microsoft.Compute/galleries/share/action" || s.Resource.Type != "azure-gallery" || !s.Success ||
		s.Actor.Name != "rob@contoso.com" || s.Actor.Account != "aaaabbbb-0000-cccc-1111-dddd2222eeee" || s.Actor.MFA ||
		s.SourceIP != "111.111.1.111" || s.Category != "administrative" || s.Facts["operation_id"] != "op-e-1" || s.Time.Year() != 2018 {
		t.Errorf("share %+v", s)
	}
	if !reflect.DeepEqual(s.Grants, []Grant{{Op: "add", Kind: GrantSubscription, Value: "11111111-1111-1111-1111-111111111111"},
		{Op: "add", Kind: GrantTenant, Value: "22222222-2222-2222-2222-222222222222"}}) {
		t.Errorf("share grants %+v", s.Grants)
	}
	if !reflect.DeepEqual(evs[1].Grants, []Grant{{Op: "add", Kind: GrantPublic, Value: "community"}}) {
		t.Errorf("community grants %+v", evs[1].Grants)
	}
	r := evs[2]
	if r.Resource.Type != "azure-snapshot" || r.Resource.ID != strings.ToLower(azSnap) ||
		!reflect.DeepEqual(r.Grants, []Grant{{Op: "add", Kind: GrantPrincipal, Value: "9f1a0000-0000-0000-0000-000000000001", Role: "acdd72a7-3385-48ef-bd42-f606fba81ae7"}}) ||
		r.Facts["principal_type"] != "User" {
		t.Errorf("role assignment %+v", r)
	}
}

func TestAzureResourceTypes(t *testing.T) {
	for rid, want := range map[string]string{
		"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0": "azure-gallery-image-version",
		"/SUBSCRIPTIONS/S/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.COMPUTE/DISKACCESSES/DA":                     "azure-disk-access",
		"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/images/img":                          "azure-image",
		"/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/x":                              "azure-role-assignment",
		"/subscriptions/s/resourceGroups/r":                                                                 "azure-resource-group",
	} {
		if got := azResource(rid).Type; got != want {
			t.Errorf("%s: %s, want %s", rid, got, want)
		}
	}
}
