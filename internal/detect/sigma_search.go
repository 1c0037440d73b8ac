package detect

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// sigmaSearch is one named search: keywords (any matches anywhere in the record), or field maps
// (each map is an AND of fields; a list of maps is an OR).
type sigmaSearch struct {
	name     string
	keywords []glob
	maps     [][]*fieldMatcher
}

// fieldMatcher tests one field of the record.
type fieldMatcher struct {
	field  string
	paths  []string // where to look, in order: mappings first, then the field as written
	values []valueMatcher
	all    bool // every value must match (|all); otherwise any
}

type matchKind int

const (
	mGlob matchKind = iota
	mNull
	mRegexp
	mCIDR
	mExists
	mNumber
	mFieldRef
)

type valueMatcher struct {
	kind   matchKind
	glob   glob
	re     *regexp.Regexp
	prefix netip.Prefix
	exists bool
	cmp    string // gt, gte, lt, lte
	num    float64
	ref    []string // mFieldRef: paths of the other field
}

// maxSigmaValues bounds the values of one field: real rules have dozens.
const maxSigmaValues = 4096

func compileSearch(name string, v any, cloud string, fieldMap map[string][]string) (*sigmaSearch, error) {
	s := &sigmaSearch{name: name}
	switch t := v.(type) {
	case map[string]any:
		m, err := compileFieldMap(t, cloud, fieldMap)
		if err != nil {
			return nil, err
		}
		s.maps = [][]*fieldMatcher{m}
	case []any:
		if len(t) == 0 {
			return nil, fmt.Errorf("empty list")
		}
		if len(t) > maxSigmaValues {
			return nil, fmt.Errorf("more than %d entries", maxSigmaValues)
		}
		for _, x := range t {
			switch xv := x.(type) {
			case map[string]any:
				m, err := compileFieldMap(xv, cloud, fieldMap)
				if err != nil {
					return nil, err
				}
				s.maps = append(s.maps, m)
			case string, int, float64, bool:
				s.keywords = append(s.keywords, compileGlob(scalarString(xv), "contains", false))
			default:
				return nil, fmt.Errorf("list entry of type %T", x)
			}
		}
		if len(s.maps) > 0 && len(s.keywords) > 0 {
			return nil, fmt.Errorf("mixes keywords and field maps")
		}
	case string, int, float64, bool:
		s.keywords = []glob{compileGlob(scalarString(t), "contains", false)}
	default:
		return nil, fmt.Errorf("value of type %T", v)
	}
	return s, nil
}

func compileFieldMap(m map[string]any, cloud string, fieldMap map[string][]string) ([]*fieldMatcher, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*fieldMatcher
	for _, k := range keys {
		fm, err := compileField(k, m[k], cloud, fieldMap)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out = append(out, fm)
	}
	return out, nil
}

func compileField(key string, v any, cloud string, fieldMap map[string][]string) (*fieldMatcher, error) {
	parts := strings.Split(key, "|")
	field, mods := parts[0], parts[1:]
	fm := &fieldMatcher{field: field, paths: fieldPaths(field, cloud, fieldMap)}
	if field == "" {
		return nil, fmt.Errorf("keyword field with modifiers is not supported")
	}
	op, cased, reFlags := "", false, ""
	var b64 string
	for _, mod := range mods {
		switch mod {
		case "contains", "startswith", "endswith":
			op = mod
		case "all":
			fm.all = true
		case "cased":
			cased = true
		case "re", "cidr", "exists", "gt", "gte", "lt", "lte", "fieldref":
			op = mod
		case "i", "m", "s":
			reFlags += mod
		case "base64", "base64offset":
			b64 = mod
		default:
			return nil, fmt.Errorf("modifier %q is not supported", mod)
		}
	}
	var vals []any
	switch t := v.(type) {
	case []any:
		vals = t
	default:
		vals = []any{t}
	}
	if len(vals) > maxSigmaValues {
		return nil, fmt.Errorf("more than %d values", maxSigmaValues)
	}
	for _, x := range vals {
		if x == nil {
			fm.values = append(fm.values, valueMatcher{kind: mNull})
			continue
		}
		switch x.(type) {
		case string, int, float64, bool:
		default:
			return nil, fmt.Errorf("value of type %T", x)
		}
		s := scalarString(x)
		var vm valueMatcher
		switch op {
		case "re":
			flags := ""
			if reFlags != "" {
				flags = "(?" + reFlags + ")"
			}
			re, err := regexp.Compile(flags + s)
			if err != nil {
				return nil, fmt.Errorf("regular expression: %w", err)
			}
			vm = valueMatcher{kind: mRegexp, re: re}
		case "cidr":
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, err
			}
			vm = valueMatcher{kind: mCIDR, prefix: p.Masked()}
		case "exists":
			vm = valueMatcher{kind: mExists, exists: s == "true"}
		case "gt", "gte", "lt", "lte":
			n, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("%s needs a number", op)
			}
			vm = valueMatcher{kind: mNumber, cmp: op, num: n}
		case "fieldref":
			vm = valueMatcher{kind: mFieldRef, ref: fieldPaths(s, cloud, fieldMap)}
		default:
			if b64 != "" {
				// The value is looked for in base64 form; offsets cover its three alignments.
				enc := base64Variants(s, b64 == "base64offset")
				for _, e := range enc {
					fm.values = append(fm.values, valueMatcher{kind: mGlob, glob: compileGlob(escapeGlob(e), orContains(op, b64), true)})
				}
				continue
			}
			vm = valueMatcher{kind: mGlob, glob: compileGlob(s, op, cased)}
		}
		fm.values = append(fm.values, vm)
	}
	if len(fm.values) == 0 {
		return nil, fmt.Errorf("no values")
	}
	return fm, nil
}

func orContains(op, b64 string) string {
	if b64 == "base64offset" {
		return "contains"
	}
	return op
}

func base64Variants(s string, offsets bool) []string {
	if !offsets {
		return []string{base64.StdEncoding.EncodeToString([]byte(s))}
	}
	// As Sigma defines base64offset: encode with 0, 1 and 2 leading bytes and keep the part
	// that does not depend on them.
	var out []string
	start := []int{0, 2, 3}
	end := []int{0, 3, 2}
	for i := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, i), s...))
		e := len(enc) - end[(len(s)+i)%3]
		if start[i] < e {
			out = append(out, enc[start[i]:e])
		}
	}
	return out
}

func scalarString(x any) string {
	switch t := x.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case int:
		return strconv.Itoa(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return fmt.Sprint(x)
}

// fieldPaths lists where a Sigma field may be in a raw record: user mappings, built-in ones,
// then the name itself. SigmaHQ GCP rules name fields the ECS way ("gcp.audit.method_name"); the
// raw LogEntry has them under protoPayload in camel case.
func fieldPaths(field, cloud string, fieldMap map[string][]string) []string {
	out := append([]string(nil), fieldMap[field]...)
	if rest, ok := strings.CutPrefix(field, "gcp.audit."); ok && cloud == "gcp" {
		out = append(out, "protoPayload."+camelPath(rest))
	}
	if cloud == "azure" {
		switch field {
		case "OperationNameValue":
			out = append(out, "operationName")
		case "ActivityStatusValue":
			out = append(out, "resultType", "status")
		case "ResourceProviderValue":
			out = append(out, "resourceProviderName")
		}
	}
	return append(out, field)
}

// camelPath turns "authentication_info.principal_email" into "authenticationInfo.principalEmail".
func camelPath(p string) string {
	var b strings.Builder
	up := false
	for _, r := range p {
		switch {
		case r == '_':
			up = true
		case up && 'a' <= r && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
			up = false
		default:
			b.WriteRune(r)
			up = false
		}
	}
	return b.String()
}
