package aws

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// listImages lists the account's own AMIs, deprecated and disabled ones included (both are
// hidden by default and both still hold data). Owners=self keeps out every public AMI of the
// region and AMIs shared *to* us: they are not ours to report (cartography's bug).
func (s *scope) listImages(ctx context.Context) {
	p := ec2.NewDescribeImagesPaginator(s.ec2, &ec2.DescribeImagesInput{Owners: []string{"self"},
		IncludeDeprecated: aws.Bool(true), IncludeDisabled: aws.Bool(true), MaxResults: aws.Int32(pageSize)})
	now := time.Now()
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.fail("ec2:DescribeImages", err)
			return
		}
		for i := range page.Images {
			x := &page.Images[i]
			if owner := aws.ToString(x.OwnerId); owner != "" && owner != s.account {
				continue // belt and braces: never record another owner's AMI
			}
			s.images = append(s.images, s.imageRecord(x, now))
		}
	}
}

func (s *scope) imageRecord(x *ec2types.Image, now time.Time) inventory.Image {
	id := aws.ToString(x.ImageId)
	c := s.common(inventory.KindAMI, id)
	c.ARN = "arn:" + s.c.partition + ":ec2:" + s.region + "::image/" + id
	c.Name = aws.ToString(x.Name)
	if t, err := time.Parse(time.RFC3339, aws.ToString(x.CreationDate)); err == nil {
		c.Created = t
	}
	c.State = string(x.State)
	c.Tags, _ = tags(x.Tags)
	c.Lineage.SourceImage = aws.ToString(x.SourceImageId)
	if t, err := time.Parse(time.RFC3339, aws.ToString(x.DeprecationTime)); err == nil && t.Before(now) {
		c.Deprecated = true
	}
	c.Disabled = x.State == ec2types.ImageStateDisabled
	if aws.ToBool(x.Public) {
		c.Grants = append(c.Grants, publicGrant)
	}
	img := inventory.Image{Common: c}
	for _, bd := range x.BlockDeviceMappings {
		if bd.Ebs == nil || bd.Ebs.SnapshotId == nil {
			continue // instance store or a volume created empty
		}
		img.Backing = append(img.Backing, inventory.Backing{SnapshotID: aws.ToString(bd.Ebs.SnapshotId),
			Device: aws.ToString(bd.DeviceName), Encrypted: aws.ToBool(bd.Ebs.Encrypted), KeyID: aws.ToString(bd.Ebs.KmsKeyId)})
	}
	return img
}

// imagePermissions reads launchPermission of every AMI AWS would let be shared: not disabled
// ones (disabling makes an AMI private) and not those whose backing snapshots use the AWS
// managed key. The Public flag came with the listing; this call adds accounts, orgs and OUs.
func (s *scope) imagePermissions(ctx context.Context) {
	var todo []int
	for i := range s.images {
		img := &s.images[i]
		s.resolveBacking(img)
		ok := !img.Disabled
		for _, b := range img.Backing {
			if b.Encrypted && s.keys.kind(b.KeyID) == inventory.KeyProviderManaged {
				ok = false
			}
		}
		if ok {
			todo = append(todo, i)
		}
	}
	var fails failures
	s.each(ctx, len(todo), func(k int) {
		img := &s.images[todo[k]]
		out, err := s.ec2.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
			ImageId: aws.String(img.ID), Attribute: ec2types.ImageAttributeNameLaunchPermission})
		if err != nil {
			if !notFound(err) {
				fails.add(err)
			}
			return
		}
		img.Grants = addGrants(img.Grants, launchGrants(out.LaunchPermissions))
	})
	fails.report(s, "ec2:DescribeImageAttribute", len(todo), "shareable AMIs")
}

func containsGrant(gs []inventory.Grant, g inventory.Grant) bool {
	for _, x := range gs {
		if x == g {
			return true
		}
	}
	return false
}

// resolveBacking fills each backing snapshot's key from the account's snapshot listing (the
// block device mapping may not carry it) and whether the snapshot still exists. Exists stays
// Unknown unless the listing completed: a failed listing is not a deleted snapshot.
func (s *scope) resolveBacking(img *inventory.Image) {
	for j := range img.Backing {
		b := &img.Backing[j]
		if i, ok := s.snapIdx[b.SnapshotID]; ok {
			if b.KeyID == "" {
				b.KeyID = s.snaps[i].Encryption.KeyID
			}
			b.Encrypted = b.Encrypted || s.snaps[i].Encryption.Encrypted
			b.Exists = inventory.Yes
		} else if s.snapsOK {
			b.Exists = inventory.No
		}
		b.KeyID = s.keys.intern(b.KeyID)
	}
}

// finishImages sums up each AMI's encryption from its backing snapshots: unencrypted if any
// is; the AWS managed key if any uses it (AWS then refuses to share the AMI at all); else the
// customer key, when all use the same one. With several customer keys the grantees are left
// unknown, which posture grades as readable: the cautious reading.
func (s *scope) finishImages() {
	for i := range s.images {
		img := &s.images[i]
		if !s.has(FamilyAMI) {
			continue
		}
		if len(img.Backing) == 0 {
			img.Encryption = inventory.Encryption{KeyKind: inventory.KeyNone}
			continue
		}
		enc := inventory.Encryption{Encrypted: true}
		keys := map[string]bool{}
		for _, b := range img.Backing {
			if !b.Encrypted {
				enc = inventory.Encryption{KeyKind: inventory.KeyNone}
				break
			}
			keys[b.KeyID] = true
			switch k := s.keys.kind(b.KeyID); {
			case k == inventory.KeyProviderManaged:
				enc.KeyKind, enc.KeyID = k, b.KeyID
			case enc.KeyKind != inventory.KeyProviderManaged:
				enc.KeyKind, enc.KeyID = k, b.KeyID
			}
		}
		if enc.Encrypted && enc.KeyKind == inventory.KeyCustomerManaged && len(keys) > 1 {
			enc.KeyID = "" // several keys: analyseKeys leaves grantees unknown
		}
		img.Encryption = enc
	}
}
