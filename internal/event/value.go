package event

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Request parameters and bodies vary by API version, by SDK and by whoever re-serialised them
// (keys spelled group/groups, lists or single objects, strings holding JSON), so they are read
// as generic values with the tolerant accessors below rather than into strict structs.

// v2opts make json/v2 as lenient as real logs need: member names matched case-insensitively
// (requestbody / requestBody, callerIp / callerIP), duplicate names and invalid UTF-8 accepted.
var v2opts = jsonv2.JoinOptions(
	jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
)

// unmarshal is the one full decoder of the package. It is github.com/go-json-experiment/json
// (json/v2, standard from Go 1.27), 2.6 times faster than encoding/json into the CloudTrail
// struct here (docs/design/event.md). A member of an unexpected type fails the whole v2 decode,
// where encoding/json skips that member and fills the rest; such records are decoded again by
// encoding/json so that one odd member does not lose the record.
func unmarshal(b []byte, v any) error {
	err := jsonv2.Unmarshal(b, v, v2opts)
	if err == nil {
		return nil
	}
	var se *jsonv2.SemanticError
	if !errors.As(err, &se) {
		return err
	}
	return json.Unmarshal(b, v)
}

// decodeAny decodes raw JSON into a generic value; nil on error or empty input.
func decodeAny(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

// get walks maps by key. A key is matched exactly first, then ASCII case-insensitively, because
// the same member arrives as requestBody or requestbody, callerIp or callerIP.
func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		next, ok := m[k]
		if !ok {
			for mk, mv := range m {
				if strings.EqualFold(mk, k) {
					next, ok = mv, true
					break
				}
			}
		}
		if !ok {
			return nil
		}
		v = next
	}
	return v
}

// str renders a scalar as a string: numbers as written, booleans as true/false, else "".
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	}
	return ""
}

// gets is str(get(...)).
func gets(v any, path ...string) string { return str(get(v, path...)) }

// list returns v as a list: an array as is, nil as nil, any other value as a one-element list
// (the API said "list" and the log wrote a single item).
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// obj returns v as a map, decoding it first when it is a string holding a JSON object (Azure
// request bodies, KMS key policies).
func obj(v any) map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return x
	case string:
		s := strings.TrimSpace(x)
		if strings.HasPrefix(s, "{") {
			if m, ok := decodeAny([]byte(s)).(map[string]any); ok {
				return m
			}
		}
	}
	return nil
}

// parseTime reads the timestamps audit logs write: RFC 3339 with or without fractions. The
// common CloudTrail form (no fraction, Z) takes a fast path.
func parseTime(s string) (time.Time, bool) {
	if len(s) == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == 'Z' {
		y, ok1 := atoi(s[0:4])
		mo, ok2 := atoi(s[5:7])
		d, ok3 := atoi(s[8:10])
		h, ok4 := atoi(s[11:13])
		mi, ok5 := atoi(s[14:16])
		se, ok6 := atoi(s[17:19])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && se < 61 {
			return time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC), true
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// Azure writes up to 7 fractional digits and sometimes no zone.
		t, err = time.Parse("2006-01-02T15:04:05.9999999", s)
		if err != nil {
			return time.Time{}, false
		}
	}
	return t.UTC(), true
}

func atoi(s string) (int, bool) {
	n := 0
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// setFact sets a fact when the value is not empty.
func setFact(ev *Event, k, v string) {
	if v == "" {
		return
	}
	if ev.Facts == nil {
		ev.Facts = make(map[string]string)
	}
	ev.Facts[k] = v
}

// addGrant appends a grant unless an identical one is already there.
func addGrant(ev *Event, g Grant) {
	if g.Value == "" {
		return
	}
	for _, h := range ev.Grants {
		if h == g {
			return
		}
	}
	ev.Grants = append(ev.Grants, g)
}

// lastSegment returns what follows the last sep in s.
func lastSegment(s string, sep byte) string {
	if i := strings.LastIndexByte(s, sep); i >= 0 {
		return s[i+1:]
	}
	return s
}
