package detect

import (
	"strings"
	"time"

	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// evalUsed handles SharedSnapshotCopyInitiated / SharedSnapshotVolumeCreated. The same event
// name is written on both sides of a share: in the owner's account when someone else copies or
// mounts the snapshot (userIdentity.accountId = the consumer, recipientAccountId = the owner),
// and in the consumer's own account for every volume made from a shared or public snapshot
// (accountId = recipient: launching a public AMI does it). Only the first is a leak being used.
func (e *Engine) evalUsed(r *Rule, ev *event.Event) []finding.Finding {
	if !ev.Success || r.matchBlock(ev, e.boundary) == nil {
		return nil
	}
	by, owner := ev.Actor.Account, ev.Account
	if by == "" || owner == "" || strings.EqualFold(by, owner) {
		return nil // consumer side: benign, never an alert
	}
	if ev.Resource.Account != "" && !strings.EqualFold(ev.Resource.Account, owner) {
		return nil // the record is not about a resource of the account it was delivered to
	}
	if e.boundary.ClassifyAccount(by, owner) == trust.Internal {
		return nil // another account of ours copied it
	}
	x := e.exposureFor(ev, true)
	x.markUsed(mark{t: ev.Time, seq: e.seq, rec: ev.ID, actor: "account:" + by}, "account:"+by)
	f := e.newFinding(r, ev, nil, false)
	f.ID = finding.Fingerprint(r.ID, f.Resource, "account:"+by)
	f.Evidence["used_by"] = by
	if id := ev.Facts["shared_event_id"]; id != "" {
		f.Evidence["shared_event_id"] = id
	}
	f.Evidence["timeline"] = x.timeline()
	f.Evidence["exposure_state"] = stateOf(x)
	if !x.hasGrant("account:" + by) {
		f.Evidence["note"] = "no share to this account was seen in the stream: the snapshot was shared earlier or is public"
	}
	x.remember(f, nil)
	return []finding.Finding{f}
}

func (x *exposure) hasGrant(g string) bool {
	gs := x.grantees[g]
	return gs != nil && gs.add.seq != 0
}

// burstBuckets splits a burst window: counts are kept per bucket, so memory per (rule, actor) is
// constant and the window slides in steps of Window/burstBuckets.
const burstBuckets = 10

type burstKey struct {
	rule *Rule
	who  string
}

type burstState struct {
	epoch     [burstBuckets]int64 // bucket number each slot holds
	count     [burstBuckets]uint32
	quietTill time.Time // no second alert for the same burst within its window
	resource  string    // the one resource counted, until a second one appears
	mixed     bool
	samples   []string // a few record ids for evidence
}

const burstSamples = 8

func (e *Engine) evalBurst(r *Rule, ev *event.Event) []finding.Finding {
	if !ev.Success || r.matchBlock(ev, e.boundary) == nil {
		return nil
	}
	who := actorKey(ev.Actor)
	if r.BurstByAccount || who == "" {
		who = ev.Account
	}
	k := burstKey{r, who}
	st, ok := e.bursts.Get(k)
	if !ok {
		st = &burstState{}
		e.bursts.Add(k, st)
	}
	width := r.Burst.Window / burstBuckets
	if width <= 0 {
		width = 1
	}
	ep := ev.Time.UnixNano() / int64(width)
	slot := int(uint64(ep) % burstBuckets)
	if st.epoch[slot] != ep {
		if st.epoch[slot] > ep {
			return nil // older than the window: too late to count
		}
		st.epoch[slot], st.count[slot] = ep, 0
	}
	st.count[slot]++
	var total uint32
	for i := range st.epoch {
		if st.epoch[i] > ep-burstBuckets {
			total += st.count[i]
		}
	}
	res := exposureKey(ev)
	if st.resource == "" {
		st.resource = res
	} else if st.resource != res {
		st.mixed = true
	}
	if len(st.samples) < burstSamples {
		st.samples = append(st.samples, ev.ID)
	}
	if int(total) < r.Burst.Threshold || ev.Time.Before(st.quietTill) {
		return nil
	}
	st.quietTill = ev.Time.Add(r.Burst.Window)
	f := e.newFinding(r, ev, nil, false)
	if st.mixed {
		f.Resource = finding.Resource{Provider: ev.Cloud, Account: ev.Account, Region: ev.Region, Type: "account", ID: ev.Account}
	}
	f.ID = finding.Fingerprint(r.ID, f.Resource, who)
	f.Evidence["records"] = append([]string(nil), st.samples...)
	f.Evidence["count"] = total
	f.Evidence["window"] = r.Burst.Window.String()
	f.Evidence["threshold"] = r.Burst.Threshold
	f.Evidence["by"] = who
	st.samples = st.samples[:0]
	return []finding.Finding{f}
}

// regionKey is an (account, region) pair seen making changes.
type regionKey struct{ account, region string }

// pendingCopy is a copy into a region the account had not used, waiting for a share.
type pendingCopy struct {
	rule   *Rule
	t      time.Time
	rec    string
	region string
	from   string // source region
	source string // source snapshot or image
	actor  string
}

// recentShare is an outside share alert, kept so that a copy record arriving after its share
// (log files are not ordered) is still linked.
type recentShare struct {
	t     time.Time
	rec   string
	alert finding.Finding
}

func copyKey(account, id string) string { return account + "\x00" + id }

func (e *Engine) copyWindow(r *Rule) time.Duration {
	if e.copyWin > 0 {
		return e.copyWin
	}
	return r.Window
}

// evalCopy notes a successful copy whose destination region the account never changed anything
// in before (Baseline.Regions or earlier records); the alert comes with the share.
func (e *Engine) evalCopy(r *Rule, ev *event.Event) []finding.Finding {
	if !ev.Success || ev.Resource.ID == "" || r.matchBlock(ev, e.boundary) == nil {
		return nil
	}
	if first, used := e.regions[regionKey{ev.Account, ev.Region}]; used && first.Before(ev.Time) {
		return nil
	}
	pc := pendingCopy{rule: r, t: ev.Time, rec: ev.ID, region: ev.Region, from: ev.Facts["source_region"],
		source: ev.Facts["copy_of"], actor: actorKey(ev.Actor)}
	k := copyKey(resourceOf(ev).Account, ev.Resource.ID)
	e.copies.Add(k, pc)
	// The share may have been read first.
	if s, ok := e.shares.Get(k); ok && within(pc.t, s.t, e.copyWindow(r)) {
		return []finding.Finding{e.copyShareFinding(pc, s.alert, s.rec, s.t)}
	}
	return nil
}

// shareAfterCopy links an outside share to a recent copy of the same resource into a new region.
func (e *Engine) shareAfterCopy(ev *event.Event, hits []hit, share finding.Finding) []finding.Finding {
	k := copyKey(share.Resource.Account, ev.Resource.ID)
	if pc, ok := e.copies.Get(k); ok && within(pc.t, ev.Time, e.copyWindow(pc.rule)) {
		return []finding.Finding{e.copyShareFinding(pc, share, ev.ID, ev.Time)}
	}
	e.shares.Add(k, recentShare{t: ev.Time, rec: ev.ID, alert: share})
	return nil
}

// within: the share came after the copy, inside the window.
func within(copied, shared time.Time, w time.Duration) bool {
	return !shared.Before(copied) && shared.Sub(copied) <= w
}

func (e *Engine) copyShareFinding(pc pendingCopy, share finding.Finding, shareRec string, shareT time.Time) finding.Finding {
	r := pc.rule
	grantees, _ := share.Evidence["matched_grantees"].([]string)
	f := finding.Finding{
		ID: finding.Fingerprint(r.ID, share.Resource, grantees...), Kind: finding.KindEvent, Rule: r.ID,
		Title: r.Title, Severity: r.Severity, Description: r.Description, Remediation: r.Remediation,
		Resource: share.Resource, Compliance: r.Compliance, FirstSeen: pc.t, LastSeen: shareT,
		Status: finding.StatusOpen, Tags: ruleTags(r), Related: []string{share.ID},
		Evidence: finding.Evidence{
			"records":          []string{pc.rec, shareRec},
			"copy":             map[string]any{"record_id": pc.rec, "time": pc.t, "region": pc.region, "source_region": pc.from, "source": pc.source, "actor": pc.actor},
			"share":            map[string]any{"record_id": shareRec, "time": shareT, "alert": share.ID, "rule": share.Rule},
			"matched_grantees": grantees,
			"why":              "no earlier change by the account in region " + pc.region + " (stream or baseline)",
		},
	}
	if b, ok := share.Evidence["boundary"]; ok {
		f.Evidence["boundary"] = b
	}
	return f
}

// applyBaseline marks what this stream (or the seeded baseline) had not seen before: an actor's
// first share, and a share to an outside grantee nobody shared with before. A new named recipient
// raises the severity one step; both are tags with a sentence saying why.
func (e *Engine) applyBaseline(f *finding.Finding, ev *event.Event, hits []hit) {
	var notes []string
	actor := actorKey(ev.Actor)
	if actor != "" && !e.sharers.Contains(actor) {
		f.Tags = append(f.Tags, "first-share-by-actor")
		notes = append(notes, "first share by "+actor+" seen")
	}
	raised := false
	for _, h := range hits {
		if h.Class != trust.External || e.recips.Contains(h.grantee()) {
			continue
		}
		notes = append(notes, "first share to "+h.grantee()+" seen")
		if !raised {
			raised = true
			f.Tags = append(f.Tags, "new-recipient")
			if f.Severity < finding.Critical {
				f.Severity++
				notes = append(notes, "severity raised one step for a new recipient")
			}
		}
	}
	if len(notes) > 0 {
		f.Evidence["baseline"] = notes
	}
}

// learnShares feeds the baseline with every successful share, internal ones included: an actor
// who shares inside the organisation every day is not sharing for the first time.
func (e *Engine) learnShares(ev *event.Event) {
	added := false
	for _, g := range ev.Grants {
		if !strings.EqualFold(g.Op, "add") {
			continue
		}
		added = true
		if classify(e.boundary, g, ev.Account, ev.Resource.Account) == trust.External {
			e.recips.Add(granteeOf(g), struct{}{})
		}
	}
	if a := actorKey(ev.Actor); added && a != "" {
		e.sharers.Add(a, struct{}{})
	}
}
