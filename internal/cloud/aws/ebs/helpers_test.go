package ebs

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/contentscan"
	"github.com/snapwatch/snapwatch/internal/image"
	"github.com/snapwatch/snapwatch/internal/sample"
	"github.com/snapwatch/snapwatch/internal/target"
)

const (
	ownerKey   = "AKIAPROD000000000001"
	outsideKey = "AKIAOUTSIDE000000001"
	region     = "us-east-1"
)

var ctx = context.Background()

// sampleRaw writes the embedded sample disk (GPT: FAT16 ESP + ext4 root with planted credentials,
// one deleted) as a sparse raw image: a snapshot's content needs no mkfs.
func sampleRaw(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	q := filepath.Join(dir, "sample.qcow2")
	if err := sample.Write(q); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(q, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	raw := filepath.Join(dir, "sample.raw")
	f, err := os.OpenFile(raw, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(img.Size()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for off := int64(0); off < img.Size(); off += int64(len(buf)) {
		n, err := img.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if !zero(buf[:n]) {
			if _, err := f.WriteAt(buf[:n], off); err != nil {
				t.Fatal(err)
			}
		}
	}
	return raw
}

func zero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// startSim serves an estate; the caller's config points every client at it.
func startSim(t testing.TB, estate string, opt cloudsim.Options) *cloudsim.AWS {
	t.Helper()
	est, err := cloudsim.ParseEstate([]byte(estate))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := cloudsim.NewAWS(est, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

func simConfig(sim *cloudsim.AWS, key string) aws.Config {
	return aws.Config{Region: region, BaseEndpoint: aws.String(sim.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(key, "secret", "")}
}

// scanKeys scans a target and returns its findings as "rule volume:path@offset" plus its errors.
func scanKeys(t testing.TB, tg *target.Target, residual bool) ([]string, *contentscan.Scanner) {
	t.Helper()
	s := contentscan.New(contentscan.Options{Residual: residual})
	if err := s.Scan(ctx, tg); err != nil {
		t.Fatal(err)
	}
	for _, e := range s.Errors() {
		t.Errorf("scan error: %+v", e)
	}
	var out []string
	for _, f := range s.Findings() {
		out = append(out, f.Rule+" "+f.Location.Volume+":"+f.Location.Path)
	}
	slices.Sort(out)
	return out, s
}

// fetchLog records the blocks a reader fetched.
type fetchLog struct {
	mu sync.Mutex
	m  map[int64]int
}

func (l *fetchLog) add(i int64) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[int64]int{}
	}
	l.m[i]++
	l.mu.Unlock()
}

func (l *fetchLog) set() map[int64]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps(l.m)
}

func maps(m map[int64]int) map[int64]int {
	out := make(map[int64]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
