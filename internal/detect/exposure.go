package detect

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// Bounds of one exposure's state; the number of exposures is Limits.Exposures.
const (
	maxTimeline       = 64  // raw entries kept (the first, then the most recent)
	maxGrantees       = 256 // outside grantees tracked per resource
	maxExposureAlerts = 16  // alerts re-issued by Flush
)

// Exposure is what the engine knows of one resource's access by outside parties.
type Exposure struct {
	Resource finding.Resource `json:"resource"`
	// State is "open" while any outside grantee keeps access, else "closed".
	State     string          `json:"state"`
	Used      bool            `json:"used"` // an outside account copied or mounted it
	Opened    time.Time       `json:"opened"`
	Closed    time.Time       `json:"closed,omitzero"`
	Grantees  []Grantee       `json:"grantees"`
	Timeline  []TimelineEntry `json:"timeline"`
	Alerts    []string        `json:"alerts,omitempty"`    // ids of the findings raised about it
	Truncated int             `json:"truncated,omitempty"` // timeline entries dropped by the bound
}

// Grantee is one outside party's access to the resource.
type Grantee struct {
	Grantee string    `json:"grantee"` // "account:123…", "public:all", "public:sas", "member:user:…"
	Class   string    `json:"class"`
	Open    bool      `json:"open"`
	Added   time.Time `json:"added,omitzero"`
	Removed time.Time `json:"removed,omitzero"`
}

// TimelineEntry is one step of an exposure. What is "opened" (first outside grant), "shared"
// (another grantee while open), "used", "revoked" (a grantee removed, others remain) or "closed"
// (the last one removed).
type TimelineEntry struct {
	Time     time.Time `json:"time"`
	What     string    `json:"what"`
	Grantee  string    `json:"grantee,omitempty"`
	RecordID string    `json:"record_id,omitempty"`
	Actor    string    `json:"actor,omitempty"`
}

// mark is when and by which record something happened; seq orders records of equal time.
type mark struct {
	t     time.Time
	seq   uint64
	rec   string
	actor string
}

func (a mark) after(b mark) bool {
	if !a.t.Equal(b.t) {
		return a.t.After(b.t)
	}
	return a.seq > b.seq
}

type granteeState struct {
	class    trust.Class
	add, rem mark // latest of each by event time
}

// open: granted, and not removed since. Comparing event times, not arrival, makes the state the
// same whatever order the records come in.
func (g *granteeState) open() bool { return g.add.seq != 0 && (g.rem.seq == 0 || g.add.after(g.rem)) }

type rawEntry struct {
	mark
	op      string // "add", "remove", "used"
	grantee string
}

type alertRef struct {
	f        finding.Finding
	grantees []string
}

type exposure struct {
	res       finding.Resource
	grantees  map[string]*granteeState
	order     []string // grantees in first-seen order, for stable output
	entries   []rawEntry
	truncated int
	used      bool
	alerts    []alertRef
	dirty     bool // changed since the last Flush
}

func exposureKey(ev *event.Event) string {
	r := resourceOf(ev)
	return strings.Join([]string{r.Provider, r.Account, r.Type, r.ID}, "\x00")
}

// updateExposure applies a successful record's grants. Grants to internal grantees are not
// exposures and are ignored. A removal is remembered even without a known share, because the
// share may be in a later file.
func (e *Engine) updateExposure(ev *event.Event) *exposure {
	var x *exposure
	m := mark{t: ev.Time, seq: e.seq, rec: ev.ID, actor: actorKey(ev.Actor)}
	added := map[string]bool{}
	for _, g := range ev.Grants {
		op := strings.ToLower(g.Op)
		if op != "add" && op != "remove" {
			continue
		}
		if op == "remove" && g.Value == "*" {
			// A reset (Azure gallery sharing reset, AWS Reset*Attribute): every grantee of the
			// kind ("*" for any) goes.
			if x = e.exposureFor(ev, false); x != nil {
				x.removeAll(g.Kind, m)
			}
			continue
		}
		cl := classify(e.boundary, g, ev.Account, ev.Resource.Account)
		if cl == trust.Internal {
			continue
		}
		if x == nil {
			x = e.exposureFor(ev, true)
		}
		gs := x.grantee(granteeOf(g), cl)
		if gs == nil {
			continue
		}
		if op == "add" {
			added[granteeOf(g)] = true
			if gs.add.seq == 0 || m.after(gs.add) {
				gs.add = m
			}
		} else if gs.rem.seq == 0 || m.after(gs.rem) {
			gs.rem = m
		}
		x.record(rawEntry{mark: m, op: op, grantee: granteeOf(g)})
	}
	switch ev.Facts["grants_basis"] {
	case "full-policy", "resulting-policy":
		// The grants are the whole policy after the call, not a change: whoever is missing
		// from it lost access.
		if x == nil {
			x = e.exposureFor(ev, false)
		}
		if x != nil {
			for _, name := range x.order {
				if gs := x.grantees[name]; !added[name] && gs.open() {
					gs.rem = m
					x.record(rawEntry{mark: m, op: "remove", grantee: name})
				}
			}
		}
	}
	return x
}

// removeAll revokes every open grantee of a kind ("*": all kinds).
func (x *exposure) removeAll(kind string, m mark) {
	for _, name := range x.order {
		gs := x.grantees[name]
		if !gs.open() || kind != "*" && !strings.HasPrefix(name, kind+":") {
			continue
		}
		gs.rem = m
		x.record(rawEntry{mark: m, op: "remove", grantee: name})
	}
}

func (e *Engine) exposureFor(ev *event.Event, create bool) *exposure {
	k := exposureKey(ev)
	if x, ok := e.exposures.Get(k); ok {
		return x
	}
	if !create {
		return nil
	}
	x := &exposure{res: resourceOf(ev), grantees: map[string]*granteeState{}}
	e.exposures.Add(k, x)
	return x
}

func (x *exposure) grantee(name string, cl trust.Class) *granteeState {
	if gs := x.grantees[name]; gs != nil {
		return gs
	}
	if len(x.grantees) >= maxGrantees {
		x.truncated++
		return nil
	}
	gs := &granteeState{class: cl}
	x.grantees[name] = gs
	x.order = append(x.order, name)
	return gs
}

func (x *exposure) record(en rawEntry) {
	x.dirty = true
	if len(x.entries) >= maxTimeline {
		// Keep the first entry (how it began) and the most recent ones.
		copy(x.entries[1:], x.entries[2:])
		x.entries = x.entries[:len(x.entries)-1]
		x.truncated++
	}
	x.entries = append(x.entries, en)
}

func (x *exposure) markUsed(m mark, by string) {
	x.used = true
	x.record(rawEntry{mark: m, op: "used", grantee: by})
}

func (x *exposure) remember(f finding.Finding, grantees []string) {
	x.dirty = true
	for i := range x.alerts {
		if x.alerts[i].f.ID == f.ID {
			x.alerts[i] = alertRef{f, grantees}
			return
		}
	}
	if len(x.alerts) >= maxExposureAlerts {
		x.alerts = x.alerts[1:]
	}
	x.alerts = append(x.alerts, alertRef{f, grantees})
}

func (x *exposure) isOpen() bool {
	for _, gs := range x.grantees {
		if gs.open() {
			return true
		}
	}
	return false
}

// timeline replays the raw entries in time order and names each step.
func (x *exposure) timeline() []TimelineEntry {
	es := slices.Clone(x.entries)
	sort.SliceStable(es, func(i, j int) bool { return es[j].after(es[i].mark) })
	open := map[string]bool{}
	out := make([]TimelineEntry, 0, len(es))
	for _, en := range es {
		what := ""
		switch en.op {
		case "add":
			what = "shared"
			if len(open) == 0 {
				what = "opened"
			}
			open[en.grantee] = true
		case "remove":
			what = "revoked"
			if open[en.grantee] {
				delete(open, en.grantee)
				if len(open) == 0 {
					what = "closed"
				}
			}
		case "used":
			what = "used"
		}
		out = append(out, TimelineEntry{Time: en.t, What: what, Grantee: en.grantee, RecordID: en.rec, Actor: en.actor})
	}
	return out
}

// hasShare: an exposure made only of removals (a revocation whose share was never seen) is no
// exposure to report.
func (x *exposure) hasShare() bool {
	for _, gs := range x.grantees {
		if gs.add.seq != 0 {
			return true
		}
	}
	return x.used
}

func (x *exposure) snapshot() Exposure {
	tl := x.timeline()
	out := Exposure{Resource: x.res, State: "closed", Used: x.used, Timeline: tl, Truncated: x.truncated}
	if x.isOpen() {
		out.State = "open"
	}
	for _, en := range tl {
		if en.What == "opened" && out.Opened.IsZero() {
			out.Opened = en.Time
		}
		if en.What == "closed" {
			out.Closed = en.Time
		}
		if en.What == "opened" && !out.Closed.IsZero() && en.Time.After(out.Closed) {
			out.Closed = time.Time{} // re-opened after a close
		}
	}
	if out.State == "open" {
		out.Closed = time.Time{}
	}
	for _, name := range x.order {
		gs := x.grantees[name]
		g := Grantee{Grantee: name, Class: gs.class.String(), Open: gs.open(), Added: gs.add.t, Removed: gs.rem.t}
		out.Grantees = append(out.Grantees, g)
	}
	for _, a := range x.alerts {
		out.Alerts = append(out.Alerts, a.f.ID)
	}
	return out
}

// alertUpdates re-issues the exposure's alerts with the full timeline and their status now.
func (x *exposure) alertUpdates() []finding.Finding {
	snap := x.snapshot()
	var last time.Time
	for _, en := range snap.Timeline {
		if en.Time.After(last) {
			last = en.Time
		}
	}
	out := make([]finding.Finding, 0, len(x.alerts))
	for _, a := range x.alerts {
		f := a.f
		f.Evidence = maps.Clone(a.f.Evidence)
		f.Evidence["timeline"] = snap.Timeline
		f.Evidence["exposure_state"] = snap.State
		f.Status = finding.StatusResolved
		for _, g := range a.grantees {
			if gs := x.grantees[g]; gs != nil && gs.open() {
				f.Status = finding.StatusOpen
			}
		}
		if len(a.grantees) == 0 && snap.State == "open" {
			f.Status = finding.StatusOpen // a "used" alert lasts as long as the exposure
		}
		if last.After(f.LastSeen) {
			f.LastSeen = last
		}
		out = append(out, f)
	}
	return out
}

func sortExposures(xs []Exposure) {
	sort.Slice(xs, func(i, j int) bool { return xs[i].Resource.Key() < xs[j].Resource.Key() })
}
