package aws

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// RDS, Aurora, DocumentDB and Neptune snapshots all come from the RDS API: DocumentDB's and
// Neptune's own APIs are the same endpoint filtered by engine. Reading them once, through RDS,
// and labelling each record by its Engine is what keeps a Neptune snapshot from being reported
// twice (Prowler's bug).

const rdsPage = 100 // the largest MaxRecords RDS accepts

func (s *scope) listRDS(ctx context.Context) {
	cli := rds.NewFromConfig(s.cfg)
	var mu sync.Mutex
	var db, cl []inventory.Snapshot
	var wg sync.WaitGroup
	wg.Go(func() {
		// Without SnapshotType and IncludeShared/IncludePublic, RDS lists only our own
		// snapshots, manual and automated; snapshots shared with us stay out.
		p := rds.NewDescribeDBSnapshotsPaginator(cli, &rds.DescribeDBSnapshotsInput{MaxRecords: aws.Int32(rdsPage)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				s.fail("rds:DescribeDBSnapshots", err)
				return
			}
			for i := range page.DBSnapshots {
				if r, ok := s.dbRecord(&page.DBSnapshots[i]); ok {
					mu.Lock()
					db = append(db, r)
					mu.Unlock()
				}
			}
		}
	})
	wg.Go(func() {
		p := rds.NewDescribeDBClusterSnapshotsPaginator(cli, &rds.DescribeDBClusterSnapshotsInput{MaxRecords: aws.Int32(rdsPage)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				s.fail("rds:DescribeDBClusterSnapshots", err)
				return
			}
			for i := range page.DBClusterSnapshots {
				if r, ok := s.clusterRecord(&page.DBClusterSnapshots[i]); ok {
					mu.Lock()
					cl = append(cl, r)
					mu.Unlock()
				}
			}
		}
	})
	wg.Wait()
	// Then whether their sources exist: one listing each, only when something can be joined.
	var inst, clus map[string]bool
	if anyCheckable(db) {
		wg.Go(func() { inst = s.listDBInstances(ctx, cli) })
	}
	if anyCheckable(cl) {
		wg.Go(func() { clus = s.listDBClusters(ctx, cli) })
	}
	wg.Wait()
	joinSources(db, inst)
	joinSources(cl, clus)
	s.mu.Lock()
	s.dbs = append(append(s.dbs, db...), cl...)
	s.mu.Unlock()
}

// own reports whether an RDS snapshot is ours: shared and public ones of other accounts show
// SnapshotType "shared" / "public" and an ARN in their owner's account.
func (s *scope) ownRDS(typ, arn string) bool {
	if typ == "shared" || typ == "public" {
		return false
	}
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) < 5 || parts[4] == "" || parts[4] == s.account
}

func (s *scope) dbRecord(x *rdstypes.DBSnapshot) (inventory.Snapshot, bool) {
	typ, arn := aws.ToString(x.SnapshotType), aws.ToString(x.DBSnapshotArn)
	if !s.ownRDS(typ, arn) {
		return inventory.Snapshot{}, false
	}
	c := s.common(inventory.KindRDSSnapshot, aws.ToString(x.DBSnapshotIdentifier))
	c.ARN = arn
	c.Created = aws.ToTime(x.SnapshotCreateTime)
	c.SizeGiB = int64(aws.ToInt32(x.AllocatedStorage))
	c.State = aws.ToString(x.Status)
	c.Tags = rdsTags(x.TagList)
	c.Encryption = s.keys.encryption(aws.ToBool(x.Encrypted), aws.ToString(x.KmsKeyId))
	c.Lineage.SourceVolume = aws.ToString(x.DBInstanceIdentifier)
	c.Lineage.ParentSnapshot = aws.ToString(x.SourceDBSnapshotIdentifier) // set for a cross-region or cross-account copy only
	return inventory.Snapshot{Common: c, Engine: aws.ToString(x.Engine), Automated: typ != "manual"}, true
}

func (s *scope) clusterRecord(x *rdstypes.DBClusterSnapshot) (inventory.Snapshot, bool) {
	typ, arn := aws.ToString(x.SnapshotType), aws.ToString(x.DBClusterSnapshotArn)
	if !s.ownRDS(typ, arn) {
		return inventory.Snapshot{}, false
	}
	c := s.common(inventory.KindRDSClusterSnapshot, aws.ToString(x.DBClusterSnapshotIdentifier))
	c.ARN = arn
	c.Created = aws.ToTime(x.SnapshotCreateTime)
	c.SizeGiB = int64(aws.ToInt32(x.AllocatedStorage))
	c.State = aws.ToString(x.Status)
	c.Tags = rdsTags(x.TagList)
	c.Encryption = s.keys.encryption(aws.ToBool(x.StorageEncrypted), aws.ToString(x.KmsKeyId))
	c.Lineage.SourceVolume = aws.ToString(x.DBClusterIdentifier)
	c.Lineage.ParentSnapshot = aws.ToString(x.SourceDBClusterSnapshotArn) // set for a copy only
	return inventory.Snapshot{Common: c, Engine: aws.ToString(x.Engine), Automated: typ != "manual"}, true
}

func rdsTags(ts []rdstypes.Tag) []inventory.Tag {
	if len(ts) == 0 {
		return nil
	}
	out := make([]inventory.Tag, len(ts))
	for i, t := range ts {
		out[i] = inventory.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)}
	}
	return out
}

// rdsPermissions reads the restore attribute of each manual snapshot AWS would let be shared:
// automated snapshots cannot be shared, nor snapshots encrypted with aws/rds. "all" may sit
// among account ids ("all" anywhere is public; Steampipe's equality test misses the mix).
func (s *scope) rdsPermissions(ctx context.Context) {
	cli := rds.NewFromConfig(s.cfg)
	var todo []int
	for i := range s.dbs {
		r := &s.dbs[i]
		if r.Encryption.Encrypted {
			r.Encryption.KeyKind = s.keys.kind(r.Encryption.KeyID)
		}
		if r.Kind == inventory.KindRedshiftSnapshot || r.Automated || !shareable(r.Encryption) {
			continue
		}
		todo = append(todo, i)
	}
	var fails failures
	s.each(ctx, len(todo), func(k int) {
		r := &s.dbs[todo[k]]
		var values []string
		if r.Kind == inventory.KindRDSClusterSnapshot {
			out, err := cli.DescribeDBClusterSnapshotAttributes(ctx, &rds.DescribeDBClusterSnapshotAttributesInput{DBClusterSnapshotIdentifier: aws.String(r.ID)})
			if err != nil {
				if !notFound(err) {
					fails.add(err)
				}
				return
			}
			if res := out.DBClusterSnapshotAttributesResult; res != nil {
				for _, a := range res.DBClusterSnapshotAttributes {
					if aws.ToString(a.AttributeName) == "restore" {
						values = append(values, a.AttributeValues...)
					}
				}
			}
		} else {
			out, err := cli.DescribeDBSnapshotAttributes(ctx, &rds.DescribeDBSnapshotAttributesInput{DBSnapshotIdentifier: aws.String(r.ID)})
			if err != nil {
				if !notFound(err) {
					fails.add(err)
				}
				return
			}
			if res := out.DBSnapshotAttributesResult; res != nil {
				for _, a := range res.DBSnapshotAttributes {
					if aws.ToString(a.AttributeName) == "restore" {
						values = append(values, a.AttributeValues...)
					}
				}
			}
		}
		r.Grants = restoreGrants(values)
	})
	fails.report(s, "rds:DescribeDBSnapshotAttributes", len(todo), "shareable RDS snapshots")
}

// restoreGrants turns restore attribute values into grants: "all" is public wherever it
// appears in the list, every other value an account.
func restoreGrants(values []string) []inventory.Grant {
	var out []inventory.Grant
	for _, v := range values {
		g := inventory.Grant{Kind: inventory.GrantAccount, Value: v, Via: inventory.ViaAttribute}
		if strings.EqualFold(v, "all") {
			g = publicGrant
		}
		if !containsGrant(out, g) {
			out = append(out, g)
		}
	}
	return out
}
