package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/pflag"

	awscollect "github.com/snapwatch/snapwatch/internal/cloud/aws"
	"github.com/snapwatch/snapwatch/internal/cloud/aws/ebs"
	"github.com/snapwatch/snapwatch/internal/contentcache"
	"github.com/snapwatch/snapwatch/internal/contentscan"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
	"github.com/snapwatch/snapwatch/internal/report"
	"github.com/snapwatch/snapwatch/internal/risk"
	"github.com/snapwatch/snapwatch/internal/secret"
	"github.com/snapwatch/snapwatch/internal/target"
)

// What --scan-content reads.
const (
	scanExposedOnly = "exposed"
	scanAll         = "all"
	scanNone        = "none"
)

// contentOptions are the audit's content-scan flags.
type contentOptions struct {
	mode, maxFile, cacheDir    string
	parallel                   int
	residual, noCache, noRules bool
	rules, fileRules           []string
}

func (o *contentOptions) flags(f *pflag.FlagSet) {
	f.StringVar(&o.mode, "scan-content", scanExposedOnly, "read the content of snapshots and AMIs: exposed (public, shared outside, latent public), all, none")
	f.BoolVar(&o.residual, "residual", false, "content scan: also deleted files and unallocated space")
	f.StringVar(&o.maxFile, "max-file-size", "256MiB", "content scan: bytes read of one file")
	f.StringArrayVar(&o.rules, "rules", nil, "content scan: extra secret rules (TOML, repeatable)")
	f.BoolVar(&o.noRules, "no-default-rules", false, "content scan: use only the rules given with --rules")
	f.StringArrayVar(&o.fileRules, "file-rules", nil, "content scan: extra sensitive-file signatures (TOML, repeatable)")
	f.IntVar(&o.parallel, "content-parallel", 4, "content scan: snapshots read at once")
	f.StringVar(&o.cacheDir, "cache-dir", "", "where content results are kept by snapshot id (default: the user cache directory)")
	f.BoolVar(&o.noCache, "no-cache", false, "scan every snapshot again, and keep nothing")
}

// preparedContent is what a content scan needs, checked before any cloud call.
type preparedContent struct {
	mode      string
	parallel  int // snapshots read at once
	scanner   func() *contentscan.Scanner
	cache     *contentcache.Cache
	ebsConfig ebs.TargetOptions

	mu      sync.Mutex
	readers []*ebs.Reader // opened since the last blockStats, for the API figures
}

// blockStats sums what the EBS readers opened since the last call fetched.
func (p *preparedContent) blockStats() (blocks, throttled int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.readers {
		st := r.Stats()
		blocks += st.Fetched
		throttled += st.Throttled
	}
	p.readers = nil
	return blocks, throttled
}

func (o *contentOptions) prepare() (*preparedContent, error) {
	p := &preparedContent{mode: o.mode, parallel: o.parallel}
	switch o.mode {
	case scanExposedOnly, scanAll:
	case scanNone:
		return p, nil
	default:
		return nil, fmt.Errorf("--scan-content %q: want exposed, all or none", o.mode)
	}
	if o.parallel < 1 {
		return nil, fmt.Errorf("--content-parallel %d: want at least 1", o.parallel)
	}
	maxFile, err := parseSize(o.maxFile)
	if err != nil {
		return nil, fmt.Errorf("--max-file-size: %w", err)
	}
	rules, err := secret.Load(!o.noRules, o.rules...)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	cat, err := secret.LoadCatalogue(true, o.fileRules...)
	if err != nil {
		return nil, fmt.Errorf("file rules: %w", err)
	}
	p.scanner = func() *contentscan.Scanner {
		return contentscan.New(contentscan.Options{MaxFileBytes: maxFile, Residual: o.residual, Secrets: rules, Catalogue: cat})
	}
	if !o.noCache {
		dir := o.cacheDir
		if dir == "" {
			if dir, err = contentcache.DefaultDir(); err != nil {
				return nil, fmt.Errorf("--cache-dir: %w", err)
			}
		}
		profile, err := scanProfile(o, maxFile)
		if err != nil {
			return nil, err
		}
		p.cache = &contentcache.Cache{Dir: dir, Profile: profile}
	}
	return p, nil
}

// scanProfile names everything that shapes a content result, so that a cached result is reused
// only by the same scan: the build, the rule files' bytes and the flags.
func scanProfile(o *contentOptions, maxFile int64) (string, error) {
	parts := []string{"snapwatch " + version, build(), strconv.FormatBool(o.residual), strconv.FormatBool(o.noRules),
		strconv.FormatInt(maxFile, 10)}
	for _, f := range append(slices.Clone(o.rules), o.fileRules...) {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("rules: %w", err)
		}
		parts = append(parts, f, string(b))
	}
	return contentcache.Profile(parts...), nil
}

// build identifies the binary beyond its version: development builds all say "dev".
func build() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	s := bi.Main.Sum
	for _, kv := range bi.Settings {
		if kv.Key == "vcs.revision" || kv.Key == "vcs.modified" || kv.Key == "vcs.time" {
			s += " " + kv.Value
		}
	}
	return s
}

// snapshotRef is one EBS snapshot whose content is read.
type snapshotRef struct{ Account, Region, ID, ARN string }

type openSnapshotFunc func(ctx context.Context, s snapshotRef) (*target.Target, error)

// snapshotOpener opens a snapshot with the collector's credentials for its account.
func snapshotOpener(col *awscollect.Collector, p *preparedContent) openSnapshotFunc {
	return func(ctx context.Context, s snapshotRef) (*target.Target, error) {
		cfg, err := col.Config(ctx, s.Account, s.Region)
		if err != nil {
			return nil, err
		}
		opt := p.ebsConfig
		opt.Caller = s.Account // keys the shared block-rate limiter without asking STS again
		opt.OnReader = func(r *ebs.Reader) {
			p.mu.Lock()
			p.readers = append(p.readers, r)
			p.mu.Unlock()
		}
		return ebs.OpenSnapshotTarget(ctx, cfg, s.ID, opt)
	}
}

// contentStats sums up the content stage.
type contentStats struct {
	Snapshots    int     `json:"snapshots"`
	FromCache    int     `json:"from_cache"`
	Scanned      int     `json:"scanned"`
	NotReadable  int     `json:"not_readable"` // encrypted with a key the audit may not use
	Failed       int     `json:"failed"`
	Findings     int     `json:"findings"`
	Raised       int     `json:"exposures_raised"`
	ScanSeconds  float64 `json:"scan_seconds"`
	BytesScanned int64   `json:"bytes_scanned"`
	FilesScanned int64   `json:"files_scanned"`
	Blocks       int64   `json:"ebs_blocks_fetched"`
	Throttled    int64   `json:"ebs_throttled"`
}

// scanExposed reads the snapshots behind the exposure findings (or every snapshot with
// --scan-content all), adds their content findings to res and grades each exposure by them.
func scanExposed(ctx context.Context, stderr io.Writer, res *report.Result, inv *inventory.Inventory,
	p *preparedContent, open openSnapshotFunc) contentStats {
	var st contentStats
	begin := time.Now()
	plan := planContent(res.Findings, inv, p.mode == scanAll)
	outs := readSnapshots(ctx, p, open, plan.refs)
	found := map[string][]finding.Finding{}
	skipped := map[string]string{}
	for i, ref := range plan.refs {
		o := outs[i]
		if !o.done {
			continue // cancelled before its turn
		}
		st.Snapshots++
		var keyErr *ebs.KeyAccessError
		switch {
		case o.cached:
			st.FromCache++
			found[ref.ID] = o.findings
			continue
		case errors.As(o.err, &keyErr):
			// Not an audit failure: the audit role is not meant to decrypt every key. The
			// exposure keeps its own severity and says why its content is unknown.
			st.NotReadable++
			skipped[ref.ID] = keyErr.Error()
			continue
		case o.err != nil:
			st.Failed++
			res.Errors = append(res.Errors, report.ErrorRecord{Target: "ebs:" + ref.ID, Where: "content scan", Message: o.err.Error()})
			continue
		}
		st.Scanned++
		st.BytesScanned += o.stats.BytesScanned
		st.FilesScanned += o.stats.FilesScanned
		found[ref.ID] = o.findings
		if err := p.cache.Put(&contentcache.Entry{Snapshot: ref.ID, Scanned: time.Now().UTC(), Findings: o.findings}); err != nil {
			fmt.Fprintf(stderr, "snapwatch: content cache: %v\n", err)
		}
	}
	st.Blocks, st.Throttled = p.blockStats()
	// Content findings are graded and linked in place, then appended after the exposures.
	var content []finding.Finding
	where := map[string][]int{} // snapshot id → indexes in content
	for _, ref := range plan.refs {
		for _, f := range found[ref.ID] {
			where[ref.ID] = append(where[ref.ID], len(content))
			content = append(content, f)
		}
	}
	for i := range res.Findings {
		exp := &res.Findings[i]
		var mine []*finding.Finding
		for _, id := range plan.byFinding[i] {
			for _, j := range where[id] {
				mine = append(mine, &content[j])
			}
			if why, ok := skipped[id]; ok {
				if exp.Evidence == nil {
					exp.Evidence = finding.Evidence{}
				}
				exp.Evidence["content_not_scanned"] = why
			}
		}
		before := exp.Severity
		risk.Grade(exp, mine)
		if exp.Severity > before {
			st.Raised++
		}
	}
	res.Findings = append(res.Findings, content...)
	st.Findings = len(content)
	st.ScanSeconds = time.Since(begin).Seconds()
	return st
}

// snapshotOutcome is what reading one snapshot gave.
type snapshotOutcome struct {
	done, cached bool
	findings     []finding.Finding
	stats        contentscan.Stats
	err          error
}

// readSnapshots reads the snapshots p.parallel at a time: each read is bound by the EBS
// direct API's latency, not by the CPU, and the readers of one account and region share one
// block-rate limiter, so running several together stays within the account's quota.
func readSnapshots(ctx context.Context, p *preparedContent, open openSnapshotFunc, refs []snapshotRef) []snapshotOutcome {
	outs := make([]snapshotOutcome, len(refs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(p.parallel, len(refs))) {
		wg.Go(func() {
			for i := range next {
				o := &outs[i]
				if e, ok, _ := p.cache.Get(refs[i].ID); ok {
					o.done, o.cached, o.findings = true, true, e.Findings
					continue
				}
				o.findings, o.stats, o.err = scanSnapshot(ctx, p, open, refs[i])
				o.done = ctx.Err() == nil || o.err == nil
			}
		})
	}
	for i := range refs {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return outs
}

// scanSnapshot scans one snapshot with a fresh scanner, so that its findings are its own.
func scanSnapshot(ctx context.Context, p *preparedContent, open openSnapshotFunc, ref snapshotRef) ([]finding.Finding, contentscan.Stats, error) {
	t, err := open(ctx, ref)
	if err != nil {
		return nil, contentscan.Stats{}, err
	}
	defer t.Close()
	t.Resource = finding.Resource{Provider: inventory.AWS, Account: ref.Account, Region: ref.Region,
		Type: string(inventory.KindEBSSnapshot), ID: ref.ID, ARN: ref.ARN}
	sc := p.scanner()
	if err := sc.Scan(ctx, t); err != nil {
		return nil, contentscan.Stats{}, err
	}
	if errs := sc.Errors(); len(errs) > 0 {
		return nil, sc.Stats(), fmt.Errorf("%s: %s", errs[0].Where, errs[0].Message)
	}
	return sc.Findings(), sc.Stats(), nil
}

// contentPlan is which snapshots to read, and which of them each finding exposes.
type contentPlan struct {
	refs      []snapshotRef
	byFinding map[int][]string // finding index → snapshot ids
}

// planContent maps exposure findings to the EBS snapshots they expose: a snapshot finding to
// its snapshot, an AMI finding to every snapshot behind the AMI. With all, every EBS snapshot
// of the inventory is read too.
func planContent(fs []finding.Finding, inv *inventory.Inventory, all bool) contentPlan {
	type key struct{ account, region, id string }
	snaps := map[key]*inventory.Snapshot{}
	for i := range inv.Snapshots {
		s := &inv.Snapshots[i]
		if s.Kind == inventory.KindEBSSnapshot {
			snaps[key{s.Account, s.Region, s.ID}] = s
		}
	}
	images := map[key]*inventory.Image{}
	for i := range inv.Images {
		im := &inv.Images[i]
		if im.Kind == inventory.KindAMI {
			images[key{im.Account, im.Region, im.ID}] = im
		}
	}
	plan := contentPlan{byFinding: map[int][]string{}}
	seen := map[string]bool{}
	add := func(account, region, id string) bool {
		s, ok := snaps[key{account, region, id}]
		if ok && (s.RecycleBin || s.OwnedElsewhere()) {
			return false // the EBS direct API cannot read it from this account
		}
		if !seen[id] {
			seen[id] = true
			ref := snapshotRef{Account: account, Region: region, ID: id}
			if ok {
				ref.ARN = s.ARN
			}
			plan.refs = append(plan.refs, ref)
		}
		return true
	}
	for i := range fs {
		f := &fs[i]
		if !risk.Exposing(f) {
			continue
		}
		r := f.Resource
		switch r.Type {
		case string(inventory.KindEBSSnapshot):
			if add(r.Account, r.Region, r.ID) {
				plan.byFinding[i] = append(plan.byFinding[i], r.ID)
			}
		case string(inventory.KindAMI):
			im, ok := images[key{r.Account, r.Region, r.ID}]
			if !ok || im.RecycleBin {
				continue
			}
			for _, b := range im.Backing {
				if b.SnapshotID != "" && b.Exists != inventory.No && add(r.Account, r.Region, b.SnapshotID) {
					plan.byFinding[i] = append(plan.byFinding[i], b.SnapshotID)
				}
			}
		}
	}
	if all {
		for i := range inv.Snapshots {
			s := &inv.Snapshots[i]
			if s.Kind == inventory.KindEBSSnapshot {
				add(s.Account, s.Region, s.ID)
			}
		}
	}
	return plan
}
