package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/snapwatch/snapwatch/internal/bytesize"
	"github.com/snapwatch/snapwatch/internal/finding"
)

// Helpers shared by the human-oriented formats (table, CSV, HTML).

// termEscape makes an attacker-controlled string safe to print on a terminal: C0 and C1 control
// characters (ESC, CR, LF, BEL...), DEL, the Unicode line and paragraph separators and the
// bidirectional overrides that can reorder what a reader sees are written as Go-style escapes
// (\n, \x1b, \u202e); invalid UTF-8 bytes as \xNN. Printable text, including non-ASCII, is kept.
func termEscape(s string) string {
	if !needsTermEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// textEscape is termEscape for multi-line text (descriptions, remediation): line feeds and tabs
// stay, everything else termEscape escapes is escaped.
func textEscape(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		parts := strings.Split(l, "\t")
		for j, p := range parts {
			parts[j] = termEscape(p)
		}
		lines[i] = strings.Join(parts, "\t")
	}
	return strings.Join(lines, "\n")
}

func needsTermEscape(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r < 0x20 || r == 0x7f || unsafeRune(r) {
			return true
		}
		i += size
	}
	return false
}

// unsafeRune reports non-ASCII runes a terminal must not receive raw: C1 controls, line and
// paragraph separators, bidirectional controls (Trojan Source), and other invisible format
// characters except the zero-width joiner emoji need.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r < 0xa0:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	case r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
		return true
	case r == 0x200d: // zero-width joiner: part of emoji sequences
		return false
	case r == 0xfeff || r == 0xfffe || r == 0xffff:
		return true
	}
	return unicode.Is(unicode.Cf, r) && r > 0xff
}

// runeWidth is the number of terminal columns r takes: 0 for combining marks and invisible
// format characters, 2 for East Asian wide and fullwidth characters and most emoji, else 1.
func runeWidth(r rune) int {
	switch {
	case r == 0:
		return 0
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case r >= 0x1100 && (r <= 0x115f || r == 0x2329 || r == 0x232a ||
		(r >= 0x2e80 && r <= 0xa4cf && r != 0x303f) ||
		(r >= 0xac00 && r <= 0xd7a3) ||
		(r >= 0xf900 && r <= 0xfaff) ||
		(r >= 0xfe30 && r <= 0xfe6f) ||
		(r >= 0xff00 && r <= 0xff60) ||
		(r >= 0xffe0 && r <= 0xffe6) ||
		(r >= 0x1f300 && r <= 0x1f64f) ||
		(r >= 0x1f900 && r <= 0x1f9ff) ||
		(r >= 0x20000 && r <= 0x3fffd)):
		return 2
	}
	return 1
}

// displayWidth is the width of an escaped (control-free) string in terminal columns.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// truncate shortens s to at most w columns, ending it with "…" when it cut.
func truncate(s string, w int) string {
	if displayWidth(s) <= w {
		return s
	}
	if w <= 0 {
		return ""
	}
	n := 0
	for i, r := range s {
		rw := runeWidth(r)
		if n+rw > w-1 {
			return s[:i] + Ellipsis
		}
		n += rw
	}
	return s
}

// truncateMiddle shortens s to at most w columns by cutting its middle, which keeps both the
// start and the end of a path ("p2:/home/…/.ssh/id_rsa").
func truncateMiddle(s string, w int) string {
	if displayWidth(s) <= w {
		return s
	}
	if w < 8 {
		return truncate(s, w)
	}
	tail := (w - 1) / 2
	head := w - 1 - tail
	rs := []rune(s)
	// Take runes from the end until the tail budget is used.
	end, n := len(rs), 0
	for end > 0 && n+runeWidth(rs[end-1]) <= tail {
		end--
		n += runeWidth(rs[end])
	}
	return headOf(rs[:end], head) + Ellipsis + string(rs[end:])
}

// headOf returns the longest prefix of rs that fits in w columns.
func headOf(rs []rune, w int) string {
	n := 0
	for i, r := range rs {
		if n+runeWidth(r) > w {
			return string(rs[:i])
		}
		n += runeWidth(r)
	}
	return string(rs)
}

// padRight pads s with spaces to w columns.
func padRight(s string, w int) string {
	if d := w - displayWidth(s); d > 0 {
		return s + strings.Repeat(" ", d)
	}
	return s
}

// resourceLabel names a resource in one line: "ebs-snapshot snap-1 (123456789012 us-east-1)".
func resourceLabel(r finding.Resource) string {
	s := r.ID
	if r.Type != "" {
		s = r.Type + " " + s
	}
	var where []string
	for _, p := range []string{r.Account, r.Region} {
		if p != "" {
			where = append(where, p)
		}
	}
	if len(where) > 0 {
		s += " (" + strings.Join(where, " ") + ")"
	}
	return strings.TrimSpace(s)
}

// locationLabel writes a location as volume:path:line, leaving out what is unknown, and marks
// deleted entries.
// whereLabel places a finding for the table's LOCATION column: inside the disk for content
// findings, the account and region for cloud resources (an organisation's audit lists the same
// guard or snapshot id in many of them).
func whereLabel(f *finding.Finding) string {
	if f.Location != nil {
		return locationLabel(f.Location)
	}
	return strings.TrimSpace(f.Resource.Account + " " + f.Resource.Region)
}

func locationLabel(l *finding.Location) string {
	if l == nil {
		return ""
	}
	var parts []string
	if l.Volume != "" {
		parts = append(parts, l.Volume)
	}
	if l.Path != "" {
		parts = append(parts, l.Path)
	} else if l.Offset != 0 {
		parts = append(parts, "@"+strconv.FormatInt(l.Offset, 10))
	}
	if l.Line > 0 {
		parts = append(parts, strconv.Itoa(l.Line))
	}
	s := strings.Join(parts, ":")
	if l.Deleted {
		s += " (deleted)"
	}
	return s
}

// valueString renders a cleaned evidence or stats value: strings as they are, the rest as
// compact JSON.
func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// looksLikeDigest keeps counters such as "accounts_with_hash": 2 out of the hash column.
func looksLikeDigest(v string) bool {
	if len(v) < 16 {
		return false
	}
	for _, c := range v {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

func isHashKey(k string) bool {
	w := keyWords(k)
	return len(w) > 0 && (w[len(w)-1] == "sha256" || w[len(w)-1] == "hash" || w[len(w)-1] == "digest")
}

// evidenceSummary renders cleaned evidence in one line. short (the table) puts the redacted
// secret first, then its sha256 prefix, then the rest; long (CSV) lists every key in order with
// full values.
func evidenceSummary(ev finding.Evidence, short bool) string {
	if len(ev) == 0 {
		return ""
	}
	keys := make([]string, 0, len(ev))
	for k := range ev {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !short {
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + valueString(ev[k])
		}
		return strings.Join(parts, "; ")
	}
	var secrets, hashes, rest []string
	for _, k := range keys {
		v := valueString(ev[k])
		switch {
		case isHashKey(k) && looksLikeDigest(v):
			if len(v) > 12 {
				v = v[:12]
			}
			hashes = append(hashes, "sha256:"+v)
		case childSensitivity(k, false):
			secrets = append(secrets, v)
		default:
			rest = append(rest, k+"="+v)
		}
	}
	return strings.Join(slices.Concat(secrets, hashes, rest), " ")
}

// statEntry is one flattened stats counter.
type statEntry struct{ Key, Value string }

// flattenStats lists stats sorted by key, nested maps as "skipped.binary".
func flattenStats(stats map[string]any) []statEntry {
	var out []statEntry
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			key := prefix + k
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				walk(key+".", sub)
				continue
			}
			out = append(out, statEntry{key, formatStat(key, v)})
		}
	}
	walk("", stats)
	// Top-level counters first: a one-line summary is cut at the terminal's width, and the
	// nested breakdowns (calls by action, content stage) matter less than the totals.
	slices.SortFunc(out, func(a, b statEntry) int {
		return cmp.Or(cmp.Compare(strings.Count(a.Key, "."), strings.Count(b.Key, ".")), strings.Compare(a.Key, b.Key))
	})
	return out
}

// formatStat renders a counter; byte counts (a key word "bytes") get a binary unit too.
func formatStat(key string, v any) string {
	if slices.Contains(keyWords(key), "bytes") {
		if n, ok := asInt(v); ok && n >= 1024 {
			return humanBytes(n)
		}
	}
	return valueString(v)
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(min(x, 1<<62)), true
	case float64:
		return int64(x), x >= 0 && x < 1<<62
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// humanBytes is a byte count with its unit and, from a KiB up, the exact count beside it.
func humanBytes(n int64) string {
	if n < 1024 {
		return bytesize.Format(n)
	}
	return fmt.Sprintf("%s (%d)", bytesize.Format(n), n)
}

// formatTime writes a time for people: UTC, to the second; "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// rfc3339 writes a time for machines: RFC 3339 in UTC; "" for the zero time or one RFC 3339
// cannot hold.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return ""
	}
	return t.Format(time.RFC3339)
}

// duration is how long the run took, rounded for people; "" when unknown.
func duration(r *Result) string {
	if r.Started.IsZero() || r.Finished.IsZero() || r.Finished.Before(r.Started) {
		return ""
	}
	d := r.Finished.Sub(r.Started)
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// errorLine writes an error record in one line: "target: where: message".
func errorLine(e ErrorRecord) string {
	var parts []string
	for _, p := range []string{e.Target, e.Where, e.Message} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ": ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
