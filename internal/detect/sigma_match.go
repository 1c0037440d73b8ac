package detect

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
)

// sigmaCtx evaluates one record: the parsed JSON and the raw text, with each search's result
// remembered.
type sigmaCtx struct {
	rule *sigmaRule
	doc  any
	raw  []byte
	memo []int8 // 0 unknown, 1 true, -1 false
}

func (c *sigmaCtx) search(i int) bool {
	if c.memo[i] != 0 {
		return c.memo[i] > 0
	}
	ok := c.rule.searches[i].eval(c)
	c.memo[i] = -1
	if ok {
		c.memo[i] = 1
	}
	return ok
}

func (s *sigmaSearch) eval(c *sigmaCtx) bool {
	if len(s.keywords) > 0 {
		// Keywords are full-text: searched in the raw record.
		text := string(c.raw)
		for _, k := range s.keywords {
			if k.match(text) {
				return true
			}
		}
		return false
	}
	for _, m := range s.maps {
		ok := true
		for _, fm := range m {
			if !fm.eval(c) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (fm *fieldMatcher) eval(c *sigmaCtx) bool {
	var vals []any
	for _, p := range fm.paths {
		if vals = resolve(c.doc, p, nil); len(vals) > 0 {
			break
		}
	}
	if fm.all {
		for _, vm := range fm.values {
			if !vm.matchAny(vals, c) {
				return false
			}
		}
		return true
	}
	for _, vm := range fm.values {
		if vm.matchAny(vals, c) {
			return true
		}
	}
	return false
}

func (vm *valueMatcher) matchAny(vals []any, c *sigmaCtx) bool {
	switch vm.kind {
	case mNull:
		for _, v := range vals {
			if v != nil {
				return false
			}
		}
		return true // absent, or present as null
	case mExists:
		present := false
		for _, v := range vals {
			present = present || v != nil
		}
		return present == vm.exists
	case mFieldRef:
		var other []any
		for _, p := range vm.ref {
			if other = resolve(c.doc, p, nil); len(other) > 0 {
				break
			}
		}
		for _, v := range vals {
			for _, o := range other {
				if v != nil && o != nil && strings.EqualFold(valueString(v), valueString(o)) {
					return true
				}
			}
		}
		return false
	}
	for _, v := range vals {
		if v == nil {
			continue
		}
		s := valueString(v)
		switch vm.kind {
		case mGlob:
			if vm.glob.match(s) {
				return true
			}
		case mRegexp:
			if vm.re.MatchString(s) {
				return true
			}
		case mCIDR:
			if a, err := netip.ParseAddr(s); err == nil && vm.prefix.Contains(a) {
				return true
			}
		case mNumber:
			if n, err := strconv.ParseFloat(s, 64); err == nil && compareNum(n, vm.cmp, vm.num) {
				return true
			}
		}
	}
	return false
}

func compareNum(a float64, op string, b float64) bool {
	switch op {
	case "gt":
		return a > b
	case "gte":
		return a >= b
	case "lt":
		return a < b
	}
	return a <= b
}

// valueString renders a JSON value for comparison: objects as their compact JSON, so that
// `responseElements|contains: Failure` looks inside an object as a text search would.
func valueString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// resolve finds the values at a dotted path. A key may itself contain dots (flattened exports),
// so each prefix is tried as a key; arrays are walked (any element may match); a {"value": …}
// object (Azure REST) also yields its value.
func resolve(v any, path string, out []any) []any {
	return resolveDepth(v, path, out, 0)
}

// maxResolveDepth bounds path walking: paths are a handful of segments.
const maxResolveDepth = 32

func resolveDepth(v any, path string, out []any, depth int) []any {
	if depth > maxResolveDepth {
		return out
	}
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			out = resolveDepth(x, path, out, depth+1)
		}
		return out
	case map[string]any:
		if x, ok := t[path]; ok {
			return leaf(x, out)
		}
		for i := 0; i < len(path); i++ {
			if path[i] != '.' {
				continue
			}
			if x, ok := t[path[:i]]; ok {
				out = resolveDepth(x, path[i+1:], out, depth+1)
			}
		}
		if len(out) == 0 {
			// Field names differ in case between log forms (operationName / OperationName).
			for k, x := range t {
				if strings.EqualFold(k, path) {
					return leaf(x, out)
				}
			}
		}
	}
	return out
}

func leaf(x any, out []any) []any {
	switch t := x.(type) {
	case []any:
		if len(t) == 0 {
			return append(out, nil)
		}
		for _, e := range t {
			out = leaf(e, out)
		}
		return out
	case map[string]any:
		out = append(out, t)
		if v, ok := t["value"].(string); ok {
			out = append(out, v)
		}
		return out
	}
	return append(out, x)
}
