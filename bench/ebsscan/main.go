// Command ebsscan measures a whole content scan over the EBS direct API: a disk image (a real
// file system, e.g. bench/content.sh's ext4.img) is served by cloudsim as a snapshot at a fixed
// GetSnapshotBlock quota and latency, and scanned as `snapwatch scan ebs:SNAP` scans it, beside
// a scan of the same image from local disk. It prints the time, the blocks fetched (and how
// many a read had to wait for), the share of the API ceiling reached, and the findings of both.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/snapwatch/snapwatch/internal/cloud/aws/ebs"
	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/contentscan"
	"github.com/snapwatch/snapwatch/internal/target"
)

func main() {
	img := flag.String("image", "", "raw disk image to serve as the snapshot (required)")
	rate := flag.Int("rate", 1000, "GetSnapshotBlock quota, requests/s")
	latency := flag.Duration("latency", 10*time.Millisecond, "latency of every call")
	cache := flag.Int64("cache", 0, "reader cache, bytes (0: the default)")
	flag.Parse()
	cacheBytes = *cache
	if *img == "" {
		fmt.Fprintln(os.Stderr, "ebsscan: -image is required")
		os.Exit(2)
	}
	if err := run(*img, *rate, *latency); err != nil {
		fmt.Fprintln(os.Stderr, "ebsscan:", err)
		os.Exit(1)
	}
}

var cacheBytes int64

const (
	account = "222222222222"
	key     = "AKIABENCH00000000001"
	snap    = "snap-0bench00000000001"
)

func run(img string, rate int, latency time.Duration) error {
	ctx := context.Background()
	local, localTime, err := scan(ctx, func() (*target.Target, error) { return target.Open(ctx, img, target.Options{}) })
	if err != nil {
		return err
	}
	est, err := cloudsim.ParseEstate(fmt.Appendf(nil, `
accounts:
  - id: "%s"
    access_keys: [{id: %s, secret: s}]
    enabled_regions: [us-east-1]
    regions:
      us-east-1:
        snapshots:
          - {id: %s, volume_id: vol-0bench, content: %q}
`, account, key, snap, img))
	if err != nil {
		return err
	}
	sim, err := cloudsim.NewAWS(est, cloudsim.Options{Latency: latency,
		ServiceThrottle: map[string]cloudsim.Rate{"ebs": {PerSecond: float64(rate)}}})
	if err != nil {
		return err
	}
	defer sim.Close()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(sim.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(key, "s", "")}
	var readers []*ebs.Reader
	remote, remoteTime, err := scan(ctx, func() (*target.Target, error) {
		return ebs.OpenSnapshotTarget(ctx, cfg, snap, ebs.TargetOptions{Caller: account, Rate: float64(rate), Reader: ebs.Options{CacheBytes: cacheBytes},
			OnReader: func(r *ebs.Reader) { readers = append(readers, r) }})
	})
	if err != nil {
		return err
	}
	st := readers[0].Stats()
	ceiling := float64(st.Fetched) / float64(rate)
	fmt.Printf("cloudsim: %d GetSnapshotBlock/s quota, %v latency\n", rate, latency)
	fmt.Printf("local image: %.2fs, %d files, %d findings\n", localTime.Seconds(), local.FilesScanned, local.Findings)
	fmt.Printf("ebs:%s: %.2fs, %d files, %d findings; %d of %d written blocks fetched (%d waited for on read), "+
		"%.0f blocks/s = %.0f%% of the API ceiling (the fetches alone need %.1fs); %d prefetched blocks evicted unread\n",
		snap, remoteTime.Seconds(), remote.FilesScanned, remote.Findings, st.Fetched, st.WrittenBlocks, st.Demand,
		float64(st.Fetched)/remoteTime.Seconds(), 100*ceiling/remoteTime.Seconds(), ceiling, st.EvictedUnread)
	if local.Findings != remote.Findings {
		return fmt.Errorf("findings differ: local %d, ebs %d", local.Findings, remote.Findings)
	}
	return nil
}

func scan(ctx context.Context, open func() (*target.Target, error)) (contentscan.Stats, time.Duration, error) {
	t0 := time.Now()
	t, err := open()
	if err != nil {
		return contentscan.Stats{}, 0, err
	}
	defer t.Close()
	sc := contentscan.New(contentscan.Options{})
	if err := sc.Scan(ctx, t); err != nil {
		return contentscan.Stats{}, 0, err
	}
	return sc.Stats(), time.Since(t0), nil
}
