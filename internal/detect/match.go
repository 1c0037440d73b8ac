package detect

import (
	"slices"
	"strings"

	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// hit is a grant the record makes, with where its grantee stands.
type hit struct {
	event.Grant
	Class trust.Class
}

// grantee names a grant's grantee the same way everywhere: "account:123456789012", "public:all",
// "member:user:a@example.com".
func (h hit) grantee() string { return granteeOf(h.Grant) }

func granteeOf(g event.Grant) string { return g.Kind + ":" + g.Value }

// matchBlock returns the grants that made the first matching block match (empty for blocks
// without a grant condition), or nil when no block matches. The outcome (success or failure) is
// the caller's business.
func (r *Rule) matchBlock(ev *event.Event, b *trust.Boundary) []hit {
	for i := range r.match {
		if hits, ok := r.match[i].matches(ev, b, false); ok {
			if hits == nil {
				hits = []hit{}
			}
			return hits
		}
	}
	return nil
}

// matchesIgnoringGrants is for implied grants: the record has none yet.
func (r *Rule) matchesIgnoringGrants(ev *event.Event, b *trust.Boundary) bool {
	for i := range r.match {
		if _, ok := r.match[i].matches(ev, b, true); ok {
			return true
		}
	}
	return false
}

func (m *matcher) matches(ev *event.Event, b *trust.Boundary, ignoreGrants bool) ([]hit, bool) {
	if ev.Cloud != m.cloud || !containsFold(m.actions, ev.Action) {
		return nil, false
	}
	if m.service != "" && !strings.EqualFold(ev.Service, m.service) {
		return nil, false
	}
	if len(m.resourceTypes) > 0 && !slices.Contains(m.resourceTypes, ev.Resource.Type) {
		return nil, false
	}
	if len(m.actorTypes) > 0 && !containsFold(m.actorTypes, ev.Actor.Type) {
		return nil, false
	}
	if containsFold(m.notActorTypes, ev.Actor.Type) || containsFold(m.notInvokedBy, ev.Actor.InvokedBy) {
		return nil, false
	}
	for _, c := range m.facts {
		v, ok := ev.Facts[c.key]
		if !ok || !containsFold(c.values, v) {
			return nil, false
		}
	}
	for _, c := range m.notFacts {
		if v, ok := ev.Facts[c.key]; ok && containsFold(c.values, v) {
			return nil, false
		}
	}
	own := [2]string{ev.Account, ev.Resource.Account}
	if len(m.outsideFacts) > 0 {
		outside := false
		for _, k := range m.outsideFacts {
			if v := ev.Facts[k]; v != "" && factOutside(v, b, own[:]) {
				outside = true
			}
		}
		if !outside {
			return nil, false
		}
	}
	if len(m.grants) == 0 || ignoreGrants {
		return nil, true
	}
	var hits []hit
	for _, g := range ev.Grants {
		if !strings.EqualFold(g.Op, "add") {
			continue
		}
		if cl := classify(b, g, own[:]...); slices.Contains(m.grants, cl) {
			hits = append(hits, hit{g, cl})
		}
	}
	return hits, len(hits) > 0
}

// factOutside reports whether a fact naming a key, principal or account points outside the
// boundary. Only an ARN (or a bare account id) says whose it is; an alias or key id is the
// caller's own.
func factOutside(v string, b *trust.Boundary, own []string) bool {
	if acct := trust.ARNAccount(v); acct != "" {
		return b.ClassifyAccount(acct, own...) != trust.Internal
	}
	if len(v) == 12 && strings.Trim(v, "0123456789") == "" {
		return b.ClassifyAccount(v, own...) != trust.Internal
	}
	return false
}

// classify places one grantee of an event with the product's boundary (internal/trust reads
// event grant kinds as they are spelled). own are the record's account and the resource owner.
func classify(b *trust.Boundary, g event.Grant, own ...string) trust.Class {
	return b.Classify(g.Kind, g.Value, own...)
}

// classified returns every grant of the record with its class, for evidence.
func classified(ev *event.Event, b *trust.Boundary) []hit {
	out := make([]hit, 0, len(ev.Grants))
	for _, g := range ev.Grants {
		out = append(out, hit{g, classify(b, g, ev.Account, ev.Resource.Account)})
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
