package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// readRecycleBin lists deleted snapshots and AMIs the Recycle Bin still holds. They cannot be
// used while there, but a restore brings their sharing back, so their permissions matter:
// the collector asks for them with the ordinary attribute calls. Where EC2 does not answer
// those for a binned resource (it may report it not found), the record stays without grants
// and posture reports nothing for it: a known limit, not a silent zero, since the bin entry
// itself is in the inventory.
func (s *scope) readRecycleBin(ctx context.Context) {
	var recs []inventory.Snapshot
	var imgs []inventory.Image
	ps := ec2.NewListSnapshotsInRecycleBinPaginator(s.ec2, &ec2.ListSnapshotsInRecycleBinInput{MaxResults: aws.Int32(pageSize)})
	for ps.HasMorePages() {
		page, err := ps.NextPage(ctx)
		if err != nil {
			s.fail("ec2:ListSnapshotsInRecycleBin", err)
			break
		}
		for _, x := range page.Snapshots {
			id := aws.ToString(x.SnapshotId)
			c := s.common(inventory.KindEBSSnapshot, id)
			c.ARN = s.arn("ec2", "snapshot/"+id)
			c.RecycleBin = true
			c.State = "recycle-bin"
			if vol := aws.ToString(x.VolumeId); vol != copiedVolume {
				c.Lineage.SourceVolume = vol
			}
			recs = append(recs, inventory.Snapshot{Common: c})
		}
	}
	pi := ec2.NewListImagesInRecycleBinPaginator(s.ec2, &ec2.ListImagesInRecycleBinInput{MaxResults: aws.Int32(pageSize)})
	for pi.HasMorePages() {
		page, err := pi.NextPage(ctx)
		if err != nil {
			s.fail("ec2:ListImagesInRecycleBin", err)
			break
		}
		for _, x := range page.Images {
			id := aws.ToString(x.ImageId)
			c := s.common(inventory.KindAMI, id)
			c.ARN = "arn:" + s.c.partition + ":ec2:" + s.region + "::image/" + id
			c.Name = aws.ToString(x.Name)
			c.RecycleBin = true
			c.State = "recycle-bin"
			imgs = append(imgs, inventory.Image{Common: c})
		}
	}
	s.binPermissions(ctx, recs, imgs)
	s.mu.Lock()
	s.inv.Snapshots = append(s.inv.Snapshots, recs...)
	s.inv.Images = append(s.inv.Images, imgs...)
	s.mu.Unlock()
}

// binPermissions asks for the sharing of binned resources. A refusal or "not found" leaves
// the record's grants empty; other failures are reported.
func (s *scope) binPermissions(ctx context.Context, snaps []inventory.Snapshot, imgs []inventory.Image) {
	var fails failures
	s.each(ctx, len(snaps), func(i int) {
		out, err := s.ec2.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
			SnapshotId: aws.String(snaps[i].ID), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission})
		if err != nil {
			if !notFound(err) {
				fails.add(err)
			}
			return
		}
		snaps[i].Grants = append(snaps[i].Grants, volumeGrants(out.CreateVolumePermissions)...)
	})
	fails.report(s, "ec2:DescribeSnapshotAttribute(recycle bin)", len(snaps), "snapshots in the Recycle Bin")
	var ifails failures
	s.each(ctx, len(imgs), func(i int) {
		out, err := s.ec2.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
			ImageId: aws.String(imgs[i].ID), Attribute: ec2types.ImageAttributeNameLaunchPermission})
		if err != nil {
			if !notFound(err) {
				ifails.add(err)
			}
			return
		}
		imgs[i].Grants = append(imgs[i].Grants, launchGrants(out.LaunchPermissions)...)
	})
	ifails.report(s, "ec2:DescribeImageAttribute(recycle bin)", len(imgs), "AMIs in the Recycle Bin")
}
