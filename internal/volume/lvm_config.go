package volume

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The LVM2 metadata text is written in lvm2's configuration language:
//
//	# comment
//	vg0 {                         section
//		extent_size = 8192        integer
//		id = "abc-def"            string ("\" and \\ escape)
//		status = ["READ", "WRITE"] array of scalars
//		logical_volumes { ... }   nested section
//	}
//
// The parser below reads that grammar into a tree, with bounds on nesting and on the number of
// items so that hostile text costs at most a bounded amount of memory.
const (
	// maxConfigDepth caps section nesting; lvm2 metadata nests five deep.
	maxConfigDepth = 32
	// maxConfigItems caps keys, sections and array elements together (each costs about 80
	// bytes): an LV takes 15 to 40, so this leaves room for several thousand LVs.
	maxConfigItems = 1 << 18
)

type configKind int

const (
	configSection configKind = iota
	configString
	configInt
	configFloat
	configArray
)

// configNode is a section, a key with a scalar or array value, or an array element (no key).
type configNode struct {
	key   string
	kind  configKind
	str   string // string value, or the text of a float
	num   int64
	items []configNode // members of a section, elements of an array
	line  int
}

// child returns the first member of a section with the given key, or nil.
func (n *configNode) child(key string) *configNode {
	for i := range n.items {
		if n.items[i].key == key {
			return &n.items[i]
		}
	}
	return nil
}

// section returns the member section with the given key, or nil.
func (n *configNode) section(key string) *configNode {
	if c := n.child(key); c != nil && c.kind == configSection {
		return c
	}
	return nil
}

// stringValue returns the string value of a member.
func (n *configNode) stringValue(key string) (string, bool) {
	if c := n.child(key); c != nil && c.kind == configString {
		return c.str, true
	}
	return "", false
}

// intValue returns the integer value of a member.
func (n *configNode) intValue(key string) (int64, bool) {
	if c := n.child(key); c != nil && c.kind == configInt {
		return c.num, true
	}
	return 0, false
}

// arrayValue returns the elements of an array member.
func (n *configNode) arrayValue(key string) ([]configNode, bool) {
	if c := n.child(key); c != nil && c.kind == configArray {
		return c.items, true
	}
	return nil, false
}

// parseConfig parses lvm2 configuration text. The text ends at its first NUL byte: lvm2 writes
// metadata NUL-terminated.
func parseConfig(src []byte) (*configNode, error) {
	if i := bytes.IndexByte(src, 0); i >= 0 {
		src = src[:i]
	}
	p := &configParser{src: src, line: 1}
	root := &configNode{kind: configSection, line: 1}
	if err := p.members(root, 0); err != nil {
		return nil, fmt.Errorf("LVM metadata line %d: %w", p.line, err)
	}
	return root, nil
}

type configParser struct {
	src   []byte
	pos   int
	line  int
	items int
}

// members reads the members of a section up to its closing brace (or the end, at depth 0).
// Recursion depth is bounded by maxConfigDepth.
func (p *configParser) members(sec *configNode, depth int) error {
	for {
		p.skipSpace()
		if p.pos == len(p.src) {
			if depth > 0 {
				return fmt.Errorf("section %q is not closed", sec.key)
			}
			return nil
		}
		if p.src[p.pos] == '}' {
			if depth == 0 {
				return errors.New("'}' without an open section")
			}
			p.pos++
			return nil
		}
		if err := p.count(); err != nil {
			return err
		}
		line := p.line
		key, err := p.identifier()
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.pos == len(p.src) {
			return fmt.Errorf("expected '=' or '{' after %q, found the end", key)
		}
		switch p.src[p.pos] {
		case '{':
			if depth+1 > maxConfigDepth {
				return fmt.Errorf("sections nest deeper than %d", maxConfigDepth)
			}
			p.pos++
			child := configNode{key: key, kind: configSection, line: line}
			if err := p.members(&child, depth+1); err != nil {
				return err
			}
			sec.items = append(sec.items, child)
		case '=':
			p.pos++
			v, err := p.value()
			if err != nil {
				return fmt.Errorf("value of %q: %w", key, err)
			}
			v.key, v.line = key, line
			sec.items = append(sec.items, v)
		default:
			return fmt.Errorf("expected '=' or '{' after %q, found %q", key, p.src[p.pos])
		}
	}
}

func (p *configParser) count() error {
	p.items++
	if p.items > maxConfigItems {
		return fmt.Errorf("more than %d items", maxConfigItems)
	}
	return nil
}

// value reads a scalar or an array of scalars.
func (p *configParser) value() (configNode, error) {
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '[' {
		p.pos++
		arr := configNode{kind: configArray}
		for {
			p.skipSpace()
			if p.pos < len(p.src) && p.src[p.pos] == ']' {
				p.pos++
				return arr, nil
			}
			if err := p.count(); err != nil {
				return arr, err
			}
			v, err := p.scalar()
			if err != nil {
				return arr, err
			}
			arr.items = append(arr.items, v)
			p.skipSpace()
			if p.pos == len(p.src) {
				return arr, errors.New("array is not closed")
			}
			switch p.src[p.pos] {
			case ',':
				p.pos++
			case ']':
			default:
				return arr, fmt.Errorf("expected ',' or ']' in array, found %q", p.src[p.pos])
			}
		}
	}
	return p.scalar()
}

// scalar reads a string or a number.
func (p *configParser) scalar() (configNode, error) {
	if p.pos == len(p.src) {
		return configNode{}, errors.New("expected a value, found the end")
	}
	c := p.src[p.pos]
	switch {
	case c == '"' || c == '\'':
		s, err := p.quoted(c)
		return configNode{kind: configString, str: s}, err
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return configNode{}, fmt.Errorf("expected a value, found %q", c)
}

// quoted reads a string in quotes; a backslash takes the next byte literally.
func (p *configParser) quoted(q byte) (string, error) {
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		p.pos++
		switch c {
		case q:
			return b.String(), nil
		case '\\':
			if p.pos == len(p.src) {
				return "", errors.New("string ends in a backslash")
			}
			c = p.src[p.pos]
			p.pos++
		}
		if c == '\n' {
			p.line++
		}
		b.WriteByte(c)
	}
	return "", errors.New("string is not closed")
}

// number reads an integer (int64) or a float (kept as text).
func (p *configParser) number() (configNode, error) {
	start := p.pos
	p.pos++
	float := false
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		if c == '.' || c == 'e' || c == 'E' || ((c == '-' || c == '+') && (p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E')) {
			float = true
			p.pos++
			continue
		}
		break
	}
	text := string(p.src[start:p.pos])
	if float {
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return configNode{}, fmt.Errorf("bad number %q", text)
		}
		return configNode{kind: configFloat, str: text}, nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return configNode{}, fmt.Errorf("integer %q is not a 64-bit number", text)
	}
	return configNode{kind: configInt, num: n}, nil
}

// identifier reads a key or section name: anything up to white space or punctuation.
func (p *configParser) identifier() (string, error) {
	start := p.pos
	for p.pos < len(p.src) && !isConfigDelimiter(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return "", fmt.Errorf("expected a name, found %q", p.src[p.pos])
	}
	return string(p.src[start:p.pos]), nil
}

func isConfigDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f', '=', '{', '}', '[', ']', ',', '"', '\'', '#':
		return true
	}
	return false
}

// skipSpace skips white space and '#' comments, counting lines.
func (p *configParser) skipSpace() {
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; c {
		case '\n':
			p.line++
			p.pos++
		case ' ', '\t', '\r', '\v', '\f':
			p.pos++
		case '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}
