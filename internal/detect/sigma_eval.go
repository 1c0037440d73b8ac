package detect

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/finding"
)

// sigmaPattern is a Sigma rule whose action condition is a pattern, not a name.
type sigmaPattern struct {
	g    glob
	rule *sigmaRule
}

// actionFields are the raw-record fields holding the action, per cloud: a rule that requires one
// of them to equal a name is indexed by that name like a native rule.
var actionFields = map[string][]string{
	"aws":   {"eventName"},
	"azure": {"operationName", "OperationNameValue", "operationName.value"},
	"gcp":   {"gcp.audit.method_name", "protoPayload.methodName"},
}

func (e *Engine) indexSigma(set *sigmaSet) {
	for _, r := range set.rules {
		ci := e.cloudIndex(r.cloud)
		exact, pats, ok := requiredActions(r.cond, r)
		if !ok {
			ci.sigmaScan = append(ci.sigmaScan, r)
			continue
		}
		for _, a := range exact {
			ent := ci.entry(a)
			ent.sigma = appendOnce(ent.sigma, r)
		}
		for _, g := range pats {
			ci.sigmaPatterns = append(ci.sigmaPatterns, sigmaPattern{g, r})
		}
	}
}

func appendOnce(rs []*sigmaRule, r *sigmaRule) []*sigmaRule {
	for _, x := range rs {
		if x == r {
			return rs
		}
	}
	return append(rs, r)
}

// requiredActions works out action names (or patterns) one of which any record matching the
// condition must have. ok is false when the condition does not pin the action down.
func requiredActions(n condNode, r *sigmaRule) (exact []string, pats []glob, ok bool) {
	switch t := n.(type) {
	case identNode:
		return searchActions(r.searches[int(t)], r.cloud)
	case andNode:
		// Any one conjunct that pins the action is enough; prefer one without patterns.
		found := false
		for _, x := range t {
			e, p, ok := requiredActions(x, r)
			if ok && (!found || len(p) < len(pats)) {
				exact, pats, found = e, p, true
			}
		}
		return exact, pats, found
	case orNode:
		for _, x := range t {
			e, p, ok := requiredActions(x, r)
			if !ok {
				return nil, nil, false
			}
			exact, pats = append(exact, e...), append(pats, p...)
		}
		return exact, pats, true
	}
	return nil, nil, false // not: says nothing about what the record is
}

func searchActions(s *sigmaSearch, cloud string) (exact []string, pats []glob, ok bool) {
	if len(s.maps) == 0 {
		return nil, nil, false
	}
	for _, m := range s.maps {
		found := false
		for _, fm := range m {
			if !isActionField(fm.field, cloud) || fm.all && len(fm.values) > 1 {
				continue
			}
			usable := true
			for _, vm := range fm.values {
				if vm.kind != mGlob || vm.glob.cased {
					usable = false
				}
			}
			if !usable {
				continue
			}
			for _, vm := range fm.values {
				if vm.glob.pure {
					exact = append(exact, vm.glob.literal)
				} else {
					pats = append(pats, vm.glob)
				}
			}
			found = true
			break
		}
		if !found {
			return nil, nil, false
		}
	}
	return exact, pats, true
}

func isActionField(f, cloud string) bool {
	for _, a := range actionFields[cloud] {
		if f == a {
			return true
		}
	}
	return false
}

// literalsOf finds lower-case strings one of which the raw text of any matching record must
// contain: a prefilter that spares the JSON decoding of most records for rules not indexed by
// action. nil when the condition gives none (negations, regexps, null tests).
func literalsOf(n condNode, r *sigmaRule) []string {
	switch t := n.(type) {
	case identNode:
		return searchLiterals(r.searches[int(t)])
	case andNode:
		var best []string
		for _, x := range t {
			if l := literalsOf(x, r); l != nil && (best == nil || shortest(l) > shortest(best)) {
				best = l
			}
		}
		return best
	case orNode:
		var all []string
		for _, x := range t {
			l := literalsOf(x, r)
			if l == nil {
				return nil
			}
			all = append(all, l...)
		}
		return all
	}
	return nil
}

func shortest(l []string) int {
	n := -1
	for _, s := range l {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}

func searchLiterals(s *sigmaSearch) []string {
	if len(s.keywords) > 0 {
		var out []string
		for _, g := range s.keywords {
			p := longestPiece(g)
			if p == "" {
				return nil
			}
			out = append(out, p)
		}
		return out
	}
	var out []string
	for _, m := range s.maps {
		var best []string
		for _, fm := range m {
			var lits []string
			for _, vm := range fm.values {
				p := ""
				if vm.kind == mGlob {
					p = longestPiece(vm.glob)
				}
				if p == "" {
					lits = nil
					break
				}
				lits = append(lits, p)
			}
			if lits != nil && (best == nil || shortest(lits) > shortest(best)) {
				best = lits
			}
		}
		if best == nil {
			return nil
		}
		out = append(out, best...)
	}
	return out
}

// longestPiece returns the longest literal part of a glob if it is sure to appear verbatim in the
// raw JSON: printable ASCII with nothing JSON might escape.
func longestPiece(g glob) string {
	if g.re != nil {
		return ""
	}
	best := ""
	for _, p := range g.pieces {
		if len(p) > len(best) && jsonSafe(p) {
			best = strings.ToLower(p)
		}
	}
	return best
}

func jsonSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// sigmaCandidates collects the Sigma rules that may match the record, into buf. It allocates
// nothing when there are none.
func (e *Engine) sigmaCandidates(ci *cloudIndex, ent *actionEntry, ev *event.Event, buf []*sigmaRule) []*sigmaRule {
	if ent != nil {
		buf = append(buf, ent.sigma...)
	}
	for i := range ci.sigmaPatterns {
		if p := &ci.sigmaPatterns[i]; p.g.matchFold(ev.Action) {
			buf = appendOnce(buf, p.rule)
		}
	}
	for _, r := range ci.sigmaScan {
		if r.prefilter != nil && !anyFold(ev.Raw, r.prefilter) {
			continue
		}
		buf = appendOnce(buf, r)
	}
	return buf
}

func anyFold(raw []byte, lits []string) bool {
	for _, l := range lits {
		if containsFoldBytes(raw, l) {
			return true
		}
	}
	return false
}

// evalSigma decodes the raw record once and runs the candidate rules on it. Events built without
// a raw record (tests, synthetic events) cannot be Sigma-matched.
func (e *Engine) evalSigma(cands []*sigmaRule, ev *event.Event) []finding.Finding {
	if len(ev.Raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(ev.Raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil
	}
	var out []finding.Finding
	for _, r := range cands {
		c := sigmaCtx{rule: r, doc: doc, raw: ev.Raw, memo: make([]int8, len(r.searches))}
		if !r.cond.eval(&c) {
			continue
		}
		out = append(out, e.sigmaFinding(r, ev))
	}
	return out
}

// sigmaFinding: a Sigma rule has no notion of which share or grantee makes two matches the
// same problem, so the record id is the distinguishing part.
func (e *Engine) sigmaFinding(r *sigmaRule, ev *event.Event) finding.Finding {
	res := resourceOf(ev)
	id := "sigma/" + r.ID
	ev2 := e.evidence(ev)
	ev2["sigma"] = map[string]string{"id": r.ID, "title": r.Title, "status": r.Status, "path": r.Path}
	tags := append([]string{"sigma"}, r.Tags...)
	return finding.Finding{
		ID: finding.Fingerprint(id, res, ev.ID), Kind: finding.KindEvent, Rule: id, Title: r.Title,
		Severity: r.Severity, Description: r.Description, Resource: res, Evidence: ev2,
		FirstSeen: ev.Time, LastSeen: ev.Time, Status: finding.StatusOpen, Tags: tags,
	}
}
