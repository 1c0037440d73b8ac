// Package detect turns normalized audit-log events into alerts: native leak rules loaded from
// data files, SigmaHQ-style rules run beside them, and the state that single records cannot
// show — which shares are still open (share → use → revoke), bursts, copies to unused regions,
// and first-seen baselines. Alerts are findings of kind "event".
//
// An Engine is not safe for concurrent use: feed it from one goroutine (parsing is where the
// parallelism is; an irrelevant event costs the engine a map lookup or two).
package detect

import (
	"fmt"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// Config configures an Engine. The zero Config is usable: embedded rules, unknown boundary,
// default bounds.
type Config struct {
	// Trust is who is inside the organisation: the same internal/trust boundary `snapwatch
	// audit` uses, so both commands agree on every grantee. The zero value is an unknown
	// boundary: only the record's own account is internal.
	Trust trust.Config
	// RulesDir holds extra *.toml rule files; a rule with an embedded rule's id replaces it.
	RulesDir string
	// SigmaDir is searched recursively for SigmaHQ-style *.yml rules (a SigmaHQ checkout's
	// rules/cloud works). Rules for other log sources, and rules this engine cannot run, are
	// skipped and listed by Engine.SigmaSkipped.
	SigmaDir string
	// SigmaFieldMap adds field names to try for a Sigma field: {"gcp.audit.method_name":
	// ["protoPayload.methodName"]}. Built-in mappings cover the gcp.audit.* names.
	SigmaFieldMap map[string][]string
	// Bursts overrides burst thresholds by rule id.
	Bursts map[string]BurstLimit
	// CopyWindow overrides the copy-then-share window (0 keeps the rule's).
	CopyWindow time.Duration
	// Baseline seeds what a previous run learned.
	Baseline Baseline
	// Limits bound the engine's memory.
	Limits Limits
}

// Baseline is prior knowledge for first-seen detections.
type Baseline struct {
	Regions    map[string][]string // account → regions it has used
	Sharers    []string            // actors (ARN, or id) known to share resources
	Recipients []string            // outside grantees already known ("account:123…", "member:user:a@b")
}

// Limits bound every piece of state; each is an LRU, so the least recently touched entry goes
// first. Zero means the default.
type Limits struct {
	Exposures     int // resources with tracked exposure (default 65,536)
	Records       int // record ids remembered for de-duplication (default 262,144)
	Actors        int // actors in the sharer baseline (default 65,536)
	Recipients    int // grantees in the recipient baseline (default 65,536)
	Regions       int // (account, region) pairs seen (default 262,144)
	BurstKeys     int // (rule, actor) burst counters (default 65,536)
	PendingCopies int // copies waiting for a share (default 16,384)
}

func (l *Limits) defaults() {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&l.Exposures, 1<<16)
	set(&l.Records, 1<<18)
	set(&l.Actors, 1<<16)
	set(&l.Recipients, 1<<16)
	set(&l.Regions, 1<<18)
	set(&l.BurstKeys, 1<<16)
	set(&l.PendingCopies, 1<<14)
}

// Engine evaluates events. Create it with New.
type Engine struct {
	boundary *trust.Boundary
	rules    []*Rule
	index    [3]cloudIndex // aws, azure, gcp
	sigma    *sigmaSet
	limits   Limits

	seq       uint64 // arrival counter: orders records with equal times
	records   *simplelru.LRU[string, struct{}]
	exposures *simplelru.LRU[string, *exposure]
	sharers   *simplelru.LRU[string, struct{}]
	recips    *simplelru.LRU[string, struct{}]
	regions   map[regionKey]time.Time // earliest change seen; zero = known from the baseline
	bursts    *simplelru.LRU[burstKey, *burstState]
	copies    *simplelru.LRU[string, pendingCopy]
	shares    *simplelru.LRU[string, recentShare]
	copyWin   time.Duration
	sigBuf    []*sigmaRule // Sigma candidates of the current record, reused
}

// New loads the rules and builds an Engine.
func New(cfg Config) (*Engine, error) {
	rules, err := LoadRules(cfg.RulesDir)
	if err != nil {
		return nil, err
	}
	return newEngine(cfg, rules)
}

func newEngine(cfg Config, rules []*Rule) (*Engine, error) {
	var err error
	cfg.Limits.defaults()
	e := &Engine{boundary: trust.New(cfg.Trust), limits: cfg.Limits, copyWin: cfg.CopyWindow,
		regions: map[regionKey]time.Time{}}
	for _, r := range rules {
		if lim, ok := cfg.Bursts[r.ID]; ok && r.Kind == KindBurst {
			if lim.Threshold > 0 {
				r.Burst.Threshold = lim.Threshold
			}
			if lim.Window > 0 {
				r.Burst.Window = lim.Window
			}
		}
		e.rules = append(e.rules, r)
		e.indexRule(r)
	}
	if cfg.SigmaDir != "" {
		if e.sigma, err = loadSigmaDir(cfg.SigmaDir, cfg.SigmaFieldMap); err != nil {
			return nil, err
		}
		e.indexSigma(e.sigma)
	}
	mk := func(n int) *simplelru.LRU[string, struct{}] {
		l, _ := simplelru.NewLRU[string, struct{}](n, nil)
		return l
	}
	e.records = mk(cfg.Limits.Records)
	e.sharers = mk(cfg.Limits.Actors)
	e.recips = mk(cfg.Limits.Recipients)
	if e.exposures, err = simplelru.NewLRU[string, *exposure](cfg.Limits.Exposures, nil); err != nil {
		return nil, err
	}
	if e.bursts, err = simplelru.NewLRU[burstKey, *burstState](cfg.Limits.BurstKeys, nil); err != nil {
		return nil, err
	}
	if e.copies, err = simplelru.NewLRU[string, pendingCopy](cfg.Limits.PendingCopies, nil); err != nil {
		return nil, err
	}
	if e.shares, err = simplelru.NewLRU[string, recentShare](cfg.Limits.PendingCopies, nil); err != nil {
		return nil, err
	}
	for acct, regs := range cfg.Baseline.Regions {
		for _, r := range regs {
			e.regions[regionKey{acct, r}] = time.Time{}
		}
	}
	for _, s := range cfg.Baseline.Sharers {
		e.sharers.Add(s, struct{}{})
	}
	for _, r := range cfg.Baseline.Recipients {
		e.recips.Add(r, struct{}{})
	}
	return e, nil
}

// Rules returns the native rules in force.
func (e *Engine) Rules() []*Rule { return e.rules }

// Boundary returns the trust boundary the engine classifies grants with.
func (e *Engine) Boundary() *trust.Boundary { return e.boundary }

// Process evaluates one event and returns the alerts it raises, usually none. Events may arrive
// out of time order (CloudTrail files are not ordered): exposure state is kept per grantee by
// event time, not arrival.
func (e *Engine) Process(ev event.Event) []finding.Finding {
	ci := e.cloudIndex(ev.Cloud)
	if ci == nil {
		return nil
	}
	ent := ci.lookup(ev.Action)
	var out []finding.Finding
	if ent != nil || (len(ev.Grants) > 0 && ev.Success) || ci.sigmaWide() {
		out = e.relevant(ci, ent, &ev)
	}
	// Regions an account has changed something in, for the copy-to-unused-region detection,
	// with the earliest time seen. Recorded after the rules ran, so a copy is not prior use of
	// its own region.
	if ev.Cloud == "aws" && (ev.Success || ev.Partial) && !ev.ReadOnly && ev.Region != "" && ev.Account != "" {
		k := regionKey{ev.Account, ev.Region}
		if t, ok := e.regions[k]; !ok && len(e.regions) < e.limits.Regions || ok && ev.Time.Before(t) {
			e.regions[k] = ev.Time
		}
	}
	return out
}

// relevant handles an event that some rule, the exposure state or a Sigma rule may care about.
func (e *Engine) relevant(ci *cloudIndex, ent *actionEntry, ev *event.Event) []finding.Finding {
	e.sigBuf = e.sigmaCandidates(ci, ent, ev, e.sigBuf[:0])
	if ent == nil && len(e.sigBuf) == 0 && !(ev.Success && len(ev.Grants) > 0) {
		return nil
	}
	if ev.ID != "" {
		// Every transport duplicates (SQS redelivery, double shipping): one record, one verdict.
		if e.records.Contains(ev.ID) {
			return nil
		}
		e.records.Add(ev.ID, struct{}{})
	}
	e.seq++
	var out []finding.Finding
	if ent != nil {
		e.applyImplied(ent, ev)
	}
	var exp *exposure
	if ev.Success && len(ev.Grants) > 0 {
		exp = e.updateExposure(ev)
	}
	if ent != nil {
		for _, ref := range ent.rules {
			out = append(out, e.evalRule(ref, ev, exp)...)
		}
	}
	if len(e.sigBuf) > 0 {
		out = append(out, e.evalSigma(e.sigBuf, ev)...)
	}
	if ev.Success && len(ev.Grants) > 0 {
		e.learnShares(ev)
	}
	return out
}

// applyImplied gives grants to records that make one without the parser seeing it: an Azure
// beginGetAccess creates a SAS URL (public) and endGetAccess revokes it.
func (e *Engine) applyImplied(ent *actionEntry, ev *event.Event) {
	if len(ev.Grants) > 0 {
		return
	}
	for _, ref := range ent.rules {
		if ref.rule.Implies != nil && ref.rule.matchesIgnoringGrants(ev, e.boundary) {
			ev.Grants = []event.Grant{*ref.rule.Implies}
			return
		}
	}
}

// Flush ends a stream: it returns, for every exposure that raised alerts and changed since the
// last Flush, those alerts again (same ids) with the full timeline, status "resolved" when every
// grantee they named was revoked and "open" otherwise.
func (e *Engine) Flush() []finding.Finding {
	var out []finding.Finding
	for _, key := range e.exposures.Keys() {
		x, _ := e.exposures.Peek(key)
		if x == nil || !x.dirty {
			continue
		}
		x.dirty = false
		out = append(out, x.alertUpdates()...)
	}
	return out
}

// Exposures returns the state of every tracked exposure, ordered by resource.
func (e *Engine) Exposures() []Exposure {
	var out []Exposure
	for _, key := range e.exposures.Keys() {
		if x, ok := e.exposures.Peek(key); ok && x.hasShare() {
			out = append(out, x.snapshot())
		}
	}
	sortExposures(out)
	return out
}

func (e *Engine) cloudIndex(cloud string) *cloudIndex {
	switch cloud {
	case "aws":
		return &e.index[0]
	case "azure":
		return &e.index[1]
	case "gcp":
		return &e.index[2]
	}
	return nil
}

// resourceOf names what an event is about, for a finding. Records without a resource (a trail
// name the parser did not map, a guard) fall back to the account itself.
func resourceOf(ev *event.Event) finding.Resource {
	r := finding.Resource{Provider: ev.Cloud, Account: ev.Resource.Account, Region: ev.Resource.Region,
		Type: ev.Resource.Type, ID: ev.Resource.ID, ARN: ev.Resource.ARN}
	if r.Account == "" {
		r.Account = ev.Account
	}
	if r.Region == "" {
		r.Region = ev.Region
	}
	if r.ID == "" {
		r.Type, r.ID = "account", r.Account
	}
	return r
}

// actorKey identifies an actor across records: the ARN when there is one.
func actorKey(a event.Actor) string {
	switch {
	case a.ARN != "":
		return a.ARN
	case a.ID != "":
		return a.ID
	case a.Name != "":
		return a.Name
	case a.InvokedBy != "":
		return a.InvokedBy
	}
	return a.Account
}

func (e *Engine) String() string {
	return fmt.Sprintf("detect.Engine{%d rules, %d sigma, boundary known=%v}", len(e.rules), e.sigma.count(), e.boundary.Known())
}
