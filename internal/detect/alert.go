package detect

import (
	"maps"
	"sort"
	"strings"

	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/finding"
)

// evalRule runs one native rule on a record.
func (e *Engine) evalRule(ref ruleRef, ev *event.Event, exp *exposure) []finding.Finding {
	r := ref.rule
	if ev.Partial {
		return nil // the parser's pre-filter left the outcome and details out
	}
	switch r.Kind {
	case KindRevocation:
		return nil // its implied grant already reached the exposure state
	case KindUsed:
		return e.evalUsed(r, ev)
	case KindBurst:
		return e.evalBurst(r, ev)
	case KindCopyShare:
		return e.evalCopy(r, ev)
	}
	hits := r.matchBlock(ev, e.boundary)
	if hits == nil {
		return nil
	}
	attempt := !ev.Success
	if attempt && !r.Attempts {
		return nil
	}
	if op := ev.Facts["operation_id"]; op != "" {
		// A long-running operation logs several records (Azure Start/Accept/Success, GCP
		// first/last): alert once per operation.
		k := "op\x00" + r.ID + "\x00" + op
		if e.records.Contains(k) {
			return nil
		}
		e.records.Add(k, struct{}{})
	}
	f := e.newFinding(r, ev, hits, attempt)
	out := []finding.Finding{f}
	if r.Category == CategoryLeak && len(hits) > 0 && !attempt {
		e.applyBaseline(&out[0], ev, hits)
		if exp != nil {
			out[0].Evidence["timeline"] = exp.timeline()
			out[0].Evidence["exposure_state"] = stateOf(exp)
			exp.remember(out[0], granteesOf(hits))
		}
		out = append(out, e.shareAfterCopy(ev, hits, out[0])...)
	}
	return out
}

func stateOf(x *exposure) string {
	if x.isOpen() {
		return "open"
	}
	return "closed"
}

func granteesOf(hits []hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.grantee()
	}
	sort.Strings(out)
	return out
}

// newFinding builds an alert. Its id is the fingerprint of the rule, the resource and what
// distinguishes one instance (the grantees, key facts): the same share of the same snapshot to
// the same account is the same problem in every run.
func (e *Engine) newFinding(r *Rule, ev *event.Event, hits []hit, attempt bool) finding.Finding {
	id, sev, title := r.ID, r.Severity, r.Title
	if attempt {
		// A failed call is its own, lesser problem: its id must not merge with a real share.
		id, sev, title = r.ID+"-attempt", r.AttemptSeverity, "Failed attempt: "+r.Title
	}
	res := resourceOf(ev)
	parts := granteesOf(hits)
	for _, k := range r.KeyFacts {
		parts = append(parts, k+"="+ev.Facts[k])
	}
	f := finding.Finding{
		ID: finding.Fingerprint(id, res, parts...), Kind: finding.KindEvent, Rule: id, Title: title,
		Severity: sev, Description: r.Description, Remediation: r.Remediation, Resource: res,
		Evidence: e.evidence(ev), Compliance: r.Compliance, FirstSeen: ev.Time, LastSeen: ev.Time,
		Status: finding.StatusOpen, Tags: ruleTags(r),
	}
	if attempt {
		f.Tags = append(f.Tags, "failed-attempt")
	}
	if r.usesBoundary || len(ev.Grants) > 0 {
		// What "outside" meant matters to reading this alert.
		f.Evidence["boundary"] = e.boundaryNote(ev)
		if !e.boundary.Known() {
			f.Tags = append(f.Tags, "boundary-unknown")
		}
	}
	if len(hits) > 0 {
		f.Evidence["matched_grantees"] = parts[:len(hits)]
	}
	return f
}

func ruleTags(r *Rule) []string {
	tags := make([]string, 0, len(r.Attack)+len(r.Tags)+1)
	for _, t := range r.Attack {
		tags = append(tags, "attack."+strings.ToLower(t))
	}
	tags = append(tags, r.Tags...)
	if r.Category != "" {
		tags = append(tags, "category."+r.Category)
	}
	return tags
}

// evidence is what every alert carries about its record.
func (e *Engine) evidence(ev *event.Event) finding.Evidence {
	actor := map[string]string{}
	for k, v := range map[string]string{"type": ev.Actor.Type, "id": ev.Actor.ID, "arn": ev.Actor.ARN,
		"name": ev.Actor.Name, "account": ev.Actor.Account, "invoked_by": ev.Actor.InvokedBy,
		"session_issuer": ev.Actor.SessionIssuer, "source_ip": ev.SourceIP, "user_agent": ev.UserAgent} {
		if v != "" {
			actor[k] = v
		}
	}
	ev2 := finding.Evidence{
		"records": []string{ev.ID},
		"action":  ev.Action,
		"time":    ev.Time,
		"actor":   actor,
	}
	if ev.Service != "" {
		ev2["service"] = ev.Service
	}
	if len(ev.Grants) > 0 {
		var gs []map[string]string
		for _, h := range classified(ev, e.boundary) {
			g := map[string]string{"op": h.Op, "kind": h.Kind, "grantee": h.Value, "class": h.Class.String()}
			if h.Role != "" {
				g["role"] = h.Role
			}
			gs = append(gs, g)
		}
		ev2["grants"] = gs
	}
	if ev.ErrorCode != "" || ev.ErrorMessage != "" {
		ev2["error_code"], ev2["error_message"] = ev.ErrorCode, ev.ErrorMessage
	}
	if len(ev.Facts) > 0 {
		ev2["facts"] = maps.Clone(ev.Facts)
	}
	if ev.Origin.Source != "" {
		ev2["origin"] = ev.Origin
	}
	return ev2
}

// boundaryNote says what "outside" meant for this alert; with no configured boundary only the
// record's own account was internal, which users must know to read the alert.
func (e *Engine) boundaryNote(ev *event.Event) string {
	if e.boundary.Known() {
		return "configured"
	}
	own := ev.Account
	if ev.Resource.Account != "" && ev.Resource.Account != ev.Account {
		own += ", " + ev.Resource.Account
	}
	return "unknown: no boundary configured, only the record's own account (" + own + ") was treated as internal"
}
