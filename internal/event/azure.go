package event

import (
	"encoding/json"
	"errors"
	"strings"
)

// azRecord covers both Activity Log shapes: the diagnostic-settings (Event Hub / storage) schema
// and the REST EventData schema. encoding/json matches member names case-insensitively, which
// is what real logs need (requestbody / requestBody).
type azRecord struct {
	Time            string         `json:"time"`
	EventTimestamp  string         `json:"eventTimestamp"`
	ResourceID      string         `json:"resourceId"`
	OperationName   azValue        `json:"operationName"`
	Category        azValue        `json:"category"`
	ResultType      string         `json:"resultType"`
	ResultSignature string         `json:"resultSignature"`
	Status          azValue        `json:"status"`
	SubStatus       azValue        `json:"subStatus"`
	CallerIPAddress string         `json:"callerIpAddress"`
	CorrelationID   string         `json:"correlationId"`
	EventDataID     string         `json:"eventDataId"`
	OperationID     string         `json:"operationId"`
	Caller          string         `json:"caller"`
	Location        string         `json:"location"`
	TenantID        string         `json:"tenantId"`
	SubscriptionID  string         `json:"subscriptionId"`
	Identity        azIdentity     `json:"identity"`
	Authorization   azAuth         `json:"authorization"`
	Claims          any            `json:"claims"`
	HTTPRequest     azHTTP         `json:"httpRequest"`
	Properties      map[string]any `json:"properties"`
}

type azIdentity struct {
	Authorization azAuth `json:"authorization"`
	Claims        any    `json:"claims"`
}

type azAuth struct {
	Action   string `json:"action"`
	Scope    string `json:"scope"`
	Evidence struct {
		PrincipalID   string `json:"principalId"`
		PrincipalType string `json:"principalType"`
		Role          string `json:"role"`
	} `json:"evidence"`
}

type azHTTP struct {
	ClientIPAddress string `json:"clientIpAddress"`
}

// azValue is a string written either plainly or as REST's {"value": ..., "localizedValue": ...}.
type azValue string

func (v *azValue) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var x struct {
			Value *string `json:"value"`
		}
		if err := json.Unmarshal(b, &x); err != nil {
			return err
		}
		if x.Value != nil {
			*v = azValue(*x.Value)
		}
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*v = azValue(s)
	return nil
}

// azInteresting is the Azure pre-filter: operation prefixes (lower case) that can matter.
var azInteresting = []string{
	"microsoft.compute/snapshots/",
	"microsoft.compute/disks/",
	"microsoft.compute/galleries/",
	"microsoft.compute/images/",
	"microsoft.compute/diskaccesses/",
	"microsoft.compute/virtualmachines/capture/",
	"microsoft.compute/restorepointcollections/",
	"microsoft.authorization/roleassignments/",
	"microsoft.insights/diagnosticsettings/",
	"microsoft.insights/logprofiles/",
}

func azIsInteresting(op []byte) bool {
	for _, p := range azInteresting {
		if len(op) >= len(p) && equalFoldASCII(op[:len(p)], p) {
			return true
		}
	}
	return false
}

// azure turns one Activity Log record into an Event and passes full ones through the collapser.
func (ru *run) azure(raw []byte, h *head) {
	idx := ru.nextIndex()
	if ru.stopped {
		return
	}
	op := h.operationName
	if len(op) > 0 && op[0] == '{' {
		// REST form: {"value": "...", "localizedValue": "..."}
		eachMember(op, func(k, v []byte) bool {
			if string(k) == "value" {
				op = v
				return false
			}
			return true
		})
	}
	opName, _ := rawStr(op)
	if !azIsInteresting(opName) && !ru.d.opt.All {
		ev := &ru.ev
		if !ru.azPartial(ev, h, opName) {
			ru.bad(idx, errors.New("activity log record without operationName or time"))
			return
		}
		ev.Origin = Origin{Source: ru.source, Index: idx}
		ru.emit(ev)
		return
	}
	var rec azRecord
	if err := unmarshal(raw, &rec); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			ru.bad(idx, err)
			return
		}
	}
	ev, err := azFull(&rec)
	if err != nil {
		ru.bad(idx, err)
		return
	}
	ev.Raw = append(json.RawMessage(nil), raw...)
	ev.Origin = Origin{Source: ru.source, Index: idx}
	for _, out := range ru.d.az.add(ev) {
		if !ru.emit(&out) {
			return
		}
	}
}

func (ru *run) azPartial(ev *Event, h *head, op []byte) bool {
	ts, _ := strVal(h.time)
	if ts == "" {
		ts, _ = strVal(h.eventTimestamp)
	}
	t, ok := parseTime(ts)
	if !ok || len(op) == 0 {
		return false
	}
	in := &ru.d.names
	*ev = Event{Cloud: "azure", Time: t, Action: in.get(op), Partial: true}
	rid, _ := strVal(h.resourceID)
	ev.Account = azSubscription(rid)
	if ev.Account == "" {
		if b, ok := rawStr(h.subscriptionID); ok {
			ev.Account = in.get(b)
		}
	}
	if i := strings.IndexByte(ev.Action, '/'); i > 0 {
		ev.Service = ev.Action[:i]
	}
	var result string
	if b, ok := rawStr(h.resultType); ok {
		result = string(b)
	} else if len(h.status) > 0 && h.status[0] == '{' {
		eachMember(h.status, func(k, v []byte) bool {
			if string(k) == "value" {
				result, _ = strVal(v)
				return false
			}
			return true
		})
	}
	ev.Success = azSuccess(result)
	if b, ok := rawStr(h.eventDataID); ok {
		ev.ID = string(b)
	} else {
		corr, _ := strVal(h.correlationID)
		ev.ID = azSyntheticID(corr, ev.Action, result, ts)
	}
	cat := h.category
	if len(cat) > 0 && cat[0] == '{' {
		eachMember(cat, func(k, v []byte) bool {
			if string(k) == "value" {
				cat = v
				return false
			}
			return true
		})
	}
	if b, ok := rawStr(cat); ok {
		ev.Category = strings.ToLower(string(b))
	}
	return true
}

// azSyntheticID names a record of the diagnostic-settings schema, which has no eventDataId: the
// same record read twice (Event Hub and storage) gets the same id.
func azSyntheticID(corr, op, result, ts string) string {
	return strings.ToLower(corr + "/" + op + "/" + result + "/" + ts)
}

// azSuccess: a final failure is the only failure; Start and Accept are successes so far.
func azSuccess(result string) bool {
	switch strings.ToLower(result) {
	case "failure", "failed", "canceled", "cancelled", "badrequest", "conflict", "forbidden":
		return false
	}
	return true
}

// azFinal reports whether a result type ends an operation.
func azFinal(result string) bool {
	switch strings.ToLower(result) {
	case "start", "started", "accept", "accepted", "in progress", "inprogress", "active":
		return false
	}
	return true
}

// azSubscription extracts the subscription id from a resource id.
func azSubscription(rid string) string {
	const p = "/subscriptions/"
	if len(rid) < len(p) || !strings.EqualFold(rid[:len(p)], p) {
		return ""
	}
	rest := rid[len(p):]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	return strings.ToLower(rest)
}

func azFull(rec *azRecord) (Event, error) {
	op := string(rec.OperationName)
	if op == "" {
		return Event{}, errors.New("activity log record without operationName")
	}
	ts := rec.Time
	if ts == "" {
		ts = rec.EventTimestamp
	}
	t, ok := parseTime(ts)
	if !ok {
		return Event{}, errors.New("activity log record with a bad time")
	}
	result := rec.ResultType
	if result == "" {
		result = string(rec.Status)
	}
	ev := Event{
		ID:       rec.EventDataID,
		Time:     t,
		Cloud:    "azure",
		Account:  azSubscription(rec.ResourceID),
		Action:   op,
		Category: strings.ToLower(string(rec.Category)),
		SourceIP: rec.CallerIPAddress,
		Success:  azSuccess(result),
	}
	if ev.ID == "" {
		ev.ID = gets(rec.Properties, "eventDataId")
	}
	if ev.ID == "" {
		ev.ID = azSyntheticID(rec.CorrelationID, op, result, ts)
	}
	if ev.Account == "" {
		ev.Account = strings.ToLower(rec.SubscriptionID)
	}
	if i := strings.IndexByte(op, '/'); i > 0 {
		ev.Service = op[:i]
	}
	if ev.SourceIP == "" {
		ev.SourceIP = rec.HTTPRequest.ClientIPAddress
	}
	if !ev.Success {
		ev.ErrorCode = firstNonEmpty(rec.ResultSignature, string(rec.SubStatus), gets(rec.Properties, "statusCode"))
		ev.ErrorMessage = gets(rec.Properties, "statusMessage")
	}
	setFact(&ev, "state", strings.ToLower(result))
	setFact(&ev, "correlation_id", rec.CorrelationID)
	setFact(&ev, "operation_id", firstNonEmpty(rec.OperationID, gets(rec.Properties, "operationId")))
	setFact(&ev, "status_code", firstNonEmpty(gets(rec.Properties, "statusCode"), rec.ResultSignature, string(rec.SubStatus)))
	azActor(&ev, rec)
	ev.Resource = azResource(rec.ResourceID)
	if ev.Resource.Region == "" && rec.Location != "" && !strings.EqualFold(rec.Location, "global") {
		ev.Resource.Region = strings.ToLower(rec.Location)
	}
	ev.Region = ev.Resource.Region
	azNormalize(&ev, rec)
	return ev, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Claim names as Entra ID writes them.
const (
	claimUPN      = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
	claimName     = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
	claimObjectID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	claimTenantID = "http://schemas.microsoft.com/identity/claims/tenantid"
	claimAuthn    = "http://schemas.microsoft.com/claims/authnmethodsreferences"
)

func azActor(ev *Event, rec *azRecord) {
	claims := obj(rec.Identity.Claims)
	if claims == nil {
		claims = obj(rec.Claims)
	}
	auth := rec.Identity.Authorization
	if auth.Action == "" && auth.Scope == "" {
		auth = rec.Authorization
	}
	a := &ev.Actor
	a.Name = firstNonEmpty(gets(claims, claimUPN), gets(claims, "upn"), rec.Caller, strings.TrimSpace(gets(claims, claimName)))
	a.ID = firstNonEmpty(gets(claims, claimObjectID), gets(claims, "oid"), auth.Evidence.PrincipalID)
	a.Account = firstNonEmpty(gets(claims, claimTenantID), gets(claims, "tid"), rec.TenantID)
	a.MFA = strings.Contains(gets(claims, claimAuthn), "mfa") || strings.Contains(gets(claims, "amr"), "mfa")
	switch {
	case auth.Evidence.PrincipalType != "":
		a.Type = auth.Evidence.PrincipalType
	case gets(claims, claimUPN) != "" || gets(claims, "upn") != "":
		a.Type = "User"
	case gets(claims, "appid") != "":
		a.Type = "ServicePrincipal"
	}
	if ev.SourceIP == "" {
		ev.SourceIP = gets(claims, "ipaddr")
	}
	setFact(ev, "app_id", gets(claims, "appid"))
	setFact(ev, "role", auth.Evidence.Role)
}

// azResource reads a resource id. The id is lower-cased (Azure ids are case-insensitive and
// real logs mix case) so that the same resource always has the same Resource.ID; ARN keeps the
// id as written.
func azResource(rid string) Resource {
	r := Resource{ID: strings.ToLower(rid), ARN: rid, Account: azSubscription(rid)}
	lower := strings.ToLower(rid)
	// A role assignment scoped to a resource acts on that resource.
	if i := strings.Index(lower, "/providers/microsoft.authorization/roleassignments/"); i > 0 {
		inner := azResource(rid[:i])
		if inner.Type != "" && inner.Type != "azure-resource-group" && inner.Type != "azure-subscription" {
			return inner
		}
		r.Type = "azure-role-assignment"
		return r
	}
	i := strings.LastIndex(lower, "/providers/")
	if i < 0 {
		switch {
		case strings.Contains(lower, "/resourcegroups/"):
			r.Type = "azure-resource-group"
		case lower != "":
			r.Type = "azure-subscription"
		}
		return r
	}
	parts := strings.Split(lower[i+len("/providers/"):], "/")
	// parts: namespace, type, name, [subtype, subname]...
	if len(parts) < 3 {
		r.Type = "azure-resource"
		return r
	}
	ns, types := parts[0], []string{}
	for j := 1; j < len(parts); j += 2 {
		types = append(types, parts[j])
	}
	path := strings.Join(types, "/")
	switch {
	case ns == "microsoft.compute" && path == "snapshots":
		r.Type = "azure-snapshot"
	case ns == "microsoft.compute" && path == "disks":
		r.Type = "azure-disk"
	case ns == "microsoft.compute" && path == "galleries":
		r.Type = "azure-gallery"
	case ns == "microsoft.compute" && path == "galleries/images":
		r.Type = "azure-gallery-image"
	case ns == "microsoft.compute" && path == "galleries/images/versions":
		r.Type = "azure-gallery-image-version"
	case ns == "microsoft.compute" && path == "images":
		r.Type = "azure-image"
	case ns == "microsoft.compute" && path == "diskaccesses":
		r.Type = "azure-disk-access"
	case ns == "microsoft.compute" && path == "virtualmachines":
		r.Type = "azure-vm"
	case ns == "microsoft.compute" && strings.HasPrefix(path, "restorepointcollections"):
		r.Type = "azure-restore-point"
	case ns == "microsoft.insights" && path == "diagnosticsettings":
		r.Type = "azure-diagnostic-setting"
	default:
		r.Type = "azure:" + ns + "/" + path
	}
	return r
}

// azRequestBody returns the request body as a map, whether logged as a JSON string or object.
func azRequestBody(rec *azRecord) map[string]any {
	for _, k := range []string{"requestbody", "requestBody"} {
		if v, ok := rec.Properties[k]; ok {
			if m := obj(v); m != nil {
				return m
			}
		}
	}
	return obj(get(rec.Properties, "requestbody"))
}

func azResponseBody(rec *azRecord) map[string]any {
	return obj(get(rec.Properties, "responseBody"))
}
