package aws

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// ownerChunk bounds the owner list of one public-search call.
const ownerChunk = 100

// publicSearch is the attacker's view: from the caller's account, the public snapshots and
// AMIs of the organisation's accounts, found with the server-side public filters and an owner
// filter. It needs no role in the member accounts, so it covers accounts the audit could not
// enter. Its records carry Account = the owner and a public grant; Normalize folds them into
// the in-account records where both exist (those come first and keep their fields).
func (c *Collector) publicSearch(ctx context.Context, owners, regions []string) *inventory.Inventory {
	out := &inventory.Inventory{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, region := range regions {
		wg.Go(func() {
			part := c.publicRegion(ctx, owners, region)
			mu.Lock()
			out.Merge(part)
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func (c *Collector) publicRegion(ctx context.Context, owners []string, region string) *inventory.Inventory {
	inv := &inventory.Inventory{}
	cfg, err := c.scopeConfig(ctx, c.caller, region)
	if err != nil {
		inv.AddError(inventory.AWS, c.caller, region, "public-search", err)
		return inv
	}
	cli := ec2.NewFromConfig(cfg)
	now := time.Now()
	for start := 0; start < len(owners); start += ownerChunk {
		chunk := owners[start:min(len(owners), start+ownerChunk)]
		ps := ec2.NewDescribeSnapshotsPaginator(cli, &ec2.DescribeSnapshotsInput{OwnerIds: chunk,
			RestorableByUserIds: []string{"all"}, MaxResults: aws.Int32(pageSize)})
		for ps.HasMorePages() {
			page, err := ps.NextPage(ctx)
			if err != nil {
				inv.AddError(inventory.AWS, c.caller, region, "ec2:DescribeSnapshots(public search)", err)
				break
			}
			for i := range page.Snapshots {
				x := &page.Snapshots[i]
				s := &scope{c: c, account: aws.ToString(x.OwnerId), region: region}
				rec := s.snapshotRecord(x)
				rec.Encryption.KeyKind = ""
				if !rec.Encryption.Encrypted {
					rec.Encryption.KeyKind = inventory.KeyNone
				}
				rec.Grants = []inventory.Grant{publicGrant}
				inv.Snapshots = append(inv.Snapshots, rec)
			}
		}
		pi := ec2.NewDescribeImagesPaginator(cli, &ec2.DescribeImagesInput{Owners: chunk, ExecutableUsers: []string{"all"},
			IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(pageSize)})
		for pi.HasMorePages() {
			page, err := pi.NextPage(ctx)
			if err != nil {
				inv.AddError(inventory.AWS, c.caller, region, "ec2:DescribeImages(public search)", err)
				break
			}
			for i := range page.Images {
				x := &page.Images[i]
				s := &scope{c: c, account: aws.ToString(x.OwnerId), region: region}
				img := s.imageRecord(x, now)
				img.Encryption = inventory.Encryption{Encrypted: true}
				for _, b := range img.Backing {
					if !b.Encrypted {
						img.Encryption = inventory.Encryption{KeyKind: inventory.KeyNone}
					}
				}
				img.Grants = []inventory.Grant{publicGrant}
				inv.Images = append(inv.Images, img)
			}
		}
	}
	return inv
}
