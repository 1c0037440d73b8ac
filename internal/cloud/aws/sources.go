package aws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/redshift"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// Whether a database snapshot's source still exists: one listing of the scope's DB instances,
// DB clusters or Redshift clusters (largest pages), made only when the scope holds a manual
// snapshot whose source can be looked up there, and joined by identifier. RDS identifiers are
// case-insensitive (RDS stores them lower-case), so the join is too.
//
// What is looked up: a manual snapshot that names its instance or cluster and is not a copy.
// A cross-region or cross-account copy (RDS SourceDBSnapshotIdentifier / SourceRegion /
// SourceDBClusterSnapshotArn, Redshift SourceRegion) names a source in another region or
// account, which this scope's listing cannot see; it stays Unknown. Automated snapshots go
// with their instance and are not looked up. A listing that fails leaves every snapshot it
// would have answered Unknown and is reported; absence is read as "gone" only from a complete
// listing.

// sourceCheckable reports whether the scope's listing can tell whether r's source exists.
func sourceCheckable(r *inventory.Snapshot) bool {
	return !r.Automated && r.Lineage.SourceVolume != "" && r.Lineage.ParentSnapshot == ""
}

// joinSources sets SourceExists of the checkable records from a complete listing (nil: none).
func joinSources(recs []inventory.Snapshot, live map[string]bool) {
	if live == nil {
		return
	}
	for i := range recs {
		r := &recs[i]
		if !sourceCheckable(r) {
			continue
		}
		r.Lineage.SourceExists = inventory.No
		if live[strings.ToLower(r.Lineage.SourceVolume)] {
			r.Lineage.SourceExists = inventory.Yes
		}
	}
}

func anyCheckable(recs []inventory.Snapshot) bool {
	for i := range recs {
		if sourceCheckable(&recs[i]) {
			return true
		}
	}
	return false
}

// pager is an SDK paginator: O is a page, Opt the client's options.
type pager[O, Opt any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(Opt)) (O, error)
}

// liveIDs pages through a listing and returns the lower-cased identifiers its pages name, or
// nil when a page failed (recorded under action): a failed listing must not read as "gone".
func liveIDs[O, Opt any](ctx context.Context, s *scope, action string, p pager[O, Opt], ids func(O) []*string) map[string]bool {
	live := map[string]bool{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.fail(action, err)
			return nil
		}
		for _, id := range ids(page) {
			live[strings.ToLower(aws.ToString(id))] = true
		}
	}
	return live
}

// listDBInstances returns the lower-cased identifiers of the scope's DB instances (RDS,
// DocumentDB and Neptune alike), or nil when the listing failed.
func (s *scope) listDBInstances(ctx context.Context, cli *rds.Client) map[string]bool {
	p := rds.NewDescribeDBInstancesPaginator(cli, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(rdsPage)})
	return liveIDs[*rds.DescribeDBInstancesOutput, *rds.Options](ctx, s, "rds:DescribeDBInstances", p,
		func(o *rds.DescribeDBInstancesOutput) []*string {
			ids := make([]*string, len(o.DBInstances))
			for i := range o.DBInstances {
				ids[i] = o.DBInstances[i].DBInstanceIdentifier
			}
			return ids
		})
}

// listDBClusters returns the lower-cased identifiers of the scope's Aurora, DocumentDB and
// Neptune clusters, or nil when the listing failed.
func (s *scope) listDBClusters(ctx context.Context, cli *rds.Client) map[string]bool {
	p := rds.NewDescribeDBClustersPaginator(cli, &rds.DescribeDBClustersInput{MaxRecords: aws.Int32(rdsPage)})
	return liveIDs[*rds.DescribeDBClustersOutput, *rds.Options](ctx, s, "rds:DescribeDBClusters", p,
		func(o *rds.DescribeDBClustersOutput) []*string {
			ids := make([]*string, len(o.DBClusters))
			for i := range o.DBClusters {
				ids[i] = o.DBClusters[i].DBClusterIdentifier
			}
			return ids
		})
}

// listRedshiftClusters returns the lower-cased identifiers of the scope's provisioned Redshift
// clusters, or nil when the listing failed.
func (s *scope) listRedshiftClusters(ctx context.Context, cli *redshift.Client) map[string]bool {
	p := redshift.NewDescribeClustersPaginator(cli, &redshift.DescribeClustersInput{MaxRecords: aws.Int32(rdsPage)})
	return liveIDs[*redshift.DescribeClustersOutput, *redshift.Options](ctx, s, "redshift:DescribeClusters", p,
		func(o *redshift.DescribeClustersOutput) []*string {
			ids := make([]*string, len(o.Clusters))
			for i := range o.Clusters {
				ids[i] = o.Clusters[i].ClusterIdentifier
			}
			return ids
		})
}
