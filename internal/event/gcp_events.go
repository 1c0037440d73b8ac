package event

import (
	"sort"
	"strings"
)

// gcpNormalize sets Grants and Facts by method.
func (ru *run) gcpNormalize(ev *Event, p *gcpAudit) {
	m := p.MethodName
	last := lastSegment(m, '.')
	switch {
	case strings.EqualFold(last, "setIamPolicy"):
		ru.gcpSetIamPolicy(ev, p)
	case strings.EqualFold(last, "getIamPolicy"):
		// A policy read seeds the memory that later setIamPolicy calls are diffed against.
		if ev.Success {
			if pol, ok := policyFrom(decodeAny(p.Response)); ok {
				ru.d.gcp.put(ev.Resource.ID, pol)
			}
		}
	case strings.Contains(m, "CloudBuild.CreateBuild"):
		gcpBuild(ev, decodeAny(p.Request))
	case strings.Contains(m, "ConfigServiceV2."), strings.Contains(m, "LoggingServiceV2.DeleteLog"):
		setFact(ev, "logging_change", last)
	case strings.Contains(m, "OrgPolicy"):
		req := decodeAny(p.Request)
		c := firstNonEmpty(gets(req, "policy", "name"), gets(req, "policy", "constraint"), gets(req, "constraint"))
		ev.Resource = Resource{Type: "account-guard", ID: lastSegment(c, '/'), ARN: ev.Resource.ARN, Account: ev.Account}
		setFact(ev, "constraint", c)
	case strings.HasPrefix(last, "insert") || last == "createSnapshot":
		gcpInsert(ev, p, last)
	}
	if strings.Contains(string(p.Metadata), "CrossEntityControlAuditMetadata") {
		// Logged in this project because a principal of another project used its resource.
		setFact(ev, "cross_entity", "true")
	}
}

// gcpInsert reads where a new snapshot, image, machine image or disk comes from and where it is
// stored; a source in another project is consumption of a shared resource (or a copy out).
func gcpInsert(ev *Event, p *gcpAudit, last string) {
	req := decodeAny(p.Request)
	var locs []string
	for _, l := range list(get(req, "storageLocations")) {
		locs = append(locs, str(l))
	}
	setFact(ev, "storage_locations", strings.Join(locs, ","))
	if last == "createSnapshot" {
		setFact(ev, "snapshot_name", gets(req, "name"))
	}
	for _, k := range []string{"sourceDisk", "sourceSnapshot", "sourceImage", "sourceInstance", "sourceMachineImage"} {
		src := gets(req, k)
		if src == "" {
			continue
		}
		fact := "source_" + strings.ToLower(strings.TrimPrefix(k, "source"))
		setFact(ev, fact, src)
		setFact(ev, "copy_of", src)
		if sp := gcpResource("", src).Account; sp != "" {
			setFact(ev, "source_project", sp)
			if sp != ev.Resource.Account {
				setFact(ev, "cross_project", "true")
			}
		}
	}
}

// gcpBuild recognises the image export workflow (gcloud compute images export runs Cloud Build
// with the gce_vm_image_export builder and -source_image / -destination_uri arguments).
func gcpBuild(ev *Event, req any) {
	for _, st := range list(get(req, "build", "steps")) {
		name := gets(st, "name")
		var src, dst, format string
		for _, a := range list(get(st, "args")) {
			s := str(a)
			switch {
			case strings.HasPrefix(s, "-source_image="):
				src = strings.TrimPrefix(s, "-source_image=")
			case strings.HasPrefix(s, "-destination_uri="):
				dst = strings.TrimPrefix(s, "-destination_uri=")
			case strings.HasPrefix(s, "-format="):
				format = strings.TrimPrefix(s, "-format=")
			}
		}
		if dst == "" && !strings.Contains(name, "image_export") {
			continue
		}
		if src != "" {
			r := gcpResource("compute.googleapis.com", src)
			if r.Account == "" {
				r.Account = ev.Account
			}
			ev.Resource = r
		}
		setFact(ev, "export", "image")
		setFact(ev, "export_destination", dst)
		setFact(ev, "disk_image_format", format)
		return
	}
}

// gcpSetIamPolicy computes the grant changes of a setIamPolicy. setIamPolicy replaces the whole
// policy, so the request alone does not say what changed: the policyDelta does when logged,
// else the request is diffed against the last policy seen for the resource in this stream; with
// no earlier policy every binding is reported as an add (grants_basis "full-policy").
func (ru *run) gcpSetIamPolicy(ev *Event, p *gcpAudit) {
	req := decodeAny(p.Request)
	resp := decodeAny(p.Response)
	newPol, haveNew := policyFrom(get(req, "policy"))
	if respPol, ok := policyFrom(resp); ok {
		// The response is the policy as stored: the best "after".
		newPol, haveNew = respPol, true
	}
	deltas := findDeltas(decodeAny(p.ServiceData))
	if deltas == nil {
		deltas = findDeltas(decodeAny(p.Metadata))
	}
	key := ev.Resource.ID
	old, known := ru.d.gcp.get(key)
	switch {
	case deltas != nil:
		setFact(ev, "grants_basis", "policy-delta")
		for _, d := range deltas {
			op := "add"
			if strings.EqualFold(gets(d, "action"), "REMOVE") {
				op = "remove"
			}
			addGrant(ev, memberGrant(op, gets(d, "member"), gets(d, "role")))
		}
		if !haveNew && known {
			newPol, haveNew = old.apply(deltas), true
		}
	case haveNew && known:
		setFact(ev, "grants_basis", "diff")
		for _, b := range newPol.minus(old) {
			addGrant(ev, memberGrant("add", b.member, b.role))
		}
		for _, b := range old.minus(newPol) {
			addGrant(ev, memberGrant("remove", b.member, b.role))
		}
	case haveNew:
		setFact(ev, "grants_basis", "full-policy")
		for _, b := range newPol.sorted() {
			addGrant(ev, memberGrant("add", b.member, b.role))
		}
	}
	if haveNew && ev.Success {
		ru.d.gcp.put(key, newPol)
	}
	sortGrants(ev)
	var doms []string
	seen := map[string]bool{}
	for _, g := range ev.Grants {
		if d := memberDomain(g.Value); d != "" && !seen[d] {
			seen[d] = true
			doms = append(doms, d)
		}
	}
	sort.Strings(doms)
	setFact(ev, "member_domains", strings.Join(doms, ","))
}

// memberGrant maps an IAM member to a grant.
func memberGrant(op, member, role string) Grant {
	switch member {
	case "allUsers":
		return Grant{Op: op, Kind: GrantPublic, Value: "all", Role: role}
	case "allAuthenticatedUsers":
		return Grant{Op: op, Kind: GrantAuthUsers, Value: "allAuthenticatedUsers", Role: role}
	}
	return Grant{Op: op, Kind: GrantMember, Value: member, Role: role}
}

// memberDomain is the domain an outsider check compares: user:a@x.com → x.com, domain:x.com →
// x.com; service accounts give their own domain (PROJECT.iam.gserviceaccount.com).
func memberDomain(m string) string {
	m = strings.TrimPrefix(m, "deleted:")
	if strings.HasPrefix(m, "domain:") {
		return strings.TrimPrefix(m, "domain:")
	}
	if at := strings.LastIndexByte(m, '@'); at >= 0 {
		d := m[at+1:]
		if q := strings.IndexByte(d, '?'); q >= 0 { // deleted:user:a@x.com?uid=...
			d = d[:q]
		}
		return d
	}
	return ""
}

// findDeltas returns policyDelta.bindingDeltas wherever the entry put them (serviceData is
// deprecated in favour of metadata; both occur).
func findDeltas(v any) []any {
	if v == nil {
		return nil
	}
	for _, path := range [][]string{{"policyDelta", "bindingDeltas"}, {"serviceData", "policyDelta", "bindingDeltas"}} {
		if d := get(v, path...); d != nil {
			return list(d)
		}
	}
	return nil
}

// binding is one role granted to one member.
type binding struct{ role, member string }

// policy is a set of bindings.
type policy map[binding]struct{}

// policyFrom reads {"bindings":[{"role","members":[...]}]}; ok is false when v is not a policy.
// A policy with no bindings member is the empty policy only if it says so with an etag or
// version (the answer to "remove everything").
func policyFrom(v any) (policy, bool) {
	m, isMap := v.(map[string]any)
	if !isMap {
		return nil, false
	}
	bs, has := m["bindings"]
	if !has && m["etag"] == nil && m["version"] == nil {
		return nil, false
	}
	p := policy{}
	for _, b := range list(bs) {
		role := gets(b, "role")
		for _, mem := range list(get(b, "members")) {
			p[binding{role, str(mem)}] = struct{}{}
		}
	}
	return p, true
}

func (p policy) minus(q policy) []binding {
	var out []binding
	for b := range p {
		if _, ok := q[b]; !ok {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].role != out[j].role {
			return out[i].role < out[j].role
		}
		return out[i].member < out[j].member
	})
	return out
}

func (p policy) sorted() []binding { return p.minus(nil) }

func (p policy) apply(deltas []any) policy {
	out := make(policy, len(p))
	for b := range p {
		out[b] = struct{}{}
	}
	for _, d := range deltas {
		b := binding{gets(d, "role"), gets(d, "member")}
		if strings.EqualFold(gets(d, "action"), "REMOVE") {
			delete(out, b)
		} else {
			out[b] = struct{}{}
		}
	}
	return out
}

// policyMemory remembers the last policy of at most max resources, forgetting the least
// recently written first.
type policyMemory struct {
	max   int
	m     map[string]policyEntry
	queue []policyQueued
	head  int
	seq   uint64
}

type policyEntry struct {
	p   policy
	seq uint64
}

type policyQueued struct {
	key string
	seq uint64
}

func newPolicyMemory(max int) *policyMemory {
	return &policyMemory{max: max, m: make(map[string]policyEntry)}
}

func (pm *policyMemory) get(key string) (policy, bool) {
	e, ok := pm.m[key]
	return e.p, ok
}

func (pm *policyMemory) put(key string, p policy) {
	if key == "" {
		return
	}
	pm.seq++
	pm.m[key] = policyEntry{p, pm.seq}
	pm.queue = append(pm.queue, policyQueued{key, pm.seq})
	for len(pm.m) > pm.max && pm.head < len(pm.queue) {
		q := pm.queue[pm.head]
		pm.head++
		if e, ok := pm.m[q.key]; ok && e.seq == q.seq {
			delete(pm.m, q.key)
		}
	}
	if len(pm.queue)-pm.head > 2*len(pm.m)+1024 {
		// Rewrites of the same keys left stale entries: keep only the live ones.
		live := pm.queue[:0]
		for _, q := range pm.queue[pm.head:] {
			if e, ok := pm.m[q.key]; ok && e.seq == q.seq {
				live = append(live, q)
			}
		}
		pm.queue, pm.head = live, 0
	}
}
