package cloudsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ebs"
	ebstypes "github.com/aws/aws-sdk-go-v2/service/ebs/types"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// diskImage makes a GPT disk with an ext4 file system holding a planted secret, as a real
// snapshot of a Linux root volume would look.
func diskImage(t *testing.T) string {
	t.Helper()
	tree := fixture.WriteTree(t, []fixture.File{
		{Path: "etc/hostname", Data: []byte("web-1\n")},
		{Path: "home/ubuntu/.aws/credentials", Data: []byte("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n")},
		{Path: "var/lib/big.bin", Data: bytes.Repeat([]byte("snapwatch"), 300000)},
	})
	fs := fixture.Ext4(t, tree, 24)
	disk, _ := fixture.Disk(t, fixture.LayoutGPT, fixture.Part{Image: fs})
	return disk
}

// blocksOf reads a file's 512 KiB blocks that are not all zero.
func blocksOf(t *testing.T, path string) map[int64][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	out := map[int64][]byte{}
	for off := 0; off < len(b); off += blockSize {
		blk := make([]byte, blockSize)
		copy(blk, b[off:min(len(b), off+blockSize)])
		if !bytes.Equal(blk, zeroBlock) {
			out[int64(off/blockSize)] = blk
		}
	}
	return out
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestEBSDirect(t *testing.T) {
	disk := diskImage(t)
	// A later snapshot of the same volume: two blocks rewritten, one wiped.
	later := filepath.Join(t.TempDir(), "later.raw")
	st, err := os.Stat(disk)
	must(t, err)
	fixture.Sparse(t, later, st.Size())
	fixture.CopyInto(t, later, 0, disk)
	orig := blocksOf(t, disk)
	var written []int64
	for i := range orig {
		written = append(written, i)
	}
	slices.Sort(written)
	f, err := os.OpenFile(later, os.O_RDWR, 0)
	must(t, err)
	_, err = f.WriteAt(bytes.Repeat([]byte{0xAB}, 4096), written[1]*blockSize+100) // changed
	must(t, err)
	_, err = f.WriteAt(make([]byte, blockSize), written[2]*blockSize) // wiped
	must(t, err)
	newBlock := (st.Size()/blockSize - 3)
	_, err = f.WriteAt([]byte("new data"), newBlock*blockSize) // newly written
	must(t, err)
	f.Close()

	est, err := ParseEstate([]byte(`
accounts:
  - id: "222222222222"
    access_keys: [{id: AKIAPROD000000000001}]
    enabled_regions: [us-east-1]
    regions:
      us-east-1:
        snapshots:
          - {id: snap-0c000000000000001, volume_id: vol-0c1, content: ` + disk + `, create_volume_permissions: {user_ids: ["999999999999"]}}
          - {id: snap-0c000000000000002, volume_id: vol-0c1, content: ` + later + `, parent: snap-0c000000000000001}
          - {id: snap-0c000000000000003, volume_id: vol-0c3, content: ` + disk + `, encrypted: true, public: false, create_volume_permissions: {user_ids: ["999999999999"]}}
          - {id: snap-0c000000000000004, volume_id: vol-0c4, content: ` + disk + `, encrypted: true, kms_key: alias/shared, create_volume_permissions: {user_ids: ["999999999999"]}}
        kms_keys:
          - id: 0c000000-0000-4000-8000-000000000001
            alias: alias/shared
            grants: [{grantee: "arn:aws:iam::999999999999:root", operations: [Decrypt]}]
  - id: "999999999999"
    access_keys: [{id: AKIAOUTSIDE000000001}]
    enabled_regions: [us-east-1]
`))
	must(t, err)
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	sim := startEstate(t, est, Options{Now: clk.now, BlockTokenTTL: 10 * time.Minute})
	c := ebs.NewFromConfig(cfg(sim, keyProd, "us-east-1"))

	// ListSnapshotBlocks lists exactly the non-zero blocks, across pages of 100.
	var blocks []ebstypes.Block
	p := ebs.NewListSnapshotBlocksPaginator(c, &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String("snap-0c000000000000001"), MaxResults: aws.Int32(100)})
	var volSize int64
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		must(t, err)
		blocks = append(blocks, page.Blocks...)
		volSize = *page.VolumeSize
		if *page.BlockSize != blockSize || page.ExpiryTime == nil || !page.ExpiryTime.Equal(clk.now().Add(10*time.Minute)) {
			t.Fatalf("page %+v", page)
		}
	}
	if len(blocks) != len(orig) || len(orig) < 3 || volSize != 1 {
		t.Fatalf("%d blocks listed, %d non-zero in the image, volume %d GiB", len(blocks), len(orig), volSize)
	}
	// Every block's bytes and checksum are the image's.
	for _, b := range blocks {
		out, err := c.GetSnapshotBlock(ctx, &ebs.GetSnapshotBlockInput{SnapshotId: aws.String("snap-0c000000000000001"), BlockIndex: b.BlockIndex, BlockToken: b.BlockToken})
		must(t, err)
		data, err := io.ReadAll(out.BlockData)
		out.BlockData.Close()
		must(t, err)
		sum := sha256.Sum256(data)
		if !bytes.Equal(data, orig[int64(*b.BlockIndex)]) || *out.Checksum != base64.StdEncoding.EncodeToString(sum[:]) ||
			out.ChecksumAlgorithm != ebstypes.ChecksumAlgorithmChecksumAlgorithmSha256 || *out.DataLength != blockSize {
			t.Fatalf("block %d differs from the image", *b.BlockIndex)
		}
	}
	// Tokens: one for another block, a made-up one, an expired one.
	_, err = c.GetSnapshotBlock(ctx, &ebs.GetSnapshotBlockInput{SnapshotId: aws.String("snap-0c000000000000001"), BlockIndex: aws.Int32(*blocks[0].BlockIndex + 1), BlockToken: blocks[0].BlockToken})
	var ve *ebstypes.ValidationException
	if !errors.As(err, &ve) || ve.Reason != ebstypes.ValidationExceptionReasonInvalidBlockToken {
		t.Fatalf("want ValidationException INVALID_BLOCK_TOKEN, got %T %v", err, err)
	}
	_, err = c.GetSnapshotBlock(ctx, &ebs.GetSnapshotBlockInput{SnapshotId: aws.String("snap-0c000000000000001"), BlockIndex: aws.Int32(0), BlockToken: aws.String("AAAA")})
	wantCode(t, err, "ValidationException")
	clk.add(11 * time.Minute)
	_, err = c.GetSnapshotBlock(ctx, &ebs.GetSnapshotBlockInput{SnapshotId: aws.String("snap-0c000000000000001"), BlockIndex: blocks[0].BlockIndex, BlockToken: blocks[0].BlockToken})
	if !errors.As(err, &ve) || ve.Reason != ebstypes.ValidationExceptionReasonInvalidBlockToken || *ve.Message != "The block token has expired." {
		t.Fatalf("expired token: %v", err)
	}

	// A corrupted checksum, once.
	sim.AddFault(Fault{Kind: FaultCorruptChecksum, Target: "snap-0c000000000000001", Count: 1})
	p = ebs.NewListSnapshotBlocksPaginator(c, &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String("snap-0c000000000000001")})
	page, err := p.NextPage(ctx)
	must(t, err)
	for i := range 2 {
		out, err := c.GetSnapshotBlock(ctx, &ebs.GetSnapshotBlockInput{SnapshotId: aws.String("snap-0c000000000000001"), BlockIndex: page.Blocks[0].BlockIndex, BlockToken: page.Blocks[0].BlockToken})
		must(t, err)
		data, _ := io.ReadAll(out.BlockData)
		sum := sha256.Sum256(data)
		if ok := *out.Checksum == base64.StdEncoding.EncodeToString(sum[:]); ok != (i == 1) {
			t.Fatalf("read %d: checksum matches=%v", i, ok)
		}
	}

	// ListChangedBlocks: exactly the rewritten, wiped and new blocks, with the tokens each side has.
	cp := ebs.NewListChangedBlocksPaginator(c, &ebs.ListChangedBlocksInput{FirstSnapshotId: aws.String("snap-0c000000000000001"),
		SecondSnapshotId: aws.String("snap-0c000000000000002"), MaxResults: aws.Int32(100)})
	var changed []int64
	for cp.HasMorePages() {
		page, err := cp.NextPage(ctx)
		must(t, err)
		for _, b := range page.ChangedBlocks {
			i := int64(*b.BlockIndex)
			changed = append(changed, i)
			if (b.FirstBlockToken != nil) != (i != newBlock) || (b.SecondBlockToken != nil) != (i != written[2]) {
				t.Fatalf("block %d tokens %v %v", i, b.FirstBlockToken, b.SecondBlockToken)
			}
		}
	}
	want := []int64{written[1], written[2], newBlock}
	slices.Sort(want)
	if !slices.Equal(changed, want) {
		t.Fatalf("changed %v, want %v", changed, want)
	}
	_, err = c.ListChangedBlocks(ctx, &ebs.ListChangedBlocksInput{FirstSnapshotId: aws.String("snap-0c000000000000003"), SecondSnapshotId: aws.String("snap-0c000000000000002")})
	if !errors.As(err, &ve) || ve.Reason != ebstypes.ValidationExceptionReasonUnrelatedSnapshots {
		t.Fatalf("want UNRELATED_SNAPSHOTS, got %v", err)
	}

	// The outsider may read what is shared with it, unless the key does not admit it.
	outside := ebs.NewFromConfig(cfg(sim, keyOutside, "us-east-1"))
	_, err = outside.ListSnapshotBlocks(ctx, &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String("snap-0c000000000000001")})
	must(t, err)
	_, err = outside.ListSnapshotBlocks(ctx, &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String("snap-0c000000000000003")})
	var ade *ebstypes.AccessDeniedException
	if !errors.As(err, &ade) || ade.Reason != ebstypes.AccessDeniedExceptionReasonDependencyAccessDenied {
		t.Fatalf("want AccessDeniedException DEPENDENCY_ACCESS_DENIED, got %v", err)
	}
	_, err = outside.ListSnapshotBlocks(ctx, &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String("snap-0c000000000000004")})
	must(t, err)
	_, err = outside.ListSnapshotBlocks(ctx, &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String("snap-0c000000000000002")})
	var nf *ebstypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("want ResourceNotFoundException, got %v", err)
	}
}
