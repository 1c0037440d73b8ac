package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// listRedshift lists the account's provisioned-cluster snapshots. Their sharing comes inline
// (AccountsWithRestoreAccess, shown to the owner), so they cost no attribute call; Redshift
// snapshots cannot be public. OwnerAccount keeps out snapshots shared with us.
func (s *scope) listRedshift(ctx context.Context) {
	cli := redshift.NewFromConfig(s.cfg)
	p := redshift.NewDescribeClusterSnapshotsPaginator(cli, &redshift.DescribeClusterSnapshotsInput{
		OwnerAccount: aws.String(s.account), MaxRecords: aws.Int32(rdsPage)})
	var recs []inventory.Snapshot
	copied := map[int]bool{} // cross-region copies: their cluster is in another region
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.fail("redshift:DescribeClusterSnapshots", err)
			break
		}
		for _, x := range page.Snapshots {
			if o := aws.ToString(x.OwnerAccount); o != "" && o != s.account {
				continue
			}
			id := aws.ToString(x.SnapshotIdentifier)
			c := s.common(inventory.KindRedshiftSnapshot, id)
			c.ARN = s.arn("redshift", "snapshot:"+aws.ToString(x.ClusterIdentifier)+"/"+id)
			c.Created = aws.ToTime(x.SnapshotCreateTime)
			c.SizeGiB = int64(aws.ToFloat64(x.TotalBackupSizeInMegaBytes) / 1024)
			c.State = aws.ToString(x.Status)
			for _, t := range x.Tags {
				c.Tags = append(c.Tags, inventory.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
			}
			c.Encryption = s.keys.encryption(aws.ToBool(x.Encrypted), aws.ToString(x.KmsKeyId))
			c.Lineage.SourceVolume = aws.ToString(x.ClusterIdentifier)
			for _, a := range x.AccountsWithRestoreAccess {
				c.Grants = append(c.Grants, inventory.Grant{Kind: inventory.GrantAccount, Value: aws.ToString(a.AccountId), Via: inventory.ViaAttribute})
			}
			if r := aws.ToString(x.SourceRegion); r != "" && r != s.region {
				copied[len(recs)] = true
			}
			recs = append(recs, inventory.Snapshot{Common: c, Automated: aws.ToString(x.SnapshotType) == "automated"})
		}
	}
	// Does each manual snapshot's cluster still exist? Copies are set aside for the join.
	var own, copies []inventory.Snapshot
	for i := range recs {
		if copied[i] {
			copies = append(copies, recs[i])
		} else {
			own = append(own, recs[i])
		}
	}
	if anyCheckable(own) {
		joinSources(own, s.listRedshiftClusters(ctx, cli))
	}
	s.redshift = append(own, copies...)
}
