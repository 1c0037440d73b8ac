package cloudsim

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	redshifttypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3ctltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

func prodRegion(t *testing.T, e *Estate) (*Account, *Region) {
	t.Helper()
	for _, a := range e.Accounts {
		if a.ID == "222222222222" {
			if a.Regions["us-east-1"] == nil {
				a.Regions["us-east-1"] = &Region{}
			}
			return a, a.Regions["us-east-1"]
		}
	}
	t.Fatal("no account 222222222222")
	return nil, nil
}

// DescribeDBInstances, DescribeDBClusters and Redshift DescribeClusters answer the caller's
// own databases in their real formats, page by MaxRecords and Marker, and refuse unknown ones
// with their typed not-found errors; snapshot copies carry their source.
func TestDatabaseSources(t *testing.T) {
	e, err := LoadEstate("testdata/estate.yaml")
	must(t, err)
	_, r := prodRegion(t, e)
	for i := range 45 {
		r.DBInstances = append(r.DBInstances, DBInstance{ID: fmt.Sprintf("db-%02d", i), Engine: []string{"postgres", "neptune"}[i%2]})
	}
	r.DBClusters = []DBCluster{{ID: "graph1", Engine: "neptune"}, {ID: "docs1", Engine: "docdb"}}
	r.RedshiftClusters = []RedshiftCluster{{ID: "warehouse", Nodes: 4}}
	r.DBSnapshots = append(r.DBSnapshots, DBSnapshot{ID: "copy-1", SourceID: "far", CopiedFrom: "arn:aws:rds:eu-west-1:222222222222:snapshot:far-1"})
	r.RedshiftSnapshots = append(r.RedshiftSnapshots, RedshiftSnapshot{ID: "rs-copy", ClusterID: "far", SourceRegion: "eu-west-1"})
	sim := startEstate(t, e, Options{})
	ctx := context.Background()
	cli := rds.NewFromConfig(cfg(sim, keyProd, "us-east-1"))

	var ids []string
	pages := 0
	p := rds.NewDescribeDBInstancesPaginator(cli, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		must(t, err)
		pages++
		for _, d := range page.DBInstances {
			ids = append(ids, aws.ToString(d.DBInstanceIdentifier))
			if d.Engine == nil || d.DBInstanceArn == nil || d.Endpoint == nil || aws.ToInt32(d.Endpoint.Port) == 0 {
				t.Fatalf("instance fields: %+v", d)
			}
		}
	}
	if pages != 3 || len(ids) != 45 || ids[44] != "db-44" {
		t.Fatalf("%d pages, %d instances (%v)", pages, len(ids), ids)
	}
	one, err := cli.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("DB-07")})
	must(t, err)
	if len(one.DBInstances) != 1 || aws.ToString(one.DBInstances[0].Engine) != "neptune" {
		t.Fatalf("one instance: %+v", one.DBInstances)
	}
	_, err = cli.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("gone")})
	var nf *rdstypes.DBInstanceNotFoundFault
	if !errors.As(err, &nf) {
		t.Fatalf("gone instance: %v", err)
	}
	_, err = cli.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(500)})
	wantCode(t, err, "InvalidParameterValue")

	cl, err := cli.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{MaxRecords: aws.Int32(100)})
	must(t, err)
	if len(cl.DBClusters) != 2 || aws.ToString(cl.DBClusters[1].Engine) != "docdb" || cl.Marker != nil {
		t.Fatalf("clusters: %+v", cl)
	}
	_, err = cli.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("aurora-gone")})
	var cnf *rdstypes.DBClusterNotFoundFault
	if !errors.As(err, &cnf) {
		t.Fatalf("gone cluster: %v", err)
	}
	// Another account sees none of them.
	other, err := rds.NewFromConfig(cfg(sim, keyDev, "us-east-1")).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	must(t, err)
	if len(other.DBInstances) != 0 {
		t.Fatalf("dev sees prod's instances: %+v", other.DBInstances)
	}

	snap, err := cli.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("copy-1")})
	must(t, err)
	if s := snap.DBSnapshots[0]; aws.ToString(s.SourceDBSnapshotIdentifier) != "arn:aws:rds:eu-west-1:222222222222:snapshot:far-1" || aws.ToString(s.SourceRegion) != "eu-west-1" {
		t.Fatalf("copy: %+v", s)
	}

	rs := redshift.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	cs, err := rs.DescribeClusters(ctx, &redshift.DescribeClustersInput{MaxRecords: aws.Int32(100)})
	must(t, err)
	if len(cs.Clusters) != 1 || aws.ToString(cs.Clusters[0].ClusterIdentifier) != "warehouse" || aws.ToInt32(cs.Clusters[0].NumberOfNodes) != 4 {
		t.Fatalf("redshift clusters: %+v", cs.Clusters)
	}
	_, err = rs.DescribeClusters(ctx, &redshift.DescribeClustersInput{ClusterIdentifier: aws.String("gone")})
	var rnf *redshifttypes.ClusterNotFoundFault
	if !errors.As(err, &rnf) {
		t.Fatalf("gone redshift cluster: %v", err)
	}
	rss, err := rs.DescribeClusterSnapshots(ctx, &redshift.DescribeClusterSnapshotsInput{SnapshotIdentifier: aws.String("rs-copy")})
	must(t, err)
	if aws.ToString(rss.Snapshots[0].SourceRegion) != "eu-west-1" {
		t.Fatalf("redshift copy: %+v", rss.Snapshots[0])
	}
}

// accountless drops the account label S3 Control puts before a custom endpoint's host.
type accountless struct{ next s3control.EndpointResolverV2 }

func (r accountless) ResolveEndpoint(ctx context.Context, p s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	e, err := r.next.ResolveEndpoint(ctx, p)
	if err == nil && p.AccountId != nil {
		e.URI.Host = e.URI.Host[len(*p.AccountId)+1:]
	}
	return e, err
}

// GetBucketAcl, the bucket's GetPublicAccessBlock and S3 Control's account GetPublicAccessBlock
// answer the owner in S3's formats; no configuration is NoSuchPublicAccessBlockConfiguration.
func TestBucketACLAndPublicAccessBlock(t *testing.T) {
	e, err := LoadEstate("testdata/estate.yaml")
	must(t, err)
	a, _ := prodRegion(t, e)
	a.Buckets[0].ACL = []ACLGrant{{Group: "AllUsers", Permission: "READ"}, {Group: "AuthenticatedUsers", Permission: "WRITE_ACP"}, {User: "abc123", Permission: "READ"}}
	a.Buckets[0].PublicAccessBlock = &PublicAccessBlock{IgnorePublicAcls: true}
	a.S3PublicAccessBlock = &PublicAccessBlock{RestrictPublicBuckets: true, BlockPublicPolicy: true}
	sim := startEstate(t, e, Options{})
	ctx := context.Background()
	client := func(key string) *s3.Client {
		return s3.NewFromConfig(cfg(sim, key, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
	}
	acl, err := client(keyProd).GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("prod-exports")})
	must(t, err)
	if len(acl.Grants) != 4 || acl.Grants[0].Permission != s3types.PermissionFullControl || acl.Grants[0].Grantee.Type != s3types.TypeCanonicalUser ||
		acl.Grants[1].Grantee.Type != s3types.TypeGroup || aws.ToString(acl.Grants[1].Grantee.URI) != "http://acs.amazonaws.com/groups/global/AllUsers" ||
		acl.Grants[2].Permission != s3types.PermissionWriteAcp || aws.ToString(acl.Grants[3].Grantee.ID) != "abc123" {
		t.Fatalf("acl: %+v", acl.Grants)
	}
	_, err = client(keyDev).GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("prod-exports")})
	wantCode(t, err, "AccessDenied")
	pab, err := client(keyProd).GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String("prod-exports")})
	must(t, err)
	if c := pab.PublicAccessBlockConfiguration; c == nil || !aws.ToBool(c.IgnorePublicAcls) || aws.ToBool(c.RestrictPublicBuckets) {
		t.Fatalf("bucket BPA: %+v", c)
	}

	ctl := func(key string) *s3control.Client {
		return s3control.NewFromConfig(cfg(sim, key, "us-east-1"), func(o *s3control.Options) {
			o.EndpointResolverV2 = accountless{s3control.NewDefaultEndpointResolverV2()}
		})
	}
	acct, err := ctl(keyProd).GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String("222222222222")})
	must(t, err)
	if c := acct.PublicAccessBlockConfiguration; c == nil || !aws.ToBool(c.RestrictPublicBuckets) || !aws.ToBool(c.BlockPublicPolicy) || aws.ToBool(c.IgnorePublicAcls) {
		t.Fatalf("account BPA: %+v", c)
	}
	_, err = ctl(keyDev).GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String("333333333333")})
	var none *s3ctltypes.NoSuchPublicAccessBlockConfiguration
	if !errors.As(err, &none) {
		t.Fatalf("dev has no account BPA: %v", err)
	}
	_, err = ctl(keyDev).GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String("222222222222")})
	wantCode(t, err, "AccessDenied")
	if c := sim.CallCounts(); c["s3control:GetPublicAccessBlock"] != 3 || c["s3:GetBucketAcl"] != 2 || c["s3:GetPublicAccessBlock"] != 1 {
		t.Errorf("call log: %v", c)
	}
}
