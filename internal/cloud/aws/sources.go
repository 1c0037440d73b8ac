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

// listDBInstances returns the lower-cased identifiers of the scope's DB instances (RDS,
// DocumentDB and Neptune alike), or nil when the listing failed.
func (s *scope) listDBInstances(ctx context.Context, cli *rds.Client) map[string]bool {
	live := map[string]bool{}
	p := rds.NewDescribeDBInstancesPaginator(cli, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(rdsPage)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.fail("rds:DescribeDBInstances", err)
			return nil
		}
		for _, d := range page.DBInstances {
			live[strings.ToLower(aws.ToString(d.DBInstanceIdentifier))] = true
		}
	}
	return live
}

// listDBClusters returns the lower-cased identifiers of the scope's Aurora, DocumentDB and
// Neptune clusters, or nil when the listing failed.
func (s *scope) listDBClusters(ctx context.Context, cli *rds.Client) map[string]bool {
	live := map[string]bool{}
	p := rds.NewDescribeDBClustersPaginator(cli, &rds.DescribeDBClustersInput{MaxRecords: aws.Int32(rdsPage)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.fail("rds:DescribeDBClusters", err)
			return nil
		}
		for _, d := range page.DBClusters {
			live[strings.ToLower(aws.ToString(d.DBClusterIdentifier))] = true
		}
	}
	return live
}

// listRedshiftClusters returns the lower-cased identifiers of the scope's provisioned Redshift
// clusters, or nil when the listing failed.
func (s *scope) listRedshiftClusters(ctx context.Context, cli *redshift.Client) map[string]bool {
	live := map[string]bool{}
	p := redshift.NewDescribeClustersPaginator(cli, &redshift.DescribeClustersInput{MaxRecords: aws.Int32(rdsPage)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.fail("redshift:DescribeClusters", err)
			return nil
		}
		for _, c := range page.Clusters {
			live[strings.ToLower(aws.ToString(c.ClusterIdentifier))] = true
		}
	}
	return live
}
