package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// gcpEntry is a Cloud Logging LogEntry carrying an AuditLog protoPayload.
type gcpEntry struct {
	InsertID  string `json:"insertId"`
	LogName   string `json:"logName"`
	Timestamp string `json:"timestamp"`
	Resource  struct {
		Type   string         `json:"type"`
		Labels map[string]any `json:"labels"`
	} `json:"resource"`
	Operation struct {
		ID       string `json:"id"`
		Producer string `json:"producer"`
		First    bool   `json:"first"`
		Last     bool   `json:"last"`
	} `json:"operation"`
	ProtoPayload gcpAudit `json:"protoPayload"`
}

type gcpAudit struct {
	Type   string `json:"@type"`
	Status struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
	AuthenticationInfo struct {
		PrincipalEmail               string `json:"principalEmail"`
		PrincipalSubject             string `json:"principalSubject"`
		ServiceAccountKeyName        string `json:"serviceAccountKeyName"`
		ServiceAccountDelegationInfo []any  `json:"serviceAccountDelegationInfo"`
	} `json:"authenticationInfo"`
	RequestMetadata struct {
		CallerIP                string `json:"callerIp"` // also matches callerIP (case-insensitive)
		CallerSuppliedUserAgent string `json:"callerSuppliedUserAgent"`
	} `json:"requestMetadata"`
	ServiceName      string `json:"serviceName"`
	MethodName       string `json:"methodName"`
	ResourceName     string `json:"resourceName"`
	ResourceLocation struct {
		CurrentLocations []string `json:"currentLocations"`
	} `json:"resourceLocation"`
	Request     json.RawMessage `json:"request"`
	Response    json.RawMessage `json:"response"`
	ServiceData json.RawMessage `json:"serviceData"`
	Metadata    json.RawMessage `json:"metadata"`
}

// gcpIsInteresting is the GCP pre-filter on methodName.
func gcpIsInteresting(m []byte) bool {
	for _, p := range [][]byte{
		[]byte("compute.snapshots."), []byte("compute.images."), []byte("compute.disks."),
		[]byte("compute.regionDisks."), []byte("compute.machineImages."), []byte("compute.instantSnapshots."),
		[]byte("compute.regionInstantSnapshots."), []byte("etIamPolicy"), []byte("CloudBuild.CreateBuild"),
		[]byte("ConfigServiceV2."), []byte("LoggingServiceV2.DeleteLog"), []byte("OrgPolicy"),
	} {
		if bytes.Contains(m, p) {
			return true
		}
	}
	return false
}

func (ru *run) gcp(raw []byte, h *head) {
	idx := ru.nextIndex()
	if ru.stopped {
		return
	}
	var method, service, status []byte
	eachMember(h.protoPayload, func(k, v []byte) bool {
		switch string(k) {
		case "methodName":
			method, _ = rawStr(v)
		case "serviceName":
			service, _ = rawStr(v)
		case "status":
			status = v
		}
		return true
	})
	if !gcpIsInteresting(method) && !ru.d.opt.All {
		ev := &ru.ev
		if !ru.gcpPartial(ev, h, method, service, status) {
			ru.bad(idx, errors.New("GCP LogEntry without timestamp or methodName"))
			return
		}
		ev.Origin = Origin{Source: ru.source, Index: idx}
		ru.emit(ev)
		return
	}
	var e gcpEntry
	if err := unmarshal(raw, &e); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			ru.bad(idx, err)
			return
		}
	}
	ev, err := ru.gcpFull(&e)
	if err != nil {
		ru.bad(idx, err)
		return
	}
	ev.Raw = append(json.RawMessage(nil), raw...)
	ev.Origin = Origin{Source: ru.source, Index: idx}
	ru.emit(&ev)
}

func (ru *run) gcpPartial(ev *Event, h *head, method, service, status []byte) bool {
	ts, _ := strVal(h.timestamp)
	t, ok := parseTime(ts)
	if !ok || len(method) == 0 {
		return false
	}
	in := &ru.d.names
	logName, _ := strVal(h.logName)
	insert, _ := strVal(h.insertID)
	*ev = Event{
		ID: gcpID(logName, insert), Time: t, Cloud: "gcp", Partial: true,
		Action: in.get(method), Service: in.get(service),
		Account: in.get([]byte(gcpLogParent(logName))), Category: gcpCategory(logName),
	}
	ev.ReadOnly = gcpReadOnly(ev.Action)
	ev.Success = true
	eachMember(status, func(k, v []byte) bool {
		if string(k) == "code" && string(v) != "0" && string(v) != "null" {
			ev.Success, ev.ErrorCode = false, string(v)
		}
		return true
	})
	return true
}

// gcpID: insertId is unique within a log, so the log name qualifies it.
func gcpID(logName, insertID string) string {
	if insertID == "" {
		return ""
	}
	return logName + "/" + insertID
}

// gcpLogParent returns "projects/p" → "p", and "organizations/o" or "folders/f" as written.
func gcpLogParent(logName string) string {
	parts := strings.SplitN(logName, "/", 3)
	if len(parts) < 2 {
		return ""
	}
	if parts[0] == "projects" {
		return parts[1]
	}
	return parts[0] + "/" + parts[1]
}

// gcpCategory names the audit log: activity, data_access, system_event or policy.
func gcpCategory(logName string) string {
	i := strings.LastIndex(logName, "/logs/")
	if i < 0 {
		return ""
	}
	n := logName[i+len("/logs/"):]
	n = strings.Replace(n, "%2F", "/", 1)
	n = strings.Replace(n, "%2f", "/", 1)
	return strings.TrimPrefix(n, "cloudaudit.googleapis.com/")
}

func gcpReadOnly(method string) bool {
	last := lastSegment(method, '.')
	last = strings.ToLower(last)
	return strings.HasPrefix(last, "get") || strings.HasPrefix(last, "list") || strings.HasPrefix(last, "aggregatedlist")
}

func (ru *run) gcpFull(e *gcpEntry) (Event, error) {
	p := &e.ProtoPayload
	if p.MethodName == "" {
		return Event{}, errors.New("GCP LogEntry without protoPayload.methodName")
	}
	t, ok := parseTime(e.Timestamp)
	if !ok {
		return Event{}, errors.New("GCP LogEntry with a bad timestamp")
	}
	ev := Event{
		ID:        gcpID(e.LogName, e.InsertID),
		Time:      t,
		Cloud:     "gcp",
		Account:   gcpLogParent(e.LogName),
		Service:   p.ServiceName,
		Action:    p.MethodName,
		Category:  gcpCategory(e.LogName),
		ReadOnly:  gcpReadOnly(p.MethodName),
		SourceIP:  p.RequestMetadata.CallerIP,
		UserAgent: p.RequestMetadata.CallerSuppliedUserAgent,
		Success:   p.Status.Code == 0,
	}
	if ev.Account == "" {
		ev.Account = str(e.Resource.Labels["project_id"])
	}
	if !ev.Success {
		ev.ErrorCode = strconv.Itoa(p.Status.Code)
		ev.ErrorMessage = p.Status.Message
	}
	gcpActor(&ev, p)
	ev.Resource = gcpResource(p.ServiceName, p.ResourceName)
	if ev.Resource.Region == "" && len(p.ResourceLocation.CurrentLocations) > 0 {
		ev.Resource.Region = p.ResourceLocation.CurrentLocations[0]
	}
	if ev.Resource.Region == "" {
		ev.Resource.Region = firstNonEmpty(str(e.Resource.Labels["zone"]), str(e.Resource.Labels["location"]))
	}
	if ev.Resource.Account == "" {
		ev.Resource.Account = ev.Account
	}
	ev.Region = ev.Resource.Region
	setFact(&ev, "operation_id", e.Operation.ID)
	if e.Operation.First {
		setFact(&ev, "operation_phase", "first")
	} else if e.Operation.Last {
		setFact(&ev, "operation_phase", "last")
	}
	setFact(&ev, "log_resource_type", e.Resource.Type)
	ru.gcpNormalize(&ev, p)
	return ev, nil
}

func gcpActor(ev *Event, p *gcpAudit) {
	a := &ev.Actor
	email := p.AuthenticationInfo.PrincipalEmail
	a.Name = email
	a.ID = firstNonEmpty(p.AuthenticationInfo.PrincipalSubject, email)
	switch {
	case strings.HasSuffix(email, ".gserviceaccount.com"):
		a.Type = "serviceAccount"
		// name@PROJECT.iam.gserviceaccount.com: the service account's own project.
		if at := strings.IndexByte(email, '@'); at >= 0 {
			dom := email[at+1:]
			if strings.HasSuffix(dom, ".iam.gserviceaccount.com") {
				a.Account = strings.TrimSuffix(dom, ".iam.gserviceaccount.com")
			} else {
				a.Account = dom
			}
		}
	case email != "":
		a.Type = "user"
		if at := strings.IndexByte(email, '@'); at >= 0 {
			a.Account = email[at+1:]
		}
	}
	setFact(ev, "service_account_key", p.AuthenticationInfo.ServiceAccountKeyName)
	for _, d := range p.AuthenticationInfo.ServiceAccountDelegationInfo {
		if s := gets(d, "firstPartyPrincipal", "principalEmail"); s != "" {
			setFact(ev, "delegated_by", s)
			break
		}
	}
}

// gcpResource reads a resource name (or a compute self link) into a Resource.
func gcpResource(service, name string) Resource {
	if i := strings.Index(name, "projects/"); i > 0 {
		name = name[i:] // a self link: https://www.googleapis.com/compute/v1/projects/...
	}
	r := Resource{ID: name}
	if name == "" {
		return r
	}
	if service != "" {
		r.ARN = "//" + service + "/" + name
	}
	parts := strings.Split(name, "/")
	for i := 0; i+1 < len(parts); i++ {
		switch parts[i] {
		case "projects":
			if r.Account == "" {
				r.Account = parts[i+1]
			}
		case "zones", "regions", "locations":
			r.Region = parts[i+1]
		}
	}
	// The collection is the segment before the final name: .../global/snapshots/NAME,
	// .../zones/Z/disks/NAME, .../images/family/NAME (an image family).
	coll := ""
	if len(parts) >= 2 {
		coll = parts[len(parts)-2]
	}
	switch coll {
	case "snapshots":
		r.Type = "gcp-snapshot"
	case "images", "family":
		r.Type = "gcp-image"
	case "disks":
		r.Type = "gcp-disk"
	case "machineImages":
		r.Type = "gcp-machine-image"
	case "instantSnapshots":
		r.Type = "gcp-instant-snapshot"
	case "projects":
		r.Type = "gcp-project"
	case "sinks":
		r.Type = "gcp-log-sink"
	case "":
		r.Type = "gcp-resource"
	default:
		r.Type = "gcp:" + coll
	}
	return r
}
