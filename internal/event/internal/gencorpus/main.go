// Command gencorpus writes a synthetic CloudTrail corpus for the detection benchmark
// (bench/detect.sh): gzipped trail files in an organisation-trail S3 layout
// (AWSLogs/o-…/<account>/CloudTrail/<region>/YYYY/MM/DD/…json.gz), one digest file per account
// and day that readers must skip, leaks.json (the injected leak events, ground truth) and
// manifest.json (counts and sizes).
//
//	go run ./internal/event/internal/gencorpus -out DIR -gb 5
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/snapwatch/snapwatch/internal/event/internal/corpus"
)

type manifest struct {
	Files             int           `json:"files"`
	Digests           int           `json:"digests"`
	Records           int64         `json:"records"`
	UncompressedBytes int64         `json:"uncompressed_bytes"`
	CompressedBytes   int64         `json:"compressed_bytes"`
	Leaks             int           `json:"leaks"`
	Seed              uint64        `json:"seed"`
	Elapsed           time.Duration `json:"elapsed_ns"`
}

func main() {
	out := flag.String("out", "", "output directory (required)")
	gb := flag.Float64("gb", 1, "uncompressed JSON size to write, in GiB")
	seed := flag.Uint64("seed", 1, "random seed (same seed, same corpus)")
	perFile := flag.Int("records-per-file", 1500, "records per trail file")
	leakEvery := flag.Int("leak-every", 20000, "inject one leak event per this many records (0: none)")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "parallel writers, one account each")
	flag.Parse()
	if *out == "" || *gb <= 0 || *perFile <= 0 || *workers <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	start := time.Now()
	target := int64(*gb * (1 << 30))
	var (
		mu    sync.Mutex
		total manifest
		leaks []corpus.Leak
		wg    sync.WaitGroup
		errs  = make(chan error, *workers)
	)
	for w := range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, l, err := writeAccount(*out, *seed+uint64(w), fmt.Sprintf("1000000000%02d", w), target/int64(*workers), *perFile, *leakEvery)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			total.Files += m.Files
			total.Digests += m.Digests
			total.Records += m.Records
			total.UncompressedBytes += m.UncompressedBytes
			total.CompressedBytes += m.CompressedBytes
			leaks = append(leaks, l...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
	total.Leaks = len(leaks)
	total.Seed = *seed
	total.Elapsed = time.Since(start)
	if err := writeJSON(filepath.Join(*out, "leaks.json"), leaks); err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
	if err := writeJSON(filepath.Join(*out, "manifest.json"), total); err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
	fmt.Printf("gencorpus: %d files, %d records, %.2f GiB JSON (%.2f GiB gzipped), %d leaks in %s\n",
		total.Files, total.Records, float64(total.UncompressedBytes)/(1<<30), float64(total.CompressedBytes)/(1<<30),
		total.Leaks, total.Elapsed.Round(time.Millisecond))
}

const (
	org    = "o-exampleorg1"
	region = "us-east-1"
)

// writeAccount writes one account's trail files until size uncompressed bytes are written.
func writeAccount(out string, seed uint64, account string, size int64, perFile, leakEvery int) (manifest, []corpus.Leak, error) {
	var m manifest
	g := corpus.New(seed, account, region, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	g.LeakEvery = leakEvery
	buf := make([]byte, 0, perFile*1500)
	lastDay := ""
	for n := 0; m.UncompressedBytes < size; n++ {
		buf = g.File(buf[:0], perFile)
		t := g.Time()
		day := t.Format("2006/01/02")
		dir := filepath.Join(out, "AWSLogs", org, account, "CloudTrail", region, filepath.FromSlash(day))
		name := fmt.Sprintf("%s_CloudTrail_%s_%s_%08x.json.gz", account, region, t.Format("20060102T1504Z"), n)
		c, err := writeGzip(filepath.Join(dir, name), buf)
		if err != nil {
			return m, nil, err
		}
		m.Files++
		m.Records += int64(perFile)
		m.UncompressedBytes += int64(len(buf))
		m.CompressedBytes += c
		if day != lastDay {
			// A digest file per day, which a reader must recognise and skip.
			lastDay = day
			ddir := filepath.Join(out, "AWSLogs", org, account, "CloudTrail-Digest", region, filepath.FromSlash(day))
			dname := fmt.Sprintf("%s_CloudTrail-Digest_%s_%s_%s.json.gz", account, region, org, t.Format("20060102T150405Z"))
			digest := fmt.Sprintf(`{"awsAccountId":"%s","digestStartTime":"%s","digestEndTime":"%s","digestS3Bucket":"bench-trail","digestS3Object":"%s","digestPublicKeyFingerprint":"0123456789abcdef","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":"%s","oldestEventTime":"%s","previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}`,
				account, t.Format(time.RFC3339), t.Format(time.RFC3339), dname, t.Format(time.RFC3339), t.Format(time.RFC3339))
			if _, err := writeGzip(filepath.Join(ddir, dname), []byte(digest)); err != nil {
				return m, nil, err
			}
			m.Digests++
		}
	}
	return m, g.Leaks, nil
}

func writeGzip(path string, data []byte) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(data); err != nil {
		f.Close()
		return 0, err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	return st.Size(), f.Close()
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
