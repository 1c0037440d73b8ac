package event

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/snapwatch/snapwatch/internal/event/internal/corpus"
)

// The benchmark corpus: generated trail files (see internal/corpus), held in memory so that the
// benchmark measures decoding, not the disk. Each benchmark reports records/s and MB/s of
// uncompressed JSON on one goroutine, i.e. per core.

type benchCorpus struct {
	plain   [][]byte
	gz      [][]byte
	records int
	bytes   int64
}

var (
	corpusOnce sync.Once
	theCorpus  benchCorpus
)

func getCorpus() *benchCorpus {
	corpusOnce.Do(func() {
		g := corpus.New(42, "123456789012", "us-east-1", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
		g.LeakEvery = 5000
		for range 24 {
			p := g.File(nil, 1500)
			var zb bytes.Buffer
			zw := gzip.NewWriter(&zb)
			zw.Write(p)
			zw.Close()
			theCorpus.plain = append(theCorpus.plain, p)
			theCorpus.gz = append(theCorpus.gz, zb.Bytes())
			theCorpus.records += 1500
			theCorpus.bytes += int64(len(p))
		}
	})
	return &theCorpus
}

// The machine is shared (other engineers' tests and fuzzers run beside the benchmark), so wall
// time understates throughput. report also divides by the CPU time the process used (user +
// system, garbage collection included): records per CPU-second is the per-core figure.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startCPU marks the start of the measured loop; call it right after b.ResetTimer.
func startCPU() time.Duration { return cpuTime() }

func report(b *testing.B, c *benchCorpus, cpu0 time.Duration) {
	sec := b.Elapsed().Seconds()
	cpu := (cpuTime() - cpu0).Seconds()
	n := float64(b.N)
	b.ReportMetric(float64(c.records)*n/sec, "records/s")
	b.ReportMetric(float64(c.bytes)*n/sec/1e6, "MB/s")
	b.ReportMetric(float64(c.records)*n/cpu, "records/cpu-s")
	b.ReportMetric(float64(c.bytes)*n/cpu/1e6, "MB/cpu-s")
}

func benchDecode(b *testing.B, files [][]byte, opt Options) {
	c := getCorpus()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := startCPU()
	for range b.N {
		d := NewDecoder(opt)
		n := 0
		for _, f := range files {
			for _, err := range d.Decode(context.Background(), bytes.NewReader(f), "bench") {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
		if n != c.records {
			b.Fatalf("%d events, want %d", n, c.records)
		}
	}
	report(b, c, cpu0)
}

// BenchmarkDecodeGzip is the figure that matters: gzipped trail files, default options.
func BenchmarkDecodeGzip(b *testing.B) { benchDecode(b, getCorpus().gz, Options{}) }

func BenchmarkDecodePlain(b *testing.B) { benchDecode(b, getCorpus().plain, Options{}) }

// BenchmarkDecodeAll decodes every record fully (no pre-filter).
func BenchmarkDecodeAll(b *testing.B) { benchDecode(b, getCorpus().plain, Options{All: true}) }

func BenchmarkDecodeAllGzip(b *testing.B) { benchDecode(b, getCorpus().gz, Options{All: true}) }

// BenchmarkGunzip measures decompression alone, klauspost against the standard library.
func BenchmarkGunzip(b *testing.B) {
	c := getCorpus()
	for _, tc := range []struct {
		name string
		open func(io.Reader) (io.Reader, error)
	}{
		{"klauspost", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
		{"stdlib", func(r io.Reader) (io.Reader, error) { return stdgzip.NewReader(r) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cpu0 := startCPU()
			for range b.N {
				for _, f := range c.gz {
					zr, err := tc.open(bytes.NewReader(f))
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, zr)
				}
			}
			report(b, c, cpu0)
		})
	}
}

// BenchmarkSplit measures finding record boundaries only, with the package's scanner (the
// other contenders are in compare_test.go, build tag jsoncompare).
func BenchmarkSplit(b *testing.B) {
	c := getCorpus()
	b.Run("scanner", func(b *testing.B) {
		cpu0 := startCPU()
		for range b.N {
			n := 0
			for _, f := range c.plain {
				s := newScanner(bytes.NewReader(f), 1<<20)
				s.peek()
				s.pos++ // {
				s.key()
				s.peek()
				s.opened(']')
				for {
					s.startCapture()
					if err := s.skipValue(); err != nil {
						b.Fatal(err)
					}
					if s.captured() == nil {
						b.Fatal("nil")
					}
					n++
					if more, _ := s.next(']'); !more {
						break
					}
				}
			}
			if n != c.records {
				b.Fatal(n)
			}
		}
		report(b, c, cpu0)
	})
	b.Run("scanner+head", func(b *testing.B) {
		cpu0 := startCPU()
		for range b.N {
			for _, f := range c.plain {
				s := newScanner(bytes.NewReader(f), 1<<20)
				s.peek()
				s.pos++
				s.key()
				s.peek()
				s.opened(']')
				for {
					s.startCapture()
					s.skipValue()
					var h head
					h.read(s.captured())
					if more, _ := s.next(']'); !more {
						break
					}
				}
			}
		}
		report(b, c, cpu0)
	})
}
