package cloudsim

import (
	"errors"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
)

func dbIDs(ss []rdstypes.DBSnapshot) []string {
	var out []string
	for _, s := range ss {
		out = append(out, *s.DBSnapshotIdentifier+"/"+*s.SnapshotType)
	}
	sort.Strings(out)
	return out
}

func TestRDSSnapshots(t *testing.T) {
	sim := start(t, Options{})
	prod := rds.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	out, err := prod.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{})
	must(t, err)
	if got := dbIDs(out.DBSnapshots); !slices.Equal(got, []string{"mydb-public-mixed/manual", "mydb-shared/manual", "rds:mydb-2024-09-01-00-00/automated"}) {
		t.Fatalf("owned: %v", got)
	}
	for _, s := range out.DBSnapshots {
		if *s.DBSnapshotIdentifier == "mydb-shared" && (!*s.Encrypted || *s.KmsKeyId != "arn:aws:kms:us-east-1:222222222222:key/0a000000-0000-4000-8000-000000000001" ||
			*s.DBSnapshotArn != "arn:aws:rds:us-east-1:222222222222:snapshot:mydb-shared" || *s.Engine != "mysql" || *s.Port != 3306) {
			t.Fatalf("%+v", s)
		}
		if *s.DBSnapshotIdentifier == "mydb-public-mixed" && (*s.Engine != "postgres" || s.SnapshotCreateTime.Year() != 2024) {
			t.Fatalf("%+v", s)
		}
	}
	// "all" mixed with an account id: the attribute answers both, in the estate's order.
	attr, err := prod.DescribeDBSnapshotAttributes(ctx, &rds.DescribeDBSnapshotAttributesInput{DBSnapshotIdentifier: aws.String("mydb-public-mixed")})
	must(t, err)
	r := attr.DBSnapshotAttributesResult
	if *r.DBSnapshotIdentifier != "mydb-public-mixed" || len(r.DBSnapshotAttributes) != 1 || *r.DBSnapshotAttributes[0].AttributeName != "restore" ||
		!slices.Equal(r.DBSnapshotAttributes[0].AttributeValues, []string{"999999999999", "all"}) {
		t.Fatalf("%+v", r.DBSnapshotAttributes)
	}
	_, err = prod.DescribeDBSnapshotAttributes(ctx, &rds.DescribeDBSnapshotAttributesInput{DBSnapshotIdentifier: aws.String("nope")})
	var nf *rdstypes.DBSnapshotNotFoundFault
	if !errors.As(err, &nf) {
		t.Fatalf("want DBSnapshotNotFoundFault, got %T %v", err, err)
	}

	// The outsider: shared and public only when asked for.
	outside := rds.NewFromConfig(cfg(sim, keyOutside, "us-east-1"))
	out, err = outside.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{})
	must(t, err)
	if len(out.DBSnapshots) != 0 {
		t.Fatalf("%v", dbIDs(out.DBSnapshots))
	}
	out, err = outside.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{IncludeShared: aws.Bool(true), IncludePublic: aws.Bool(true)})
	must(t, err)
	if got := dbIDs(out.DBSnapshots); !slices.Equal(got, []string{"mydb-public-mixed/public"}) {
		t.Fatalf("outsider: %v", got)
	}
	dev := rds.NewFromConfig(cfg(sim, keyDev, "us-east-1"))
	out, err = dev.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("shared")})
	must(t, err)
	if got := dbIDs(out.DBSnapshots); !slices.Equal(got, []string{"mydb-shared/shared"}) {
		t.Fatalf("dev shared: %v", got)
	}
	out, err = dev.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("arn:aws:rds:us-east-1:222222222222:snapshot:mydb-shared")})
	must(t, err)
	if len(out.DBSnapshots) != 1 {
		t.Fatal("by ARN")
	}

	// Cluster snapshots: Aurora, DocumentDB and Neptune from one API, told apart by Engine.
	cs, err := prod.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{})
	must(t, err)
	engines := map[string]string{}
	for _, s := range cs.DBClusterSnapshots {
		engines[*s.DBClusterSnapshotIdentifier] = *s.Engine
		if *s.DBClusterSnapshotIdentifier == "aurora-manual" && (!*s.StorageEncrypted || *s.KmsKeyId != "arn:aws:kms:us-east-1:222222222222:alias/aws/rds") {
			t.Fatalf("%+v", s)
		}
	}
	if len(engines) != 3 || engines["docdb-public"] != "docdb" || engines["neptune-shared"] != "neptune" || engines["aurora-manual"] != "aurora-mysql" {
		t.Fatalf("%v", engines)
	}
	cs, err = prod.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{Filters: []rdstypes.Filter{{Name: aws.String("engine"), Values: []string{"neptune"}}}})
	must(t, err)
	if len(cs.DBClusterSnapshots) != 1 || *cs.DBClusterSnapshots[0].DBClusterSnapshotIdentifier != "neptune-shared" {
		t.Fatalf("engine filter: %+v", cs.DBClusterSnapshots)
	}
	ca, err := prod.DescribeDBClusterSnapshotAttributes(ctx, &rds.DescribeDBClusterSnapshotAttributesInput{DBClusterSnapshotIdentifier: aws.String("docdb-public")})
	must(t, err)
	if v := ca.DBClusterSnapshotAttributesResult.DBClusterSnapshotAttributes[0].AttributeValues; !slices.Equal(v, []string{"all"}) {
		t.Fatal(v)
	}

	// Fix: remove public, and the change is a mutating call.
	mod, err := prod.ModifyDBSnapshotAttribute(ctx, &rds.ModifyDBSnapshotAttributeInput{DBSnapshotIdentifier: aws.String("mydb-public-mixed"),
		AttributeName: aws.String("restore"), ValuesToRemove: []string{"all"}, ValuesToAdd: []string{"333333333333"}})
	must(t, err)
	if v := mod.DBSnapshotAttributesResult.DBSnapshotAttributes[0].AttributeValues; !slices.Equal(v, []string{"999999999999", "333333333333"}) {
		t.Fatal(v)
	}
	_, err = prod.ModifyDBClusterSnapshotAttribute(ctx, &rds.ModifyDBClusterSnapshotAttributeInput{DBClusterSnapshotIdentifier: aws.String("aurora-manual"),
		AttributeName: aws.String("restore"), ValuesToAdd: []string{"all"}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = prod.ModifyDBSnapshotAttribute(ctx, &rds.ModifyDBSnapshotAttributeInput{DBSnapshotIdentifier: aws.String("rds:mydb-2024-09-01-00-00"),
		AttributeName: aws.String("restore"), ValuesToAdd: []string{"333333333333"}})
	wantCode(t, err, "InvalidDBSnapshotState")
	if m := sim.MutatingCalls(); len(m) != 3 || m[0].Service != "rds" || m[0].Action != "ModifyDBSnapshotAttribute" {
		t.Fatalf("%+v", m)
	}

	ex, err := prod.DescribeExportTasks(ctx, &rds.DescribeExportTasksInput{})
	must(t, err)
	if len(ex.ExportTasks) != 1 || *ex.ExportTasks[0].S3Bucket != "prod-exports" || *ex.ExportTasks[0].Status != "COMPLETE" || ex.ExportTasks[0].SourceType != rdstypes.ExportSourceTypeSnapshot {
		t.Fatalf("%+v", ex.ExportTasks)
	}
}

func TestRDSPagination(t *testing.T) {
	e := GenerateEstate(GenSpec{Accounts: 2, Regions: []string{"eu-west-1"}, DBSnapshots: 250, ClusterSnapshots: 90, PublicFraction: 0.2, SharedFraction: 0.2})
	sim := startEstate(t, e, Options{})
	c := rds.NewFromConfig(cfg(sim, GeneratedAccessKey, "eu-west-1"))
	p := rds.NewDescribeDBSnapshotsPaginator(c, &rds.DescribeDBSnapshotsInput{MaxRecords: aws.Int32(20)})
	n, pages := 0, 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		must(t, err)
		n += len(page.DBSnapshots)
		pages++
	}
	if n != 125 || pages != 7 {
		t.Fatalf("%d snapshots in %d pages", n, pages)
	}
	cp := rds.NewDescribeDBClusterSnapshotsPaginator(c, &rds.DescribeDBClusterSnapshotsInput{MaxRecords: aws.Int32(20), IncludePublic: aws.Bool(true)})
	n = 0
	for cp.HasMorePages() {
		page, err := cp.NextPage(ctx)
		must(t, err)
		n += len(page.DBClusterSnapshots)
	}
	if n <= 45 {
		t.Fatalf("cluster snapshots with public: %d", n)
	}
	_, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{MaxRecords: aws.Int32(10)})
	wantCode(t, err, "InvalidParameterValue")
}

func TestRedshift(t *testing.T) {
	sim := start(t, Options{})
	prod := redshift.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	out, err := prod.DescribeClusterSnapshots(ctx, &redshift.DescribeClusterSnapshotsInput{})
	must(t, err)
	if len(out.Snapshots) != 2 {
		t.Fatal(out.Snapshots)
	}
	s := out.Snapshots[0]
	if *s.SnapshotIdentifier != "rs-manual-1" || len(s.AccountsWithRestoreAccess) != 1 || *s.AccountsWithRestoreAccess[0].AccountId != "999999999999" ||
		!*s.Encrypted || *s.OwnerAccount != "222222222222" || *s.SnapshotType != "manual" || *s.ClusterIdentifier != "warehouse" {
		t.Fatalf("%+v", s)
	}
	outside := redshift.NewFromConfig(cfg(sim, keyOutside, "us-east-1"))
	out, err = outside.DescribeClusterSnapshots(ctx, &redshift.DescribeClusterSnapshotsInput{})
	must(t, err)
	if len(out.Snapshots) != 1 || len(out.Snapshots[0].AccountsWithRestoreAccess) != 0 {
		t.Fatalf("outsider: %+v", out.Snapshots)
	}
	_, err = prod.RevokeSnapshotAccess(ctx, &redshift.RevokeSnapshotAccessInput{SnapshotIdentifier: aws.String("rs-manual-1"), AccountWithRestoreAccess: aws.String("999999999999")})
	must(t, err)
	au, err := prod.AuthorizeSnapshotAccess(ctx, &redshift.AuthorizeSnapshotAccessInput{SnapshotIdentifier: aws.String("rs-manual-1"), AccountWithRestoreAccess: aws.String("333333333333")})
	must(t, err)
	if len(au.Snapshot.AccountsWithRestoreAccess) != 1 || *au.Snapshot.AccountsWithRestoreAccess[0].AccountId != "333333333333" {
		t.Fatalf("%+v", au.Snapshot)
	}
	_, err = prod.RevokeSnapshotAccess(ctx, &redshift.RevokeSnapshotAccessInput{SnapshotIdentifier: aws.String("rs-manual-1"), AccountWithRestoreAccess: aws.String("999999999999")})
	wantCode(t, err, "AuthorizationNotFound")
	_, err = prod.DescribeClusterSnapshots(ctx, &redshift.DescribeClusterSnapshotsInput{SnapshotIdentifier: aws.String("nope")})
	wantCode(t, err, "ClusterSnapshotNotFound")
	if len(sim.MutatingCalls()) != 3 {
		t.Fatal(sim.MutatingCalls())
	}
}
