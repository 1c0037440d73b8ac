package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// scope is the collection of one account in one region. Its families run concurrently and
// write into the scope's own inventory, merged into the audit's when the scope ends.
type scope struct {
	c               *Collector
	account, region string
	cfg             aws.Config
	ec2             *ec2.Client

	mu  sync.Mutex
	inv inventory.Inventory

	keys keyIndex // what this region's keys are; filled by loadKeys before anything reads it

	// Listings the later phases join: filled in phase 1, read after it.
	snaps     []inventory.Snapshot
	snapIdx   map[string]int
	snapsOK   bool // the owned-snapshot listing completed
	publicIDs map[string]bool
	images    []inventory.Image
	volumes   map[string]bool      // nil: not read
	dbs       []inventory.Snapshot // RDS family; Redshift's join them after phase 2
	redshift  []inventory.Snapshot

	ebd *inventory.Guard // encryption by default, completed by finishGuards
}

func (c *Collector) collectScope(ctx context.Context, account, region string) *inventory.Inventory {
	s := &scope{c: c, account: account, region: region}
	cfg, err := c.scopeConfig(ctx, account, region)
	if err != nil {
		s.fail("credentials", err)
		return &s.inv
	}
	s.cfg, s.ec2 = cfg, ec2.NewFromConfig(cfg)
	s.run(ctx)
	return &s.inv
}

func (s *scope) has(f string) bool { return s.c.fams[f] }

// fail records that part of the scope could not be read.
func (s *scope) fail(what string, err error) {
	s.mu.Lock()
	s.inv.AddError(inventory.AWS, s.account, s.region, what, err)
	s.mu.Unlock()
}

// run reads the scope in three phases: listings (each family's describe calls, in parallel),
// then the per-resource attribute calls for what could be shared, then the keys of whatever
// is shared. Each phase needs the one before: which snapshots can be shared depends on their
// keys, and which keys matter depends on what is shared.
func (s *scope) run(ctx context.Context) {
	// One cheap call first, which is also a guard read: a region that does not answer is one
	// error for the region, not one per family.
	if err := s.probe(ctx); err != nil {
		s.fail("region", err)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.loadKeys(ctx) })
	if s.has(FamilyEBS) || s.has(FamilyAMI) {
		wg.Go(func() { s.listSnapshots(ctx) })
	}
	if s.has(FamilyEBS) {
		wg.Go(func() { s.listPublicSnapshots(ctx) })
		wg.Go(func() { s.listVolumes(ctx) })
	}
	if s.has(FamilyAMI) {
		wg.Go(func() { s.listImages(ctx) })
	}
	if s.has(FamilyRDS) {
		wg.Go(func() { s.listRDS(ctx) })
	}
	if s.has(FamilyGuards) {
		wg.Go(func() { s.readGuards(ctx) })
	}
	if s.has(FamilyRbin) {
		wg.Go(func() { s.readRecycleBin(ctx) })
	}
	if s.has(FamilyExports) {
		wg.Go(func() { s.readExports(ctx) })
	}
	if s.has(FamilyDLM) {
		wg.Go(func() { s.readDLM(ctx) })
	}
	wg.Wait()

	// Phase 2: sharing of what can be shared.
	if s.has(FamilyEBS) {
		wg.Go(func() { s.snapshotPermissions(ctx) })
	}
	if s.has(FamilyAMI) {
		wg.Go(func() { s.imagePermissions(ctx) })
	}
	if s.has(FamilyRDS) {
		wg.Go(func() { s.rdsPermissions(ctx) })
	}
	if s.has(FamilyRedshift) {
		// Redshift states its sharing inline, so it needs no second phase; it runs here to
		// overlap with the attribute calls.
		wg.Go(func() { s.listRedshift(ctx) })
	}
	wg.Wait()
	s.dbs = append(s.dbs, s.redshift...)

	s.finishSnapshots()
	s.finishImages()
	s.finishGuards()

	// Phase 3: who can decrypt what is shared.
	s.analyseKeys(ctx)

	if s.has(FamilyEBS) {
		s.inv.Snapshots = append(s.inv.Snapshots, s.snaps...)
	}
	s.inv.Images = append(s.inv.Images, s.images...)
	s.inv.Snapshots = append(s.inv.Snapshots, s.dbs...)
}

// probe reads snapshot BPA. A transport failure, or a region not enabled for the account,
// fails the region; an API refusal of this one call is only the guard's failure.
func (s *scope) probe(ctx context.Context) error {
	out, err := s.ec2.GetSnapshotBlockPublicAccessState(ctx, &ec2.GetSnapshotBlockPublicAccessStateInput{})
	if err != nil {
		var ae smithy.APIError
		if !errors.As(err, &ae) || regionRefused(ae.ErrorCode()) {
			return err
		}
		if s.has(FamilyGuards) {
			s.fail("ec2:GetSnapshotBlockPublicAccessState", err)
		}
		return nil
	}
	if s.has(FamilyGuards) {
		s.addGuard(inventory.Guard{Kind: inventory.GuardSnapshotBPA, State: string(out.State), ManagedBy: string(out.ManagedBy)})
	}
	return nil
}

// regionRefused names the errors of a region the account cannot use.
func regionRefused(code string) bool {
	switch code {
	case "AuthFailure", "OptInRequired", "UnrecognizedClientException", "InvalidClientTokenId":
		return true
	}
	return false
}

// notFound reports an error saying the resource is gone (deleted between listing and reading).
func notFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	c := ae.ErrorCode()
	return strings.HasSuffix(c, ".NotFound") || strings.HasSuffix(c, "NotFound") || strings.HasSuffix(c, "NotFoundFault") ||
		c == "NotFoundException" || c == "ResourceNotFoundException"
}

// failures counts the per-resource calls of one action that failed, so that a scope reports
// "DescribeSnapshotAttribute failed for 12 of 900 snapshots" once, not 12 times.
type failures struct {
	mu    sync.Mutex
	n     int
	first error
}

func (f *failures) add(err error) {
	f.mu.Lock()
	f.n++
	if f.first == nil {
		f.first = err
	}
	f.mu.Unlock()
}

func (f *failures) report(s *scope, what string, of int, noun string) {
	if f.n > 0 {
		s.fail(what, fmt.Errorf("failed for %d of %d %s: %w", f.n, of, noun, f.first))
	}
}

// each runs fn over n items with at most the collector's concurrency in flight. The limiters
// bound the calls further; this only avoids a goroutine per resource.
func (s *scope) each(ctx context.Context, n int, fn func(i int)) {
	workers := min(n, s.c.opt.Concurrency)
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

func (s *scope) addGuard(g inventory.Guard) {
	g.Provider, g.Account, g.Region = inventory.AWS, s.account, s.region
	s.mu.Lock()
	s.inv.Guards = append(s.inv.Guards, g)
	s.mu.Unlock()
}

func (s *scope) common(kind inventory.Kind, id string) inventory.Common {
	return inventory.Common{Provider: inventory.AWS, Account: s.account, Region: s.region, Kind: kind, ID: id}
}

func (s *scope) arn(service, resource string) string {
	return "arn:" + s.c.partition + ":" + service + ":" + s.region + ":" + s.account + ":" + resource
}
