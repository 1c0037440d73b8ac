package cloudsim

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ebs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Benchmarks of what the simulator serves per second. The "Raw" ones send hand-made requests
// over keep-alive connections, so they measure the simulator; the "SDK" ones go through the
// real client, as bench/audit.sh will, and share the machine's cores with it. Run with
// go test -run '^$' -bench . ./internal/cloudsim/ (the machine has 2 cores).

func benchSim(b *testing.B) (*AWS, *Estate) {
	e := GenerateEstate(GenSpec{Accounts: 5, Snapshots: 100000, Images: 10000, DBSnapshots: 5000, PublicFraction: 0.01, SharedFraction: 0.05})
	sim, err := NewAWS(e, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sim.Close() })
	return sim, e
}

func rawClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
}

// rawPost sends a Query request signed only as far as the simulator reads it (the credential
// scope).
func rawPost(b *testing.B, c *http.Client, u, service string, form url.Values) {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+GeneratedAccessKey+"/20250101/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

func reportRate(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// The audit's most frequent call: one small answer per snapshot.
func BenchmarkRawDescribeSnapshotAttribute(b *testing.B) {
	sim, e := benchSim(b)
	snaps := e.Accounts[0].Regions["us-east-1"].Snapshots
	c := rawClient()
	b.SetParallelism(16)
	b.ResetTimer()
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			rawPost(b, c, sim.URL(), "ec2", url.Values{"Action": {"DescribeSnapshotAttribute"}, "Version": {"2016-11-15"},
				"Attribute": {"createVolumePermission"}, "SnapshotId": {snaps[i%len(snaps)].ID}})
			i++
		}
	})
	reportRate(b, t0)
}

func BenchmarkRawGetSnapshotBPA(b *testing.B) {
	sim, _ := benchSim(b)
	c := rawClient()
	b.SetParallelism(16)
	b.ResetTimer()
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rawPost(b, c, sim.URL(), "ec2", url.Values{"Action": {"GetSnapshotBlockPublicAccessState"}, "Version": {"2016-11-15"}})
		}
	})
	reportRate(b, t0)
}

// A full 1,000-snapshot page (about 400 KB of XML).
func BenchmarkRawDescribeSnapshotsPage(b *testing.B) {
	sim, _ := benchSim(b)
	c := rawClient()
	b.SetParallelism(4)
	b.ResetTimer()
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rawPost(b, c, sim.URL(), "ec2", url.Values{"Action": {"DescribeSnapshots"}, "Version": {"2016-11-15"},
				"Owner.1": {"self"}, "MaxResults": {"1000"}})
		}
	})
	reportRate(b, t0)
}

func BenchmarkRawDescribeDBSnapshotAttributes(b *testing.B) {
	sim, e := benchSim(b)
	dbs := e.Accounts[0].Regions["us-east-1"].DBSnapshots
	c := rawClient()
	b.SetParallelism(16)
	b.ResetTimer()
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			rawPost(b, c, sim.URL(), "rds", url.Values{"Action": {"DescribeDBSnapshotAttributes"}, "Version": {"2014-10-31"},
				"DBSnapshotIdentifier": {dbs[i%len(dbs)].ID}})
			i++
		}
	})
	reportRate(b, t0)
}

// Through the real SDK client: what an audit sees, client cost included.
func BenchmarkSDKDescribeSnapshotAttribute(b *testing.B) {
	sim, e := benchSim(b)
	snaps := e.Accounts[0].Regions["us-east-1"].Snapshots
	c := ec2.NewFromConfig(cfg(sim, GeneratedAccessKey, "us-east-1"))
	b.SetParallelism(16)
	b.ResetTimer()
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_, err := c.DescribeSnapshotAttribute(context.Background(), &ec2.DescribeSnapshotAttributeInput{
				SnapshotId: aws.String(snaps[i%len(snaps)].ID), Attribute: types.SnapshotAttributeNameCreateVolumePermission})
			if err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	reportRate(b, t0)
}

// GetSnapshotBlock of 512 KiB blocks from a disk image file, through the SDK.
func BenchmarkSDKGetSnapshotBlock(b *testing.B) {
	path := b.TempDir() + "/disk.raw"
	data := make([]byte, 64*blockSize)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := writeFile(path, data); err != nil {
		b.Fatal(err)
	}
	e := &Estate{Accounts: []*Account{{ID: "100000000001", AccessKeys: []AccessKey{{ID: GeneratedAccessKey}}, EnabledRegions: []string{"us-east-1"},
		Regions: map[string]*Region{"us-east-1": {Snapshots: []Snapshot{{ID: "snap-0bench", Content: path}}}}}}}
	sim, err := NewAWS(e, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	c := ebs.NewFromConfig(cfg(sim, GeneratedAccessKey, "us-east-1"))
	list, err := c.ListSnapshotBlocks(context.Background(), &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String("snap-0bench")})
	if err != nil || len(list.Blocks) != 64 {
		b.Fatal(err, len(list.Blocks))
	}
	b.SetBytes(blockSize)
	b.SetParallelism(8)
	b.ResetTimer()
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			blk := list.Blocks[i%64]
			out, err := c.GetSnapshotBlock(context.Background(), &ebs.GetSnapshotBlockInput{SnapshotId: aws.String("snap-0bench"), BlockIndex: blk.BlockIndex, BlockToken: blk.BlockToken})
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, out.BlockData)
			out.BlockData.Close()
			i++
		}
	})
	reportRate(b, t0)
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }
