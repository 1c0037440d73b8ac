package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// pageSize is the largest page DescribeSnapshots, DescribeImages and DescribeVolumes return.
// Without MaxResults DescribeSnapshots tries to answer everything at once, which times out at
// 100k snapshots (cloudquery #9374).
const pageSize = 1000

// listSnapshots lists the account's own snapshots (OwnerIds=self: without it EC2 also returns
// every public snapshot of the region, thousands of strangers').
func (s *scope) listSnapshots(ctx context.Context) {
	s.snapIdx = map[string]int{}
	p := ec2.NewDescribeSnapshotsPaginator(s.ec2, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, MaxResults: aws.Int32(pageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.fail("ec2:DescribeSnapshots", err)
			return
		}
		for i := range page.Snapshots {
			s.snapIdx[aws.ToString(page.Snapshots[i].SnapshotId)] = len(s.snaps)
			s.snaps = append(s.snaps, s.snapshotRecord(&page.Snapshots[i]))
		}
	}
	s.snapsOK = true
}

// snapshotRecord converts one listed snapshot. Its key kind needs the key index, which the
// listing races with; finishSnapshots fills it in.
func (s *scope) snapshotRecord(x *ec2types.Snapshot) inventory.Snapshot {
	id := aws.ToString(x.SnapshotId)
	c := s.common(inventory.KindEBSSnapshot, id)
	c.ARN = s.arn("ec2", "snapshot/"+id)
	c.Created = aws.ToTime(x.StartTime)
	c.SizeGiB = int64(aws.ToInt32(x.VolumeSize))
	c.State = string(x.State)
	c.Tags, c.Name = tags(x.Tags)
	c.Encryption = inventory.Encryption{Encrypted: aws.ToBool(x.Encrypted), KeyID: aws.ToString(x.KmsKeyId)}
	if vol := aws.ToString(x.VolumeId); vol != "" && vol != copiedVolume {
		c.Lineage.SourceVolume = vol
	}
	return inventory.Snapshot{Common: c}
}

// copiedVolume is the volume id EC2 shows for a snapshot made by CopySnapshot: it names no volume.
const copiedVolume = "vol-ffffffff"

// listPublicSnapshots asks EC2 for the account's public snapshots with a server-side filter:
// one call per region finds them whatever else fails, including when attribute calls do.
func (s *scope) listPublicSnapshots(ctx context.Context) {
	ids := map[string]bool{}
	p := ec2.NewDescribeSnapshotsPaginator(s.ec2, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		RestorableByUserIds: []string{"all"}, MaxResults: aws.Int32(pageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.fail("ec2:DescribeSnapshots(RestorableByUserIds=all)", err)
			return
		}
		for _, x := range page.Snapshots {
			ids[aws.ToString(x.SnapshotId)] = true
		}
	}
	s.publicIDs = ids
}

// listVolumes reads the region's volume ids, so that a snapshot whose volume is gone can be
// told from one whose volume was not looked up.
func (s *scope) listVolumes(ctx context.Context) {
	vols := map[string]bool{}
	p := ec2.NewDescribeVolumesPaginator(s.ec2, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(pageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.fail("ec2:DescribeVolumes", err)
			return
		}
		for _, v := range page.Volumes {
			vols[aws.ToString(v.VolumeId)] = true
		}
	}
	s.volumes = vols
}

// snapshotPermissions reads createVolumePermission of every snapshot AWS would let be shared.
// There is no server-side filter for "shared with some account", so this is one call per
// snapshot; what makes it affordable is skipping the snapshots encrypted with the AWS managed
// key, which AWS refuses to share (usually most of them: encryption by default uses that key).
func (s *scope) snapshotPermissions(ctx context.Context) {
	var todo []int
	for i := range s.snaps {
		e := &s.snaps[i].Encryption
		e.KeyKind = s.keys.kind(e.KeyID)
		if shareable(*e) {
			todo = append(todo, i)
		}
	}
	var fails failures
	s.each(ctx, len(todo), func(k int) {
		rec := &s.snaps[todo[k]]
		out, err := s.ec2.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
			SnapshotId: aws.String(rec.ID), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission})
		if err != nil {
			if !notFound(err) {
				fails.add(err)
			}
			return
		}
		rec.Grants = append(rec.Grants, volumeGrants(out.CreateVolumePermissions)...)
	})
	fails.report(s, "ec2:DescribeSnapshotAttribute", len(todo), "shareable snapshots")
}

// finishSnapshots joins what the phases found: the public filter's answer, key kinds and
// whether each source volume still exists.
func (s *scope) finishSnapshots() {
	for i := range s.snaps {
		rec := &s.snaps[i]
		e := &rec.Encryption
		*e = s.keys.encryption(e.Encrypted, e.KeyID)
		if s.publicIDs[rec.ID] && !hasGrant(rec.Grants, inventory.GrantPublic) {
			rec.Grants = append(rec.Grants, publicGrant)
		}
		if l := &rec.Lineage; l.SourceVolume != "" && s.volumes != nil {
			l.SourceExists = inventory.No
			if s.volumes[l.SourceVolume] {
				l.SourceExists = inventory.Yes
			}
		}
	}
}

func hasGrant(gs []inventory.Grant, k inventory.GrantKind) bool {
	for _, g := range gs {
		if g.Kind == k {
			return true
		}
	}
	return false
}

// tags converts EC2 tags and returns the Name tag.
func tags(ts []ec2types.Tag) ([]inventory.Tag, string) {
	if len(ts) == 0 {
		return nil, ""
	}
	out := make([]inventory.Tag, len(ts))
	name := ""
	for i, t := range ts {
		out[i] = inventory.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)}
		if out[i].Key == "Name" {
			name = out[i].Value
		}
	}
	return out, name
}
