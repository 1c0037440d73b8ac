package secret

import (
	"errors"
	"fmt"
	"strings"
)

// Globs of the sensitive-file catalogue are guest-absolute paths with "/" separators:
//
//	/etc/shadow            a literal path
//	/home/*/.ssh/id_*      * and ? match within one segment; [a-z], [!a-z] are classes
//	**/.aws/credentials    ** (a whole segment) matches zero or more segments
//	/etc/{shadow,gshadow}  braces expand at load time
//
// A signature glob may not end in "**" (say "**/*"), so that its last segment can index it.

type segKind uint8

const (
	segLiteral segKind = iota
	segPattern         // * ? [..] within one segment
	segAny             // **
)

type globSeg struct {
	kind segKind
	text string // lower-cased when the glob folds case
}

// glob is one compiled, brace-expanded pattern.
type glob struct {
	src    string
	segs   []globSeg
	fold   bool  // ASCII case-insensitive (Windows volumes)
	hasAny bool  // has a ** segment
	sig    int32 // owning signature; -1 for exclusions
}

const (
	maxBraceExpansions = 64
	maxGlobStars       = 2  // ** segments per glob: bounds backtracking
	maxPathSegments    = 64 // deeper paths are matched on a heap-allocated segment list
)

var metaChars = "*?[\\"

// compileGlobs expands braces and compiles every resulting pattern. forSignature rejects a
// trailing "**", which exclusions may use.
func compileGlobs(src string, fold, forSignature bool, sig int32) ([]*glob, error) {
	if src == "" {
		return nil, errors.New("empty glob")
	}
	if !strings.HasPrefix(src, "/") && !strings.HasPrefix(src, "**/") {
		return nil, fmt.Errorf("glob %q is not guest-absolute (start it with / or **/)", src)
	}
	expanded, err := expandBraces(src)
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", src, err)
	}
	var out []*glob
	for _, e := range expanded {
		g, err := compileGlob(e, fold, forSignature)
		if err != nil {
			return nil, fmt.Errorf("glob %q: %w", src, err)
		}
		g.src, g.sig = src, sig
		out = append(out, g)
	}
	return out, nil
}

func compileGlob(s string, fold, forSignature bool) (*glob, error) {
	g := &glob{fold: fold}
	stars := 0
	for _, part := range strings.Split(strings.TrimPrefix(s, "/"), "/") {
		switch {
		case part == "":
			return nil, errors.New("empty segment")
		case part == "." || part == "..":
			return nil, errors.New("'.' and '..' segments are not allowed")
		case part == "**":
			stars++
			if len(g.segs) > 0 && g.segs[len(g.segs)-1].kind == segAny {
				continue // **/** is **
			}
			g.segs = append(g.segs, globSeg{kind: segAny})
			continue
		case strings.Contains(part, "**"):
			return nil, errors.New("** must be a whole segment")
		}
		text := part
		if fold {
			text = lowerString(text)
		}
		if strings.ContainsAny(part, metaChars+"]") {
			if err := checkPattern(text); err != nil {
				return nil, err
			}
			g.segs = append(g.segs, globSeg{kind: segPattern, text: text})
		} else {
			g.segs = append(g.segs, globSeg{kind: segLiteral, text: text})
		}
	}
	g.hasAny = stars > 0
	if stars > maxGlobStars {
		return nil, fmt.Errorf("more than %d ** segments", maxGlobStars)
	}
	if forSignature && g.segs[len(g.segs)-1].kind == segAny {
		return nil, errors.New(`a signature glob may not end in "**" (write "**/*")`)
	}
	return g, nil
}

// expandBraces turns "a{b,c}d" into "abd", "acd", nesting allowed.
func expandBraces(s string) ([]string, error) {
	open := strings.IndexByte(s, '{')
	if open < 0 {
		if strings.IndexByte(s, '}') >= 0 {
			return nil, errors.New("unbalanced }")
		}
		return []string{s}, nil
	}
	depth, close := 0, -1
	var commas []int
	for i := open; i < len(s) && close < 0; i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				close = i
			}
		case ',':
			if depth == 1 {
				commas = append(commas, i)
			}
		}
	}
	if close < 0 {
		return nil, errors.New("unbalanced {")
	}
	var alts []string
	prev := open + 1
	for _, c := range commas {
		alts = append(alts, s[prev:c])
		prev = c + 1
	}
	alts = append(alts, s[prev:close])
	rest, err := expandBraces(s[close+1:])
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range alts {
		heads, err := expandBraces(s[:open] + a)
		if err != nil {
			return nil, err
		}
		for _, h := range heads {
			for _, r := range rest {
				out = append(out, h+r)
				if len(out) > maxBraceExpansions {
					return nil, fmt.Errorf("braces expand to more than %d globs", maxBraceExpansions)
				}
			}
		}
	}
	return out, nil
}

// checkPattern validates the classes and escapes of one segment pattern.
func checkPattern(p string) error {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 >= len(p) {
				return errors.New("trailing backslash")
			}
			i++
		case '[':
			end, ok := classEnd(p, i)
			if !ok {
				return errors.New("unterminated [ class")
			}
			i = end
		case ']':
			return errors.New("unbalanced ]")
		}
	}
	return nil
}

// classEnd returns the index of the ] closing the class that opens at p[i].
func classEnd(p string, i int) (int, bool) {
	j := i + 1
	if j < len(p) && (p[j] == '!' || p[j] == '^') {
		j++
	}
	if j < len(p) && p[j] == ']' { // a leading ] is a member
		j++
	}
	for ; j < len(p); j++ {
		if p[j] == ']' {
			return j, j > i+1
		}
	}
	return 0, false
}

// match reports whether the whole path matches. Paths are guest-absolute ("/etc/shadow");
// empty segments are ignored, so "etc/shadow" and "//etc/shadow" match too.
func (g *glob) match(path string) bool {
	var stack [maxPathSegments][2]int32
	return g.matchSegs(path, splitPath(path, stack[:0]))
}

// matchSegs is match with the path already split by splitPath.
func (g *glob) matchSegs(path string, segs [][2]int32) bool {
	// Cheap rejections first: the last segment, then the segment count when there is no **.
	if len(segs) == 0 {
		return false
	}
	if last := g.segs[len(g.segs)-1]; last.kind == segLiteral {
		s := path[segs[len(segs)-1][0]:segs[len(segs)-1][1]]
		if g.fold && !equalFold(s, last.text) || !g.fold && s != last.text {
			return false
		}
	}
	if !g.hasAny && len(segs) != len(g.segs) {
		return false
	}
	return g.matchFrom(path, segs, 0, 0)
}

// splitPath appends the [start, end) offsets of each non-empty segment of path.
func splitPath(path string, out [][2]int32) [][2]int32 {
	start := -1
	for i := 0; i <= len(path); i++ {
		if i == len(path) || path[i] == '/' {
			if start >= 0 {
				out = append(out, [2]int32{int32(start), int32(i)})
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}

func (g *glob) matchFrom(path string, segs [][2]int32, gi, pi int) bool {
	for gi < len(g.segs) {
		gs := g.segs[gi]
		if gs.kind == segAny {
			if gi == len(g.segs)-1 {
				return true // trailing ** takes the rest, including nothing
			}
			// The remaining globs segments after ** have a fixed minimum length: try each start.
			for k := pi; k <= len(segs); k++ {
				if g.matchFrom(path, segs, gi+1, k) {
					return true
				}
			}
			return false
		}
		if pi >= len(segs) {
			return false
		}
		s := path[segs[pi][0]:segs[pi][1]]
		if gs.kind == segLiteral {
			if g.fold {
				if !equalFold(s, gs.text) {
					return false
				}
			} else if s != gs.text {
				return false
			}
		} else if !matchSegment(gs.text, s, g.fold) {
			return false
		}
		gi++
		pi++
	}
	return pi == len(segs)
}

// matchSegment matches one path segment against a pattern of *, ?, [classes] and \ escapes.
// The pattern is lower-case when fold is set. Linear backtracking on the last *: O(len(p)·len(s)).
func matchSegment(p, s string, fold bool) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			c := s[si]
			if fold {
				c = lowerASCII(c)
			}
			switch p[pi] {
			case '*':
				starP, starS = pi, si
				pi++
				continue
			case '?':
				pi++
				si++
				continue
			case '[':
				end, _ := classEnd(p, pi)
				if matchClass(p[pi+1:end], c) {
					pi = end + 1
					si++
					continue
				}
			case '\\':
				if pi+1 < len(p) && p[pi+1] == c {
					pi += 2
					si++
					continue
				}
			default:
				if p[pi] == c {
					pi++
					si++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func matchClass(class string, c byte) bool {
	negate := false
	if len(class) > 0 && (class[0] == '!' || class[0] == '^') {
		negate, class = true, class[1:]
	}
	in := false
	for i := 0; i < len(class); i++ {
		lo := class[i]
		if i+2 < len(class) && class[i+1] == '-' {
			if lo <= c && c <= class[i+2] {
				in = true
			}
			i += 2
			continue
		}
		if lo == c {
			in = true
		}
	}
	return in != negate
}

// literalPrefix and literalSuffix return the meta-free ends of a segment pattern.
func literalPrefix(p string) string {
	if i := strings.IndexAny(p, metaChars); i >= 0 {
		return p[:i]
	}
	return p
}

func literalSuffix(p string) string {
	i := strings.LastIndexAny(p, metaChars+"]")
	return p[i+1:]
}

func lowerString(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerASCII(b[j])
			}
			return string(b)
		}
	}
	return s
}
