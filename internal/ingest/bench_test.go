package ingest

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
)

// BenchmarkIngestDir reads a corpus written by gencorpus (go run
// ./internal/event/internal/gencorpus -out DIR -gb N) from disk through the whole ingest path:
// listing, digest skipping, gunzip, decoding, dedup. Set SNAPWATCH_BENCH_CORPUS=DIR.
func BenchmarkIngestDir(b *testing.B) {
	dir := os.Getenv("SNAPWATCH_BENCH_CORPUS")
	if dir == "" {
		b.Skip("set SNAPWATCH_BENCH_CORPUS to a gencorpus output directory")
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	c0 := cpu()
	var st Stats
	for range b.N {
		src, err := Open(context.Background(), dir+"/AWSLogs", Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range src.Events(context.Background()) {
			if err != nil {
				b.Fatal(err)
			}
		}
		st = src.Stats()
		src.Close()
	}
	n := float64(b.N)
	b.ReportMetric(float64(st.Records)*n/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(st.Records)*n/(cpu()-c0).Seconds(), "records/cpu-s")
	b.ReportMetric(float64(st.Bytes)*n/(cpu()-c0).Seconds()/1e6, "MB/cpu-s")
	b.ReportMetric(float64(st.Records), "records")
}
