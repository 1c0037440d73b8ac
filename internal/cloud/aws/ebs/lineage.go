package ebs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2API is the part of the EC2 client the targets call: one snapshot's record, its lineage and
// an AMI's block devices.
type EC2API interface {
	DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
	DescribeImages(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
}

// describeSnapshot returns a snapshot's record, or nil when the caller cannot see it.
func describeSnapshot(ctx context.Context, api EC2API, id string) (*ec2types.Snapshot, error) {
	out, err := api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
	if err != nil {
		return nil, err
	}
	for i := range out.Snapshots {
		if aws.ToString(out.Snapshots[i].SnapshotId) == id {
			return &out.Snapshots[i], nil
		}
	}
	return nil, nil
}

// PreviousSnapshot finds the base of an automatic incremental scan: the most recent completed
// snapshot of the same volume, owned by the caller, started before snap. EBS snapshots of one
// volume are incremental on each other, so ListChangedBlocks between the two is what the
// later one added. "" when there is none (the first snapshot of its volume).
func PreviousSnapshot(ctx context.Context, api EC2API, snap *ec2types.Snapshot) (string, error) {
	if snap.VolumeId == nil || snap.StartTime == nil {
		return "", nil
	}
	in := &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []ec2types.Filter{
		{Name: aws.String("volume-id"), Values: []string{*snap.VolumeId}},
		{Name: aws.String("status"), Values: []string{"completed"}},
	}, MaxResults: aws.Int32(1000)}
	best, bestID := snap.StartTime.Add(0), ""
	first := true
	for p := ec2.NewDescribeSnapshotsPaginator(api, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("finding the previous snapshot of %s: %w", aws.ToString(snap.VolumeId), err)
		}
		for _, s := range page.Snapshots {
			if s.StartTime == nil || aws.ToString(s.SnapshotId) == aws.ToString(snap.SnapshotId) || !s.StartTime.Before(*snap.StartTime) {
				continue
			}
			if first || s.StartTime.After(best) {
				best, bestID, first = *s.StartTime, aws.ToString(s.SnapshotId), false
			}
		}
	}
	return bestID, nil
}
