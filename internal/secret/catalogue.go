package secret

import (
	"bytes"
	"embed"
	"regexp"
	"sync"
)

// The sensitive-file catalogue: findings about a FILE being on a disk (by its path, and by its
// content where the path alone would be a guess), beside the rules that find secret strings.
// Signatures are data (catalogue/*.toml, embedded); analyzers are the few named Go functions a
// signature may call to judge content (catalogue_analyze*.go). See docs/design/catalogue.md.

//go:embed catalogue/*.toml
var embeddedCatalogue embed.FS

// FileMatch is one signature that a file satisfies.
type FileMatch struct {
	ID, Title, Category, Remediation string
	Severity                         Severity
	// Evidence is what the checks saw, e.g. {"accounts_with_hash": 2, "algorithms":
	// ["sha512crypt"], "accounts": ["root", "alice"]}. It never holds a secret: no password,
	// hash, token or key, only counts, names, identifiers and redacted prefixes.
	Evidence map[string]any
}

// Catalogue is a compiled set of signatures; it is immutable and safe for concurrent use.
type Catalogue struct {
	sigs    []*signature
	exclude []*glob // global exclusions: trees whose files are samples (documentation, tests)
	index   *pathIndex
}

// signature is one compiled catalogue entry.
type signature struct {
	id, title, description, category, remediation string
	severity                                      Severity
	paths                                         []string
	exclude                                       []*glob
	minSize, maxSize                              int64 // maxSize 0: no limit
	magic                                         []magic
	re                                            *regexp.Regexp
	analyzer                                      *analyzer
	read                                          int64 // bytes regex/analyzer look at (from the start)
	fallback                                      bool  // reported only when no other signature matches the file
	globalExclude                                 bool
}

// magic is one acceptable byte string at a fixed offset; a signature with several accepts any.
type magic struct {
	at    int64
	bytes []byte
	label string // evidence "format" when it matches
}

// Content limits: what a signature may ask to read, and the default for regexes.
const (
	defaultRegexRead = 1 << 20
	maxRead          = 64 << 20
	maxMagicEnd      = 1 << 20
)

var defaultCatalogue = sync.OnceValue(func() *Catalogue {
	c, err := LoadCatalogue(true)
	if err != nil {
		panic("secret: embedded catalogue does not compile: " + err.Error())
	}
	return c
})

// DefaultCatalogue returns the catalogue of the embedded signatures, compiled on first use and
// shared.
func DefaultCatalogue() *Catalogue { return defaultCatalogue() }

// maxCandidates bounds the globs a lookup gathers on the stack; more spill to the heap.
const maxCandidates = 32

// Wants says from the path and size alone whether Check can report anything for the file, and
// how many of its leading bytes Check needs: 0 when the path decides alone (call Check with no
// content), n ≤ size for a head (magic bytes) or the part a regex or analyzer reads, size for
// the whole file. need is false for nearly every file of a disk; the call allocates nothing.
func (c *Catalogue) Wants(path string, size int64) (need bool, headBytes int64) {
	var buf [maxCandidates]int32
	cands := c.index.candidates(path, buf[:0])
	if len(cands) == 0 {
		return false, 0
	}
	var stack [maxPathSegments][2]int32
	segs := splitPath(path, stack[:0])
	for _, gid := range cands {
		g := c.index.globs[gid]
		s := c.sigs[g.sig]
		if !s.sizeOK(size) || !g.matchSegs(path, segs) || c.excluded(s, path, segs) {
			continue
		}
		need = true
		headBytes = max(headBytes, min(size, s.need(size)))
	}
	return need, headBytes
}

// Check judges a file from its path and content: the head Wants asked for, or the whole file
// (more than asked is fine; less makes content checks fail). Matches come in catalogue order;
// a fallback signature (the generic "*.key") is dropped when a specific one matched.
func (c *Catalogue) Check(path string, size int64, content []byte) []FileMatch {
	var buf [maxCandidates]int32
	var done [maxCandidates]int32
	seen := done[:0]
	var out []FileMatch
	var fallbacks []FileMatch
	var stack [maxPathSegments][2]int32
	segs := splitPath(path, stack[:0])
	for _, gid := range c.index.candidates(path, buf[:0]) {
		g := c.index.globs[gid]
		if containsInt32(seen, g.sig) {
			continue
		}
		s := c.sigs[g.sig]
		if !s.sizeOK(size) || !g.matchSegs(path, segs) || c.excluded(s, path, segs) {
			continue
		}
		seen = append(seen, g.sig)
		m, ok := s.judge(path, size, content)
		if !ok {
			continue
		}
		if s.fallback {
			fallbacks = append(fallbacks, m)
		} else {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		out = fallbacks
	}
	if len(out) > 1 {
		sortMatches(out, c)
	}
	return out
}

func containsInt32(list []int32, v int32) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// sortMatches orders matches by catalogue position (candidates come in index order).
func sortMatches(ms []FileMatch, c *Catalogue) {
	pos := func(id string) int {
		for i, s := range c.sigs {
			if s.id == id {
				return i
			}
		}
		return len(c.sigs)
	}
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && pos(ms[j].ID) < pos(ms[j-1].ID); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

func (c *Catalogue) excluded(s *signature, path string, segs [][2]int32) bool {
	for _, g := range s.exclude {
		if g.matchSegs(path, segs) {
			return true
		}
	}
	if s.globalExclude {
		for _, g := range c.exclude {
			if g.matchSegs(path, segs) {
				return true
			}
		}
	}
	return false
}

func (s *signature) sizeOK(size int64) bool {
	return size >= s.minSize && (s.maxSize == 0 || size <= s.maxSize)
}

// need is how many leading bytes the signature's checks look at (before capping by size).
func (s *signature) need(size int64) int64 {
	var n int64
	for _, m := range s.magic {
		n = max(n, m.at+int64(len(m.bytes)))
	}
	if s.re != nil || s.analyzer != nil {
		n = max(n, s.read)
	}
	return n
}

// judge runs the content checks in order of cost: magic, regex, analyzer.
func (s *signature) judge(path string, size int64, content []byte) (FileMatch, bool) {
	m := FileMatch{ID: s.id, Title: s.title, Category: s.category, Remediation: s.remediation, Severity: s.severity}
	if len(s.magic) > 0 {
		label, ok := s.matchMagic(content)
		if !ok {
			return m, false
		}
		if label != "" {
			m.Evidence = map[string]any{"format": label}
		}
	}
	view := content[:min(int64(len(content)), s.read)]
	if s.re != nil {
		locs := s.re.FindAllIndex(view, maxRegexEvidence)
		if len(locs) == 0 {
			return m, false
		}
		if m.Evidence == nil {
			m.Evidence = map[string]any{}
		}
		m.Evidence["matches"] = len(locs)
		m.Evidence["line"] = 1 + bytes.Count(view[:locs[0][0]], []byte{'\n'})
	}
	if s.analyzer != nil {
		a := analysis{path: path, size: size, content: view, severity: s.severity, evidence: m.Evidence}
		if !s.analyzer.fn(&a) {
			return m, false
		}
		if int64(len(view)) < size && !s.analyzer.head {
			a.set("truncated", true) // judged on the first s.read bytes of a larger file
		}
		m.Severity, m.Evidence = a.severity, a.evidence
	}
	return m, true
}

// maxRegexEvidence bounds the matches a regex signature counts.
const maxRegexEvidence = 1000

func (s *signature) matchMagic(content []byte) (string, bool) {
	for _, mg := range s.magic {
		end := mg.at + int64(len(mg.bytes))
		if end <= int64(len(content)) && bytes.Equal(content[mg.at:end], mg.bytes) {
			return mg.label, true
		}
	}
	return "", false
}
