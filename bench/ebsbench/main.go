// Command ebsbench measures the EBS direct reader against cloudsim at a fixed GetSnapshotBlock
// quota and latency: a full read of a large sparse snapshot with prefetch, the same data read one
// block at a time (as a reader without prefetch does), and an incremental rescan after a share of
// the blocks changed. bench/ebs.sh runs it.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/snapwatch/snapwatch/internal/cloud/aws/ebs"
	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/image"
)

func main() {
	sizeGiB := flag.Int64("size", 30, "volume size, GiB")
	writtenGiB := flag.Float64("written", 6, "bytes written, GiB (spread evenly over the volume)")
	rate := flag.Int("rate", 1000, "GetSnapshotBlock quota, requests/s")
	latency := flag.Duration("latency", 10*time.Millisecond, "latency of every call")
	changed := flag.Float64("changed", 0.01, "share of written blocks rewritten for the incremental rescan")
	seqBlocks := flag.Int("seq-blocks", 0, "blocks the sequential reader reads (0: all)")
	concurrency := flag.Int("concurrency", ebs.DefaultConcurrency, "prefetch calls in flight")
	dir := flag.String("dir", "", "where the sparse images go (default: a temporary directory)")
	flag.Parse()
	if err := run(*sizeGiB, *writtenGiB, *rate, *latency, *changed, *seqBlocks, *concurrency, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "ebsbench:", err)
		os.Exit(1)
	}
}

func run(sizeGiB int64, writtenGiB float64, rate int, latency time.Duration, changed float64, seqBlocks, conc int, dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "ebsbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	total := sizeGiB << 30 / ebs.BlockSize
	written := int64(writtenGiB * (1 << 30) / ebs.BlockSize)
	step := total / written
	t0 := time.Now()
	base, later := filepath.Join(dir, "base.raw"), filepath.Join(dir, "later.raw")
	nChanged, err := makeImages(base, later, total, written, step, changed)
	if err != nil {
		return err
	}
	fmt.Printf("images: %d GiB volume, %d blocks written (every %d-th), %d rewritten in the later one; made in %.1fs\n",
		sizeGiB, written, step, nChanged, time.Since(t0).Seconds())

	est, err := cloudsim.ParseEstate([]byte(fmt.Sprintf(`
accounts:
  - id: "222222222222"
    access_keys: [{id: AKIABENCH00000000001}]
    enabled_regions: [us-east-1]
    regions:
      us-east-1:
        snapshots:
          - {id: snap-0b000000000000001, volume_id: vol-0b1, volume_size: %d, content: %s, start_time: 2025-01-01T00:00:00Z}
          - {id: snap-0b000000000000002, volume_id: vol-0b1, volume_size: %d, content: %s, start_time: 2025-01-02T00:00:00Z}
`, sizeGiB, base, sizeGiB, later)))
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
		Credentials: credentials.NewStaticCredentialsProvider("AKIABENCH00000000001", "s", "")}
	ctx := context.Background()
	api := ebs.NewClient(cfg, conc)
	fmt.Printf("cloudsim: %d GetSnapshotBlock/s quota, %v latency; ceiling %.0f MiB/s\n\n", rate, latency, float64(rate)/2)

	// Prefetching reader: the whole snapshot, announced a window ahead of a sequential read, as
	// the scanner's windowReader does.
	r, err := ebs.Open(ctx, api, "snap-0b000000000000001", ebs.Options{Concurrency: conc, Limiter: ebs.NewLimiter(float64(rate))})
	if err != nil {
		return err
	}
	start := time.Now()
	if err := readAhead(r, 64<<20); err != nil {
		return err
	}
	el := time.Since(start)
	st := r.Stats()
	r.Close()
	got := float64(st.Fetched) / el.Seconds()
	fmt.Printf("prefetch (%d in flight): %d blocks in %.2fs = %.0f blocks/s = %.0f MiB/s, %.1f%% of the API ceiling; throttled %d, lowest rate %.0f/s\n",
		conc, st.Fetched, el.Seconds(), got, got/2, 100*got/float64(rate), st.Throttled, st.Limiter.Lowest)

	// Sequential reader: one block at a time, on read only.
	r, err = ebs.Open(ctx, api, "snap-0b000000000000001", ebs.Options{NoPrefetch: true, Concurrency: 1, Limiter: ebs.NewLimiter(float64(rate))})
	if err != nil {
		return err
	}
	n := written
	if seqBlocks > 0 {
		n = min(n, int64(seqBlocks))
	}
	buf := make([]byte, ebs.BlockSize)
	start = time.Now()
	for k := range n {
		if _, err := r.ReadAt(buf, k*step*ebs.BlockSize); err != nil {
			return err
		}
	}
	el = time.Since(start)
	st = r.Stats()
	r.Close()
	seq := float64(st.Fetched) / el.Seconds()
	fmt.Printf("sequential (1 at a time): %d blocks in %.2fs = %.0f blocks/s = %.0f MiB/s, %.1f%% of the API ceiling",
		st.Fetched, el.Seconds(), seq, seq/2, 100*seq/float64(rate))
	if n < written {
		fmt.Printf("; all %d blocks would take %.0fs", written, float64(written)/seq)
	}
	fmt.Printf("\nspeed-up: %.1fx\n\n", got/seq)

	// Incremental rescan of the later snapshot: only the changed blocks.
	start = time.Now()
	c, err := ebs.ListChanged(ctx, api, "snap-0b000000000000001", "snap-0b000000000000002")
	if err != nil {
		return err
	}
	listed := time.Since(start)
	r, err = ebs.Open(ctx, api, "snap-0b000000000000002", ebs.Options{Concurrency: conc, Limiter: ebs.NewLimiter(float64(rate))})
	if err != nil {
		return err
	}
	start = time.Now()
	var rs []image.Range
	for k := range written {
		off := k * step * ebs.BlockSize
		if c.Touches(off, ebs.BlockSize) {
			rs = append(rs, image.Range{Off: off, Len: ebs.BlockSize})
		}
	}
	r.Prefetch(rs)
	for _, rg := range rs {
		if _, err := r.ReadAt(buf, rg.Off); err != nil {
			return err
		}
	}
	el = time.Since(start)
	st = r.Stats()
	r.Close()
	fmt.Printf("incremental: ListChangedBlocks %d changed in %.2fs; %d blocks fetched of %d written (%.1f%%) in %.2fs\n",
		c.Count(), listed.Seconds(), st.Fetched, st.WrittenBlocks, 100*float64(st.Fetched)/float64(st.WrittenBlocks), el.Seconds())
	return nil
}

// readAhead reads the snapshot through in order, announcing the next window before reading the
// current one.
func readAhead(r *ebs.Reader, window int64) error {
	buf := make([]byte, 1<<20)
	size := r.Size()
	r.Prefetch([]image.Range{{Off: 0, Len: window}})
	for w := int64(0); w < size; w += window {
		r.Prefetch([]image.Range{{Off: w + window, Len: window}})
		for off := w; off < min(size, w+window); off += int64(len(buf)) {
			if _, err := r.ReadAt(buf, off); err != nil && off+int64(len(buf)) <= size {
				return err
			}
		}
	}
	return nil
}

// makeImages writes two sparse images: every step-th block holds data; the later image rewrites
// a share of those blocks. Blocks are pseudo-random so that nothing dedupes them.
func makeImages(base, later string, total, written, step int64, share float64) (int64, error) {
	fb, err := os.OpenFile(base, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	defer fb.Close()
	fl, err := os.OpenFile(later, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	defer fl.Close()
	size := total * ebs.BlockSize
	if err := fb.Truncate(size); err != nil {
		return 0, err
	}
	if err := fl.Truncate(size); err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(7, 7))
	blk := make([]byte, ebs.BlockSize)
	every := int64(1 / share)
	var n int64
	for k := range written {
		for i := 0; i < len(blk); i += 8 {
			binary.LittleEndian.PutUint64(blk[i:], rng.Uint64())
		}
		off := k * step * ebs.BlockSize
		if _, err := fb.WriteAt(blk, off); err != nil {
			return 0, err
		}
		if k%every == every/2 {
			binary.LittleEndian.PutUint64(blk, ^binary.LittleEndian.Uint64(blk))
			n++
		}
		if _, err := fl.WriteAt(blk, off); err != nil {
			return 0, err
		}
	}
	return n, nil
}
