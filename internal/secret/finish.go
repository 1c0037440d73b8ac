package secret

import (
	"bytes"
	"cmp"
	"slices"
)

// candidate is a match that passed its rule's filters, before pairing and de-duplication.
type candidate struct {
	rule         *rule
	start, end   int // the secret
	mStart, mEnd int // the whole regex match
	severity     Severity
	entropy      float64
	encrypted    bool
	context      map[string]string
	pathOnly     bool
	dropped      bool
	usedBy       int // 1 + index of the candidate that absorbed this companion; 0 if none
	memo         *scanMemo
}

func (c *candidate) setContext(k, v string) {
	if c.context == nil {
		c.context = map[string]string{}
	}
	c.context[k] = v
}

// finish pairs companions, drops what must not be reported alone, resolves overlaps and builds
// the matches.
func (s *Scanner) finish(st *scratch, data []byte) []Match {
	cands := st.cands
	slices.SortFunc(cands, func(a, b candidate) int { return cmp.Compare(a.start, b.start) })
	pairCompanions(cands, data)
	kept := cands[:0]
	for _, c := range cands {
		if !c.dropped && c.usedBy == 0 && !c.rule.skipReport {
			kept = append(kept, c)
		}
	}
	kept = resolveOverlaps(kept)
	matches := make([]Match, 0, len(kept))
	line, pos := 1, 0
	for _, c := range kept {
		m := Match{
			RuleID: c.rule.id, Title: c.rule.title, Category: c.rule.category, Severity: c.severity,
			Start: c.start, End: c.end, Entropy: c.entropy, Encrypted: c.encrypted, Context: c.context,
		}
		if !c.pathOnly {
			line += bytes.Count(data[pos:c.start], []byte{'\n'})
			pos = c.start
			m.Line = line
		}
		m.Secret = bytes.Clone(data[c.start:c.end])
		m.Redacted = Redact(m.Secret)
		m.SHA256 = hashHex(m.Secret)
		matches = append(matches, m)
	}
	return matches
}

// Bounds on the companion search, so that a chunk holding thousands of candidates costs
// a bounded amount per candidate instead of a scan of all of them.
const maxCompanionScans = 4096 // candidates looked at either side when proximity is in lines

// pairCompanions applies [[rules.required]]: a rule's candidate keeps (and is annotated with)
// its nearest companion of each required rule, or is dropped when a mandatory one is missing.
// Companions used by a surviving candidate are not reported on their own. cands is sorted by start.
func pairCompanions(cands []candidate, data []byte) {
	var lines []lineColumn // filled on first need: proximity in lines or columns
	longest := 0           // the longest candidate bounds how far back a neighbour can start
	for i := range cands {
		longest = max(longest, cands[i].end-cands[i].start)
	}
	for i := range cands {
		c := &cands[i]
		if len(c.rule.required) == 0 {
			continue
		}
		var used []int
		for _, rq := range c.rule.required {
			if (rq.withinLines != nil || rq.withinColumns != nil) && lines == nil {
				lines = lineColumns(cands, data)
			}
			lo, hi := max(0, i-maxCompanionScans), min(len(cands), i+maxCompanionScans+1)
			if rq.withinBytes != nil {
				from := c.start - *rq.withinBytes - longest
				lo, _ = slices.BinarySearchFunc(cands, from, func(x candidate, t int) int { return cmp.Compare(x.start, t) })
				hi, _ = slices.BinarySearchFunc(cands, c.end+*rq.withinBytes+1, func(x candidate, t int) int { return cmp.Compare(x.start, t) })
			}
			best, bestGap := -1, 0
			for j := lo; j < hi; j++ {
				o := &cands[j]
				if j == i || o.rule.index != rq.rule || o.pathOnly {
					continue
				}
				gap := max(o.start-c.end, c.start-o.end, 0)
				if !withinProximity(rq, gap, lines, i, j) {
					continue
				}
				if best < 0 || gap < bestGap {
					best, bestGap = j, gap
				}
			}
			if best < 0 {
				if !rq.optional {
					c.dropped = true
				}
				continue
			}
			c.setContext(rq.context, Redact(data[cands[best].start:cands[best].end]))
			used = append(used, best)
		}
		if !c.dropped {
			for _, j := range used {
				if cands[j].usedBy == 0 {
					cands[j].usedBy = i + 1
				}
			}
		}
	}
}

type lineColumn struct{ line, col int }

// lineColumns locates every candidate's start in one pass (cands is sorted by start).
func lineColumns(cands []candidate, data []byte) []lineColumn {
	out := make([]lineColumn, len(cands))
	line, pos, lineStart := 1, 0, 0
	for i, c := range cands {
		seg := data[pos:c.start]
		if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
			line += n
			lineStart = pos + bytes.LastIndexByte(seg, '\n') + 1
		}
		pos = c.start
		out[i] = lineColumn{line, c.start - lineStart}
	}
	return out
}

func withinProximity(rq required, gap int, lines []lineColumn, i, j int) bool {
	if rq.withinBytes != nil && gap > *rq.withinBytes {
		return false
	}
	if rq.withinLines != nil && abs(lines[i].line-lines[j].line) > *rq.withinLines {
		return false
	}
	if rq.withinColumns != nil && abs(lines[i].col-lines[j].col) > *rq.withinColumns {
		return false
	}
	return true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// resolveOverlaps keeps one candidate per overlapping secret: the highest rule priority, then
// the longest secret, then the earliest rule. It works priority level by priority level, so each
// level costs a sort and a merge even on adversarial input full of overlaps. The result is
// sorted by start.
func resolveOverlaps(cands []candidate) []candidate {
	if len(cands) < 2 {
		return cands
	}
	better := func(a, b *candidate) bool {
		if la, lb := a.end-a.start, b.end-b.start; la != lb {
			return la > lb
		}
		return a.rule.index < b.rule.index
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(b.rule.priority, a.rule.priority); c != 0 {
			return c
		}
		return cmp.Compare(a.start, b.start)
	})
	var accepted []candidate // disjoint, sorted by start
	for lo := 0; lo < len(cands); {
		hi := lo
		for hi < len(cands) && cands[hi].rule.priority == cands[lo].rule.priority {
			hi++
		}
		// Within the level: sweep by start, keeping the better of two overlapping candidates.
		var level []candidate
		for i := lo; i < hi; i++ {
			c := cands[i]
			if overlapsAny(accepted, &c) {
				continue
			}
			if n := len(level); n > 0 && c.start < level[n-1].end && !c.pathOnly && !level[n-1].pathOnly {
				if better(&c, &level[n-1]) {
					level[n-1] = c
				}
				continue
			}
			level = append(level, c)
		}
		accepted = mergeByStart(accepted, level)
		lo = hi
	}
	return accepted
}

// overlapsAny reports whether c overlaps one of the disjoint, start-sorted spans in list.
func overlapsAny(list []candidate, c *candidate) bool {
	if c.pathOnly {
		return false
	}
	i, _ := slices.BinarySearchFunc(list, c.start, func(x candidate, start int) int { return cmp.Compare(x.start, start) })
	if i < len(list) && !list[i].pathOnly && list[i].start < c.end {
		return true
	}
	if i > 0 && !list[i-1].pathOnly && list[i-1].end > c.start {
		return true
	}
	return false
}

func mergeByStart(a, b []candidate) []candidate {
	out := make([]candidate, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i].start <= b[j].start {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
