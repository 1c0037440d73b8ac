package fat

import (
	"slices"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// maxRuns caps how many fragments one file may have (16 bytes each: 4 MiB). A 4 GiB file of
// 4 KiB clusters scattered one cluster at a time would need 1M; real volumes stay far below.
const maxRuns = 1 << 18

// run is a stretch of consecutive clusters of a chain.
type run struct {
	logical uint64 // index of the run's first cluster within the chain
	start   uint32 // first cluster number
	count   uint32
}

// runList is a chain as runs, with the reason it stopped early when it is broken.
type runList struct {
	runs     []run
	clusters uint64 // total clusters in runs
	broken   error  // non-nil when the chain ended, looped or left the heap before it should
}

func (l *runList) add(c uint32) error {
	if n := len(l.runs); n > 0 {
		last := &l.runs[n-1]
		if uint64(last.start)+uint64(last.count) == uint64(c) {
			last.count++
			l.clusters++
			return nil
		}
	}
	if len(l.runs) >= maxRuns {
		return errTooFragmented
	}
	l.runs = append(l.runs, run{logical: l.clusters, start: c, count: 1})
	l.clusters++
	return nil
}

var errTooFragmented = errorString("file has more than 262144 fragments; not read")

type errorString string

func (e errorString) Error() string { return string(e) }

// chainSpec says how far to follow a chain, and for whom.
type chainSpec struct {
	id    uint64  // the file or directory the chain belongs to
	owned *claims // clusters already claimed by other chains; nil: claim nothing (residual data)
	what  string  // the file, for errors: `file "a.txt" (id 1234)`
	want  uint64  // clusters needed (file size / cluster size, rounded up)
	toEnd bool    // follow until end-of-chain (directories), failing past want clusters
}

// walkChain follows the FAT from start. Files stop after spec.want clusters; directories follow
// the chain to its end and fail when it is longer than spec.want (the directory size cap). A
// chain that leaves the heap, runs into a free, bad or reserved entry, ends too early, visits a
// cluster twice, or runs into another file's clusters is reported as corrupt in runList.broken,
// keeping the runs read so far. The clusters walked are then claimed for spec.id.
func (t *fatTable) walkChain(start uint32, spec chainSpec) runList {
	var l runList
	what := spec.what + " cluster chain"
	if spec.want == 0 && !spec.toEnd {
		return l
	}
	if !t.g.validCluster(start) {
		l.broken = t.g.corrupt(what, "first cluster %d is outside the heap (2..%d)", start, t.g.lastCluster())
		return l
	}
	mine, other, taken := spec.owned == nil, uint64(0), false
	if !mine {
		mine, other, taken = spec.owned.ownerOf(start, spec.id)
	}
	if taken {
		l.broken = t.g.corrupt(what, "starts at cluster %d, which belongs to id %d (cross-linked)", start, other)
		return l
	}
	c := start
	for {
		if !mine && spec.owned.isTaken(c) {
			// Taken by another chain, unless a concurrent walk of this very chain has just
			// claimed it.
			if mine, _, _ = spec.owned.ownerOf(start, spec.id); !mine {
				l.broken = t.g.corrupt(what, "cluster %d also belongs to another file or directory (cross-linked)", c)
				break
			}
		}
		if err := l.add(c); err != nil {
			l.broken = t.g.corrupt(what, "%v", err)
			return l
		}
		if !spec.toEnd && l.clusters == spec.want {
			break
		}
		if spec.toEnd && l.clusters > spec.want {
			l.broken = t.g.corrupt(what, "longer than %d clusters (a cycle, or a directory over the size cap)", spec.want)
			break
		}
		if l.clusters > uint64(t.g.clusters) { // pigeonhole: some cluster repeats
			break
		}
		v, err := t.entry(c)
		if err != nil {
			l.broken = t.g.corrupt(what, "reading the FAT entry of cluster %d: %v", c, err)
			break
		}
		switch t.classify(v) {
		case linkNext:
			c = v
			continue
		case linkEnd:
			if !spec.toEnd {
				l.broken = t.g.corrupt(what, "ends after %d of %d clusters", l.clusters, spec.want)
			}
		case linkFree:
			l.broken = t.g.corrupt(what, "cluster %d is marked free in the FAT", c)
		case linkBad:
			l.broken = t.g.corrupt(what, "cluster %d is marked bad in the FAT", c)
		default:
			l.broken = t.g.corrupt(what, "cluster %d links to cluster %d, outside the heap (2..%d)", c, v, t.g.lastCluster())
		}
		break
	}
	if c, ok := firstRepeat(l.runs); ok {
		l.broken = t.g.corrupt(what, "visits cluster %d twice (cycle)", c)
		l.runs, l.clusters = cutAtLoop(l.runs, c)
	}
	if !mine {
		if c, ok := spec.owned.take(t.g, spec.id, l.runs); !ok {
			return runList{broken: t.g.corrupt(what, "cluster %d also belongs to another file or directory (cross-linked)", c)}
		}
	}
	return l
}

// contiguousRuns is the chain of a file whose clusters are consecutive by declaration (exFAT's
// NoFatChain): n clusters from first, which must lie in the heap, claimed for spec.id.
func (g *geometry) contiguousRuns(first uint32, n uint64, spec chainSpec) runList {
	what := spec.what + " clusters"
	if n == 0 {
		return runList{}
	}
	if !g.validCluster(first) || uint64(first)+n-1 > uint64(g.lastCluster()) {
		return runList{broken: g.corrupt(what, "%d contiguous clusters from %d leave the heap (2..%d)", n, first, g.lastCluster())}
	}
	l := runList{runs: []run{{start: first, count: uint32(n)}}, clusters: n}
	if spec.owned == nil {
		return l
	}
	if _, other, taken := spec.owned.ownerOf(first, spec.id); taken {
		return runList{broken: g.corrupt(what, "start at cluster %d, which belongs to id %d (cross-linked)", first, other)}
	}
	if c, ok := spec.owned.take(g, spec.id, l.runs); !ok {
		return runList{broken: g.corrupt(what, "cluster %d also belongs to another file or directory (cross-linked)", c)}
	}
	return l
}

// firstRepeat reports a cluster that two runs share. Sorting copies keeps it O(n log n), so a
// cycle is found however long it is, without a per-cluster visited set.
func firstRepeat(runs []run) (uint32, bool) {
	if len(runs) < 2 {
		return 0, false
	}
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b run) int { return int64cmp(int64(a.start), int64(b.start)) })
	for i := 1; i < len(s); i++ {
		if uint64(s[i-1].start)+uint64(s[i-1].count) > uint64(s[i].start) {
			return s[i].start, true
		}
	}
	return 0, false
}

// cutAtLoop keeps the chain up to the point where it starts to repeat itself, so that reads of
// a looping chain give the bytes before the loop and then the error. A chain is a path in a
// functional graph (each cluster has one successor), so once some cluster c repeats with period
// λ, the first repeat is at μ+λ where μ is the first position i with chain[i] == chain[i+λ].
func cutAtLoop(runs []run, c uint32) ([]run, uint64) {
	var first, second uint64
	seen := false
	for _, r := range runs {
		if c >= r.start && uint64(c) < uint64(r.start)+uint64(r.count) {
			pos := r.logical + uint64(c-r.start)
			if seen {
				second = pos
				break
			}
			first, seen = pos, true
		}
	}
	lambda := second - first
	keep := second
	for i := uint64(0); i < first; i++ {
		if clusterAt(runs, i) == clusterAt(runs, i+lambda) {
			keep = i + lambda
			break
		}
	}
	return truncateRuns(runs, keep), keep
}

// clusterAt is the cluster at position i of the chain (i < total clusters).
func clusterAt(runs []run, i uint64) uint32 {
	k, _ := slices.BinarySearchFunc(runs, i, func(r run, i uint64) int {
		switch {
		case r.logical+uint64(r.count) <= i:
			return -1
		case r.logical > i:
			return 1
		}
		return 0
	})
	r := runs[k]
	return r.start + uint32(i-r.logical)
}

// truncateRuns keeps the first n clusters of the chain.
func truncateRuns(runs []run, n uint64) []run {
	for i, r := range runs {
		if r.logical+uint64(r.count) >= n {
			runs = runs[:i+1]
			runs[i].count = uint32(n - r.logical)
			if runs[i].count == 0 {
				runs = runs[:i]
			}
			return runs
		}
	}
	return runs
}

func int64cmp(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// extents turns runs into volume byte ranges of a file of size bytes.
func (g *geometry) extents(runs []run, size int64) []filesystem.Extent {
	out := make([]filesystem.Extent, 0, len(runs))
	for _, r := range runs {
		logical := int64(r.logical) * g.clusterSize
		if logical >= size {
			break
		}
		n := min(int64(r.count)*g.clusterSize, size-logical)
		out = append(out, filesystem.Extent{Logical: logical, Physical: g.clusterOff(r.start), Length: n})
	}
	return out
}
