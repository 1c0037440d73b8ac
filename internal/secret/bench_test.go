package secret

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The benchmarks scan corpora built from this machine's files (Debian-like /usr), 16 MiB each,
// cut into the 1 MiB chunks a scanner would feed, with a few secrets planted. They report
// cpuMB/s: bytes per CPU-second of this process, which other load on a shared machine distorts
// far less than wall time. Corpora whose sources are missing are skipped.

const (
	corpusSize = 16 << 20
	chunkSize  = 1 << 20
)

var corpora = sync.OnceValue(func() map[string][]byte {
	isELF := func(p string) bool {
		f, err := os.Open(p)
		if err != nil {
			return false
		}
		defer f.Close()
		var m [4]byte
		_, err = f.Read(m[:])
		return err == nil && string(m[:]) == "\x7fELF"
	}
	out := map[string][]byte{
		"text":   gather(corpusSize, suffixes(".txt", ".conf", "copyright", ".md", ".rst", ".html"), "/usr/share/doc", "/usr/share", "/etc"),
		"elf":    gather(corpusSize, isELF, "/usr/bin", "/usr/lib/x86_64-linux-gnu"),
		"config": gather(corpusSize, suffixes(".json", ".yaml", ".yml", ".toml", ".ini", ".xml"), "/usr/share", "/usr/lib", "/etc"),
		"source": gather(corpusSize, suffixes(".go", ".py", ".c", ".h", ".js", ".sh"), "/usr/local/go/src", "/usr/lib/python3", "/usr/include"),
	}
	for name, b := range out {
		if len(b) < corpusSize/2 {
			delete(out, name)
			continue
		}
		out[name] = plant(b)
	}
	return out
})

// gather concatenates files under roots accepted by keep, up to limit bytes.
func gather(limit int, keep func(string) bool, roots ...string) []byte {
	var buf bytes.Buffer
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if buf.Len() >= limit {
				return filepath.SkipAll
			}
			if err != nil || !d.Type().IsRegular() || !keep(p) {
				return nil
			}
			if info, err := d.Info(); err != nil || info.Size() > 4<<20 {
				return nil
			}
			if b, err := os.ReadFile(p); err == nil {
				buf.Write(b)
			}
			return nil
		})
	}
	b := buf.Bytes()
	return b[:min(len(b), limit)]
}

func suffixes(s ...string) func(string) bool {
	return func(p string) bool {
		for _, x := range s {
			if strings.HasSuffix(p, x) {
				return true
			}
		}
		return false
	}
}

// plant writes a handful of secrets into the corpus, one every 2 MiB.
func plant(b []byte) []byte {
	secrets := []string{
		"\naws_access_key_id = AKIAQYLPMN5HHHFPZAM2\naws_secret_access_key = 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\n",
		"\nGITHUB_TOKEN=ghp_Xg3z8Dy6Q2hxpBaD1JrN8EaTN9TLjC3D2YHM\n",
		"\nDATABASE_URL=postgres://app:Zq8vN2kLr5Tw@db.internal:5432/app\n",
		"\nSLACK_BOT_TOKEN=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx\n",
	}
	out := bytes.Clone(b)
	for i, at := 0, 1<<20; at < len(out); i, at = i+1, at+2<<20 {
		s := secrets[i%len(secrets)]
		copy(out[at:], s)
	}
	return out
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs fn b.N times and reports bytes per CPU-second next to the usual wall-time MB/s.
func measure(b *testing.B, size int, fn func()) {
	b.SetBytes(int64(size))
	start := cpuTime()
	for b.Loop() {
		fn()
	}
	b.ReportMetric(float64(size)*float64(b.N)/(cpuTime()-start).Seconds()/1e6, "cpuMB/s")
}

func BenchmarkScan(b *testing.B) {
	s := Default()
	for _, name := range []string{"text", "elf", "config", "source"} {
		data, ok := corpora()[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			found := 0
			measure(b, len(data), func() {
				found = 0
				for off := 0; off < len(data); off += chunkSize {
					found += len(s.Scan("corpus", data[off:min(len(data), off+chunkSize)]))
				}
			})
			b.ReportMetric(float64(found), "matches")
		})
	}
}

// BenchmarkKeywordPass isolates the Aho-Corasick routing pass.
func BenchmarkKeywordPass(b *testing.B) {
	s := Default()
	for _, name := range []string{"text", "elf", "config", "source"} {
		data, ok := corpora()[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			st := s.scratch.Get().(*scratch)
			defer s.scratch.Put(st)
			measure(b, len(data), func() {
				for off := 0; off < len(data); off += chunkSize {
					st.hits = s.kw.Append(st.hits[:0], data[off:min(len(data), off+chunkSize)])
				}
			})
		})
	}
}
