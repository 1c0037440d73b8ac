package event

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// This file reads a record's top-level members straight from its bytes, skipping nested values
// without decoding them. It is the pre-filter: every record is walked once here to learn its
// kind, id, time and action; only records whose action can matter are fully decoded.

// eachMember calls fn with each top-level key (raw, escapes kept) and value (raw JSON) of the
// object in b, until fn returns false. It returns false if b is not a well-formed object at the
// top level (nested values are only checked for balance).
func eachMember(b []byte, fn func(key, val []byte) bool) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipWS(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		ke := stringEnd(b, i+1)
		if ke < 0 {
			return false
		}
		key := b[i+1 : ke-1]
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		vs := skipWS(b, i+1)
		ve := valueEnd(b, vs)
		if ve < 0 {
			return false
		}
		if !fn(key, b[vs:ve]) {
			return true
		}
		i = skipWS(b, ve)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return skipWS(b, i+1) == len(b)
		default:
			return false
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// stringEnd returns the index just past the closing quote of the string whose body starts at
// i, or -1.
func stringEnd(b []byte, i int) int {
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return -1
		}
		j += i
		// The quote is escaped if an odd number of backslashes precede it.
		n := 0
		for k := j - 1; k >= i && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		i = j + 1
	}
}

// valueEnd returns the index just past the value starting at i, or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i+1)
	case '{', '[':
		depth := 0
		for i < len(b) {
			c := b[i]
			i++
			if !structural[c] {
				continue
			}
			switch c {
			case '"':
				e := stringEnd(b, i)
				if e < 0 {
					return -1
				}
				i = e
			case '{', '[':
				depth++
			default:
				depth--
				if depth == 0 {
					return i
				}
			}
		}
		return -1
	case ',', '}', ']', ':':
		return -1
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\n', '\r', '\t':
				return j
			}
			j++
		}
		return j
	}
}

// strVal returns the decoded text of a JSON string value, and false if val is not a string
// (null included). Strings without escapes cost no allocation beyond the result.
func strVal(val []byte) (string, bool) {
	if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
		return "", false
	}
	body := val[1 : len(val)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body), true
	}
	return unescapeJSON(body), true
}

// rawStr is strVal without the copy: the unescaped bytes when the string has no escapes.
func rawStr(val []byte) ([]byte, bool) {
	if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
		return nil, false
	}
	body := val[1 : len(val)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return body, true
	}
	return []byte(unescapeJSON(body)), true
}

// unescapeJSON decodes a JSON string body leniently: bad escapes are kept as written.
func unescapeJSON(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			out = append(out, c)
			continue
		}
		i++
		switch b[i] {
		case '"', '\\', '/':
			out = append(out, b[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+4 < len(b) {
				if v, err := strconv.ParseUint(string(b[i+1:i+5]), 16, 32); err == nil {
					r := rune(v)
					i += 4
					// A surrogate pair spells one rune in two escapes.
					if r >= 0xD800 && r < 0xDC00 && i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
						if v2, err := strconv.ParseUint(string(b[i+3:i+7]), 16, 32); err == nil && v2 >= 0xDC00 && v2 < 0xE000 {
							r = (r-0xD800)<<10 + (rune(v2) - 0xDC00) + 0x10000
							i += 6
						}
					}
					out = utf8.AppendRune(out, r)
					continue
				}
			}
			out = append(out, '\\', 'u')
		default:
			out = append(out, '\\', b[i])
		}
	}
	return string(out)
}
