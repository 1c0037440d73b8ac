package posture

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// Check runs every check over inv and returns the findings sorted by severity (highest first),
// then rule, resource id, account, region and finding id. It does not modify inv.
func Check(inv *inventory.Inventory, cfg Config) []finding.Finding {
	r := newRun(inv, &cfg)
	for i := range inv.Snapshots {
		s := &inv.Snapshots[i]
		r.record(&s.Common, subjectOf(&s.Common, s.Engine), s, nil)
	}
	for i := range inv.Images {
		img := &inv.Images[i]
		r.record(&img.Common, subjectOf(&img.Common, ""), nil, img)
	}
	for i := range inv.Guards {
		r.guard(&inv.Guards[i])
	}
	for i := range inv.Exports {
		r.export(&inv.Exports[i])
	}
	for i := range inv.SharePolicies {
		r.sharePolicy(&inv.SharePolicies[i])
	}
	return r.finish()
}

type guardKey struct {
	provider, account, region string
	kind                      inventory.GuardKind
}

type regionKey struct{ provider, account, region string }

// run is one Check's state: indexes built once, and the findings so far.
type run struct {
	cfg      *Config
	now      time.Time
	stale    time.Duration
	b        *trust.Boundary
	disabled map[string]bool
	guards   map[guardKey]*inventory.Guard
	// backedBy maps a snapshot id to the images that reference it; snaps holds the records
	// of those snapshots only, so that an image's exposure can name and grade them.
	backedBy map[string][]*inventory.Image
	snaps    map[string]*inventory.Snapshot
	// publicAttr counts snapshots with a public attribute per region, for the BPA guard's
	// evidence ("this guard is what keeps N snapshots private").
	publicAttr map[regionKey]int

	out store
	// Per-record scratch, reused so that records without grants cost no allocation.
	publics, externals []inventory.Grant
}

func newRun(inv *inventory.Inventory, cfg *Config) *run {
	r := &run{cfg: cfg, now: cfg.now(), stale: cfg.staleAfter(), b: inv.Boundary(cfg.Trust),
		disabled: map[string]bool{}, guards: map[guardKey]*inventory.Guard{},
		backedBy: map[string][]*inventory.Image{}, snaps: map[string]*inventory.Snapshot{},
		publicAttr: map[regionKey]int{}}
	for _, id := range cfg.Exclude.Checks {
		r.disabled[id] = true
	}
	for i := range inv.Guards {
		g := &inv.Guards[i]
		k := guardKey{g.Provider, g.Account, g.Region, g.Kind}
		// Two readings of one guard (an un-normalized inventory): keep the weaker one
		// ("unblocked" > "block-new-sharing" > "block-all-sharing", "disabled" > "enabled"),
		// whatever the order.
		if old := r.guards[k]; old == nil || cmp.Or(compareStrings(g.State, old.State), compareStrings(old.ManagedBy, g.ManagedBy)) > 0 {
			r.guards[k] = g
		}
	}
	for i := range inv.Images {
		img := &inv.Images[i]
		for _, b := range img.Backing {
			r.backedBy[b.SnapshotID] = append(r.backedBy[b.SnapshotID], img)
		}
	}
	for i := range inv.Snapshots {
		s := &inv.Snapshots[i]
		if _, ok := r.backedBy[s.ID]; ok && !s.RecycleBin {
			r.snaps[s.ID] = s
		}
	}
	return r
}

// backing returns the snapshot record an image references, if the inventory holds it.
func (r *run) backing(img *inventory.Image, id string) *inventory.Snapshot {
	s := r.snaps[id]
	if s == nil || s.Provider != img.Provider || s.Region != img.Region || owner(&s.Common) != owner(&img.Common) {
		return nil
	}
	return s
}

// usedByImage reports whether a snapshot backs an image of the same account and region.
func (r *run) usedByImage(s *inventory.Snapshot) bool {
	for _, img := range r.backedBy[s.ID] {
		if img.Provider == s.Provider && img.Region == s.Region && owner(&img.Common) == owner(&s.Common) {
			return true
		}
	}
	return false
}

func owner(c *inventory.Common) string {
	if c.Owner != "" {
		return c.Owner
	}
	return c.Account
}

func resourceOf(c *inventory.Common) finding.Resource {
	return finding.Resource{Provider: c.Provider, Account: owner(c), Region: c.Region, Type: string(c.Kind), ID: c.ID, ARN: c.ARN}
}

// emission is one finding about to be made.
type emission struct {
	info        CheckInfo
	res         finding.Resource
	sev         finding.Severity
	title       string // "" = info.Title
	desc, rem   string
	fix         string // "" = info.FixAction
	ev          finding.Evidence
	compliance  []string // nil = info.Compliance
	tags        []inventory.Tag
	suppressed  string // set by the caller when a linked finding is suppressed
	fingerprint []string
}

// emit appends a finding and returns its index, or -1 when the check is turned off.
func (r *run) emit(e emission) int {
	if r.disabled[e.info.ID] {
		return -1
	}
	if o, ok := r.cfg.SeverityOverrides[e.info.ID]; ok {
		e.sev = o
	}
	if e.ev == nil {
		e.ev = finding.Evidence{}
	}
	fix := cmp.Or(e.fix, e.info.FixAction)
	if fix != "" {
		e.ev["fix_action"] = fix
		e.rem += "\nsnapwatch fix action: " + fix
	}
	comp := e.compliance
	if comp == nil {
		comp = e.info.Compliance
	}
	f := finding.Finding{
		ID:   finding.Fingerprint(e.info.ID, e.res, e.fingerprint...),
		Kind: e.info.Kind, Rule: e.info.ID, Title: cmp.Or(e.title, e.info.Title), Severity: e.sev,
		Description: e.desc, Remediation: strings.TrimPrefix(e.rem, "\n"), Resource: e.res, Evidence: e.ev,
		Compliance: slices.Clone(comp), FirstSeen: r.now, LastSeen: r.now, Status: finding.StatusOpen,
	}
	why := e.suppressed
	if why == "" {
		why = r.cfg.Exclude.suppression(&f, e.tags)
	}
	if why != "" {
		f.Status = finding.StatusSuppressed
		f.Evidence["suppressed_by"] = why
	}
	return r.out.add(f)
}

// link records that two findings are about the same exposure (an AMI and its snapshot).
func (r *run) link(a, b int) {
	if a < 0 || b < 0 {
		return
	}
	fa, fb := r.out.at(a), r.out.at(b)
	fa.Related = append(fa.Related, fb.ID)
	fb.Related = append(fb.Related, fa.ID)
}

// finish sorts, folds duplicate findings (duplicate records in an un-normalized inventory) and
// makes every list inside a finding canonical, so that record order never shows. It sorts
// indices, not ~370-byte findings, and buckets by severity instead of comparing it.
func (r *run) finish() []finding.Finding {
	st := &r.out
	// Rules are few: rank them once so that the sort compares ints, not long shared prefixes.
	rank := map[string]int32{}
	for _, c := range st.chunks {
		for i := range c {
			slices.Sort(c[i].Related)
			c[i].Related = slices.Compact(c[i].Related)
			rank[c[i].Rule] = 0
		}
	}
	for i, n := range slices.Sorted(maps.Keys(rank)) {
		rank[n] = int32(i)
	}
	// Sort references, not ~370-byte findings.
	type ref struct {
		f    *finding.Finding
		rule int32
	}
	refs := make([]ref, 0, st.n)
	for _, c := range st.chunks {
		for i := range c {
			refs = append(refs, ref{&c[i], rank[c[i].Rule]})
		}
	}
	// By rule, resource and id; the copies of one id (duplicate records) end up adjacent,
	// worst first, and the first is kept.
	// (Not cmp.Or: it evaluates every comparison, descriptions included, on every call.)
	slices.SortFunc(refs, func(x, y ref) int {
		if c := cmp.Compare(x.rule, y.rule); c != 0 {
			return c
		}
		a, b := x.f, y.f
		if c := compareResource(&a.Resource, &b.Resource); c != 0 {
			return c
		}
		if c := compareStrings(a.ID, b.ID); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), compareStrings(a.Description, b.Description),
			compareStrings(a.Remediation, b.Remediation), slices.Compare(a.Related, b.Related))
	})
	refs = slices.CompactFunc(refs, func(x, y ref) bool { return x.f.ID == y.f.ID })
	var count [finding.Critical + 1]int
	for _, x := range refs {
		count[x.f.Severity]++
	}
	// Start of each severity's bucket, highest severity first.
	var start [finding.Critical + 1]int
	for s, n := finding.Critical, 0; s >= finding.Info; s-- {
		start[s], n = n, n+count[s]
	}
	out := make([]finding.Finding, len(refs))
	for _, x := range refs {
		out[start[x.f.Severity]] = *x.f
		start[x.f.Severity]++
	}
	st.chunks = nil
	return out
}

// compareResource orders by id first: it almost always decides, and the fields before it in
// Resource.Key repeat across thousands of findings.
func compareResource(a, b *finding.Resource) int {
	for _, p := range [...][2]string{{a.ID, b.ID}, {a.Account, b.Account}, {a.Region, b.Region}, {a.Provider, b.Provider}, {a.Type, b.Type}} {
		if c := compareStrings(p[0], p[1]); c != 0 {
			return c
		}
	}
	return 0
}

func compareStrings(a, b string) int { return strings.Compare(a, b) }

// store holds findings in fixed-size chunks: a clean estate costs no big allocation up front,
// and a busy one never copies ~370-byte findings to grow a slice.
type store struct {
	chunks [][]finding.Finding
	n      int
}

const chunkBits = 10

func (s *store) add(f finding.Finding) int {
	if s.n>>chunkBits == len(s.chunks) {
		s.chunks = append(s.chunks, make([]finding.Finding, 0, 1<<chunkBits))
	}
	last := &s.chunks[len(s.chunks)-1]
	*last = append(*last, f)
	s.n++
	return s.n - 1
}

func (s *store) at(i int) *finding.Finding { return &s.chunks[i>>chunkBits][i&(1<<chunkBits-1)] }
