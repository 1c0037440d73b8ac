package secret

import (
	"os"
	"sort"
	"testing"
	"time"
)

// TestRuleCost reports, per rule, the bytes its regex searched and the time it took over each
// benchmark corpus: the tool for keeping keywords and windows tight. Run with
// SNAPWATCH_RULE_COST=1 go test -run RuleCost -v ./internal/secret/
func TestRuleCost(t *testing.T) {
	if os.Getenv("SNAPWATCH_RULE_COST") == "" {
		t.Skip("set SNAPWATCH_RULE_COST=1")
	}
	s := Default()
	for _, name := range []string{"text", "elf", "config", "source"} {
		data, ok := corpora()[name]
		if !ok {
			continue
		}
		cost := make([]time.Duration, len(s.rules))
		searched := make([]int, len(s.rules))
		runs := make([]int, len(s.rules))
		st := s.scratch.Get().(*scratch)
		for off := 0; off < len(data); off += chunkSize {
			chunk := data[off:min(len(data), off+chunkSize)]
			st.cands = st.cands[:0]
			clear(st.ruleOK)
			clear(st.lastPin)
			// The anchored attempts route makes, timed one by one.
			st.hits = s.kw.Append(st.hits[:0], chunk)
			for _, h := range st.hits {
				for _, ri := range s.kwRules[h.Keyword] {
					r := s.rules[ri]
					if r.anchored == nil || st.lastPin[ri] == h.End-h.Len+1 {
						continue
					}
					st.lastPin[ri] = h.End - h.Len + 1
					start := time.Now()
					s.searchAnchored(st, r, "", chunk, h.End-h.Len)
					cost[ri] += time.Since(start)
					searched[ri]++
					runs[ri]++
				}
			}
			// The windows it leaves, timed one by one.
			s.route(st, "corpus", chunk)
			for _, w := range st.wins {
				start := time.Now()
				s.search(st, s.rules[w.rule], "", chunk, w.start, w.end)
				cost[w.rule] += time.Since(start)
				searched[w.rule] += w.end - w.start
				runs[w.rule]++
			}
		}
		s.scratch.Put(st)
		idx := make([]int, len(s.rules))
		var total time.Duration
		for i := range idx {
			idx[i] = i
			total += cost[i]
		}
		sort.Slice(idx, func(a, b int) bool { return cost[idx[a]] > cost[idx[b]] })
		t.Logf("%s: %d bytes, regex time %v", name, len(data), total)
		for _, i := range idx[:12] {
			t.Logf("  %-34s %8v %9d searches %11d bytes (anchored attempts count 1)", s.rules[i].id, cost[i].Round(time.Microsecond), runs[i], searched[i])
		}
	}
}
