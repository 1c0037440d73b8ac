package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// Ellipsis ends a redacted value.
const Ellipsis = "…"

// Redact returns the redacted form of a secret: its first characters and "…". It keeps at most
// 4 characters and never more than a quarter of the secret, so short secrets reveal less (the
// rule internal/secret applies); invalid UTF-8 bytes are kept as "?".
func Redact(s string) string {
	keep := min(4, utf8.RuneCountInString(s)/4)
	var b strings.Builder
	for i := 0; i < keep; i++ {
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size <= 1 {
			b.WriteByte('?')
		} else {
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	b.WriteString(Ellipsis)
	return b.String()
}

// redactedLen is the length of a redacted form in characters: 4 and "…".
const redactedLen = 5

// redactString is the defensive pass on one value under a sensitive key: a value longer than a
// redacted form is redacted; one no longer ("AKIA…", "all", "") is already harmless and kept.
func redactString(s string) string {
	if utf8.RuneCountInString(s) <= redactedLen {
		return s
	}
	return Redact(s)
}

// Words in an evidence key that mark its value as secret ("secret", "aws_secret_key",
// "matchedValue", "password"...).
var sensitiveWords = map[string]bool{
	"secret": true, "secrets": true, "match": true, "matched": true, "value": true, "values": true,
	"password": true, "passwd": true, "passphrase": true, "pwd": true, "pass": true,
	"token": true, "tokens": true, "credential": true, "credentials": true, "cred": true, "creds": true,
	"key": true, "apikey": true, "privatekey": true, "secretkey": true, "accesskey": true,
	"cookie": true, "authorization": true, "auth": true, "bearer": true, "session": true,
	"line": true, "snippet": true, "raw": true, "plaintext": true, "cleartext": true,
}

// Last words that describe a secret without containing it ("secret_sha256", "match_count",
// "key_id", "token_type"); a key ending in one is never redacted, even under a sensitive parent.
var describingWords = map[string]bool{
	"sha256": true, "sha1": true, "sha512": true, "md5": true, "hash": true, "digest": true,
	"fingerprint": true, "entropy": true, "len": true, "length": true, "size": true, "count": true,
	"id": true, "ids": true, "name": true, "names": true, "type": true, "kind": true, "rule": true,
	"redacted": true, "encrypted": true, "offset": true, "number": true, "no": true, "lines": true,
	"path": true, "file": true, "source": true, "algorithm": true, "format": true,
	"types": true, "kinds": true, "algorithms": true, "counts": true, "total": true, "present": true,
	"grantee": true, "grantees": true, "principal": true, "principals": true, "account": true, "accounts": true,
}

// keyWords splits an evidence key into lower-case words at punctuation and camelCase boundaries:
// "aws_secret_access_key" → aws secret access key; "matchedValue" → matched value.
func keyWords(k string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	var prev rune
	for _, r := range k {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)) {
				flush()
			}
			cur = append(cur, r)
		default:
			flush()
		}
		prev = r
	}
	flush()
	return words
}

// childSensitivity decides whether values under key k are redacted, given their parent's.
func childSensitivity(k string, parent bool) bool {
	words := keyWords(k)
	if len(words) == 0 {
		return parent
	}
	if describingWords[words[len(words)-1]] {
		return false
	}
	if parent {
		return true
	}
	for _, w := range words {
		if sensitiveWords[w] {
			return true
		}
	}
	// Compounds written as one word: "apikey", "clientsecret", "dbpassword".
	joined := strings.Join(words, "")
	for _, w := range []string{"secret", "password", "passwd", "token", "apikey", "privatekey"} {
		if strings.Contains(joined, w) {
			return true
		}
	}
	return false
}

// redactFinding returns f with its evidence cleaned: values made JSON-safe and, under sensitive
// keys, redacted. Other fields are shared with f, never modified.
func redactFinding(f finding.Finding) finding.Finding {
	if f.Evidence != nil {
		ev := make(finding.Evidence, len(f.Evidence))
		for k, v := range f.Evidence {
			ev[k] = cleanValue(v, childSensitivity(k, false), 0)
		}
		f.Evidence = ev
	}
	return f
}

// cleanStats makes stats JSON-safe (and redacts them like evidence: a stat has no business
// holding a secret either).
func cleanStats(stats map[string]any) map[string]any {
	out := make(map[string]any, len(stats))
	for k, v := range stats {
		out[k] = cleanValue(v, childSensitivity(k, false), 0)
	}
	return out
}

const maxDepth = 16

// cleanValue turns an evidence value into plain JSON data (nil, bool, string, numbers,
// []any, map[string]any) that every format can render and encoding/json can always marshal,
// redacting strings when sensitive. Numbers and booleans are never redacted.
func cleanValue(v any, sensitive bool, depth int) any {
	if depth > maxDepth {
		return "(nested too deeply)"
	}
	str := func(s string) any {
		if sensitive {
			return redactString(s)
		}
		return s
	}
	switch x := v.(type) {
	case nil, bool, json.Number,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return x
	case float64:
		return cleanFloat(x)
	case float32:
		return cleanFloat(float64(x))
	case string:
		return str(x)
	case []byte:
		return str(string(x))
	case time.Time:
		if x.Year() < 0 || x.Year() > 9999 {
			return str(x.String())
		}
		return str(x.Format(time.RFC3339Nano))
	case time.Duration:
		return x.String()
	case map[string]any:
		return cleanMap(x, sensitive, depth)
	case finding.Evidence:
		return cleanMap(x, sensitive, depth)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cleanValue(e, sensitive, depth+1)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = str(e)
		}
		return out
	}
	if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface) && rv.IsNil() {
		return nil
	}
	switch x := v.(type) {
	case error:
		return str(safeString(func() string { return x.Error() }, v))
	case fmt.Stringer:
		return str(safeString(x.String, v))
	}
	// Anything else (structs, typed maps and slices, pointers): through its JSON form, which
	// honours MarshalJSON and struct tags, then cleaned like the rest.
	b, err := safeMarshal(v)
	if err != nil {
		return str(fmt.Sprintf("(%T: %v)", v, err))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var decoded any
	if err := dec.Decode(&decoded); err != nil {
		return str(fmt.Sprintf("(%T)", v))
	}
	return cleanValue(decoded, sensitive, depth+1)
}

func cleanMap(m map[string]any, sensitive bool, depth int) map[string]any {
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = cleanValue(e, childSensitivity(k, sensitive), depth+1)
	}
	return out
}

// cleanFloat keeps finite numbers; NaN and infinities, which JSON cannot hold, become strings.
func cleanFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprint(f)
	}
	return f
}

// safeString calls a producer's String or Error method, which may panic (a nil receiver).
func safeString(fn func() string, v any) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("(%T)", v)
		}
	}()
	return fn()
}

func safeMarshal(v any) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("marshal panicked: %v", r)
		}
	}()
	return json.Marshal(v)
}
