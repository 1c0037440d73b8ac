package detect

import (
	"fmt"
	"path"
	"strings"
)

// condNode is a compiled Sigma condition.
type condNode interface {
	eval(c *sigmaCtx) bool
}

type (
	andNode   []condNode
	orNode    []condNode
	notNode   struct{ x condNode }
	identNode int // index of a search
)

func (n andNode) eval(c *sigmaCtx) bool {
	for _, x := range n {
		if !x.eval(c) {
			return false
		}
	}
	return true
}

func (n orNode) eval(c *sigmaCtx) bool {
	for _, x := range n {
		if x.eval(c) {
			return true
		}
	}
	return false
}

func (n notNode) eval(c *sigmaCtx) bool { return !n.x.eval(c) }

func (n identNode) eval(c *sigmaCtx) bool { return c.search(int(n)) }

// maxConditionTokens bounds a condition: real ones are a few dozen tokens.
const maxConditionTokens = 1024

// parseCondition reads the condition grammar: or / and / not, parentheses, search names, and
// "1 of X*", "all of X*", "1 of them", "all of them" ("them" leaves out names starting with "_",
// as pySigma does). An aggregation ("| count() > 5") is refused.
func parseCondition(s string, names map[string]int) (condNode, error) {
	if strings.Contains(s, "|") {
		return nil, fmt.Errorf("aggregations are not supported")
	}
	toks := tokenize(s)
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty")
	}
	if len(toks) > maxConditionTokens {
		return nil, fmt.Errorf("more than %d tokens", maxConditionTokens)
	}
	p := &condParser{toks: toks, names: names}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.i])
	}
	return n, nil
}

func tokenize(s string) []string {
	var out []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch r {
		case '(', ')':
			flush()
			out = append(out, string(r))
		case ' ', '\t', '\n', '\r':
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

type condParser struct {
	toks  []string
	i     int
	names map[string]int
}

// maxConditionDepth bounds nesting so a hostile rule cannot exhaust the stack.
const maxConditionDepth = 64

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return strings.ToLower(p.toks[p.i])
	}
	return ""
}

func (p *condParser) or(depth int) (condNode, error) {
	var parts orNode
	for {
		n, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
		if p.peek() != "or" {
			break
		}
		p.i++
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return parts, nil
}

func (p *condParser) and(depth int) (condNode, error) {
	var parts andNode
	for {
		n, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
		if p.peek() != "and" {
			break
		}
		p.i++
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return parts, nil
}

func (p *condParser) unary(depth int) (condNode, error) {
	if depth > maxConditionDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxConditionDepth)
	}
	switch t := p.peek(); t {
	case "":
		return nil, fmt.Errorf("unexpected end")
	case "not":
		p.i++
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case "(":
		p.i++
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.i++
		return x, nil
	case "1", "any", "all":
		if p.i+2 < len(p.toks) && strings.EqualFold(p.toks[p.i+1], "of") {
			all := t == "all"
			pat := p.toks[p.i+2]
			p.i += 3
			return p.quantifier(all, pat)
		}
	case "and", "or", ")", "of":
		return nil, fmt.Errorf("unexpected %q", p.toks[p.i])
	}
	name := p.toks[p.i]
	p.i++
	idx, ok := p.names[name]
	if !ok {
		return nil, fmt.Errorf("unknown search %q", name)
	}
	return identNode(idx), nil
}

func (p *condParser) quantifier(all bool, pat string) (condNode, error) {
	var parts []condNode
	for name, idx := range p.names {
		var ok bool
		if strings.EqualFold(pat, "them") {
			ok = !strings.HasPrefix(name, "_")
		} else {
			ok, _ = path.Match(pat, name)
		}
		if ok {
			parts = append(parts, identNode(idx))
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("%q matches no search", pat)
	}
	sortIdents(parts)
	if all {
		return andNode(parts), nil
	}
	return orNode(parts), nil
}

// sortIdents orders searches by index so evaluation order (and so cost) does not depend on map
// iteration.
func sortIdents(ns []condNode) {
	for i := 1; i < len(ns); i++ {
		for j := i; j > 0 && ns[j].(identNode) < ns[j-1].(identNode); j-- {
			ns[j], ns[j-1] = ns[j-1], ns[j]
		}
	}
}
