package detect

import (
	"bytes"
	"regexp"
	"strings"
)

// glob is a Sigma value: "*" is any run, "?" one character, "\" escapes them. Without "?", a
// pattern is a list of literal pieces found in order (no regexp); comparison folds case unless
// the rule said |cased.
type glob struct {
	pieces      []string // between stars; lower case unless cased
	anchorStart bool     // no leading star
	anchorEnd   bool     // no trailing star
	cased       bool
	re          *regexp.Regexp // set when the pattern has "?"
	pure        bool           // no wildcard at all: literal is the whole value
	literal     string
}

// escapeGlob protects a generated value (base64) from being read as a pattern.
func escapeGlob(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`)
	return r.Replace(s)
}

// compileGlob reads a value under a modifier: "contains" adds stars on both sides, "startswith"
// after, "endswith" before.
func compileGlob(v, op string, cased bool) glob {
	switch op {
	case "contains":
		v = "*" + v + "*"
	case "startswith":
		v += "*"
	case "endswith":
		v = "*" + v
	}
	g := glob{cased: cased}
	var cur strings.Builder
	var reb strings.Builder
	hasQ := false
	var pieces []string
	lead, trail := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v) && (v[i+1] == '*' || v[i+1] == '?' || v[i+1] == '\\'):
			i++
			cur.WriteByte(v[i])
			reb.WriteString(regexp.QuoteMeta(v[i : i+1]))
		case c == '*':
			if i == 0 {
				lead = true
			}
			if i == len(v)-1 {
				trail = true
			}
			pieces = append(pieces, cur.String())
			cur.Reset()
			reb.WriteString(".*")
		case c == '?':
			hasQ = true
			cur.WriteByte(c)
			reb.WriteString(".")
		default:
			cur.WriteByte(c)
			reb.WriteString(regexp.QuoteMeta(v[i : i+1]))
		}
	}
	pieces = append(pieces, cur.String())
	if hasQ {
		flags := "(?s)"
		if !cased {
			flags = "(?is)"
		}
		g.re = regexp.MustCompile(flags + "^" + reb.String() + "$")
		return g
	}
	g.anchorStart, g.anchorEnd = !lead, !trail
	for _, p := range pieces {
		if !cased {
			p = strings.ToLower(p)
		}
		if p != "" {
			g.pieces = append(g.pieces, p)
		}
	}
	g.pure = len(pieces) == 1
	if g.pure {
		g.literal = g.pieces0()
	}
	return g
}

func (g glob) pieces0() string {
	if len(g.pieces) == 0 {
		return ""
	}
	return g.pieces[0]
}

func (g glob) match(s string) bool {
	if g.re != nil {
		return g.re.MatchString(s)
	}
	if !g.cased {
		s = strings.ToLower(s)
	}
	if g.pure {
		return s == g.literal
	}
	if len(g.pieces) == 0 {
		return true // "*"
	}
	i := 0
	for n, p := range g.pieces {
		switch {
		case n == 0 && g.anchorStart:
			if !strings.HasPrefix(s, p) {
				return false
			}
			i = len(p)
		case n == len(g.pieces)-1 && g.anchorEnd:
			return len(s)-i >= len(p) && strings.HasSuffix(s, p)
		default:
			j := strings.Index(s[i:], p)
			if j < 0 {
				return false
			}
			i += j + len(p)
		}
	}
	return true
}

// matchFold tests an action name against the glob without allocating (ASCII case folding);
// used on every record of a cloud for action patterns like endswith "SetIamPolicy".
func (g glob) matchFold(s string) bool {
	if g.re != nil || g.cased {
		return g.match(s)
	}
	if g.pure {
		return strings.EqualFold(s, g.literal)
	}
	i := 0
	for n, p := range g.pieces {
		switch {
		case n == 0 && g.anchorStart:
			if len(s) < len(p) || !strings.EqualFold(s[:len(p)], p) {
				return false
			}
			i = len(p)
		case n == len(g.pieces)-1 && g.anchorEnd:
			return len(s)-i >= len(p) && strings.EqualFold(s[len(s)-len(p):], p)
		default:
			j := indexFold(s[i:], p)
			if j < 0 {
				return false
			}
			i += j + len(p)
		}
	}
	return true
}

// indexFold finds lower-case ASCII needle in s, folding s.
func indexFold(s, needle string) int {
	if len(needle) == 0 {
		return 0
	}
	for i := 0; i+len(needle) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(needle)], needle) {
			return i
		}
	}
	return -1
}

// containsFoldBytes reports whether hay holds the lower-case ASCII needle, folding ASCII case.
// It scans with IndexByte (memory speed) for the needle's rarest byte in JSON text, in both
// cases, and compares around each hit: anchoring on "t" of "trailnotfound" would stop at every
// "true" and "eventTime".
func containsFoldBytes(hay []byte, needle string) bool {
	if len(needle) == 0 {
		return true
	}
	k := rarestByte(needle)
	lo := needle[k]
	up := lo
	if 'a' <= lo && lo <= 'z' {
		up = lo - 'a' + 'A'
	}
	// Next hit of each case, searched again only once passed: a case absent from the record
	// costs one scan, not one per hit of the other.
	nextLo, nextUp := indexFrom(hay, k, lo), len(hay)
	if up != lo {
		nextUp = indexFrom(hay, k, up)
	}
	for {
		q := min(nextLo, nextUp)
		if q >= len(hay) {
			return false
		}
		if p := q - k; p+len(needle) <= len(hay) && equalFoldASCII(hay[p:p+len(needle)], needle) {
			return true
		}
		if q == nextLo {
			nextLo = indexFrom(hay, q+1, lo)
		}
		if q == nextUp {
			nextUp = indexFrom(hay, q+1, up)
		}
	}
}

// indexFrom is the index of c in hay at or after i, or len(hay).
func indexFrom(hay []byte, i int, c byte) int {
	if i >= len(hay) {
		return len(hay)
	}
	if j := bytes.IndexByte(hay[i:], c); j >= 0 {
		return i + j
	}
	return len(hay)
}

// byteRank orders bytes from rare to common in JSON audit records (lower ranks are rarer); a
// rough table is enough to pick an anchor.
var byteRank = func() (r [256]uint8) {
	for i := range r {
		r[i] = 100
	}
	common := `"e:,tars.inoc-lm1d0u2p_y3AISb` // roughly most to least common in CloudTrail JSON
	for i := 0; i < len(common); i++ {
		c := common[i]
		r[c] = uint8(200 - i)
		if 'A' <= c && c <= 'Z' {
			r[c+'a'-'A'] = uint8(200 - i)
		}
	}
	return r
}()

func rarestByte(s string) int {
	best := 0
	for i := 1; i < len(s); i++ {
		if byteRank[s[i]] < byteRank[s[best]] {
			best = i
		}
	}
	return best
}

func equalFoldASCII(b []byte, lower string) bool {
	for i := range len(lower) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
