package secret

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
)

// pathSet is a list of path regexes, any of which may match. Allow-lists are checked for every
// file and chunk of a disk (hundreds of thousands of paths), and one alternation of all of them
// runs Go's slowest engine (NFA) over every path — a third of a scan's CPU. Instead each pattern
// keeps a literal that every match must contain, and a path that lacks it is never handed to the
// regex engine; the patterns left are small enough for the fast engines.
type pathSet struct {
	pats    []pathPattern
	hasDirs bool // some pattern is a directory pattern
	// dirs memoises, per directory, whether a directory pattern matches it: most files of a
	// disk share their directory with many others, and most patterns name directories.
	dirMu sync.Mutex
	dirs  map[string]bool
}

// maxDirMemo bounds the directory memo; it is emptied when full.
const maxDirMemo = 1 << 16

type pathPattern struct {
	re *regexp.Regexp
	// dir is true when every match of the pattern ends with "/" ("(?:^|/)node_modules/"): a
	// file name holds no "/", so the pattern matches a path exactly when it matches the path's
	// directory with its trailing slash, and the answer holds for the whole directory.
	dir bool
	// any lists substrings one of which every match contains (lower-cased when fold); empty
	// when none could be derived, and the regex then runs on every path.
	any  []string
	fold bool
}

// compilePathSet compiles each pattern; an error names the culprit.
func compilePathSet(patterns []string) (*pathSet, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	ps := &pathSet{}
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, err
		}
		pat := pathPattern{re: re}
		if parsed, err := syntax.Parse(p, syntax.Perl); err == nil {
			simple := parsed.Simplify()
			pat.any, pat.fold = requiredAny(simple)
			pat.dir = endsInSlash(simple)
			ps.hasDirs = ps.hasDirs || pat.dir
		}
		ps.pats = append(ps.pats, pat)
	}
	return ps, nil
}

// MatchString reports whether any pattern matches path.
func (ps *pathSet) MatchString(path string) bool {
	lower := ""
	dir := ""
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir = path[:i+1]
	}
	if dir != "" && ps.hasDirs {
		if ps.dirMatch(dir) {
			return true
		}
	}
	for i := range ps.pats {
		p := &ps.pats[i]
		if p.dir && dir != "" {
			continue // judged on the directory above
		}
		if p.match(path, &lower) {
			return true
		}
	}
	return false
}

// dirMatch reports whether a directory pattern matches dir (which ends with "/"), memoised.
func (ps *pathSet) dirMatch(dir string) bool {
	ps.dirMu.Lock()
	m, ok := ps.dirs[dir]
	ps.dirMu.Unlock()
	if ok {
		return m
	}
	lower := ""
	for i := range ps.pats {
		if p := &ps.pats[i]; p.dir && p.match(dir, &lower) {
			m = true
			break
		}
	}
	ps.dirMu.Lock()
	if ps.dirs == nil || len(ps.dirs) >= maxDirMemo {
		ps.dirs = map[string]bool{}
	}
	ps.dirs[dir] = m
	ps.dirMu.Unlock()
	return m
}

// match runs one pattern, behind its literal prefilter; lower caches the lower-cased input.
func (p *pathPattern) match(in string, lower *string) bool {
	if len(p.any) > 0 {
		probe := in
		if p.fold {
			if *lower == "" {
				*lower = strings.ToLower(in)
			}
			probe = *lower
		}
		if !containsAnyString(probe, p.any) {
			return false
		}
	}
	return p.re.MatchString(in)
}

// endsInSlash reports whether every match of re ends with "/": its last element is a literal
// ending in "/", and nothing (an end anchor, a repetition) can come after or replace it.
func endsInSlash(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) > 0 && re.Rune[len(re.Rune)-1] == '/'
	case syntax.OpCapture:
		return endsInSlash(re.Sub[0])
	case syntax.OpConcat:
		return len(re.Sub) > 0 && endsInSlash(re.Sub[len(re.Sub)-1])
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !endsInSlash(sub) {
				return false
			}
		}
		return len(re.Sub) > 0
	}
	return false
}

func containsAnyString(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// requiredAny returns literals one of which every match of re contains, and whether they must be
// compared case-insensitively (then they are lower-cased); nil if it cannot tell.
func requiredAny(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		fold := re.Flags&syntax.FoldCase != 0
		lit := string(re.Rune)
		if fold {
			lit = strings.ToLower(lit)
		}
		return []string{lit}, fold
	case syntax.OpCapture, syntax.OpPlus:
		return requiredAny(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredAny(re.Sub[0])
		}
	case syntax.OpConcat:
		// The sub-expression whose shortest literal is longest filters best.
		var best []string
		var bestFold bool
		for _, sub := range re.Sub {
			if lits, fold := requiredAny(sub); shortest(lits) > shortest(best) {
				best, bestFold = lits, fold
			}
		}
		return best, bestFold
	case syntax.OpAlternate:
		var all []string
		fold := false
		for _, sub := range re.Sub {
			lits, f := requiredAny(sub)
			if len(lits) == 0 {
				return nil, false
			}
			all = append(all, lits...)
			fold = fold || f
		}
		if fold { // one folding alternative makes the whole set compare folded
			for i := range all {
				all[i] = strings.ToLower(all[i])
			}
		}
		return all, fold
	}
	return nil, false
}

func shortest(lits []string) int {
	if len(lits) == 0 {
		return 0
	}
	n := len(lits[0])
	for _, l := range lits[1:] {
		n = min(n, len(l))
	}
	return n
}
