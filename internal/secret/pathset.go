package secret

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// pathSet is a list of path regexes, any of which may match. Allow-lists are checked for every
// file and chunk of a disk (hundreds of thousands of paths), and one alternation of all of them
// runs Go's slowest engine (NFA) over every path — a third of a scan's CPU. Instead each pattern
// keeps a literal that every match must contain, and a path that lacks it is never handed to the
// regex engine; the patterns left are small enough for the fast engines.
type pathSet struct {
	pats []pathPattern
}

type pathPattern struct {
	re *regexp.Regexp
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
			pat.any, pat.fold = requiredAny(parsed.Simplify())
		}
		ps.pats = append(ps.pats, pat)
	}
	return ps, nil
}

// MatchString reports whether any pattern matches path.
func (ps *pathSet) MatchString(path string) bool {
	lower := ""
	for _, p := range ps.pats {
		if len(p.any) > 0 {
			in := path
			if p.fold {
				if lower == "" {
					lower = strings.ToLower(path)
				}
				in = lower
			}
			if !containsAnyString(in, p.any) {
				continue
			}
		}
		if p.re.MatchString(path) {
			return true
		}
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
