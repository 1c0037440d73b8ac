package ebs

import (
	"context"
	"io"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebsapi "github.com/aws/aws-sdk-go-v2/service/ebs"

	"github.com/snapwatch/snapwatch/internal/volume"
)

// Changed is the set of blocks that differ between a base snapshot and a later one of the same
// volume lineage: rewritten, newly written and wiped blocks alike.
type Changed struct {
	Base, Snapshot string
	idx            []uint32 // sorted
}

// ListChanged lists the blocks that changed from base to snap (ListChangedBlocks, every page).
func ListChanged(ctx context.Context, api API, base, snap string) (*Changed, error) {
	c := &Changed{Base: base, Snapshot: snap}
	in := &ebsapi.ListChangedBlocksInput{FirstSnapshotId: aws.String(base), SecondSnapshotId: aws.String(snap),
		MaxResults: aws.Int32(listPageSize)}
	for {
		var out *ebsapi.ListChangedBlocksOutput
		var err error
		for attempt := 1; ; attempt++ {
			if out, err = api.ListChangedBlocks(ctx, in); err == nil {
				break
			}
			if k := classify(err); (k != errThrottle && k != errTransient) || attempt > defaultRetries+2 {
				return nil, explain(snap, err)
			}
			if err := sleep(ctx, backoff(attempt, 100*time.Millisecond, 5*time.Second)); err != nil {
				return nil, err
			}
		}
		for _, b := range out.ChangedBlocks {
			if b.BlockIndex != nil {
				c.idx = append(c.idx, uint32(*b.BlockIndex))
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	slices.Sort(c.idx)
	c.idx = slices.Compact(c.idx)
	return c, nil
}

// Count is the number of changed blocks.
func (c *Changed) Count() int { return len(c.idx) }

// Touches says whether any block under disk bytes [off, off+n) changed.
func (c *Changed) Touches(off, n int64) bool {
	if n <= 0 || off < 0 {
		return false
	}
	p, _ := slices.BinarySearch(c.idx, uint32(off/BlockSize))
	return p < len(c.idx) && int64(c.idx[p]) <= (off+n-1)/BlockSize
}

// VolumeFunc returns a target.Mount.Changed for a volume read from disk: volume offsets are
// traced through partitions and LVM to the disk's offsets first.
func (c *Changed) VolumeFunc(vol io.ReaderAt, disk io.ReaderAt) func(off, n int64) bool {
	return func(off, n int64) bool {
		hit := false
		volume.Resolve(vol, off, n, func(r io.ReaderAt, o, k int64) bool {
			hit = r == disk && c.Touches(o, k)
			return !hit
		})
		return hit
	}
}
