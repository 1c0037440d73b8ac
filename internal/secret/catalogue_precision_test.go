package secret

import (
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

type sizedPath struct {
	path string // guest-absolute
	real string // on this machine
	size int64
}

// walkRoot lists the regular files under root as guest-absolute paths, skipping the trees in
// skip (absolute paths on this machine).
func walkRoot(root string, skip []string, limit int) []sizedPath {
	var out []sizedPath
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			for _, s := range skip {
				if p == s {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, sizedPath{path: "/" + filepath.ToSlash(rel), real: p, size: info.Size()})
		if limit > 0 && len(out) >= limit {
			return filepath.SkipAll
		}
		return nil
	})
	return out
}

// TestCataloguePrecision runs the default catalogue over a real root file system as the content
// scanner would (Wants for every file, then Check with the head asked for) and lists every
// match, to be judged by hand: nothing should fire that is not genuinely sensitive. Run with
//
//	SNAPWATCH_CATALOGUE_ROOT=/ SNAPWATCH_CATALOGUE_SKIP=/work go test -run CataloguePrecision -v ./internal/secret/
//
// /proc, /sys and /dev are always skipped; SNAPWATCH_CATALOGUE_SKIP adds comma-separated trees;
// SNAPWATCH_CATALOGUE_NOEXCLUDE=1 drops the global exclusions to measure the signatures alone.
func TestCataloguePrecision(t *testing.T) {
	root := os.Getenv("SNAPWATCH_CATALOGUE_ROOT")
	if root == "" {
		t.Skip("set SNAPWATCH_CATALOGUE_ROOT to a directory, e.g. /")
	}
	skip := []string{"/proc", "/sys", "/dev"}
	if v := os.Getenv("SNAPWATCH_CATALOGUE_SKIP"); v != "" {
		skip = append(skip, strings.Split(v, ",")...)
	}
	c := DefaultCatalogue()
	if os.Getenv("SNAPWATCH_CATALOGUE_NOEXCLUDE") != "" {
		// The signatures alone, without the global exclusions of sample and test trees.
		cc := *c
		cc.exclude = nil
		c = &cc
	}
	start := time.Now()
	files := walkRoot(root, skip, 0)
	walked := time.Since(start)

	// Wants alone, timed over every path (CPU time of the loop, so load elsewhere matters less).
	wanted := make([]int64, len(files)) // -1: not wanted
	c0 := cpuTime()
	for i, f := range files {
		need, head := c.Wants(f.path, f.size)
		wanted[i] = -1
		if need {
			wanted[i] = head
		}
	}
	wantsCPU := cpuTime() - c0

	type hit struct {
		id, path, sev string
		ev            string
	}
	var hits []hit
	var asked, readBytes int64
	byID := map[string]int{}
	var checkCPU time.Duration
	for i, f := range files {
		head := wanted[i]
		if head < 0 {
			continue
		}
		asked++
		var data []byte
		if head > 0 {
			fh, err := os.Open(f.real)
			if err != nil {
				continue
			}
			data, _ = io.ReadAll(io.LimitReader(fh, head))
			fh.Close()
			readBytes += int64(len(data))
		}
		k0 := cpuTime()
		ms := c.Check(f.path, f.size, data)
		checkCPU += cpuTime() - k0
		for _, m := range ms {
			ev, _ := json.Marshal(m.Evidence)
			hits = append(hits, hit{m.ID, f.path, m.Severity.String(), string(ev)})
			byID[m.ID]++
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].id != hits[j].id {
			return hits[i].id < hits[j].id
		}
		return hits[i].path < hits[j].path
	})
	for _, h := range hits {
		t.Logf("%-34s %-8s %s  %s", h.id, h.sev, h.path, h.ev)
	}
	t.Logf("root %s: %d files (walk %.1f s); Wants %.0f ns per call (CPU), true for %d files; %.1f MB read; Check %.0f ms CPU in all; %d matches by signature %v",
		root, len(files), walked.Seconds(), float64(wantsCPU.Nanoseconds())/float64(max(1, len(files))), asked,
		float64(readBytes)/1e6, float64(checkCPU.Microseconds())/1e3, len(hits), byID)
}

// benchPaths are the paths of this machine's /usr, /etc, /var, /opt and homes (up to 300,000):
// the mix a disk scan sees.
var benchPaths = sync.OnceValue(func() []sizedPath {
	var files []sizedPath
	for _, r := range []string{"/usr", "/etc", "/var", "/home", "/root", "/opt"} {
		files = append(files, walkRoot(r, nil, 300000-len(files))...)
		if len(files) >= 300000 {
			break
		}
	}
	for i := range files { // walkRoot made them relative to each root; put the root back
		files[i].path = files[i].real
	}
	return files
})

// BenchmarkCatalogueWants times Wants over real paths. cpu-ns/op is CPU time per call, which
// the load of a shared machine distorts far less than ns/op. "hot" cycles through 4,096 paths
// spread over the corpus and packed in one block, which stay in cache as the path a scanner has
// just built does; "cold" through all 300,000 as the walk left them scattered over the heap, so
// each call also pays cache and TLB misses on the path's bytes.
func BenchmarkCatalogueWants(b *testing.B) {
	all := benchPaths()
	if len(all) == 0 {
		b.Skip("no files")
	}
	// The hot set's strings are copied into one block, as a scanner's path buffer would be;
	// scattered over the heap, each call would pay a TLB miss before any work.
	var block strings.Builder
	for i := 0; i < 4096; i++ {
		block.WriteString(all[i*len(all)/4096].path)
	}
	text, off := block.String(), 0
	hot := make([]sizedPath, 0, 4096)
	for i := 0; i < 4096; i++ {
		f := all[i*len(all)/4096]
		f.path = text[off : off+len(f.path)]
		off += len(f.path)
		hot = append(hot, f)
	}
	b.Run("hot", func(b *testing.B) { benchWants(b, hot) })
	b.Run("cold", func(b *testing.B) { benchWants(b, all) })
}

func benchWants(b *testing.B, files []sizedPath) {
	c := DefaultCatalogue()
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		f := files[i%len(files)]
		if need, _ := c.Wants(f.path, f.size); need {
			n++
		}
	}
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(n)/float64(b.N)*1e6, "wanted-per-million")
}
