package secret

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// What the scanner learns from a rule's regex at load time: how long a match can be (the search
// window), whether every match starts with one of its keywords (so it can be pinned to the hit),
// and what it asserts before its first byte.

// searchWindow is how far from a keyword hit a match of re can reach: its maximum length, so
// searching that far either side finds every match that contains the keyword.
func searchWindow(re *regexp.Regexp) int {
	parsed, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return unboundedWindow
	}
	n, bounded := maxMatchLen(parsed)
	if !bounded {
		return unboundedWindow
	}
	return min(max(n, 16), maxWindow)
}

// maxMatchLen bounds the bytes a match of re can span; false means unbounded.
func maxMatchLen(re *syntax.Regexp) (int, bool) {
	const huge = 1 << 30
	clamp := func(n int) int { return min(n, huge) }
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpNoMatch:
		return 0, true
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				n += utf8.UTFMax // (?i)k also matches the 3-byte KELVIN SIGN
			} else {
				n += utf8.RuneLen(r)
			}
		}
		return n, true
	case syntax.OpCharClass:
		top := rune(0)
		for i := 1; i < len(re.Rune); i += 2 {
			top = max(top, re.Rune[i])
		}
		if l := utf8.RuneLen(min(top, utf8.MaxRune)); l > 0 {
			return l, true
		}
		return utf8.UTFMax, true
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return utf8.UTFMax, true
	case syntax.OpCapture, syntax.OpQuest:
		return maxMatchLen(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		if n, _ := maxMatchLen(re.Sub[0]); n == 0 {
			return 0, true
		}
		return 0, false
	case syntax.OpRepeat:
		n, ok := maxMatchLen(re.Sub[0])
		if !ok || (re.Max < 0 && n > 0) {
			return 0, false
		}
		return clamp(n * max(re.Max, 0)), true
	case syntax.OpConcat:
		total := 0
		for _, s := range re.Sub {
			n, ok := maxMatchLen(s)
			if !ok {
				return 0, false
			}
			total = clamp(total + n)
		}
		return total, true
	case syntax.OpAlternate:
		best := 0
		for _, s := range re.Sub {
			n, ok := maxMatchLen(s)
			if !ok {
				return 0, false
			}
			best = max(best, n)
		}
		return best, true
	}
	return 0, false
}

// startsWithKeyword reports whether every match of re begins with one of keywords, so that a
// match can be searched for from the keyword hit onwards. It expands the literal strings every
// match starts with (through alternations, small character classes and case folding) and
// requires each to start with a keyword.
func startsWithKeyword(re *regexp.Regexp, keywords []string) bool {
	if len(keywords) == 0 {
		return false
	}
	parsed, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return false
	}
	prefixes, _ := literalPrefixes(parsed, 64)
	if len(prefixes) == 0 {
		return false
	}
	for _, p := range prefixes {
		p = strings.ToLower(p)
		ok := false
		for _, k := range keywords {
			if strings.HasPrefix(p, k) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// assertion is an empty-width condition a regex places before its first byte.
type assertion int

const (
	assertNone assertion = iota
	assertWordBoundary
	assertLineStart
	assertTextStart
)

// leadingAssertion finds the \b, (?m)^ or ^ a regex starts with: pinned to a keyword hit, the
// regex no longer sees the byte before it, so the scanner checks that byte itself.
func leadingAssertion(re *regexp.Regexp) assertion {
	parsed, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return assertNone
	}
	for {
		switch parsed.Op {
		case syntax.OpCapture:
			parsed = parsed.Sub[0]
			continue
		case syntax.OpConcat:
			if len(parsed.Sub) == 0 {
				return assertNone
			}
			parsed = parsed.Sub[0]
			continue
		case syntax.OpWordBoundary:
			return assertWordBoundary
		case syntax.OpBeginLine:
			return assertLineStart
		case syntax.OpBeginText:
			return assertTextStart
		}
		return assertNone
	}
}

// literalPrefixes returns strings one of which starts every match of re (nil if unknown), and
// whether they are the whole matches. limit bounds the expansion.
func literalPrefixes(re *syntax.Regexp, limit int) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) >= 8 {
					return nil, false
				}
				out = append(out, string(r))
			}
		}
		return out, true
	case syntax.OpCapture:
		return literalPrefixes(re.Sub[0], limit)
	case syntax.OpQuest:
		p, complete := literalPrefixes(re.Sub[0], limit)
		if p == nil || !complete {
			return nil, false
		}
		return append([]string{""}, p...), true
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpBeginLine, syntax.OpWordBoundary:
		return []string{""}, true
	case syntax.OpAlternate:
		var out []string
		complete := true
		for _, sub := range re.Sub {
			p, c := literalPrefixes(sub, limit)
			if p == nil {
				return nil, false
			}
			complete = complete && c
			out = append(out, p...)
			if len(out) > limit {
				return nil, false
			}
		}
		return out, complete
	case syntax.OpConcat:
		acc := []string{""}
		for _, sub := range re.Sub {
			p, complete := literalPrefixes(sub, limit)
			if p == nil {
				return acc, false
			}
			var next []string
			for _, a := range acc {
				for _, b := range p {
					next = append(next, a+b)
				}
			}
			if len(next) > limit {
				return acc, false
			}
			acc = next
			if !complete {
				return acc, false
			}
		}
		return acc, true
	}
	return nil, false
}
