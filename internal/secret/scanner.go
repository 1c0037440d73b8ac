package secret

import (
	"sync"

	"github.com/snapwatch/snapwatch/internal/secret/internal/keyword"
)

// Scanner holds compiled rules; it is immutable and safe for concurrent use.
type Scanner struct {
	rules      []*rule
	global     []*allowlist // every global allow-list
	globalPath []*allowlist // those that decide by path alone: checked once per Scan
	kw         *keyword.Matcher
	kwRules    [][]int32 // keyword id → rules routed by it
	always     []int32   // rules with a regex and no keywords: searched everywhere
	pathOnly   []int32   // rules with a path and no regex
	gated      []int32   // rules with mandatory companions: searched last, near them
	scratch    sync.Pool
}

// window is a span of the input one rule's regex searches.
type window struct {
	rule       int32
	start, end int
}

// scratch is per-Scan working memory, pooled so that a Scan which finds nothing allocates nothing.
type scratch struct {
	// lastPath's verdict under the global path allow-lists, kept across a file's chunks.
	lastPath               string
	pathKnown, pathAllowed bool

	hits    []keyword.Hit
	wins    []window
	lastWin []int32 // per rule: index in wins of its latest window, -1 if none
	lastPin []int   // per rule: 1 + offset of its latest anchored attempt, 0 if none
	ruleOK  []int8  // per rule: 0 not decided yet, 1 runs on this path, -1 skipped for this path
	budget  []int   // per rule: bytes its regex may still be given in this Scan
	cands   []candidate
	memo    scanMemo
}

func newScanner(rules []*rule, global []*allowlist) (*Scanner, error) {
	s := &Scanner{rules: rules, global: global}
	for _, al := range global {
		if al.pathOnly() {
			s.globalPath = append(s.globalPath, al)
		}
	}
	markGated(rules)
	var words []string
	ids := map[string]int{}
	for _, r := range rules {
		switch {
		case r.re == nil:
			s.pathOnly = append(s.pathOnly, int32(r.index))
		case r.gated:
			s.gated = append(s.gated, int32(r.index))
			continue // routed by its companions' candidates, not by keywords
		case len(r.keywords) == 0:
			s.always = append(s.always, int32(r.index))
		}
		for _, k := range r.keywords {
			id, ok := ids[k]
			if !ok {
				id = len(words)
				ids[k] = id
				words = append(words, k)
				s.kwRules = append(s.kwRules, nil)
			}
			s.kwRules[id] = append(s.kwRules[id], int32(r.index))
		}
	}
	if len(words) > 0 {
		m, err := keyword.New(words)
		if err != nil {
			return nil, err
		}
		s.kw = m
	}
	s.scratch.New = func() any {
		return &scratch{
			lastWin: make([]int32, len(rules)),
			lastPin: make([]int, len(rules)),
			budget:  make([]int, len(rules)),
			ruleOK:  make([]int8, len(rules)),
		}
	}
	return s, nil
}

// markGated flags the rules that need a companion (a mandatory [[rules.required]]) and so can
// be searched only around their companions' candidates, after everything else. A companion that
// is gated itself would be found too late to gate on, so its dependants are searched normally.
func markGated(rules []*rule) {
	for _, r := range rules {
		r.gated = false
		for _, rq := range r.required {
			r.gated = r.gated || !rq.optional
		}
	}
	for _, r := range rules {
		for _, rq := range r.required {
			if !rq.optional && len(rules[rq.rule].required) > 0 && !allOptional(rules[rq.rule].required) {
				r.gated = false
			}
		}
	}
}

func allOptional(rs []required) bool {
	for _, rq := range rs {
		if !rq.optional {
			return false
		}
	}
	return true
}

// Rules describes every rule, in load order.
func (s *Scanner) Rules() []RuleInfo {
	out := make([]RuleInfo, len(s.rules))
	for i, r := range s.rules {
		out[i] = r.info()
	}
	return out
}

// Scan returns the secrets in data, each once, ordered by offset, including those inside base64
// blobs (see decode.go). path (may be empty) serves path-scoped rules and allow-lists. Matches
// crossing the ends of data are the caller's business: it overlaps the chunks it feeds.
func (s *Scanner) Scan(path string, data []byte) []Match {
	return s.withDecoded(path, data, s.scanPlain(path, data), 1)
}

// PathAllowed reports whether a global allow-list excludes the path: the content scanner asks it
// for an archive before reading its members, whose "archive!member" paths the allow-lists,
// written for file paths, cannot see into.
func (s *Scanner) PathAllowed(path string) bool {
	for _, al := range s.globalPath {
		if al.pathAllowed(path) {
			return true
		}
	}
	return false
}

// scanPlain runs the rules over data as it is.
func (s *Scanner) scanPlain(path string, data []byte) []Match {
	st := s.scratch.Get().(*scratch)
	defer s.scratch.Put(st)
	// A file arrives in many chunks: judge its path once.
	if path != st.lastPath || !st.pathKnown {
		st.lastPath, st.pathKnown, st.pathAllowed = path, true, s.PathAllowed(path)
	}
	if st.pathAllowed {
		return nil
	}
	st.cands = st.cands[:0]
	clear(st.ruleOK)
	st.memo.reset()
	budget := regexBudget(len(data))
	for i := range st.budget {
		st.budget[i] = budget
	}

	for _, ri := range s.pathOnly {
		r := s.rules[ri]
		if s.ruleRuns(st, r, path) {
			st.cands = append(st.cands, candidate{rule: r, severity: r.severity, pathOnly: true})
		}
	}
	s.route(st, path, data)
	for _, w := range st.wins {
		s.search(st, s.rules[w.rule], path, data, w.start, w.end)
	}
	s.searchGated(st, path, data)
	if len(st.cands) == 0 {
		return nil
	}
	return s.finish(st, data)
}

// route turns keyword hits into searches: anchored attempts are made at once, windows are
// merged per rule into st.wins for the caller to search.
func (s *Scanner) route(st *scratch, path string, data []byte) {
	st.wins = st.wins[:0]
	for i := range st.lastWin {
		st.lastWin[i] = -1
	}
	clear(st.lastPin)
	if s.kw != nil {
		st.hits = s.kw.Append(st.hits[:0], data)
		for _, h := range st.hits {
			hitStart := h.End - h.Len
			for _, ri := range s.kwRules[h.Keyword] {
				r := s.rules[ri]
				if !s.ruleRuns(st, r, path) {
					continue
				}
				if r.anchored != nil {
					if st.lastPin[ri] != hitStart+1 { // two keywords may start at one offset
						st.lastPin[ri] = hitStart + 1
						s.searchAnchored(st, r, path, data, hitStart)
					}
					continue
				}
				start, end := max(0, hitStart-r.lead), min(len(data), h.End+r.window)
				if last := st.lastWin[ri]; last >= 0 && start <= st.wins[last].end {
					lw := &st.wins[last]
					lw.start, lw.end = min(lw.start, start), max(lw.end, end)
					continue
				}
				st.lastWin[ri] = int32(len(st.wins))
				st.wins = append(st.wins, window{rule: ri, start: start, end: end})
			}
		}
	}
	for _, ri := range s.always {
		if s.ruleRuns(st, s.rules[ri], path) {
			st.wins = append(st.wins, window{rule: ri, start: 0, end: len(data)})
		}
	}
}

// searchGated searches each rule with mandatory companions only where it can pair: around the
// candidates its companions left (or everywhere, when proximity is not in bytes).
func (s *Scanner) searchGated(st *scratch, path string, data []byte) {
	for _, ri := range s.gated {
		r := s.rules[ri]
		if !s.ruleRuns(st, r, path) {
			continue
		}
		reach, present := -1, true
		for _, rq := range r.required {
			if rq.optional {
				continue
			}
			if !hasCandidate(st.cands, rq.rule) {
				present = false
				break
			}
			if rq.withinBytes == nil {
				reach = len(data)
			} else if reach < len(data) {
				reach = max(reach, *rq.withinBytes)
			}
		}
		if !present {
			continue
		}
		// Search around each companion of the first mandatory requirement: any pair needs one.
		first := -1
		for _, rq := range r.required {
			if !rq.optional {
				first = rq.rule
				break
			}
		}
		n := len(st.cands) // candidates appended below are not companions to search around
		lastEnd := -1
		for i := 0; i < n; i++ {
			c := st.cands[i]
			if c.rule.index != first || c.pathOnly {
				continue
			}
			start := max(0, c.start-reach-r.window, lastEnd)
			end := min(len(data), c.end+reach+r.window)
			if start >= end {
				continue
			}
			s.search(st, r, path, data, start, end)
			lastEnd = end
		}
	}
}

func hasCandidate(cands []candidate, rule int) bool {
	for i := range cands {
		if cands[i].rule.index == rule {
			return true
		}
	}
	return false
}

// ruleRuns decides once per Scan whether r applies to path.
func (s *Scanner) ruleRuns(st *scratch, r *rule, path string) bool {
	switch st.ruleOK[r.index] {
	case 1:
		return true
	case -1:
		return false
	}
	ok := r.path == nil || r.path.MatchString(path)
	if ok && r.hasPathAls {
		for _, al := range r.allowlists {
			if al.pathOnly() && al.pathAllowed(path) {
				ok = false
				break
			}
		}
	}
	st.ruleOK[r.index] = -1
	if ok {
		st.ruleOK[r.index] = 1
	}
	return ok
}

// isTokenByte tells bytes that continue a token; a match that touches a window edge cut through
// such a run saw only part of the token and is dropped.
func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '+' || c == '/' || c == '=' || c == '.'
}
