package secret

import "bytes"

// regexBudget is how many bytes each rule's regex may be given per Scan of n bytes. Real data
// stays below it (a rule whose keyword opens every URL of an HTML page uses about 10n); an
// input built to repeat a keyword every few bytes hits it, and the rule stops searching that
// input instead of making the scan slow.
func regexBudget(n int) int { return 16*n + 256<<10 }

// spend charges a search of n bytes to r and reports whether its budget allowed it.
func (st *scratch) spend(r *rule, n int) bool {
	if st.budget[r.index] < n {
		st.budget[r.index] = 0
		return false
	}
	st.budget[r.index] -= n
	return true
}

// search runs r's regex over data[ws:we].
func (s *Scanner) search(st *scratch, r *rule, path string, data []byte, ws, we int) {
	if !st.spend(r, we-ws) {
		return
	}
	for _, loc := range r.re.FindAllSubmatchIndex(data[ws:we], -1) {
		s.consider(st, r, path, data, loc, ws, we)
	}
}

// searchAnchored tries r's regex pinned at a keyword hit, first checking by hand the assertion
// the regex makes about the byte before it, which the pinned regex cannot see.
func (s *Scanner) searchAnchored(st *scratch, r *rule, path string, data []byte, at int) {
	switch r.leading {
	case assertWordBoundary:
		if at > 0 && isWordByte(data[at-1]) == isWordByte(data[at]) {
			return
		}
	case assertLineStart:
		if at > 0 && data[at-1] != '\n' {
			return
		}
	case assertTextStart:
		if at > 0 {
			return
		}
	}
	we := min(len(data), at+r.window)
	if !st.spend(r, we-at) {
		return
	}
	if loc := r.anchored.FindSubmatchIndex(data[at:we]); loc != nil {
		s.consider(st, r, path, data, loc, at, we)
	}
}

// looksBinary tells whether a match sits in binary data: a NUL byte in the first 8 KiB of the
// input (the test file(1) and git use) or within 256 bytes of the match, which catches string
// tables in the middle of executables.
func looksBinary(data []byte, ms, me int) bool {
	if bytes.IndexByte(data[:min(len(data), 8192)], 0) >= 0 {
		return true
	}
	return bytes.IndexByte(data[max(0, ms-256):min(len(data), me+256)], 0) >= 0
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// consider turns one regex match (loc, relative to the searched span data[ws:we]) into a
// candidate if it passes every filter.
func (s *Scanner) consider(st *scratch, r *rule, path string, data []byte, loc []int, ws, we int) {
	ms, me := ws+loc[0], ws+loc[1]
	if ms == me {
		return
	}
	// A match touching an edge the search cut through a run of token bytes saw part of a token.
	if ms == ws && r.anchored == nil && ws > 0 && isTokenByte(data[ws-1]) && isTokenByte(data[ws]) {
		return
	}
	if me == we && we < len(data) && isTokenByte(data[we-1]) && isTokenByte(data[we]) {
		return
	}
	if r.textOnly && looksBinary(data, ms, me) {
		return
	}
	c := candidate{rule: r, severity: r.severity, mStart: ms, mEnd: me, start: ms, end: me, memo: &st.memo}
	if !secretSpan(r, loc, ws, &c) {
		return
	}
	if r.check != nil && !r.check(data, &c) {
		return
	}
	for i := len(st.cands) - 1; i >= 0 && i >= len(st.cands)-8; i-- {
		if o := &st.cands[i]; o.rule == r && o.start == c.start && o.end == c.end {
			return // found again from another keyword of the same match
		}
	}
	secret := data[c.start:c.end]
	c.entropy = shannon(secret)
	if r.entropy != 0 && c.entropy <= r.entropy {
		return
	}
	if s.allowed(r, path, data, &c) {
		return
	}
	st.cands = append(st.cands, c)
}

// secretSpan picks the secret out of a match as gitleaks does: the secretGroup if set, else the
// first non-empty group, else the whole match.
func secretSpan(r *rule, loc []int, base int, c *candidate) bool {
	if r.secretGroup > 0 {
		g := 2 * r.secretGroup
		if loc[g] < 0 || loc[g] == loc[g+1] {
			return false
		}
		c.start, c.end = base+loc[g], base+loc[g+1]
		return true
	}
	for g := 2; g+1 < len(loc); g += 2 {
		if loc[g] >= 0 && loc[g+1] > loc[g] {
			c.start, c.end = base+loc[g], base+loc[g+1]
			return true
		}
	}
	return true
}

// lineAround returns the lines holding data[start:end], capped so a megabyte-long line of
// minified code or binary cannot make every allow-list check slow.
func lineAround(data []byte, start, end int) []byte {
	const maxReach = 4096
	ls := bytes.LastIndexByte(data[max(0, start-maxReach):start], '\n')
	if ls < 0 {
		ls = max(0, start-maxReach)
	} else {
		ls += max(0, start-maxReach) + 1
	}
	le := bytes.IndexByte(data[end:min(len(data), end+maxReach)], '\n')
	if le < 0 {
		le = min(len(data), end+maxReach)
	} else {
		le += end
	}
	return data[ls:le]
}

func (s *Scanner) allowed(r *rule, path string, data []byte, c *candidate) bool {
	if len(s.global) == 0 && len(r.allowlists) == 0 {
		return false
	}
	v := candidateView{
		path:         path,
		secret:       data[c.start:c.end],
		match:        data[c.mStart:c.mEnd],
		data:         data,
		mStart:       c.mStart,
		mEnd:         c.mEnd,
		lowerPending: true,
	}
	for _, al := range s.global {
		if al.allows(&v) {
			return true
		}
	}
	for _, al := range r.allowlists {
		if al.allows(&v) {
			return true
		}
	}
	return false
}
