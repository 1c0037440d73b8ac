package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// benchTarGz is a tar.gz of 100 MB of log-like text in 1000 files, built once per process.
var benchTarGz = sync.OnceValues(func() ([]byte, int64) {
	words := []string{"GET", "POST", "/api/v1/users", "/login", "200", "404", "500", "user=alice", "user=bob",
		"latency_ms=", "session", "token", "ERROR", "INFO", "WARN", "connection reset", "retrying", "db.query"}
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.DefaultCompression)
	tw := tar.NewWriter(zw)
	rnd := pseudoRandom(1<<20, 42)
	var total int64
	var file bytes.Buffer
	for f, r := 0, 0; f < 1000; f++ {
		file.Reset()
		for line := 0; file.Len() < 100_000; line++ {
			fmt.Fprintf(&file, "2024-05-%02d 12:%02d:%02d.%03d", rnd[r%len(rnd)]%28+1, rnd[(r+1)%len(rnd)]%60, rnd[(r+2)%len(rnd)]%60, int(rnd[(r+3)%len(rnd)])*3)
			for w := 0; w < 8; w++ {
				file.WriteString(" " + words[int(rnd[(r+4+w)%len(rnd)])%len(words)])
			}
			fmt.Fprintf(&file, " id=%d\n", int(rnd[(r+12)%len(rnd)])<<8|int(rnd[(r+13)%len(rnd)]))
			r += 14
		}
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("var/log/app/%04d.log", f), Size: int64(file.Len()), Mode: 0o644})
		tw.Write(file.Bytes())
		total += int64(file.Len())
	}
	tw.Close()
	zw.Close()
	return out.Bytes(), total
})

// walkAndRead is what the scanner does with a file: Walk, open every member, read it through.
func walkAndRead(b *testing.B, data []byte, buf []byte) int64 {
	var n int64
	for m, err := range Walk(context.Background(), "logs.tar.gz", bytes.NewReader(data), int64(len(data)), Limits{}) {
		if err != nil {
			b.Fatal(err)
		}
		rc, _ := m.Open()
		k, err := io.CopyBuffer(io.Discard, rc, buf)
		if err != nil {
			b.Fatal(err)
		}
		n += k
	}
	return n
}

// BenchmarkWalkTarGz reports MB/s of text (decompressed) through Walk and Open on one core;
// run with -cpu 1 for the per-core figure.
func BenchmarkWalkTarGz(b *testing.B) {
	data, total := benchTarGz()
	b.Logf("tar.gz: %d MB of text in %d MB", total/1e6, len(data)/1e6)
	buf := make([]byte, 64<<10)
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		if n := walkAndRead(b, data, buf); n != total {
			b.Fatalf("read %d of %d", n, total)
		}
	}
}

// BenchmarkWalkTarGzParallel walks several files at once, as the scanner's workers do.
func BenchmarkWalkTarGzParallel(b *testing.B) {
	data, total := benchTarGz()
	b.SetBytes(total)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 64<<10)
		for pb.Next() {
			walkAndRead(b, data, buf)
		}
	})
}

// BenchmarkGzipBaseline is klauspost's gzip alone over the same file: Walk's overhead is the
// difference.
func BenchmarkGzipBaseline(b *testing.B) {
	data, _ := benchTarGz()
	buf := make([]byte, 64<<10)
	var n int64
	for b.Loop() {
		zr, _ := gzip.NewReader(bytes.NewReader(data))
		n, _ = io.CopyBuffer(io.Discard, zr, buf)
	}
	b.SetBytes(n)
}
